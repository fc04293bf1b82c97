"""Metrics: pure functions of (gold references, parsed output, how generation ended).

One ``Sample`` per row holds what scoring needs; ``aggregate`` turns a list of them into the
metrics of report.json. Nothing here runs a model, so re-scoring a samples.jsonl is cheap and
exact. Rates are fractions in [0, 1]; a rate with an empty denominator is None (not 0, not 1).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...task import CORE_DIRECTIONS, core_metrics, rate
from .schema import Parsed, Reference
from .sections import CANTO_LENGTHS, is_impossible_line

METRIC_KEYS = (
    "n", "schema_valid", "exact_match", "canto_precision", "canto_recall", "canto_f1",
    "line_precision", "line_recall", "line_f1", "no_ref_accuracy", "clean_stop", "trailing_text",
    "chained_turn", "runaway", "impossible_lines", "latency_p50_s", "latency_p95_s",
    "gen_tokens_per_s", "examples_per_s",
)
CANTOS_DIRECTIONS: dict[str, bool | None] = {
    "canto_precision": True, "canto_recall": True, "canto_f1": True, "line_precision": True, "line_recall": True,
    "line_f1": True, "no_ref_accuracy": True, "impossible_lines": False,
}
# Which direction is better (thresholds, regression flags in `report compare`): the shared
# metrics' (task.CORE_DIRECTIONS) and the Cantos ones, in the order of METRIC_KEYS.
HIGHER_IS_BETTER = {k: {**CORE_DIRECTIONS, **CANTOS_DIRECTIONS}[k] for k in METRIC_KEYS}


@dataclass(frozen=True)
class Sample:
    """What one row contributes to the metrics."""

    gold: tuple[Reference, ...]
    parsed: Parsed
    finish_reason: str
    """`stop`, `length` or `error`."""
    seconds: float = 0.0
    gen_tokens: int = 0

    @property
    def exact(self) -> bool:
        """Valid, with the gold's cantos and (canto, line) pairs (``is_exact``)."""
        return is_exact(self)

    @property
    def clean_stop(self) -> bool:
        """A clean answer and the model ended its turn itself (``stopped_cleanly``)."""
        return stopped_cleanly(self)


def cantos_of(refs) -> set[int]:
    return {r.canto for r in refs}


def lines_of(refs) -> set[tuple[int, int]]:
    return {(r.canto, line) for r in refs for line in r.lines}


def predicted(s: Sample) -> tuple[Reference, ...]:
    """The references a sample predicts; an output that is not valid JSON predicts nothing."""
    return tuple(s.parsed.references) if s.parsed.valid else ()


def is_valid(s: Sample) -> bool:
    return s.parsed.valid


def is_exact(s: Sample) -> bool:
    pred = predicted(s)
    return is_valid(s) and cantos_of(pred) == cantos_of(s.gold) and lines_of(pred) == lines_of(s.gold)


def stopped_cleanly(s: Sample) -> bool:
    """The answer is valid JSON, nothing follows it, and the model ended its turn itself."""
    return s.parsed.status == "clean" and s.finish_reason == "stop"


def _prf(tp: int, n_pred: int, n_gold: int) -> tuple[float | None, float | None, float | None]:
    """Micro precision, recall and F1 (2tp / (pred + gold), defined even when one side is empty)."""
    p = tp / n_pred if n_pred else None
    r = tp / n_gold if n_gold else None
    f = 2 * tp / (n_pred + n_gold) if n_pred + n_gold else None
    return p, r, f


def impossible_share(samples: list[Sample]) -> float | None:
    """Share of predicted line numbers in Cantos I-XXX that exceed the canto's length."""
    known = [(r.canto, line) for s in samples for r in predicted(s) for line in r.lines if r.canto in CANTO_LENGTHS]
    return rate([is_impossible_line(c, line) for c, line in known])


def aggregate(samples: list[Sample]) -> dict:
    """Every metric of METRIC_KEYS for one (variant, data file): what every task shares
    (``task.core_metrics``: validity, exact match, stopping, latency, throughput) and the Cantos
    figures (canto and line precision, recall and F1, no-reference accuracy, impossible lines)."""
    tp_c = n_pred_c = n_gold_c = tp_l = n_pred_l = n_gold_l = 0
    for s in samples:
        pred = predicted(s)
        pc, gc, pl, gl = cantos_of(pred), cantos_of(s.gold), lines_of(pred), lines_of(s.gold)
        tp_c, n_pred_c, n_gold_c = tp_c + len(pc & gc), n_pred_c + len(pc), n_gold_c + len(gc)
        tp_l, n_pred_l, n_gold_l = tp_l + len(pl & gl), n_pred_l + len(pl), n_gold_l + len(gl)
    cp, cr, cf = _prf(tp_c, n_pred_c, n_gold_c)
    lp, lr, lf = _prf(tp_l, n_pred_l, n_gold_l)
    found = core_metrics(samples)
    found.update({
        "canto_precision": cp, "canto_recall": cr, "canto_f1": cf,
        "line_precision": lp, "line_recall": lr, "line_f1": lf,
        "no_ref_accuracy": rate([is_valid(s) and not predicted(s) for s in samples if not s.gold]),
        "impossible_lines": impossible_share(samples),
    })
    return {k: found[k] for k in METRIC_KEYS}  # report.json's order, the shared keys among the Cantos ones
