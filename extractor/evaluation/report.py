"""Scoring and rendering: samples.jsonl -> report.json, report.md, report.html, a terminal table.

Scoring re-parses every raw output, so a better parser or a new metric applies to old runs
without generating again (`extractor report rescore OUT`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from . import grammar_gaps, verdict
from .errors import ExtractorError
from .evaluate import EVAL_JSON, read_samples
from .report_html import render_html
from .report_text import fmt, fmt_ci, grammar_line, timing_line
from .runs import atomic_write, write_json
from .sample_record import SAMPLES, SampleRecord
from .sample_record import records as as_records
from .task import DEFAULT_TASK, get_task, meets
from .tasks.cantos import HEADLINE
from .tasks.cantos import to_sample  # noqa: F401 - a Cantos record -> its Sample (task_of(meta).score for any task)

TABLE = HEADLINE  # the Cantos table; report.json's "table" holds the columns of its task


def task_of(meta: dict):
    """The task an evaluation ran (eval.json's ``task_source`` or ``task``; none recorded: cantos)."""
    return get_task(meta.get("task_source") or meta.get("task") or DEFAULT_TASK)


def score(out: Path, records: "list[SampleRecord] | None" = None) -> dict:
    """Build report.json's content from out/samples.jsonl (or its already-read records: SampleRecords
    or their JSON objects) and out/eval.json."""
    records = read_samples(out / SAMPLES) if records is None else as_records(records)
    if not records:
        raise ExtractorError(f"{out / SAMPLES}: no samples to score; run `extractor eval ... --out {out}` first "
                             "(a committed report without its samples.jsonl can be shown, not re-scored)")
    meta = json.loads((out / EVAL_JSON).read_text()) if (out / EVAL_JSON).is_file() else {}
    task = task_of(meta)
    groups: dict[str, dict[str, list[SampleRecord]]] = {}
    for r in records:
        groups.setdefault(r.data, {}).setdefault(r.variant, []).append(r)
    order = meta.get("variants") or sorted({r.variant for r in records})
    metrics = {d: {v: task.aggregate([task.score(r) for r in by_v[v]]) for v in order if v in by_v}
               for d, by_v in groups.items()}
    report = {
        "suite": meta.get("suite"), "task": task.name, "task_source": meta.get("task_source") or task.name,
        "table": list(task.headline), "runs": meta.get("runs", {}), "data": meta.get("data", {}),
        "variants": [v for v in order if any(v in m for m in metrics.values())],
        "skipped": meta.get("skipped", {}), "settings": meta.get("settings", {}), "wall_seconds": meta.get("wall_seconds", {}),
        "errors": sum(1 for r in records if r.error), "metrics": metrics,
    }
    report["checks"] = check_thresholds(report, meta.get("thresholds", []), task.metric_directions)
    report["timing"] = timing(report)
    samples = verdict.outcomes(records, task.score)
    report["verdict"] = {"rule": verdict.RULE, "data": verdict.decide(metrics, samples)}
    report["intervals"] = verdict.intervals(samples)
    report["by_tag"] = verdict.by_tag(records, samples)
    report["sizes"] = artefact_sizes(report["runs"], report["variants"])
    if any("+grammar" in v for v in report["variants"]):  # what those rows' grammar leaves out
        report["grammar_unenforced"] = grammar_gaps.gaps(task.schema)
        report["grammar_stricter"] = grammar_gaps.stricter(task.schema)
    return report


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


def _json_key(path: Path, *keys: str):
    """The first of ``keys`` present in the JSON file at ``path`` (None if the file or keys are missing)."""
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return next((found[k] for k in keys if found.get(k) is not None), None)


def timing(report: dict) -> dict:
    """Seconds per step of the job: the install of the environment running this (``make install``
    writes VENV/install.json), training and export of every run (their run.json and export.json:
    wall time where recorded) and the evaluation of every variant."""
    out: dict = {"install": {}, "train": {}, "export": {}, "eval": dict(report.get("wall_seconds", {}))}
    installed = _json_key(Path(sys.prefix) / "install.json", "install_seconds")
    if installed is not None:
        out["install"]["venv"] = installed
    for label, run_dir in report.get("runs", {}).items():
        for step, name, keys in (("train", "run.json", ("wall_seconds", "train_seconds")),
                                 ("export", "export/export.json", ("wall_seconds",))):
            value = _json_key(Path(run_dir) / name, *keys)
            if value is not None:
                out[step][label] = value
    total = sum(v for part in out.values() for v in part.values())
    out["total_seconds"] = round(total, 1)
    return out


def check_thresholds(report: dict, thresholds: list[dict], directions: dict | None = None) -> list[dict]:
    """One result per (threshold, variant, metric): the value, the bound, and whether it passed.
    ``directions``: the task's metric directions (None: cantos)."""
    directions = get_task(DEFAULT_TASK).metric_directions if directions is None else directions
    results = []
    for t in thresholds:
        for v in t["variants"]:
            m = report["metrics"].get(t["data"], {}).get(v)
            for key, bound in t["bounds"].items():
                value = None if m is None else m.get(key)
                higher = directions[key]
                ok = meets(value, bound, higher)
                results.append({"data": t["data"], "variant": v, "metric": key, "value": value,
                                "bound": bound, "kind": "min" if higher else "max", "passed": ok})
    return results


def render_md(report: dict) -> str:
    lines = [f"# Evaluation report: {report.get('suite') or 'ad hoc'}", ""]
    runs = ", ".join(f"`{k}` = `{v}`" for k, v in report["runs"].items()) or "none"
    lines += [f"Runs: {runs}. Settings: {json.dumps(report['settings'])}.", ""]
    lines += verdict_lines(report)
    table = report.get("table") or TABLE
    for d, by_v in report["metrics"].items():
        ci = report.get("intervals", {}).get(d, {})
        lines += [f"## {d} (`{report['data'].get(d, d)}`)", "", "| variant | " + " | ".join(table) + " |",
                  "|---" * (len(table) + 1) + "|"]
        for v, m in by_v.items():
            lines.append(f"| {v} | " + " | ".join(fmt_ci(k, m.get(k), ci.get(v, {}).get(k)) for k in table) + " |")
        lines += ["", "Exact match and clean stop with their 95% Wilson intervals.", ""]
        tags = report.get("by_tag", {}).get(d)
        if tags:
            names = list(by_v)
            lines += [f"### {d}: exact match per tag", "", "| tag | rows | " + " | ".join(names) + " |",
                      "|---" * (len(names) + 2) + "|"]
            for t, per_v in tags.items():
                n = max(x["n"] for x in per_v.values())
                lines.append(f"| {t} | {n} | " + " | ".join(fmt("exact_match", per_v[v]["exact_match"]) if v in per_v else "-"
                                                          for v in names) + " |")
            lines.append("")
    if grammar_line(report):
        lines += [grammar_line(report), ""]
    if report["skipped"]:
        lines += ["## Skipped", ""] + [f"- `{v}`: {why}" for v, why in report["skipped"].items()] + [""]
    if report["checks"]:
        failed = [c for c in report["checks"] if not c["passed"]]
        lines += ["## Thresholds", "", f"{len(report['checks']) - len(failed)} of {len(report['checks'])} passed.", ""]
        for c in failed:
            lines.append(f"- FAILED {c['variant']} on {c['data']}: {c['metric']} = {fmt(c['metric'], c['value'])} "
                         f"({c['kind']} {c['bound']})")
        lines.append("")
    if timing_line(report):
        lines += [timing_line(report), ""]
    lines += ["Metric definitions: docs/metrics.md. Rates are fractions of rows.", ""]
    return "\n".join(lines)


def verdict_lines(report: dict) -> list[str]:
    """The verdict as markdown: per data file, what to ship and why; then the rule."""
    v = report.get("verdict")
    if not v:
        return []
    lines = ["## Verdict: which artefact to ship", ""]
    for d, what in v["data"].items():
        head = f"**{d}: ship `{what['ship']}`**" if what["ship"] else f"**{d}: nothing to ship**"
        lines.append(f"- {head}. " + " ".join(what["reasons"]))
    lines += ["", f"Rule: {v['rule']}", ""]
    return lines


def print_table(report: dict, console=None) -> None:
    """The terminal view, in the order of report.md and report.html: verdict, then the table per data
    file with 95% intervals for exact match and clean stop."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    if not console.is_terminal:
        console = Console(file=console.file, width=max(console.width, 160))  # a log: do not squeeze to 80 columns
    for d, what in report.get("verdict", {}).get("data", {}).items():
        head = f"[bold]{d}: ship {what['ship']}.[/] " if what["ship"] else f"[bold]{d}: nothing to ship.[/] "
        console.print(head + " ".join(what["reasons"]), highlight=False)
    cols = {"n": "n", "schema_valid": "valid", "exact_match": "exact [95% CI]", "line_f1": "line F1",
            "no_ref_accuracy": "no-ref", "clean_stop": "clean stop [95% CI]", "trailing_text": "trailing",
            "chained_turn": "chained", "runaway": "runaway", "latency_p50_s": "p50 s"}
    if (report.get("task") or DEFAULT_TASK) != DEFAULT_TASK:  # field metrics instead of the Cantos ones
        cols = {k: v for k, v in cols.items() if k not in ("line_f1", "no_ref_accuracy")}
        cols = {**dict(list(cols.items())[:3]), "f1": "field F1", "precision": "precision", "recall": "recall",
                **dict(list(cols.items())[3:])}
    for d, by_v in report["metrics"].items():
        ci = report.get("intervals", {}).get(d, {})
        table = Table(title=f"{report.get('suite') or 'eval'}: {d}")
        table.add_column("variant", no_wrap=True)
        for header in cols.values():
            table.add_column(header, justify="right")
        for v, m in by_v.items():
            table.add_row(v, *(fmt_ci(k, m.get(k), ci.get(v, {}).get(k)) for k in cols))
        console.print(table)
    if grammar_line(report):
        console.print(grammar_line(report), highlight=False)
    if timing_line(report):
        console.print(timing_line(report), highlight=False)
    for v, why in report["skipped"].items():
        console.print(f"[yellow]skipped[/] {v}: {why}")
    for c in report["checks"]:
        if not c["passed"]:
            console.print(f"[red]threshold failed[/] {c['variant']} on {c['data']}: {c['metric']} = "
                          f"{fmt(c['metric'], c['value'])} ({c['kind']} {c['bound']})")


def write_reports(out: Path) -> dict:
    """Score out/samples.jsonl and write report.json, report.md and report.html beside it."""
    records = read_samples(out / SAMPLES)
    report = score(out, records)
    write_json(out / "report.json", report)
    atomic_write(out / "report.md", render_md(report))
    atomic_write(out / "report.html", render_html(report, records))
    return report


def load_report(path: str | Path) -> dict:
    path = Path(path)
    if path.is_dir():
        path = path / "report.json"
    return json.loads(path.read_text())
