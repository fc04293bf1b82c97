"""Metrics: pure functions of (gold references, parsed output, how generation ended).

One ``Sample`` per row holds what scoring needs; ``aggregate`` turns a list of them into the
metrics of report.json. Nothing here runs a model, so re-scoring a samples.jsonl is cheap and
exact. Rates are fractions in [0, 1]; a rate with an empty denominator is None (not 0, not 1): the
convention of ``core.metrics`` (``rate``, ``Tally``), which computes every figure.
"""

from __future__ import annotations

from dataclasses import replace

from ...core.metrics import CORE, Metric, Tally, by_key, core_metrics, rate
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


def row_tallies(s: Sample) -> dict[str, Tally]:
    """One row's counts of ``canto_f1`` and ``line_f1``: (true positives, predicted, gold) cantos, and
    (canto, line) pairs; ``aggregate`` sums them, ``report compare`` resamples them."""
    out, pred = {}, predicted(s)
    for key, of in (("canto_f1", cantos_of), ("line_f1", lines_of)):
        p, g = of(pred), of(s.gold)
        out[key] = Tally(len(p & g), len(p), len(g))
    return out


def impossible_share(samples: list[Sample]) -> float | None:
    """Share of predicted line numbers in Cantos I-XXX that exceed the canto's length."""
    known = [(r.canto, line) for s in samples for r in predicted(s) for line in r.lines if r.canto in CANTO_LENGTHS]
    return rate([is_impossible_line(c, line) for c, line in known])


def aggregate(samples: list[Sample]) -> dict:
    """Every metric of METRIC_KEYS for one (variant, data file): what every task shares
    (``core.metrics.core_metrics``: validity, exact match, stopping, latency, throughput) and the Cantos
    figures (canto and line precision, recall and F1, no-reference accuracy, impossible lines)."""
    rows = [row_tallies(s) for s in samples]
    canto, line = (Tally.total(r[key] for r in rows) for key in ("canto_f1", "line_f1"))
    found = core_metrics(samples)
    found.update({
        "canto_precision": canto.precision, "canto_recall": canto.recall, "canto_f1": canto.f1,
        "line_precision": line.precision, "line_recall": line.recall, "line_f1": line.f1,
        "no_ref_accuracy": rate([s.parsed.valid and not predicted(s) for s in samples if not s.gold]),
        "impossible_lines": impossible_share(samples),
    })
    return {k: found[k] for k in METRIC_KEYS}  # report.json's order, the shared keys among the Cantos ones
