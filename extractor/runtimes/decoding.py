"""The decoding policy both batched runtimes share (llama.cpp's and transformers'): when waiting
prompts join the running sequences, why a sequence ends, and how a step's wall time is shared.

- **Admission**: up to ``slots`` sequences run together; waiting prompts join when a quarter of
  the slots are free (or nothing runs), so one prompt pass serves several prompts and a finished
  sequence's place is taken at once instead of waiting for the whole batch.
- **The finish rule** (``next_token``): an end-of-generation token ends the sequence (``stop``);
  otherwise the token is kept, and the sequence ends at its token budget (``length``) or when the
  loop guard sees it repeating itself (``loop``, ``generation.LoopGuard``).
- **The time share** (``share``): each step's wall time goes to the sequences in it by the tokens
  each had in it, so the seconds of a call's prompts add up to the call's wall time.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

from ..core.generation import LoopGuard

K = TypeVar("K", bound=Hashable)


class Admission:
    """Slots for running sequences, and when waiting prompts take free ones."""

    def __init__(self, slots: int):
        self.slots = max(1, slots)
        self.refill = max(1, self.slots // 4)
        """Free slots worth a prompt pass while other sequences run."""

    def admit(self, waiting: int, running: int) -> int:
        """How many of ``waiting`` prompts join the ``running`` sequences now (0: not yet)."""
        free = self.slots - running
        if waiting and free > 0 and (free >= min(self.refill, waiting) or not running):
            return min(free, waiting)
        return 0


def next_token(out: list[int], token: int, end_of_generation: bool, budget: int,
               guard: LoopGuard | None) -> str | None:
    """Take a sequence's next token: ``stop`` for an end-of-generation token (not kept), else the
    token is appended to ``out`` and the sequence ends with ``length`` at ``budget`` tokens or
    ``loop`` when ``guard`` (None: never) sees it repeating itself; None while it goes on."""
    if end_of_generation:
        return "stop"
    out.append(token)
    looping = guard is not None and guard.push(out)
    if len(out) >= budget:
        return "length"
    if looping:
        return "loop"
    return None


def share(seconds: float, tokens: Mapping[K, int]) -> dict[K, float]:
    """A step's ``seconds`` split over its sequences by the tokens each had in it."""
    total = sum(tokens.values())
    return {k: seconds * n / total for k, n in tokens.items()} if total else {}
