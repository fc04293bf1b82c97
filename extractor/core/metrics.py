"""Metric declarations, and the metrics every task shares.

A task declares each metric its ``aggregate`` returns once, as a ``Metric``: its key in
report.json, a short label, what it measures, which way is better and how it reads. Every
renderer (terminal, report.md, report.html, ``report compare``, thresholds) reads these
declarations; none keeps a table of its own.

``CORE`` are the metrics every task shares (schema validity, exact match, how generation ended,
latency, throughput); ``core_metrics`` computes them from any task's samples.

Every aggregate is computed here, once: ``rate`` (a share of rows) and ``Tally`` (micro precision,
recall and F1 from summed counts), for every task's ``aggregate``, the report, the verdict and
``report compare``. **The one convention for an empty side**: a figure whose denominator is empty
is None (undefined; ``-`` in tables, ``null`` in report.json), never 0 or 1. So precision is None
when nothing was predicted, recall None when the gold has nothing, F1 = 2 tp / (predicted + gold)
None only when neither side has anything (0.0 when one side is empty and the other is not).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from .generation import ran_on

Unit = Literal["count", "rate", "number", "seconds", "per_second"]


@dataclass(frozen=True)
class Metric:
    """One figure of report.json, declared once by the task that computes it."""

    key: str
    """Its key in report.json's metrics (``exact_match``)."""
    label: str
    """A short column header (``exact``)."""
    help: str
    """What it measures, in one phrase (column tooltips, docs/metrics.md)."""
    higher: bool | None
    """True: higher is better (a bound on it is a minimum); False: lower is better (a maximum);
    None: a count, never held to a bound."""
    unit: Unit = "rate"
    """How it reads: a count, a rate in [0, 1], another number, seconds, or a rate per second."""
    level: int = 2
    """Where it shows: 1 in every table (the terminal's too), 2 in the tables of report.md and
    report.html, 3 in report.json only."""

    def format(self, value: Any) -> str:
        """``-`` for none; a count as is; seconds and rates per second with 2 decimals (none at 100
        and above); other figures with 3."""
        if value is None:
            return "-"
        if self.unit == "count":
            return str(value)
        if self.unit in ("seconds", "per_second"):
            return f"{value:.2f}" if value < 100 else f"{value:.0f}"
        return f"{value:.3f}"


CORE: tuple[Metric, ...] = (
    Metric("n", "rows", "rows evaluated", None, "count", level=1),
    Metric("schema_valid", "schema-valid", "the answer parses as JSON and meets the task's JSON Schema", True, level=1),
    Metric("exact_match", "exact", "the answer equals the gold (the task's canonical form)", True, level=1),
    Metric("clean_stop", "clean stop", "valid answer, nothing after it, and the model ended its turn", True, level=1),
    Metric("trailing_text", "trailing", "valid answer followed by prose", False, level=1),
    Metric("chained_turn", "chained", "valid answer followed by an invented next turn", False, level=1),
    Metric("runaway", "runaway", "the model did not end its turn: the token limit, or stopped in a loop", False,
           level=1),
    Metric("latency_p50_s", "p50 s", "median seconds per sample", False, "seconds", level=1),
    Metric("latency_p95_s", "p95 s", "95th percentile of seconds per sample", False, "seconds", level=3),
    Metric("gen_tokens_per_s", "tokens /s", "generated tokens per second of generation", True, "per_second"),
    Metric("examples_per_s", "samples /s", "samples per second of generation", True, "per_second", level=3),
)
"""What every task shares, in report.json's order."""


def by_key(metrics: Iterable[Metric]) -> dict[str, Metric]:
    return {m.key: m for m in metrics}


def directions(metrics: Iterable[Metric]) -> dict[str, bool | None]:
    """key -> which way is better (None: a count)."""
    return {m.key: m.higher for m in metrics}


def meets(value: float | None, bound: float, higher: bool | None) -> bool:
    """Whether a metric's value satisfies a bound in the metric's direction (``higher``: True when
    higher is better, so the bound is a minimum; False: a maximum). A missing value never does.
    The one comparison behind suite thresholds, ``testing.assert_thresholds`` and the verdict's gates."""
    if higher is None:
        raise ValueError("a count has no direction: it cannot be held to a bound")
    return value is not None and (value >= bound if higher else value <= bound)


def rate(flags: list[bool]) -> float | None:
    """The share of true flags; None for no flags."""
    return sum(flags) / len(flags) if flags else None


class Tally(NamedTuple):
    """The counts behind one micro precision / recall / F1 figure: of one row, or summed over rows
    (``total``). A task's ``f1_counts`` gives one per row and F1 figure; its ``aggregate`` and
    ``report compare``'s bootstrap both take the figures from here."""

    tp: int
    """True positives: predicted items that match a gold item."""
    n_pred: int
    """Predicted items."""
    n_gold: int
    """Gold items."""

    @classmethod
    def total(cls, tallies: Iterable[tuple[int, int, int]]) -> "Tally":
        """The sum of many rows' tallies (micro: the figures of the sum, not the mean of the figures)."""
        tp = n_pred = n_gold = 0
        for t, p, g in tallies:
            tp, n_pred, n_gold = tp + t, n_pred + p, n_gold + g
        return cls(tp, n_pred, n_gold)

    @property
    def precision(self) -> float | None:
        """tp / predicted; None when nothing was predicted."""
        return self.tp / self.n_pred if self.n_pred else None

    @property
    def recall(self) -> float | None:
        """tp / gold; None when the gold has nothing."""
        return self.tp / self.n_gold if self.n_gold else None

    @property
    def f1(self) -> float | None:
        """2 tp / (predicted + gold); None when neither side has anything, 0.0 when only one has."""
        n = self.n_pred + self.n_gold
        return 2 * self.tp / n if n else None


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def core_metrics(samples: list) -> dict[str, Any]:
    """The metrics of ``CORE`` from any task's samples (``core.task.Sample``)."""
    timed = [s for s in samples if s.finish_reason != "error" and s.seconds is not None]
    total_s = sum(s.seconds for s in timed)
    return {
        "n": len(samples),
        "schema_valid": rate([s.parsed.valid for s in samples]),
        "exact_match": rate([s.exact for s in samples]),
        "clean_stop": rate([s.clean_stop for s in samples]),
        "trailing_text": rate([s.parsed.status == "trailing_text" for s in samples]),
        "chained_turn": rate([s.parsed.status == "chained_turn" for s in samples]),
        "runaway": rate([ran_on(s.finish_reason) for s in samples]),
        "latency_p50_s": percentile([s.seconds for s in timed], 0.50),
        "latency_p95_s": percentile([s.seconds for s in timed], 0.95),
        "gen_tokens_per_s": sum(s.gen_tokens for s in timed) / total_s if total_s else None,
        "examples_per_s": len(timed) / total_s if total_s else None,
    }
