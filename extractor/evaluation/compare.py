"""`extractor report compare A B`: what changed between two evaluations, and whether it is real.

Both reports' samples are paired by (data, variant, id), so each test sees the same rows twice:

- rates of a yes/no outcome per row (schema-valid, exact, clean stop, runaway): the exact McNemar
  test, which counts only the rows where A and B disagree;
- the task's F1 figures (micro, so no per-row score exists; Cantos: canto and line F1, file tasks:
  field F1), from the per-row counts its ``f1_counts(sample)`` declares: a paired bootstrap,
  resampling rows with a fixed seed (same inputs, same p-value on every run).

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

import numpy as np

from ..core.errors import ExtractorError
from ..core.generation import ran_on
from ..core.metrics import core_metrics
from ..core.sample_record import SAMPLES, SampleRecord, read
from ..core.task import Sample, Task
from .evaluate import EVAL_JSON
from .report import json_key, task_of
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
    meta = {}
    for name in (EVAL_JSON, "report.json"):
        meta = {k: json_key(folder / name, k) for k in ("task_source", "task")}
        if any(meta.values()):
            break
    try:
        return task_of({k: v for k, v in meta.items() if v})
    except ExtractorError as e:
        raise CompareError(f"{path}: its task {meta.get('task_source') or meta.get('task') or 'the default'!r} cannot "
                           f"be loaded ({e}); restore the task directory at that path, or fix `task_source` in "
                           f"{folder / EVAL_JSON}") from None


def load(path: str | Path) -> Loaded:
    """A report directory's (or a samples.jsonl file's) samples, scored by the report's own task."""
    path = Path(path)
    file = path if path.is_file() else path / SAMPLES
    if not path.exists():
        raise CompareError(f"{path}: no such report directory; give the --out directory of `extractor eval`")
    task = report_task(path)
    if not file.is_file():
        raise CompareError(f"{file}: not found; `report compare` pairs rows, so it needs the samples.jsonl that "
                           f"`extractor eval --out {path}` writes beside report.json (copy it there with the report)")
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
    return Loaded(task, out, records)


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


def paired_bootstrap(a: list[tuple[int, int, int]], b: list[tuple[int, int, int]], idx: np.ndarray | None = None):
    """Micro F1 of B minus A on the same rows: (delta, p two-sided, (lo, hi) 95% of the resampled delta).

    Each row gives (true positives, predicted, gold). The p-value is the share of resampled deltas at
    least as far from the observed one as the observed one is from 0 (the shift method), +1 smoothed.
    """
    ca, cb = np.asarray(a, dtype=float).reshape(-1, 3), np.asarray(b, dtype=float).reshape(-1, 3)
    if idx is None:
        idx = _boot_indices(len(ca), {})

    def f1(c, sel=None):
        c = c if sel is None else c[sel]  # (..., rows, 3)
        tp, den = c[..., 0].sum(-1), c[..., 1].sum(-1) + c[..., 2].sum(-1)
        return np.divide(2 * tp, den, out=np.zeros_like(tp, dtype=float), where=den > 0)

    delta = float(f1(cb) - f1(ca))
    deltas = f1(cb, idx) - f1(ca, idx)
    if delta == 0:
        p = 1.0
    else:
        p = float((np.sum(np.abs(deltas - delta) >= abs(delta) - 1e-12) + 1) / (len(deltas) + 1))
    lo, hi = np.percentile(deltas, [2.5, 97.5])
    return delta, min(1.0, p), (float(lo), float(hi))


def micro_f1(counts: list[tuple[int, int, int]]) -> float:
    """2 tp / (predicted + gold) summed over rows (0.0 when both are empty), as the task's aggregate."""
    tp, n_pred, n_gold = (sum(c[i] for c in counts) for i in range(3))
    return 2 * tp / (n_pred + n_gold) if n_pred + n_gold else 0.0


def holm(ps: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order."""
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    out, running = [0.0] * len(ps), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(ps) - rank) * ps[i]))
        out[i] = running
    return out


def compare(a: dict, b: dict, task: Task, alpha: float = ALPHA) -> Comparison:
    """Paired tests of B against A for every (data, variant) both have samples of. ``task`` scored
    both; its ``f1_counts(sample)`` gives the F1 figures to bootstrap."""
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
            va, vb = sum(xa) / len(ids), sum(xb) / len(ids)
            rows.append({"data": d, "variant": v, "metric": key, "n": len(ids), "a": va, "b": vb, "delta": vb - va,
                         "higher": higher, "test": "McNemar", "p": mcnemar(xa, xb)})
        ca, cb = ([f1_counts(s) for s in side] for side in (sa, sb))
        for key in (ca[0] if ca else {}):
            xa, xb = [c[key] for c in ca], [c[key] for c in cb]
            delta, p, ci = paired_bootstrap(xa, xb, _boot_indices(len(ids), cache))
            rows.append({"data": d, "variant": v, "metric": key, "n": len(ids), "a": micro_f1(xa), "b": micro_f1(xb),
                         "delta": delta, "higher": True, "test": "paired bootstrap", "p": p, "ci": ci})
        for key in SPEED:
            speed.append({"data": d, "variant": v, "metric": key, "a": ga[key], "b": gb[key]})
    for r, p_adj in zip(rows, holm([r["p"] for r in rows])):
        r["p_holm"] = p_adj
        worse = r["delta"] < 0 if r["higher"] else r["delta"] > 0
        if r["delta"] == 0:
            r["verdict"] = "unchanged"
        elif p_adj >= alpha:
            r["verdict"] = "not significant"
        else:
            r["verdict"] = "regression" if worse else "improvement"
    return Comparison(rows, speed, unpaired, alpha)


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
    order = {"regression": 0, "improvement": 1, "not significant": 2, "unchanged": 3}
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
