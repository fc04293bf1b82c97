"""`extractor report compare A B`: what changed between two evaluations, and whether it is real.

Both reports' samples are paired by (data, variant, id), so each test sees the same rows twice:

- rates of a yes/no outcome per row (schema-valid, exact, clean stop, runaway): the exact McNemar
  test, which counts only the rows where A and B disagree;
- the task's F1 figures (micro, so no per-row score exists; Cantos: canto and line F1, file tasks:
  field F1), from the per-row counts its ``f1_counts(sample)`` declares: a paired bootstrap,
  resampling rows with a fixed seed (same inputs, same p-value on every run).

Every figure is computed as the report computes it (``core.metrics``: ``rate``, ``Tally``), so A's
and B's figures are their reports' own, and an F1 undefined in one report (nothing predicted and
nothing in the gold on the paired rows) is not tested but said so.

Both reports must be of the same task (eval.json's or report.json's ``task``); the per-row flags
and counts come from that task's ``score(record)``.

p-values are Holm-adjusted over every test of the comparison, so checking every variant x data
file x 6 metrics does not raise a false alarm on one of them by chance. A change is a
**regression** only when it is worse *and* significant; speed figures are shown, never gated
(they depend on the machine more than on the model).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..core.errors import ExtractorError
from ..core.generation import ran_on
from ..core.metrics import Tally, core_metrics, rate
from ..core.sample_record import SAMPLES, SampleRecord, read
from ..core.task import Sample, Task
from .likelihood import read as read_likelihood
from .parity import TOLERANCE, compare_rows
from .records import EVAL_JSON, read_eval
from .report import task_of
from .verdict import mcnemar

ALPHA = 0.05
N_BOOT = 2000
SEED = 16
# metric -> (per-row outcome, higher is better): the flags every task's Sample has
BINARY = {
    "schema_valid": (lambda s: s.parsed.valid, True),
    "exact_match": (lambda s: s.exact, True),
    "clean_stop": (lambda s: s.clean_stop, True),
    "runaway": (lambda s: ran_on(s.finish_reason), False),
}
SPEED = ("latency_p50_s", "examples_per_s")


class CompareError(ExtractorError):
    """A report directory cannot be compared (missing or unreadable samples)."""

    exit_code = 2


@dataclass(frozen=True)
class Loaded:
    """One report's samples and the task that scored them."""

    task: Task
    samples: dict[tuple[str, str, str], Sample]
    """{(data, variant, id): Sample}."""
    records: dict[tuple[str, str, str], SampleRecord] = field(default_factory=dict)
    """{(data, variant, id): the record it was scored from} (inputs and raw outputs, for ``compare_html``)."""
    likelihood: list = field(default_factory=list)
    """Its likelihood.jsonl rows (``evaluation/likelihood.py``), when the evaluation scored the gold answers."""


@dataclass
class Comparison:
    rows: list[dict]
    """One per (data, variant, metric) tested: a, b, delta, test, p, p_holm, verdict (and ci for F1)."""
    speed: list[dict]
    """Speed figures of the paired rows (a, b), for information."""
    unpaired: list[str] = field(default_factory=list)
    """Sentences about what only one side has."""
    alpha: float = ALPHA

    @property
    def regressions(self) -> list[dict]:
        return [r for r in self.rows if r["verdict"] == "regression"]


def load_samples(path: str | Path) -> dict[tuple[str, str, str], Sample]:
    """{(data, variant, id): Sample} from a report directory (or a samples.jsonl file itself)."""
    return load(path).samples


def report_task(path: str | Path) -> Task:
    """The task of a report directory: eval.json's ``task_source`` or ``task``, else report.json's
    (a committed baseline has no eval.json), else the default task; resolved as ``extractor report`` does."""
    path = Path(path)
    folder = path.parent if path.is_file() else path
    try:
        found = read_eval(folder)
    except ExtractorError as e:
        raise CompareError(str(e)) from None
    try:
        return task_of(found)
    except ExtractorError as e:
        raise CompareError(f"{path}: its task {found.task_source or found.task or 'the default'!r} cannot "
                           f"be loaded ({e}); restore the task directory at that path, or fix `task_source` in "
                           f"{folder / EVAL_JSON}") from None


def load(path: str | Path) -> Loaded:
    """A report directory's (or a samples.jsonl file's) samples, scored by the report's own task."""
    path = Path(path)
    file = path if path.is_file() else path / SAMPLES
    if not path.exists():
        raise CompareError(f"{path}: no such report directory; give the --out directory of `extractor eval`")
    if not file.is_file():
        raise CompareError(f"{file}: not found; `report compare` pairs rows, so it needs the samples.jsonl that "
                           f"`extractor eval --out {path}` writes beside report.json (copy it there with the report)")
    task = report_task(path)
    try:  # the crash-safe reader: a torn last line (a killed eval) is left out, a bad line is named
        records = {r.key: r for r in read(file)}
        out = {k: task.score(r) for k, r in records.items()}
    except ExtractorError as e:
        raise CompareError(str(e)) from None
    except (KeyError, TypeError, ValueError) as e:
        raise CompareError(f"{file}: a record is not a sample ({type(e).__name__}: {e}); "
                           f"re-run `extractor eval --out {path} --resume` or restore the file") from None
    if not out:
        raise CompareError(f"{file}: no samples; run `extractor eval --out {path}` first")
    return Loaded(task, out, records, read_likelihood(file.parent))


def same_task(a: Loaded, b: Loaded, a_path: str | Path, b_path: str | Path) -> Task:
    """The task both reports are of; a CompareError naming B's path when they differ."""
    if a.task.name != b.task.name:
        raise CompareError(f"{b_path}: its samples are of task {b.task.name!r}, those of {a_path} of "
                           f"{a.task.name!r}; compare two evaluations of the same task")
    return a.task


def _boot_indices(n: int, cache: dict) -> np.ndarray:
    if n not in cache:
        cache[n] = np.random.default_rng(SEED).integers(0, n, size=(N_BOOT, n))
    return cache[n]


class Bootstrap(NamedTuple):
    """A paired bootstrap of one micro F1 figure on the same rows."""

    a: float
    """A's F1 over the rows: ``Tally.total(rows).f1``, the figure A's report holds for them."""
    b: float
    """B's, likewise."""
    delta: float
    """b - a."""
    p: float
    """Two-sided p-value of the delta (the shift method, +1 smoothed)."""
    ci: tuple[float, float]
    """95% range of the resampled delta."""


def paired_bootstrap(a: list[tuple[int, int, int]], b: list[tuple[int, int, int]],
                     idx: np.ndarray | None = None) -> Bootstrap | None:
    """Micro F1 of B against A on the same rows, each row's counts a ``core.metrics.Tally`` (true
    positives, predicted, gold); None when either side's F1 is undefined (neither side of its rows
    has anything: ``Tally``'s convention), so there is nothing to test.

    Every F1, the point estimates and each resample's, is ``Tally.f1`` of the summed counts, the
    report's own formula; a resample where either side's F1 is undefined is left out. The p-value is
    the share of resampled deltas at least as far from the observed one as the observed one is from
    0 (the shift method), +1 smoothed.
    """
    ca, cb = (np.asarray(c, dtype=np.int64).reshape(-1, 3) for c in (a, b))
    fa, fb = Tally(*ca.sum(0).tolist()).f1, Tally(*cb.sum(0).tolist()).f1
    if fa is None or fb is None:
        return None
    if idx is None:
        idx = _boot_indices(len(ca), {})
    resampled = [(Tally(*x).f1, Tally(*y).f1) for x, y in zip(ca[idx].sum(1).tolist(), cb[idx].sum(1).tolist())]
    deltas = np.array([y - x for x, y in resampled if x is not None and y is not None] or [fb - fa])
    delta = fb - fa
    if delta == 0:
        p = 1.0
    else:
        p = float((np.sum(np.abs(deltas - delta) >= abs(delta) - 1e-12) + 1) / (len(deltas) + 1))
    lo, hi = np.percentile(deltas, [2.5, 97.5])
    return Bootstrap(fa, fb, delta, min(1.0, p), (float(lo), float(hi)))


def holm(ps: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order."""
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    out, running = [0.0] * len(ps), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(ps) - rank) * ps[i]))
        out[i] = running
    return out


def compare(a: dict, b: dict, task: Task, alpha: float = ALPHA, likelihood: tuple[list, list] | None = None) -> Comparison:
    """Paired tests of B against A for every (data, variant) both have samples of. ``task`` scored
    both; its ``f1_counts(sample)`` gives the F1 figures to bootstrap. ``likelihood``: both reports'
    likelihood.jsonl rows (``evaluation/likelihood.py``), for the paired test of the gold NLL."""
    f1_counts = task.f1_counts
    groups: dict[tuple[str, str], list[str]] = {}
    for (d, v, i) in b:
        if (d, v, i) in a:
            groups.setdefault((d, v), []).append(i)
    unpaired = []
    for name, side, other in (("A", a, b), ("B", b, a)):
        missing = sorted({(d, v) for (d, v, _) in side} - {(d, v) for (d, v, _) in other})
        if missing:
            unpaired.append(f"only in {name}: " + ", ".join(f"{v} on {d}" for d, v in missing))
    counts = Counter((d, v) for (d, v, _) in a) + Counter((d, v) for (d, v, _) in b)
    for (d, v), ids in groups.items():
        extra = counts[(d, v)] - 2 * len(ids)
        if extra:
            unpaired.append(f"{v} on {d}: {extra} row(s) in one report only; compared on the {len(ids)} paired rows")
    rows, speed, cache = [], [], {}
    for (d, v), ids in groups.items():
        ids.sort()
        sa, sb = [a[(d, v, i)] for i in ids], [b[(d, v, i)] for i in ids]
        ga, gb = core_metrics(sa), core_metrics(sb)
        for key, (fn, higher) in BINARY.items():
            xa, xb = [bool(fn(s)) for s in sa], [bool(fn(s)) for s in sb]
            va, vb = rate(xa), rate(xb)
            rows.append({"data": d, "variant": v, "metric": key, "n": len(ids), "a": va, "b": vb, "delta": vb - va,
                         "higher": higher, "test": "McNemar", "p": mcnemar(xa, xb)})
        ca, cb = ([f1_counts(s) for s in side] for side in (sa, sb))
        for key in (ca[0] if ca else {}):
            boot = paired_bootstrap([c[key] for c in ca], [c[key] for c in cb], _boot_indices(len(ids), cache))
            if boot is None:
                unpaired.append(f"{v} on {d}: {key} not tested, undefined in one report (no item predicted or in "
                                "the gold on its rows)")
                continue
            rows.append({"data": d, "variant": v, "metric": key, "n": len(ids), "a": boot.a, "b": boot.b,
                         "delta": boot.delta, "higher": True, "test": "paired bootstrap", "p": boot.p, "ci": boot.ci})
        for key in SPEED:
            speed.append({"data": d, "variant": v, "metric": key, "a": ga[key], "b": gb[key]})
    rows += likelihood_rows(*likelihood) if likelihood else []
    for r, p_adj in zip(rows, holm([r["p"] for r in rows])):
        r["p_holm"] = p_adj
        worse = r["delta"] < 0 if r["higher"] else r["delta"] > 0
        if r["delta"] == 0:
            r["verdict"] = "unchanged"
        elif p_adj >= alpha:
            r["verdict"] = "not significant"
        elif r.get("within_tolerance"):
            r["verdict"] = "within tolerance"
        else:
            r["verdict"] = "regression" if worse else "improvement"
    return Comparison(rows, speed, unpaired, alpha)


def likelihood_rows(a: list, b: list) -> list[dict]:
    """The paired gold-NLL test of B against A per (data, variant) both scored (the same gold tokens):
    NLL per token, the relative change with its bootstrap interval, the sign test over rows
    (``evaluation/parity.py``); a significant change under ``parity.TOLERANCE`` is within tolerance."""
    def by(rows):
        out: dict = {}
        for s in rows:
            if not s.scores.error:
                out.setdefault((s.data, s.variant), {})[s.id] = s.scores
        return out

    ba, bb = by(a), by(b)
    out = []
    for key in sorted(ba.keys() & bb.keys()):
        ids = sorted(i for i in ba[key].keys() & bb[key].keys() if ba[key][i].tokens == bb[key][i].tokens)
        if not ids:
            continue
        sa, sb = [ba[key][i] for i in ids], [bb[key][i] for i in ids]
        p = compare_rows(sa, sb, "A", {}, "B", [])
        na = sum(s.nll for s in sa) / max(1, sum(len(s.answer) for s in sa))
        nb = sum(s.nll for s in sb) / max(1, sum(len(s.answer) for s in sb))
        out.append({"data": key[0], "variant": key[1], "metric": "gold_nll_per_token", "n": len(ids), "a": na, "b": nb,
                    "delta": nb - na, "higher": False, "test": f"sign test ({p.worse_rows} rows worse, "
                    f"{p.better_rows} better; NLL {p.nll_change:+.1%} [{p.nll_ci[0]:+.1%}, {p.nll_ci[1]:+.1%}])",
                    "p": p.sign_p, "within_tolerance": abs(p.nll_change) < TOLERANCE})
    return out


def describe(r: dict) -> str:
    """One line: 'test / merged-gguf: exact_match 0.730 -> 0.700 (-0.030, 89 rows), McNemar p=0.41: not significant'."""
    ci = f" [{r['ci'][0]:+.3f}, {r['ci'][1]:+.3f}]" if r.get("ci") else ""
    p = f"p={p_figure(r['p'])}" + (f", Holm-adjusted {p_figure(r['p_holm'])}" if r["p_holm"] != r["p"] else "")
    verdict = {"regression": "REGRESSION", "improvement": "improvement"}.get(r["verdict"], r["verdict"])
    return (f"{r['data']} / {r['variant']}: {r['metric']} {r['a']:.3f} -> {r['b']:.3f} ({r['delta']:+.3f}{ci}, "
            f"{r['n']} rows), {r['test']} {p}: {verdict}")


def p_figure(p: float) -> str:
    """A p-value as the comparison prints it (terminal and page): three decimals below 0.1, else two."""
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def render(c: Comparison, a_name: str, b_name: str, show_all: bool = False) -> list[str]:
    """The comparison as text lines: regressions first, then the other changes, then a summary."""
    order = {"regression": 0, "improvement": 1, "within tolerance": 2, "not significant": 2, "unchanged": 3}
    shown = [r for r in c.rows if show_all or r["verdict"] != "unchanged"]
    lines = [f"{b_name} (B) against {a_name} (A), rows paired by (data, variant, id):"]
    lines += ["  " + describe(r) for r in sorted(shown, key=lambda r: order[r["verdict"]])]
    if show_all:
        for s in c.speed:
            if s["a"] is not None and s["b"] is not None:
                lines.append(f"  {s['data']} / {s['variant']}: {s['metric']} {s['a']:.2f} -> {s['b']:.2f} "
                             "(speed: shown, not tested)")
    lines += ["  " + u for u in c.unpaired]
    n_reg = len(c.regressions)
    n_imp = sum(r["verdict"] == "improvement" for r in c.rows)
    n_ns = sum(r["verdict"] == "not significant" for r in c.rows)
    lines.append(f"{n_reg} significant regression(s), {n_imp} significant improvement(s), {n_ns} change(s) not "
                 f"significant, over {len(c.rows)} paired tests (alpha {c.alpha}, Holm-adjusted)")
    return lines
