"""Faults of the infrastructure, and the one rule every runtime follows for them.

A **fault** is a failure that says nothing about the model: a server that refuses the connection,
drops it, times out, answers 5xx or 429; a runtime that raises (a failed decode call, a device out of
memory). A fault is never recorded as a sample or passage, never scored: the call is retried with
capped exponential backoff and jitter, honouring a server's ``Retry-After``, for as long as the
retry budget allows (``Settings.retry_budget``, seconds since the call first failed). When the
budget is spent the run stops with an ``Outage`` (exit status ``EXIT_OUTAGE``): nothing is written
for the rows not done, so ``--resume`` does them once the infrastructure is back.

What is *not* a fault: a request the runtime refuses for what it asks (a prompt longer than the
context: an ``error`` record of that row, the same in every runtime), and a request no retry can
mend (an unknown model name, a refused API key: a ``ConfigError`` naming the fix, at once).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ExtractorError

EXIT_OUTAGE = 4
"""Exit status of a command stopped by an outage (docs/serving.md, docs/extraction.md)."""


class Fault(Exception):
    """One failed attempt of a call, for a reason of the infrastructure: retried, never recorded."""

    def __init__(self, where: str, what: str, retry_after: float | None = None, attempted: bool = True):
        self.where, self.what, self.retry_after = where, what, retry_after
        self.attempted = attempted
        """False: the call was not even tried (another one had failed first); not a retry of its own."""
        super().__init__(f"{where}: {what}")


class Outage(ExtractorError):
    """The retry budget was spent on a fault: the run stops, and what was not done is not recorded."""

    exit_code = EXIT_OUTAGE

    def __init__(self, fault: Fault, attempts: int, seconds: float, left: str = ""):
        self.fault, self.attempts, self.seconds, self.left = fault, attempts, seconds, left
        tail = f"; {left}" if left else ""
        super().__init__(f"{fault.where}: {fault.what} ({attempts} attempt{'s' * (attempts != 1)} in "
                         f"{seconds:.0f} s, retry budget spent){tail}")

    def with_left(self, left: str) -> "Outage":
        """The same outage, saying what is left undone and how to continue."""
        return Outage(self.fault, self.attempts, self.seconds, left)


@dataclass(frozen=True)
class Backoff:
    """How long to wait before the next attempt: ``first`` seconds, doubling up to ``cap``, each
    wait drawn between half and all of that (jitter, so many clients do not retry in step); a
    server's ``Retry-After`` is waited out when it asks for longer."""

    budget: float = 120.0
    """Seconds a failing call may go on being retried, counted from its first failure."""
    first: float = 0.5
    cap: float = 15.0

    def delay(self, failures: int, retry_after: float | None, rng: random.Random) -> float:
        step = min(self.cap, self.first * 2 ** max(0, failures - 1))
        wait = step * rng.uniform(0.5, 1.0)
        return max(wait, retry_after or 0.0)


class Retrier:
    """The retries of one call: ``failed(fault)`` says how long to wait before the next attempt,
    or raises ``Outage`` when the budget would be spent by then. ``stop`` (an Event shared by the
    calls of one run) makes every retrier give up at once: one call's outage ends the others."""

    def __init__(self, backoff: Backoff, stop: threading.Event | None = None,
                 clock: Callable[[], float] = time.monotonic, seed: int | None = None):
        self.backoff, self.stop, self.clock = backoff, stop, clock
        self.rng = random.Random(seed)
        self.attempts = 0
        """Failed attempts so far."""
        self._since: float | None = None

    def failed(self, fault: Fault) -> float:
        now = self.clock()
        if self._since is None:
            self._since = now
        self.attempts += 1
        spent = now - self._since
        wait = self.backoff.delay(self.attempts, fault.retry_after, self.rng)
        if (self.stop is not None and self.stop.is_set()) or spent + wait > self.backoff.budget:
            if self.stop is not None:
                self.stop.set()
            raise Outage(fault, self.attempts, spent)
        return wait

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or less when ``stop`` is set meanwhile."""
        if self.stop is None:
            time.sleep(seconds)
        else:
            self.stop.wait(seconds)

    def reset(self) -> None:
        """The call succeeded: the next failure starts a new budget."""
        self._since, self.attempts = None, 0


def retry_after(headers) -> float | None:
    """Seconds a server asks to wait (``Retry-After``: seconds or an HTTP date; ``retry-after-ms``),
    or None."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None
