"""Scoring: samples.jsonl -> report.json (and the files rendered from it: report.md, report.html).

Scoring re-parses every raw output, so a better parser or a new metric applies to old runs
without generating again (`extractor report rescore OUT`). Rendering is ``report_text`` (report.md,
the terminal) and ``report_html``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..core.errors import ExtractorError
from ..core.files import atomic_write, write_json
from ..core.metrics import directions, meets
from ..core.sample_record import SAMPLES, SampleRecord
from ..core.sample_record import records as as_records
from ..core.task import Task
from ..tasks.registry import get_task
from . import grammar_gaps, verdict
from ..core.generation import transient
from .evaluate import EVAL_JSON, read_samples
from .report_html import render_html
from .report_text import render_md


def task_of(meta: dict) -> Task:
    """The task an evaluation ran, from its eval.json or report.json (``task_source``, else
    ``task``; neither: the default task)."""
    return get_task(meta.get("task_source") or meta.get("task") or None)


# What report.json repeats of eval.json: enough to score a copied report (a committed baseline made
# before `make baseline` copied eval.json) as it was scored.
_RECORDED = ("suite", "task", "task_source", "runs", "data", "variants", "skipped", "settings", "wall_seconds",
             "decision", "served")
# (A report.json of this version records the rows of each data file only in its ``not_evaluated``.)


def read_meta(out: Path) -> dict:
    """out/eval.json (what `extractor eval` recorded); without it, the same facts as out/report.json
    recorded them (its thresholds from its checks); {} when there is neither."""
    if (out / EVAL_JSON).is_file():
        return json.loads((out / EVAL_JSON).read_text())
    if not (out / "report.json").is_file():
        return {}
    old = json.loads((out / "report.json").read_text())
    meta = {k: old[k] for k in _RECORDED if k in old}
    meta["thresholds"] = [{"data": c["data"], "variants": [c["variant"]], "bounds": {c["metric"]: c["bound"]}}
                          for c in old.get("checks", [])]
    return meta


def score(out: Path, records: "list[SampleRecord] | None" = None, task: Task | None = None) -> dict:
    """Build report.json's content from out/samples.jsonl (or its already-read records: SampleRecords
    or their JSON objects) and out/eval.json. ``task``: the evaluation's task (None: eval.json's)."""
    records = read_samples(out / SAMPLES) if records is None else as_records(records)
    records = [r for r in records if not transient(r.error)]  # an earlier version's record of an outage
    if not records:
        raise ExtractorError(f"{out / SAMPLES}: no samples to score; run `extractor eval ... --out {out}` first "
                             "(a committed report without its samples.jsonl can be shown, not re-scored)")
    meta = read_meta(out)
    task = task or task_of(meta)
    groups: dict[str, dict[str, list[SampleRecord]]] = {}
    for r in records:
        groups.setdefault(r.data, {}).setdefault(r.variant, []).append(r)
    order = meta.get("variants") or sorted({r.variant for r in records})
    metrics = {d: {v: task.aggregate([task.score(r) for r in by_v[v]]) for v in order if v in by_v}
               for d, by_v in groups.items()}
    report = {
        "suite": meta.get("suite"), "task": task.name, "task_source": meta.get("task_source") or task.name,
        "table": [m.key for m in task.metrics if m.level <= 2], "runs": meta.get("runs", {}),
        "data": meta.get("data", {}), "variants": [v for v in order if any(v in m for m in metrics.values())],
        "skipped": meta.get("skipped", {}), "settings": meta.get("settings", {}), "wall_seconds": meta.get("wall_seconds", {}),
        "errors": sum(1 for r in records if r.error), "metrics": metrics,
    }
    report["checks"] = check_thresholds(report, meta.get("thresholds", []), directions(task.metrics))
    report["timing"] = timing(report, bool(meta.get("job_summary")))
    samples = verdict.outcomes(records, task.score)
    report["inherited"] = inherited(records)
    report["sizes"] = artefact_sizes(report["runs"], report["variants"])
    decided = verdict.decide(metrics, samples, frozenset(report["inherited"]), report["sizes"])
    missing = not_evaluated(meta, groups)
    if missing:  # rows not evaluated are not scored as failures: no verdict until they are done
        report["not_evaluated"] = missing
        decided.update({d: verdict.undecided(by_v) for d, by_v in missing.items() if d in decided})
        for c in report["checks"]:
            if c["variant"] in missing.get(c["data"], {}):
                c["passed"] = False
    report["decision"] = meta.get("decision") if meta.get("decision") in decided else (list(decided) or [None])[-1]
    report["verdict"] = {"rule": verdict.RULE,  # the decision split first
                         "data": dict(sorted(decided.items(), key=lambda kv: kv[0] != report["decision"]))}
    report["intervals"] = verdict.intervals(samples)
    report["by_tag"] = verdict.by_tag(records, samples)
    report["same_outputs"] = same_outputs(records, report["variants"],
                                          {what["ship"] for what in decided.values() if what["ship"]})
    if any("+grammar" in v for v in report["variants"]):  # what those rows' grammar leaves out
        report["grammar_unenforced"] = grammar_gaps.gaps(task.schema)
        report["grammar_stricter"] = grammar_gaps.stricter(task.schema)
    if any("-hf+grammar" in v for v in report["variants"]):  # the transformers rows decode under llguidance
        report["grammar_hf"] = grammar_gaps.llguidance_summary(task.schema)
    if meta.get("served"):  # where the served rows ran, and how
        report["served"] = meta["served"]
    return report


def not_evaluated(meta: dict, groups: dict[str, dict[str, list[SampleRecord]]]) -> dict:
    """{data: {variant: {"missing": rows not recorded, "rows": rows of the data file}}} for every
    variant the evaluation ran (not skipped) with fewer records than its data file has rows
    (eval.json's ``rows``; a report without them: the most any variant has)."""
    out: dict = {}
    skipped = meta.get("skipped") or {}
    for d, by_v in groups.items():
        n = (meta.get("rows") or {}).get(d) or max(len(rs) for rs in by_v.values())
        for v in meta.get("variants") or list(by_v):
            have = len({r.id for r in by_v.get(v, [])})
            if v not in skipped and have < n:
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


def timing(report: dict, job: bool = False) -> dict:
    """Seconds per step of this evaluation: the generation of every variant (eval.json's
    ``wall_seconds``, over every ``--resume`` of it). ``job`` (``extractor eval --job-summary``, as
    ``make report`` runs it): also, under ``job``, the times the job's earlier steps recorded: the
    install of the environment running this (VENV/install.json), the training and export of every
    run (their run.json and export.json)."""
    out: dict = {"eval": dict(report.get("wall_seconds", {}))}
    out["total_seconds"] = round(sum(out["eval"].values()), 1)
    if not job:
        return out
    steps: dict = {"install": {}, "train": {}, "export": {}}
    installed = json_key(Path(sys.prefix) / "install.json", "install_seconds")
    if installed is not None:
        steps["install"]["venv"] = installed
    for label, run_dir in report.get("runs", {}).items():
        for step, name, keys in (("train", "run.json", ("wall_seconds", "train_seconds")),
                                 ("export", "export/export.json", ("wall_seconds",))):
            value = json_key(Path(run_dir) / name, *keys)
            if value is not None:
                steps[step][label] = value
    steps["total_seconds"] = round(sum(v for part in steps.values() for v in part.values()) + out["total_seconds"], 1)
    out["job"] = steps
    return out


def check_thresholds(report: dict, thresholds: list[dict], ranked: dict[str, bool | None]) -> list[dict]:
    """One result per (threshold, variant, metric): the value, the bound, and whether it passed.
    ``ranked``: the task's metric directions (``core.metrics.directions``)."""
    results = []
    for t in thresholds:
        for v in t["variants"]:
            m = report["metrics"].get(t["data"], {}).get(v)
            for key, bound in t["bounds"].items():
                value = None if m is None else m.get(key)
                higher = ranked[key]
                ok = meets(value, bound, higher)
                results.append({"data": t["data"], "variant": v, "metric": key, "value": value,
                                "bound": bound, "kind": "min" if higher else "max", "passed": ok})
    return results


def write_reports(out: Path, task: Task | None = None, *, rescore: bool = False) -> dict:
    """Score out/samples.jsonl and write report.json, report.md and report.html beside it.
    ``rescore``: nothing was run now, so the times are the ones the previous report.json recorded
    (where it did): a copied report keeps its job's times."""
    records = read_samples(out / SAMPLES)
    recorded = json_key(out / "report.json", "timing") if rescore else None
    report = score(out, records, task)
    if recorded:
        report["timing"] = recorded
    task = task or task_of(report)
    write_json(out / "report.json", report)
    atomic_write(out / "report.md", render_md(report, task))
    atomic_write(out / "report.html", render_html(report, records, task))
    return report


def load_report(path: str | Path) -> dict:
    path = Path(path)
    if path.is_dir():
        path = path / "report.json"
    return json.loads(path.read_text())
