"""Calibration: does an answer's confidence say how likely it is to be right?

Every answer of a model variant has a confidence (``core/confidence.py``: the least likely of its
tokens' probabilities). Per data file and variant, over the rows with a schema-valid answer and a
confidence (``Sample.confidence``), against exact match:

- **reliability** (``bins``): the answers in ``BINS`` equal-width bins of confidence ([0, 0.1),
  [0.1, 0.2), ... [0.9, 1.0]), each bin's exact-match rate beside its mean confidence: a calibrated
  model's bins sit on the diagonal;
- **ECE**, the expected calibration error over those bins: sum over bins of (answers in the bin /
  answers) x |exact rate - mean confidence|; 0 is perfectly calibrated;
- **separation**: the mean confidence of exact answers and of wrong ones, and the AUROC (the chance
  that a random exact answer is more confident than a random wrong one, ties half; 0.5: no better
  than a coin);
- **coverage at a target** (``TARGETS``): keep only the answers at or above a threshold; the
  largest share of the data file's rows that can be kept with the kept answers at least 95% (99%)
  exact, and that threshold; "not reachable" when no threshold gives it. The threshold is chosen on
  these same rows: on new rows expect a little less.

``view`` builds the report's ``CalibrationView`` (None when no variant has a confidence: older
samples rescore to the same report); ``rows`` gives the tables' cells (report.md, the terminal,
report.html); the charts are ``evaluation/calibration_charts.py``.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..core.confidence import AGGREGATE_WORDS
from ..core.task import Sample
from .records import Report
from .view_records import Calibration, CalibrationView

BINS = 10
"""Equal-width confidence bins of the reliability chart and the ECE."""
TARGETS = (0.95, 0.99)
"""Exact-match rates the kept answers must reach (coverage at a target)."""
CURVE_POINTS = 40
"""At most this many (coverage, exact) points of each coverage curve are kept in report.json."""
BINNING = f"{BINS} equal-width bins of confidence"
NO_CONFIDENCE = ("its outputs carry no token probabilities (no model, a server that returned none, or samples "
                 "written before confidences were)")


def figures(samples: Iterable[Sample]) -> Calibration | None:
    """The calibration figures of one variant's samples on one data file (None: no answer has a
    confidence)."""
    rows = list(samples)
    pairs = sorted(((s.confidence, bool(s.exact)) for s in rows if s.confidence is not None), key=lambda p: -p[0])
    if not pairs:
        return None
    n = len(pairs)
    bins = []
    for k in range(BINS):
        lo, hi = k / BINS, (k + 1) / BINS
        inside = [(c, e) for c, e in pairs if lo <= c < hi or (k == BINS - 1 and c >= hi)]
        m = len(inside)
        bins.append([round(lo, 2), round(hi, 2), m, round(sum(e for _, e in inside) / m, 4) if m else None,
                     round(sum(c for c, _ in inside) / m, 4) if m else None])
    ece = sum(b[2] / n * abs(b[3] - b[4]) for b in bins if b[2])
    right = [c for c, e in pairs if e]
    wrong = [c for c, e in pairs if not e]
    return Calibration(rows=len(rows), answered=n, exact=len(right),
                       mean_exact=round(sum(right) / len(right), 4) if right else None,
                       mean_wrong=round(sum(wrong) / len(wrong), 4) if wrong else None,
                       auroc=_auroc(right, wrong), ece=round(ece, 4), bins=bins,
                       keep={f"{t:.2f}": _keep(pairs, len(rows), t) for t in TARGETS},
                       curve=_curve(pairs, len(rows)))


def _auroc(right: list[float], wrong: list[float]) -> float | None:
    """P(a random exact answer's confidence > a random wrong one's), ties counted half (Mann-Whitney)."""
    if not right or not wrong:
        return None
    ranked = sorted([(c, 1) for c in right] + [(c, 0) for c in wrong])
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mid = (i + 1 + j) / 2  # the mean 1-based rank of the tie group
        rank_sum += mid * sum(e for _, e in ranked[i:j])
        i = j
    wins = rank_sum - len(right) * (len(right) + 1) / 2
    return round(wins / (len(right) * len(wrong)), 4)


def _thresholds(pairs: list[tuple[float, bool]]) -> list[tuple[float, int, int]]:
    """(threshold, answers kept, exact among them) for each distinct confidence, most confident first
    (``pairs`` sorted by confidence, descending)."""
    out, kept, exact = [], 0, 0
    for i, (c, e) in enumerate(pairs):
        kept, exact = kept + 1, exact + e
        if i + 1 == len(pairs) or pairs[i + 1][0] != c:
            out.append((c, kept, exact))
    return out


def _keep(pairs: list[tuple[float, bool]], rows: int, target: float) -> dict | None:
    """The threshold that keeps the most rows with the kept answers at least ``target`` exact."""
    best = None
    for t, kept, exact in _thresholds(pairs):
        if exact / kept >= target:
            best = (t, kept, exact)
    if best is None:
        return None
    t, kept, exact = best
    return {"threshold": t, "kept": kept, "coverage": round(kept / rows, 4), "exact": round(exact / kept, 4)}


def _curve(pairs: list[tuple[float, bool]], rows: int) -> list[list[float]]:
    """[coverage, exact among the kept] at each distinct threshold, thinned to ``CURVE_POINTS``."""
    steps = _thresholds(pairs)
    if len(steps) > CURVE_POINTS:
        picks = {round(k * (len(steps) - 1) / (CURVE_POINTS - 1)) for k in range(CURVE_POINTS)}
        steps = [s for i, s in enumerate(steps) if i in picks]
    return [[round(kept / rows, 4), round(exact / kept, 4)] for _, kept, exact in steps]


def view(samples: dict[str, dict[str, dict[str, Sample]]], variants: list[str]) -> CalibrationView | None:
    """The report's calibration section from ``{data: {variant: {row id: Sample}}}`` (samples with
    their ``confidence``, ``core.confidence.scored``); None when no answer has a confidence."""
    data: dict[str, dict[str, Calibration]] = {}
    answered: set[str] = set()
    for d, by_v in samples.items():
        for v in [v for v in variants if v in by_v]:
            rows = by_v[v].values()
            if any(s.parsed.valid for s in rows):
                answered.add(v)
            found = figures(rows)
            if found is not None:
                data.setdefault(d, {})[v] = found
    if not data:
        return None
    having = {v for by_v in data.values() for v in by_v}
    return CalibrationView(aggregate=AGGREGATE_WORDS, binning=BINNING, data=data,
                           without={v: NO_CONFIDENCE for v in variants if v in answered and v not in having})


# ----------------------------------------------------------------------------- text
HEAD = ("variant", "answers", "mean confidence: exact / wrong", "AUROC", "ECE",
        *(f"kept at {t:.0%} exact" for t in TARGETS))


def _rate(x: float | None, fmt: str = "{:.3f}") -> str:
    return "-" if x is None else fmt.format(x)


def keep_text(k: dict | None) -> str:
    """``0.57 (>= 0.9380)``: the share of rows kept, and the confidence they need; or ``not reachable``."""
    return "not reachable" if k is None else f"{k['coverage']:.2f} (>= {k['threshold']:.4f})"


def ordered(report: Report, by_v: dict) -> list[str]:
    """The variants of ``by_v`` in the report's order (report.json keeps its keys sorted)."""
    return [v for v in report.variants if v in by_v] + [v for v in by_v if v not in report.variants]


def rows(report: Report, d: str) -> list[list[str]]:
    """The calibration table's cells for data file ``d``, one row per variant with a confidence (a
    variant whose outputs repeat an earlier one's on every row says so)."""
    view = report.calibration
    by_v = view.data.get(d, {}) if view else {}
    out = []
    for v, c in ((v, by_v[v]) for v in ordered(report, by_v)):
        same = report.same_outputs.get(d, {}).get(v)
        if same:
            out.append([v, f"same outputs as {same['as']}"] + [""] * (len(HEAD) - 2))
            continue
        out.append([v, f"{c.answered} of {c.rows}", f"{_rate(c.mean_exact)} / {_rate(c.mean_wrong)}",
                    _rate(c.auroc, "{:.2f}"), _rate(c.ece), *(keep_text(c.keep.get(f"{t:.2f}")) for t in TARGETS)])
    return out


def intro(view: CalibrationView) -> str:
    """One sentence on what the confidence is and how it is binned."""
    return (f"An answer's confidence is {view.aggregate} (docs/metrics.md). Answers: schema-valid ones with a "
            f"confidence, of the rows. ECE over {view.binning}. Kept at 95% exact: the share of all rows that can be "
            f"kept with the kept answers 95% exact, and the confidence they need (chosen on these rows).")


def md_lines(report: Report) -> list[str]:
    """report.md's calibration section: one table per data file."""
    view = report.calibration
    if view is None:
        return []
    lines = ["## Confidence and calibration", "", intro(view), ""]
    for d in view.data:
        lines += [f"### {d}", "", "| " + " | ".join(HEAD) + " |", "|---" * len(HEAD) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows(report, d)] + [""]
    if view.without:
        lines += ["No confidence: " + "; ".join(f"`{v}`" for v in view.without) + f": {NO_CONFIDENCE}.", ""]
    return lines


def print_tables(report: Report, console) -> None:
    """The terminal's calibration table per data file (rich)."""
    from rich.table import Table

    view = report.calibration
    if view is None:
        return
    for d in view.data:
        table = Table(title=f"confidence and calibration: {d}")
        for i, h in enumerate(HEAD):
            table.add_column(h, justify="left" if i == 0 else "right", no_wrap=i == 0)
        for r in rows(report, d):
            table.add_row(*r)
        console.print(table)
    console.print(intro(view), highlight=False)
