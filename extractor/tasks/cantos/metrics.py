"""Metrics: pure functions of (gold references, parsed output, how generation ended).

One ``Sample`` per row holds what scoring needs; ``aggregate`` turns a list of them into the
metrics of report.json. Nothing here runs a model, so re-scoring a samples.jsonl is cheap and
exact. Rates are fractions in [0, 1]; a rate with an empty denominator is None (not 0, not 1).
"""

from __future__ import annotations

from dataclasses import replace

from ...core.metrics import CORE, Metric, by_key, core_metrics, rate
from ...core.task import Sample
from .schema import Reference
from .sections import CANTO_LENGTHS, is_impossible_line

_CORE = by_key(CORE)
METRICS: tuple[Metric, ...] = (
    _CORE["n"], _CORE["schema_valid"],
    replace(_CORE["exact_match"], help="exact match of cantos and lines"),
    Metric("canto_precision", "canto P", "micro precision over cantos", True, level=3),
    Metric("canto_recall", "canto R", "micro recall over cantos", True, level=3),
    Metric("canto_f1", "canto F1", "micro F1 over cantos", True),
    Metric("line_precision", "line P", "micro precision over (canto, line) pairs", True, level=3),
    Metric("line_recall", "line R", "micro recall over (canto, line) pairs", True, level=3),
    Metric("line_f1", "line F1", "micro F1 over (canto, line) pairs", True, level=1),
    Metric("no_ref_accuracy", "no-ref", "rows with no reference answered with an empty list", True, level=1),
    _CORE["clean_stop"], _CORE["trailing_text"], _CORE["chained_turn"], _CORE["runaway"],
    Metric("impossible_lines", "impossible lines", "predicted line numbers beyond the canto's length", False),
    _CORE["latency_p50_s"], _CORE["latency_p95_s"], _CORE["gen_tokens_per_s"], _CORE["examples_per_s"],
)
"""Every metric ``aggregate`` returns, in report.json's order: the shared ones and the Cantos ones."""
METRIC_KEYS = tuple(m.key for m in METRICS)


def is_exact_answer(gold: tuple[Reference, ...], parsed) -> bool:
    """Valid, with the gold's cantos and (canto, line) pairs."""
    pred = tuple(parsed.references) if parsed.valid else ()
    return parsed.valid and cantos_of(pred) == cantos_of(gold) and lines_of(pred) == lines_of(gold)


def cantos_of(refs) -> set[int]:
    return {r.canto for r in refs}


def lines_of(refs) -> set[tuple[int, int]]:
    return {(r.canto, line) for r in refs for line in r.lines}


def predicted(s: Sample) -> tuple[Reference, ...]:
    """The references a sample predicts; an output that is not valid JSON predicts nothing."""
    return tuple(s.parsed.references) if s.parsed.valid else ()


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
    (``core.metrics.core_metrics``: validity, exact match, stopping, latency, throughput) and the Cantos
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
        "no_ref_accuracy": rate([s.parsed.valid and not predicted(s) for s in samples if not s.gold]),
        "impossible_lines": impossible_share(samples),
    })
    return {k: found[k] for k in METRIC_KEYS}  # report.json's order, the shared keys among the Cantos ones
