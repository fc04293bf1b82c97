"""Teacher-forced scores: what a model thinks of the gold answer, token by token.

A runtime that can score (``Capabilities.scores``) feeds the prompt it renders for generation, then
the gold answer's tokens (the task's ``answer_text`` of the row's output, tokenized as training
tokenized it), then the end-of-turn token, in one forward pass, and keeps at each answer position
the gold token's log-probability and the ``TOP_K`` most likely tokens with theirs. From that:

- **gold NLL per token**: the mean negative log-probability of the answer's tokens (the end-of-turn
  token not included: it is the stop diagnosis);
- **P(end-of-turn | gold answer)**: the probability of the end-of-turn token right after the whole
  gold answer: a model that never learnt to stop (pad == eos) puts almost none there;
- **argmax match**: whether greedy decoding would reproduce the gold answer token by token (and the
  first position where it would not);
- **KL** between two artefacts along the gold answer (``kl``), over the reference's top-k tokens
  plus the rest of the vocabulary as one outcome (coarse-graining never raises KL), a token the
  other artefact's top-k does not name getting the most that top-k allows: an estimate that never
  overstates the full-vocabulary KL, and is tight when the top-k hold nearly all the mass (as they
  do for a fine-tuned model on its own task).

``TokenScores`` is one row's record (a line of OUT/likelihood.jsonl).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

TOP_K = 5
"""Alternatives kept per position: enough for KL between near-identical artefacts (their top-5
hold nearly all the mass), small enough to keep a report's likelihood.jsonl to a few MB."""
DIGITS = 5
"""Log-probabilities are kept to this many decimals (1e-5 nats: far below any difference read)."""


@dataclass
class TokenScores:
    """One row scored by one variant with the gold answer fed after the prompt."""

    tokens: list[int]
    """The scored token ids: the gold answer's, then the end-of-turn token."""
    logprobs: list[float]
    """log P(token | prompt, gold tokens before it), one per token of ``tokens``."""
    top: list[list[list[float]]]
    """Per position, the ``TOP_K`` most likely tokens: ``[[id, logprob], ...]``, most likely first."""
    prompt_tokens: int = 0
    """Prompt tokens as the runtime tokenized them."""
    source: str = "full"
    """``full``: the runtime's full distribution (llama.cpp, transformers); ``server top-k``: a
    server's reported top-k (its alternatives are what it returned)."""
    error: str | None = None
    """Why the row could not be scored (the server returns no prompt log-probabilities, the prompt
    does not fit): then the lists are empty."""
    seconds: float = 0.0

    @property
    def answer(self) -> list[float]:
        """Log-probabilities of the answer's tokens (the end-of-turn token left out)."""
        return self.logprobs[:-1]

    @property
    def nll(self) -> float:
        """Total negative log-likelihood of the answer's tokens, in nats."""
        return -sum(self.answer)

    @property
    def nll_per_token(self) -> float | None:
        return self.nll / len(self.answer) if self.answer else None

    @property
    def p_stop(self) -> float | None:
        """P(end-of-turn token | prompt, whole gold answer)."""
        return math.exp(self.logprobs[-1]) if self.logprobs else None

    @property
    def first_miss(self) -> int | None:
        """The first answer position whose most likely token is not the gold one (None: greedy
        reproduces the whole answer), where the top list is known."""
        for i, (tok, top) in enumerate(zip(self.tokens[:-1], self.top[:-1])):
            if top and int(top[0][0]) != tok:
                return i
        return None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["logprobs"] = [round(x, DIGITS) for x in self.logprobs]
        out["top"] = [[[int(t), round(lp, DIGITS)] for t, lp in pos] for pos in self.top]
        out["seconds"] = round(self.seconds, 4)
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "TokenScores":
        keys = {"tokens", "logprobs", "top", "prompt_tokens", "source", "error", "seconds"}
        return cls(**{k: v for k, v in obj.items() if k in keys})


def log_softmax_top(logits, k: int = TOP_K):
    """(log-softmax of a logits vector, the indices of its ``k`` largest, best first), numpy."""
    import numpy as np

    x = np.asarray(logits, dtype=np.float64)
    m = x.max()
    lse = m + math.log(float(np.exp(x - m).sum()))
    idx = np.argpartition(-x, k)[:k]
    idx = idx[np.argsort(-x[idx], kind="stable")]
    return x - lse, idx


def kl(ref: Sequence[Sequence[float]], other: Sequence[Sequence[float]]) -> float:
    """KL(ref || other) at one position from two top-k lists (``[[id, logprob], ...]``), over the
    reference's listed tokens and the rest of the vocabulary as one outcome. A token the other list
    does not name gets the most the other list allows it (its smallest listed probability, at most
    its unlisted mass shared out), so the figure never overstates KL: 0 for identical lists, large
    for lists that share nothing."""
    b = {int(t): math.exp(lp) for t, lp in other}
    unlisted_b = max(1.0 - sum(b.values()), 0.0)
    missing = [int(t) for t, _ in ref if int(t) not in b]
    cap = min(min(b.values(), default=1.0), unlisted_b / len(missing)) if missing else 0.0
    out, rest_a, rest_b = 0.0, 1.0, 1.0
    for t, lp in ref:
        pa = math.exp(lp)
        pb = b.get(int(t), cap)
        rest_a -= pa
        rest_b -= pb
        if pa > 0:
            out += pa * (lp - math.log(max(pb, 1e-12)))
    rest_a, rest_b = max(rest_a, 0.0), max(rest_b, 1e-12)
    if rest_a > 1e-12:
        out += rest_a * (math.log(rest_a) - math.log(rest_b))
    return max(out, 0.0)


def from_generation(tokens: Sequence[int] | None, logprobs: Sequence[float] | None, positions, gold: Sequence[int],
                    stop: int, prompt_tokens: int = 0, seconds: float = 0.0) -> TokenScores | None:
    """The gold answer's scores read off a greedy generation that produced it, or None. A greedy
    output whose first tokens are the gold answer's went through exactly the forward passes teacher
    forcing would make, so its chosen tokens' log-probabilities are the gold ones, and the position
    right after them gives the end-of-turn token's (kept in ``positions`` whether or not it was
    chosen there)."""
    n = len(gold)
    if tokens is None or logprobs is None or positions is None or len(positions) <= n or len(logprobs) < n:
        return None
    if list(tokens[:n]) != list(gold):
        return None
    top = [[[int(t), float(lp)] for t, lp in positions[p][0]] for p in range(n + 1)]
    return TokenScores(list(gold) + [stop], [float(x) for x in logprobs[:n]] + [float(positions[n][1])], top,
                       prompt_tokens, source="full", seconds=seconds)
