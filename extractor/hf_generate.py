"""Greedy batched generation with transformers (left padding), returning text and why it stopped."""

from __future__ import annotations

import time

import torch

from .generation import Generation


def _batch(model, tokenizer, chunk: list[str], max_new_tokens: int) -> list[Generation]:
    eos = tokenizer.eos_token_id
    t0 = time.perf_counter()
    enc = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=True).to(model.device)
    with torch.no_grad():
        gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=eos,
                             pad_token_id=tokenizer.pad_token_id)
    share = (time.perf_counter() - t0) / len(chunk)  # one forward pass serves the batch
    out = []
    for i, row in enumerate(gen[:, enc.input_ids.shape[1]:].tolist()):
        stopped = eos in row
        ids = row[: row.index(eos)] if stopped else row
        out.append(Generation(tokenizer.decode(ids, skip_special_tokens=False), "stop" if stopped else "length",
                              int(enc.attention_mask[i].sum()), len(ids) + stopped, share))
    return out


def generate(model, tokenizer, prompts: list[str], max_new_tokens: int = 128, batch_size: int = 8) -> list[Generation]:
    """One Generation per prompt. A batch that fails is retried one prompt at a time, so a failure
    (e.g. a prompt longer than the model's context) is recorded on that prompt alone."""
    old_side, tokenizer.padding_side = tokenizer.padding_side, "left"
    out: list[Generation] = []
    try:
        for start in range(0, len(prompts), batch_size):
            chunk = prompts[start:start + batch_size]
            try:
                out.extend(_batch(model, tokenizer, chunk, max_new_tokens))
            except (RuntimeError, ValueError, IndexError):
                for p in chunk:
                    t0 = time.perf_counter()
                    try:
                        out.extend(_batch(model, tokenizer, [p], max_new_tokens))
                    except (RuntimeError, ValueError, IndexError) as e:
                        out.append(Generation("", "error", seconds=time.perf_counter() - t0,
                                              error=f"{type(e).__name__}: {str(e)[:300]}"))
    finally:
        tokenizer.padding_side = old_side
    return out
