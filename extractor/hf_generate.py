"""Greedy batched generation with transformers (left padding), returning text and why it stopped."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class HFGeneration:
    text: str
    """Generated text, special tokens removed, cut at the end-of-turn token."""
    finish_reason: str
    """`stop` (the model emitted EOS) or `length` (hit max_new_tokens)."""
    n_tokens: int


def generate(model, tokenizer, prompts: list[str], max_new_tokens: int = 128, batch_size: int = 8) -> list[HFGeneration]:
    eos = tokenizer.eos_token_id
    old_side, tokenizer.padding_side = tokenizer.padding_side, "left"
    out: list[HFGeneration] = []
    try:
        for start in range(0, len(prompts), batch_size):
            chunk = prompts[start:start + batch_size]
            enc = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=True).to(model.device)
            with torch.no_grad():
                gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=eos,
                                     pad_token_id=tokenizer.pad_token_id)
            for row in gen[:, enc.input_ids.shape[1]:].tolist():
                stopped = eos in row
                ids = row[: row.index(eos)] if stopped else row
                out.append(HFGeneration(tokenizer.decode(ids, skip_special_tokens=False), "stop" if stopped else "length", len(ids) + stopped))
    finally:
        tokenizer.padding_side = old_side
    return out
