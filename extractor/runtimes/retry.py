"""The one retry loop of every runtime (``core/faults.py``'s rule), for evaluation and extraction.

``execute(variant, inputs, ...)`` is ``variant.execute`` under the fault rule: an input the
variant yields a ``Fault`` for, or that was not yielded when the variant raised one, is run
again after a backoff (capped exponential, jittered, at least the server's ``Retry-After``)
until the run's retry budget (``Settings.retry_budget``) is spent: then ``Outage``, and the
caller writes nothing for the inputs not done. A round that answers some inputs is progress
and starts the budget again: a server that fails one request in ten never stops the run, a
server that is gone stops it within the budget. Each output carries how many of its own attempts
failed (``Generation.retries``).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from ..core.faults import Backoff, Fault, Retrier
from ..core.generation import Generation, Prior
from ..core.likelihood import TokenScores
from .variant import Variant


@dataclass
class Faults:
    """What the retries of one run met, for its log and its record."""

    retried: int = 0
    """Attempts that failed (each was made again, unless the budget ran out)."""
    kinds: Counter = field(default_factory=Counter)
    """Failed attempts by what failed (the error's name: ``APIConnectionError``, ``RateLimitError``)."""

    def count(self, fault: Fault) -> None:
        self.retried += 1
        self.kinds[fault.what.split(":", 1)[0]] += 1

    def line(self, name: str) -> str | None:
        if not self.retried:
            return None
        top = ", ".join(f"{what} x{n}" for what, n in self.kinds.most_common(4))
        return f"{name}: {self.retried} attempt(s) failed and were retried ({top})"


def execute(variant: Variant, inputs: list[str], backoff: Backoff, *, priors: list[Prior | None] | None = None,
            faults: Faults | None = None, log: Callable[[str], None] | None = None,
            stop: threading.Event | None = None,
            golds: list[list[int] | None] | None = None) -> Iterator[tuple[int, Generation]]:
    """``(index, Generation)`` for every input, faults retried (see the module's docstring);
    ``priors`` for a variant that continues (``Capabilities.continues``), ``golds`` for one that
    scores gold answers as it generates (``Capabilities.scores_gold``)."""
    def call(rows: list[int]):
        kwargs = {"priors": [priors[i] for i in rows]} if priors is not None else {}
        if golds is not None:
            kwargs["golds"] = [golds[i] for i in rows]
        return variant.execute([inputs[i] for i in rows], **kwargs)

    for i, g, tries in _retrying(call, len(inputs), variant.name, backoff, faults, log, stop):
        yield i, (replace(g, retries=tries) if tries else g)


def score(variant: Variant, inputs: list[str], answers: list[list[int]], stops: list[int], backoff: Backoff, *,
          faults: Faults | None = None, log: Callable[[str], None] | None = None) -> Iterator[tuple[int, TokenScores]]:
    """``(index, TokenScores)`` of ``variant.score`` for every row, faults retried as for ``execute``."""
    def call(rows: list[int]):
        return variant.score([inputs[i] for i in rows], [answers[i] for i in rows], [stops[i] for i in rows])

    for i, s, _ in _retrying(call, len(inputs), variant.name, backoff, faults, log, None):
        yield i, s


def _retrying(call: Callable[[list[int]], Iterator[tuple[int, Any]]], n: int, name: str, backoff: Backoff,
              faults: Faults | None, log: Callable[[str], None] | None,
              stop: threading.Event | None) -> Iterator[tuple[int, Any, int]]:
    """``(index, result, failed attempts)`` for every index of ``range(n)``: ``call(indices)`` yields
    (position in indices, result or Fault), or raises a Fault for those it did not yield."""
    faults = faults if faults is not None else Faults()
    retrier = Retrier(backoff, stop)
    tries: Counter = Counter()
    pending = list(range(n))
    while pending:
        failed: list[int] = []
        fault: Fault | None = None
        answered = 0
        left = set(range(len(pending)))
        try:
            for j, g in call(pending):
                left.discard(j)
                i = pending[j]
                if isinstance(g, Fault):
                    failed.append(i)
                    if g.attempted:
                        tries[i] += 1
                        faults.count(g)
                        fault = fault or g
                    continue
                answered += 1
                yield i, g, tries[i]
        except Fault as f:
            fault = f
            for j in left:
                tries[pending[j]] += 1
                faults.count(f)
            failed += [pending[j] for j in sorted(left)]
        if not failed:
            return
        fault = fault or Fault(name, "no input was tried")
        if answered:
            retrier.reset()
        wait = retrier.failed(fault)  # Outage when the budget is spent
        if log is not None:
            log(f"{name}: {len(failed)} of {len(pending)} not answered ({fault.what}); retrying in {wait:.1f} s")
        retrier.sleep(wait)
        pending = sorted(failed)
