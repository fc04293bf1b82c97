"""Teacher-forced scoring in llama.cpp: many rows per ``llama_decode``, on the context the batched
generator builds (``llama_batch.BatchedLlama``).

Each row is its prompt (tokenized as for generation), the gold answer's token ids and the
end-of-turn token, fed in one pass into the row's own KV stream after the prefix every row shares
(evaluated once, as in generation); logits are asked for exactly at the positions that predict an
answer token or the end-of-turn token, and each becomes the gold token's log-probability and the
top ``core.likelihood.TOP_K`` (``core/likelihood.py``). Up to ``slots`` rows are fed together, their
tokens in slot order, up to ``n_batch`` tokens per call.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from ..core.faults import Fault
from ..core.generation import context_error
from ..core.likelihood import TokenScores, log_softmax_top
from .llama_context import LlamaStreams


@dataclass
class _Row:
    index: int
    """Position of the row in the call's list."""
    tokens: list[int]
    """Prompt, gold answer and end-of-turn token."""
    head: int
    """Where the answer starts (the prompt's length)."""
    slot: int = -1
    fed: int = 0
    """Tokens already in the slot's stream (the shared prefix counts)."""


def score(llm: LlamaStreams, prompts: list[str], answers: list[list[int]],
          stops: list[int]) -> Iterator[tuple[int, TokenScores]]:
    """``(index, TokenScores)`` for every row: ``answers[i]`` are the gold answer's token ids,
    ``stops[i]`` the token fed after them (the end-of-turn token)."""
    rows: list[_Row] = []
    for i, (p, ans, stop) in enumerate(zip(prompts, answers, stops)):
        prompt = llm.tokenize(p)
        tokens = prompt + list(ans) + [stop]
        if len(tokens) > llm.n_ctx:
            yield i, TokenScores([], [], [], len(prompt), error=context_error(len(tokens), llm.n_ctx))
        else:
            rows.append(_Row(i, tokens, len(prompt)))
    if not rows:
        return
    llm.ensure_cells(max(len(s.tokens) for s in rows))
    t0 = time.perf_counter()
    llm.set_prefix(rows)
    share = (time.perf_counter() - t0) / len(rows)
    for start in range(0, len(rows), llm.slots):
        group = rows[start:start + llm.slots]
        yield from _group(llm, group, share)


def continue_gold(llm: LlamaStreams, slot: int, at: int, feed: list[int],
                  targets: list[int]) -> list[tuple[float, list[list[float]]]]:
    """Teacher forcing in a stream generation just used: ``slot``'s cells before position ``at``
    hold the prompt and the output tokens the gold answer shares; the rest is dropped and ``feed``
    (the token at ``at``, then the gold tokens after the shared ones) is fed from ``at``. Per fed
    token: the log-probability of its ``targets`` entry (the next gold token, then the end-of-turn
    token) and the top ``TOP_K``. RuntimeError when llama.cpp fails."""
    llm.clear(slot, at)
    got = []
    for c in range(0, len(feed), llm.n_batch):
        part = feed[c:c + llm.n_batch]
        llm.fill([(t, at + c + j, slot, True) for j, t in enumerate(part)])
        llm.decode()
        for j in range(len(part)):
            lp, top = log_softmax_top(llm.logits(j))
            got.append((float(lp[targets[c + j]]), [[int(t), float(lp[t])] for t in top]))
    return got


def _group(llm: LlamaStreams, group: list[_Row], share: float) -> Iterator[tuple[int, TokenScores]]:
    t0 = time.perf_counter()
    for slot, s in enumerate(group):
        s.slot, s.fed = slot, llm.prefix_length
        llm.copy_prefix(slot)
    found: dict[int, list] = {s.index: [] for s in group}
    try:
        while any(s.fed < len(s.tokens) for s in group):
            entries, wants = [], []
            room = llm.n_batch
            for s in group:
                if s.fed >= len(s.tokens) or room <= 0:
                    continue
                take = s.tokens[s.fed:s.fed + room]
                for j, t in enumerate(take):
                    pos = s.fed + j
                    needed = s.head - 1 <= pos < len(s.tokens) - 1  # predicts an answer token or the stop
                    if needed:
                        wants.append((s, pos, len(entries)))
                    entries.append((t, pos, s.slot, needed))
                s.fed += len(take)
                room -= len(take)
            llm.fill(entries)
            llm.decode()
            for s, pos, at in wants:
                lp, top = log_softmax_top(llm.logits(at))
                gold = s.tokens[pos + 1]
                found[s.index].append((float(lp[gold]), [[int(t), float(lp[t])] for t in top]))
    except RuntimeError as e:
        raise Fault(f"llama.cpp ({llm.model_name})", f"RuntimeError: {e}") from None
    finally:
        for s in group:
            llm.clear(s.slot)
    seconds = (time.perf_counter() - t0) / len(group) + share
    for s in group:
        got = found[s.index]
        yield s.index, TokenScores(s.tokens[s.head:], [g for g, _ in got], [t for _, t in got], s.head,
                                   seconds=seconds)
