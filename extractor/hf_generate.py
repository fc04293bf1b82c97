"""Greedy batched generation with transformers (left padding, KV cache), returning text and why
it stopped.

The loop is ours rather than `model.generate`'s so that a finished row leaves the batch at once:
`generate` keeps every row of a batch in each forward pass until the longest answer ends, so one
answer that runs to the token limit makes the whole batch pay for it. Here the KV cache, the
attention mask and the next tokens are cut down to the rows still going after every step.
Prompts are grouped by length (less padding) and the results returned in the input order.
"""

from __future__ import annotations

import time

import torch

from .generation import Generation


def _batch(model, tokenizer, chunk: list[str], max_new_tokens: int) -> list[Generation]:
    from transformers import DynamicCache

    eos = tokenizer.eos_token_id
    t0 = time.perf_counter()
    enc = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=True).to(model.device)
    mask = enc.attention_mask
    prompt_tokens = [int(n) for n in mask.sum(-1)]
    out_ids: list[list[int]] = [[] for _ in chunk]
    stopped = [False] * len(chunk)
    rows = list(range(len(chunk)))  # chunk index of each row still in the batch
    cache = DynamicCache()
    with torch.no_grad():
        logits = model(input_ids=enc.input_ids, attention_mask=mask, position_ids=(mask.cumsum(-1) - 1).clamp(min=0),
                       past_key_values=cache, use_cache=True).logits[:, -1]
        for _ in range(max_new_tokens):
            nxt = logits.argmax(-1)
            keep = []
            for j, (i, tok) in enumerate(zip(rows, nxt.tolist())):
                if tok == eos:
                    stopped[i] = True
                    continue
                out_ids[i].append(tok)
                if len(out_ids[i]) < max_new_tokens:
                    keep.append(j)
            if not keep:
                break
            if len(keep) < len(rows):
                index = torch.tensor(keep, device=mask.device)
                cache.batch_select_indices(index)
                mask, nxt = mask[index], nxt[index]
                rows = [rows[j] for j in keep]
            mask = torch.cat([mask, mask.new_ones((len(rows), 1))], dim=-1)
            logits = model(input_ids=nxt[:, None], attention_mask=mask, position_ids=mask.sum(-1, keepdim=True) - 1,
                           past_key_values=cache, use_cache=True).logits[:, -1]
    share = (time.perf_counter() - t0) / len(chunk)  # the batch's passes serve every row
    return [Generation(tokenizer.decode(ids, skip_special_tokens=False), "stop" if done else "length",
                       prompt_tokens[i], len(ids) + done, share)
            for i, (ids, done) in enumerate(zip(out_ids, stopped))]


def generate(model, tokenizer, prompts: list[str], max_new_tokens: int = 128, batch_size: int = 8) -> list[Generation]:
    """One Generation per prompt, in the order given. A batch that fails is retried one prompt at a
    time, so a failure (e.g. a prompt longer than the model's context) is recorded on that prompt alone."""
    old_side, tokenizer.padding_side = tokenizer.padding_side, "left"
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    out: dict[int, Generation] = {}
    try:
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            chunk = [prompts[i] for i in idx]
            try:
                out.update(zip(idx, _batch(model, tokenizer, chunk, max_new_tokens)))
            except (RuntimeError, ValueError, IndexError):
                for i in idx:
                    t0 = time.perf_counter()
                    try:
                        out[i] = _batch(model, tokenizer, [prompts[i]], max_new_tokens)[0]
                    except (RuntimeError, ValueError, IndexError) as e:
                        out[i] = Generation("", "error", seconds=time.perf_counter() - t0,
                                            error=f"{type(e).__name__}: {str(e)[:300]}")
    finally:
        tokenizer.padding_side = old_side
    return [out[i] for i in range(len(prompts))]
