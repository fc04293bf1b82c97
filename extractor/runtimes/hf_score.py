"""Teacher-forced scoring in transformers: a batch of rows per forward pass (``core/likelihood.py``).

Rows are prompt (tokenized as for generation) + the gold answer's token ids + the end-of-turn
token, left-padded with positions counted from each row's first token (as ``hf_generate`` does),
shortest first. Only the last positions of the batch are turned into logits (``logits_to_keep``):
those that predict an answer token or the end-of-turn token, so a batch never holds a logits
tensor of every position times the vocabulary.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import torch

from ..core.faults import Fault
from ..core.generation import context_error
from ..core.likelihood import TOP_K, TokenScores


def score(model, tokenizer, prompts: list[str], answers: list[list[int]], stops: list[int], batch_size: int = 8,
          n_ctx: int = 2048) -> Iterator[tuple[int, TokenScores]]:
    """``(index, TokenScores)`` for every row; ``answers[i]`` the gold answer's ids, ``stops[i]`` the
    token fed after them (the end-of-turn token)."""
    rows = []
    for i, (p, ans, stop) in enumerate(zip(prompts, answers, stops)):
        prompt = tokenizer(p, add_special_tokens=True).input_ids
        ids = prompt + list(ans) + [stop]
        if len(ids) > n_ctx:
            yield i, TokenScores([], [], [], len(prompt), error=context_error(len(ids), n_ctx))
        else:
            rows.append((i, ids, len(prompt)))
    rows.sort(key=lambda r: len(r[1]))
    for start in range(0, len(rows), max(1, batch_size)):
        yield from _batch(model, rows[start:start + max(1, batch_size)], tokenizer.pad_token_id or 0)


@torch.inference_mode()
def _batch(model, rows: list[tuple[int, list[int], int]], pad: int) -> Iterator[tuple[int, TokenScores]]:
    t0 = time.perf_counter()
    width = max(len(ids) for _, ids, _ in rows)
    keep = max(len(ids) - n for _, ids, n in rows) + 1  # the positions that predict the answer and the stop
    device = model.device
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for j, (_, row, _) in enumerate(rows):
        ids[j, width - len(row):] = torch.tensor(row)
        mask[j, width - len(row):] = 1
    ids, mask = ids.to(device), mask.to(device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    try:
        logits = model(input_ids=ids, attention_mask=mask, position_ids=positions, logits_to_keep=keep).logits
    except (RuntimeError, ValueError, IndexError) as e:
        raise Fault("transformers", f"{type(e).__name__}: {str(e)[:300]}") from None
    logits = logits[:, :-1].float().log_softmax(-1)  # the last position predicts nothing scored
    top_lp, top_id = logits.topk(TOP_K, dim=-1)
    seconds = (time.perf_counter() - t0) / len(rows)
    for j, (i, row, n) in enumerate(rows):
        gold = torch.tensor(row[n:], device=logits.device)
        span = slice(logits.shape[1] - len(gold), logits.shape[1])
        lp = logits[j, span].gather(-1, gold[:, None])[:, 0]
        top = [[[int(t), float(v)] for t, v in zip(ti.tolist(), tv.tolist())]
               for ti, tv in zip(top_id[j, span], top_lp[j, span])]
        yield i, TokenScores(list(row[n:]), [float(x) for x in lp.tolist()], top, n, seconds=seconds)
