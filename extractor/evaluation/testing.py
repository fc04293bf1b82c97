"""Regression gates for a user's own pytest suite.

    from extractor.evaluation.testing import load_report, assert_thresholds

    def test_merged_model_is_good_enough():
        report = load_report("reports/latest")
        assert_thresholds(report, "merged-gguf", data="test",
                          schema_valid=0.95, clean_stop=0.95, exact_match=0.70, runaway=0.02)

A bound is a minimum for metrics where higher is better and a maximum for the others
(trailing_text, chained_turn, runaway, impossible_lines, latencies).
"""

from __future__ import annotations

from ..core.metrics import directions, meets
from .records import Report
from .report import load_report, task_of


def metric(report: Report, variant: str, key: str, data: str = "test"):
    """One metric of one variant on one data file; KeyError naming what exists when absent."""
    by_v = report.metrics.get(data)
    if by_v is None:
        raise KeyError(f"no data file {data!r} in the report; it has {sorted(report.metrics)}")
    if variant not in by_v:
        raise KeyError(f"no variant {variant!r} on {data!r}; the report has {sorted(by_v)}")
    return by_v[variant][key]


def assert_thresholds(report: Report, variant: str, data: str = "test", **bounds: float) -> None:
    """Fail (AssertionError listing every breach) unless the variant meets every bound."""
    breaches = []
    ranked = directions(task_of(report).metrics)
    for key, bound in bounds.items():
        if ranked.get(key) is None:
            raise KeyError(f"{key!r} is not a metric with a direction")
        value = metric(report, variant, key, data)
        higher = ranked[key]
        if not meets(value, bound, higher):
            breaches.append(f"{key} = {value} ({'min' if higher else 'max'} {bound})")
    assert not breaches, f"{variant} on {data}: " + "; ".join(breaches)


__all__ = ["assert_thresholds", "load_report", "metric"]
