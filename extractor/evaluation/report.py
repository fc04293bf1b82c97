"""Scoring: samples.jsonl -> report.json (and the files rendered from it: report.md, report.html).

Scoring re-parses every raw output, so a better parser or a new metric applies to old runs
without generating again (`extractor report rescore OUT`). Rendering is ``report_text`` (report.md,
the terminal) and ``report_html``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..core import confidence
from ..core.errors import ExtractorError
from ..core.files import atomic_write
from ..core.generation import transient
from ..core.metrics import directions, meets
from ..core.sample_record import SAMPLES, SampleRecord
from ..core.sample_record import records as as_records
from ..core.task import Task
from ..tasks.registry import get_task
from ..runtimes import grammar_gaps
from . import calibration, causes, likelihood, parity, verdict
from .evaluate import read_samples
from .records import FORMAT, Check, EvalLog, Report, Timing, Verdict, read_eval, read_report, write_report
from .view_records import LikelihoodView
from .report_html import render_html
from .report_text import render_md


def task_of(found: "EvalLog | Report") -> Task:
    """The task an evaluation ran, from its eval.json or report.json (``task_source``, else
    ``task``; neither: the default task)."""
    return get_task(found.task_source or found.task or None)


def score(out: Path, records: "list[SampleRecord] | None" = None, task: Task | None = None,
          before: Report | None = None) -> Report:
    """Build report.json's record from out/samples.jsonl (or its already-read records: SampleRecords
    or their JSON objects) and out/eval.json. ``task``: the evaluation's task (None: eval.json's).
    ``before``: the report this one replaces (a rescore), whose artefact sizes stand where the
    artefacts are not on this machine (a committed report scored again elsewhere)."""
    records = read_samples(out / SAMPLES) if records is None else as_records(records)
    records = [r for r in records if not transient(r.error)]  # an earlier version's record of an outage
    if not records:
        raise ExtractorError(f"{out / SAMPLES}: no samples to score; run `extractor eval ... --out {out}` first "
                             "(a committed report without its samples.jsonl can be shown, not re-scored)")
    log = read_eval(out)
    task = task or task_of(log)
    groups: dict[str, dict[str, list[SampleRecord]]] = {}
    for r in records:
        groups.setdefault(r.data, {}).setdefault(r.variant, []).append(r)
    order = log.variants or sorted({r.variant for r in records})
    metrics = {d: {v: task.aggregate([task.score(r) for r in by_v[v]]) for v in order if v in by_v}
               for d, by_v in groups.items()}
    report = Report(suite=log.suite, task=task.name, task_source=log.task_source or task.name,
                    table=[m.key for m in task.metrics if m.level <= 2], runs=dict(log.runs), data=dict(log.data),
                    variants=[v for v in order if any(v in m for m in metrics.values())], skipped=dict(log.skipped),
                    settings=dict(log.settings), wall_seconds=dict(log.wall_seconds),
                    errors=sum(1 for r in records if r.error), metrics=metrics, format=FORMAT)
    report.checks = check_thresholds(report, log, directions(task.metrics))
    report.timing = timing(report.wall_seconds, report.runs, log.job_summary, log.likelihood_seconds)
    samples = verdict.outcomes(records, lambda r: confidence.scored(task, r))  # with each answer's confidence
    report.inherited = inherited(records)
    report.sizes = {**(before.sizes if before else {}), **artefact_sizes(report.runs, report.variants)}
    decided = verdict.decide(metrics, samples, frozenset(report.inherited), report.sizes)
    missing = not_evaluated(log, groups)
    if missing:  # rows not evaluated are not scored as failures: no verdict until they are done
        report.not_evaluated = missing
        decided.update({d: verdict.undecided(by_v) for d, by_v in missing.items() if d in decided})
        for c in report.checks:
            if c.variant in missing.get(c.data, {}):
                c.passed = False
    report.decision = log.decision if log.decision in decided else (list(decided) or [None])[-1]
    report.verdict = Verdict(verdict.RULE, dict(sorted(decided.items(), key=lambda kv: kv[0] != report.decision)))
    report.intervals = verdict.intervals(samples)
    report.by_tag = verdict.by_tag(records, samples)
    report.same_outputs = same_outputs(records, report.variants, {w.ship for w in decided.values() if w.ship})
    if any("+grammar" in v for v in report.variants):  # what those rows' grammar leaves out
        report.grammar_unenforced = grammar_gaps.gaps(task.schema)
        report.grammar_stricter = grammar_gaps.stricter(task.schema)
    if any("-hf+grammar" in v for v in report.variants):  # the transformers rows decode under llguidance
        report.grammar_hf = grammar_gaps.llguidance_summary(task.schema)
    if log.served:  # where the served rows ran, and how
        report.served = dict(log.served)
    report.likelihood = likelihood_view(out, log, records)
    report.calibration = calibration.view(samples, report.variants)
    return report


def likelihood_view(out: Path, log: EvalLog, records: list[SampleRecord]) -> LikelihoodView | None:
    """The teacher-forced figures, parity and causes from out/likelihood.jsonl and divergence.jsonl
    (None when the evaluation scored nothing: run before the likelihood view, or ``--no-likelihood``)."""
    scored = likelihood.read(out)
    if not scored:
        return None
    outputs: dict[str, dict[str, dict[str, SampleRecord]]] = {}
    for r in records:
        outputs.setdefault(r.data, {}).setdefault(r.variant, {})[r.id] = r
    reference = log.reference or likelihood.REFERENCE
    found = parity.artefacts(scored)
    view = LikelihoodView(reference=reference if any(reference in by_v for by_v in found.values()) else None,
                          artefacts=found, parity=parity.parity(scored, reference, outputs, likelihood.read_divergences(out)),
                          not_scored=dict(log.not_scored))
    view.not_scored.update(parity.unscored(scored))
    view.causes = causes.lines(log.artefacts, view, scored, log.decision)
    return view


def not_evaluated(log: EvalLog, groups: dict[str, dict[str, list[SampleRecord]]]) -> dict:
    """{data: {variant: {"missing": rows not recorded, "rows": rows of the data file}}} for every
    variant the evaluation ran (not skipped) with fewer records than its data file has rows
    (eval.json's ``rows``; a report without them: the most any variant has)."""
    out: dict = {}
    for d, by_v in groups.items():
        n = log.rows.get(d) or max(len(rs) for rs in by_v.values())
        for v in log.variants or list(by_v):
            have = len({r.id for r in by_v.get(v, [])})
            if v not in log.skipped and have < n:
                out.setdefault(d, {})[v] = {"missing": n - have, "rows": n}
    return out


def inherited(records: list[SampleRecord]) -> dict[str, dict[str, int]]:
    """Per +grammar variant that continued its free row's outputs (``generation.Prior``): how many
    outputs it took whole (nothing decoded), in part, and of how many."""
    out: dict[str, dict[str, int]] = {}
    for r in records:
        if "+grammar" in r.variant:
            c = out.setdefault(r.variant, {"whole": 0, "partly": 0, "n": 0})
            c["n"] += 1
            if r.inherited:
                c["whole" if r.seconds is None else "partly"] += 1
    return {v: c for v, c in out.items() if c["whole"] or c["partly"]}


def same_outputs(records: list[SampleRecord], order: list[str], keep: set[str]) -> dict:
    """{data: {variant: {"as": earlier variant, "n": rows}}} for each variant whose outputs (raw text
    and finish reason) equal an earlier variant's on every row of a data file: its figures repeat
    that row's, so the tables fold it into one line. ``keep``: variants never folded (the shipped)."""
    outputs: dict[str, dict[str, dict[str, tuple]]] = {}
    for r in records:
        outputs.setdefault(r.data, {}).setdefault(r.variant, {})[r.id] = (r.raw, r.finish_reason, bool(r.error))
    out: dict = {}
    for d, by_v in outputs.items():
        seen: list[str] = []
        for v in (v for v in order if v in by_v):
            twin = next((w for w in seen if by_v[w] == by_v[v]), None)
            if twin and v not in keep and not v.startswith("rules"):
                out.setdefault(d, {})[v] = {"as": twin, "n": len(by_v[v])}
            else:
                seen.append(v)
    return out


def artefact_sizes(runs: dict, variants: list[str]) -> dict[str, int]:
    """Bytes on disk of what each variant loads, where its run's export.json tells (adapter-hf and
    the rules are left out: the HF base is not measured, the rules load no model)."""
    out = {}
    for v in variants:
        body, _, label = v.partition("@")
        kind = body.split("+")[0]
        try:
            exp = json.loads((Path(runs[label or "default"]) / "export" / "export.json").read_text())
        except (KeyError, OSError, ValueError):
            continue
        files = exp.get("files") or {}
        base = Path(exp["base_gguf"]) if exp.get("base_gguf") else None
        base_size = base.stat().st_size if base is not None and base.is_file() else None
        size = {"base-gguf": base_size, "merged-gguf": files.get("merged.gguf"),
                "merged-hf": sum(n for f, n in files.items() if f.startswith("merged-hf/")) or None,
                "adapter-gguf": files["adapter.gguf"] + base_size if base_size and "adapter.gguf" in files else None,
                }.get(kind)
        if size:
            out[v] = size
    return out


def json_key(path: Path, *keys: str):
    """The first of ``keys`` present in the JSON file at ``path`` (None if the file or keys are missing)."""
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return next((found[k] for k in keys if found.get(k) is not None), None)


def timing(wall_seconds: dict[str, float], runs: dict[str, str], job: bool = False,
           likelihood: dict[str, float] | None = None) -> Timing:
    """Seconds per step of this evaluation: the generation of every variant (eval.json's
    ``wall_seconds``, over every ``--resume`` of it) and the likelihood view's scoring. ``job`` (``extractor eval --job-summary``, as
    ``make report`` runs it): also, under ``job``, the times the job's earlier steps recorded: the
    install of the environment running this (VENV/install.json), the training and export of every
    run (their run.json and export.json)."""
    out = Timing(eval=dict(wall_seconds), total_seconds=round(sum(wall_seconds.values()) + sum((likelihood or {}).values()), 1),
                 likelihood=dict(likelihood) if likelihood else None)
    if not job:
        return out
    steps: dict = {"install": {}, "train": {}, "export": {}}
    installed = json_key(Path(sys.prefix) / "install.json", "install_seconds")
    if installed is not None:
        steps["install"]["venv"] = installed
    for label, run_dir in runs.items():
        for step, name, keys in (("train", "run.json", ("wall_seconds", "train_seconds")),
                                 ("export", "export/export.json", ("wall_seconds",))):
            value = json_key(Path(run_dir) / name, *keys)
            if value is not None:
                steps[step][label] = value
    steps["total_seconds"] = round(sum(v for part in steps.values() for v in part.values()) + out.total_seconds, 1)
    out.job = steps
    return out


def check_thresholds(report: Report, log: EvalLog, ranked: dict[str, bool | None]) -> list[Check]:
    """One result per (threshold, variant, metric): the value, the bound, and whether it passed.
    ``ranked``: the task's metric directions (``core.metrics.directions``)."""
    results = []
    for t in log.thresholds:
        for v in t.variants:
            m = report.metrics.get(t.data, {}).get(v)
            for key, bound in t.bounds.items():
                value = None if m is None else m.get(key)
                higher = ranked[key]
                results.append(Check(t.data, v, key, value, bound, "min" if higher else "max",
                                     meets(value, bound, higher)))
    return results


def write_reports(out: Path, task: Task | None = None, *, rescore: bool = False) -> Report:
    """Score out/samples.jsonl and write report.json, report.md and report.html beside it.
    ``rescore``: nothing was run now, so the times, the format number and the sizes of artefacts not
    on this machine are the ones the previous report.json recorded: a copied report keeps its job's
    times, and a report scored again from the same samples is the same file."""
    records = read_samples(out / SAMPLES)
    before = read_report(out) if rescore and (out / "report.json").is_file() else None
    report = score(out, records, task, before)
    if before is not None:
        report.timing, report.format = before.timing, before.format
    task = task or task_of(report)
    write_report(out, report)
    atomic_write(out / "report.md", render_md(report, task))
    atomic_write(out / "report.html", render_html(report, records, task))
    return report


def load_report(path: str | Path) -> Report:
    """A report.json, or the one in a report directory."""
    return read_report(path)
