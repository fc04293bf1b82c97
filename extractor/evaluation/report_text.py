"""A report as text: report.md and the terminal table, and the formatting report.html shares.

Columns, their labels and how each figure reads come from the task's metric declarations
(``Task.metrics``, ``core.metrics.Metric``); report.json's ``table`` says which of them the
tables show. Imports go one way: ``report`` -> ``report_html`` -> ``report_text``.
"""

from __future__ import annotations

import json

from ..core.metrics import Metric, by_key
from ..core.task import Task
from . import grammar_gaps

RATE = Metric("rate", "rate", "", True)
"""How a rate without a declaration reads (a per-tag exact match)."""


def columns(report: dict, task: Task, level: int = 2) -> list[Metric]:
    """The declared metrics of report.json's ``table`` shown at ``level`` (1: the terminal's; 2:
    report.md's and report.html's); a key the task no longer declares shows under its own name."""
    declared = by_key(task.metrics)
    keys = report.get("table") or [m.key for m in task.metrics if m.level <= 2]
    cols = [declared.get(k) or Metric(k, k, "", None, "number") for k in keys]
    return [m for m in cols if m.level <= level]


def fmt_ci(metric: Metric, value, interval) -> str:
    """A figure with its interval where one was computed: 0.838 [0.79, 0.88]."""
    if not interval or value is None:
        return metric.format(value)
    return f"{metric.format(value)} [{interval[0]:.2f}, {interval[1]:.2f}]"


def grammar_line(report: dict) -> str | None:
    """The +grammar rows' one line: the schema keywords their grammar does not enforce (llama.cpp's
    converter; served rows say whose decoding they used)."""
    if "grammar_unenforced" not in report:
        return None
    line = grammar_gaps.summary(report["grammar_unenforced"], report.get("grammar_stricter"))
    served = {v: s for v, s in (report.get("served") or {}).items() if s.get("schema_via")}
    for v, s in served.items():
        owner = f" ({s['owned_by']})" if s.get("owned_by") else ""
        if s["schema_via"] == "grammar":
            line += f" {v}: the server decoded under the same converter's grammar{owner}."
        else:
            line += (f" {v}: the server's own JSON-schema decoding{owner}, sent as {s['schema_via']}; "
                     "what it leaves out is the server's and is not inspected here.")
    for v, c in (report.get("inherited") or {}).items():
        free = v.replace("+grammar", "")
        line += (f" {v} continued {free}'s outputs: {c['whole']}/{c['n']} taken whole (the grammar accepted every "
                 f"token), {c['partly']} decoded from the first token it rejected; its speed figures count only "
                 "what it decoded.")
    return line


def timing_line(report: dict) -> str | None:
    """Report.json's ``timing`` as one sentence (None when nothing was timed)."""
    t = report.get("timing")
    if not t or not t.get("total_seconds"):
        return None
    parts = [f"{step} {label} {v:.0f} s" for step in ("install", "train", "export") for label, v in t.get(step, {}).items()]
    parts += [f"{v} {s:.0f} s" for v, s in t["eval"].items()]
    return f"Time: {t['total_seconds'] / 60:.1f} min in all (" + ", ".join(parts) + ")."


def failed_checks(report: dict, task: Task) -> list[str]:
    """One line per threshold a variant missed."""
    declared = by_key(task.metrics)
    out = []
    for c in report.get("checks", []):
        if not c["passed"]:
            m = declared.get(c["metric"]) or Metric(c["metric"], c["metric"], "", None, "number")
            out.append(f"{c['variant']} on {c['data']}: {c['metric']} = {m.format(c['value'])} "
                       f"({c['kind']} {c['bound']})")
    return out


def decision_label(report: dict, d: str) -> str:
    """A data label, marked when it is the suite's decision split and others are shown too."""
    return f"{d} (the decision split)" if d == report.get("decision") and len(report.get("metrics", {})) > 1 else d


def verdict_lines(report: dict) -> list[str]:
    """The verdict as markdown: per data file, what to ship and why; then the rule."""
    v = report.get("verdict")
    if not v:
        return []
    lines = ["## Verdict: which artefact to ship", ""]
    for d, what in v["data"].items():
        d = decision_label(report, d)
        head = f"**{d}: ship `{what['ship']}`**" if what["ship"] else f"**{d}: nothing to ship**"
        lines.append(f"- {head}. " + " ".join(what["reasons"]))
    lines += ["", f"Rule: {v['rule']}", ""]
    return lines


def render_md(report: dict, task: Task) -> str:
    lines = [f"# Evaluation report: {report.get('suite') or 'ad hoc'}", ""]
    runs = ", ".join(f"`{k}` = `{v}`" for k, v in report["runs"].items()) or "none"
    lines += [f"Runs: {runs}. Settings: {json.dumps(report['settings'])}.", ""]
    lines += verdict_lines(report)
    table = columns(report, task)
    for d, by_v in report["metrics"].items():
        ci = report.get("intervals", {}).get(d, {})
        lines += [f"## {d} (`{report['data'].get(d, d)}`)", "", "| variant | " + " | ".join(m.key for m in table) + " |",
                  "|---" * (len(table) + 1) + "|"]
        for v, m in by_v.items():
            lines.append(f"| {v} | " + " | ".join(fmt_ci(c, m.get(c.key), ci.get(v, {}).get(c.key)) for c in table) + " |")
        lines += ["", "Exact match and clean stop with their 95% Wilson intervals.", ""]
        tags = report.get("by_tag", {}).get(d)
        if tags:
            names = list(by_v)
            lines += [f"### {d}: exact match per tag", "", "| tag | rows | " + " | ".join(names) + " |",
                      "|---" * (len(names) + 2) + "|"]
            for t, per_v in tags.items():
                n = max(x["n"] for x in per_v.values())
                lines.append(f"| {t} | {n} | " + " | ".join(RATE.format(per_v[v]["exact_match"]) if v in per_v else "-"
                                                          for v in names) + " |")
            lines.append("")
    if grammar_line(report):
        lines += [grammar_line(report), ""]
    if report["skipped"]:
        lines += ["## Skipped", ""] + [f"- `{v}`: {why}" for v, why in report["skipped"].items()] + [""]
    if report["checks"]:
        failed = failed_checks(report, task)
        lines += ["## Thresholds", "", f"{len(report['checks']) - len(failed)} of {len(report['checks'])} passed.", ""]
        lines += [f"- FAILED {line}" for line in failed]
        lines.append("")
    if timing_line(report):
        lines += [timing_line(report), ""]
    lines += ["Metric definitions: docs/metrics.md. Rates are fractions of rows.", ""]
    return "\n".join(lines)


def print_table(report: dict, task: Task, console=None) -> None:
    """The terminal view, in the order of report.md and report.html: verdict, then the table per data
    file (the level-1 metrics) with 95% intervals for exact match and clean stop."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    if not console.is_terminal:
        console = Console(file=console.file, width=max(console.width, 160))  # a log: do not squeeze to 80 columns
    for d, what in report.get("verdict", {}).get("data", {}).items():
        d = decision_label(report, d)
        head = f"[bold]{d}: ship {what['ship']}.[/] " if what["ship"] else f"[bold]{d}: nothing to ship.[/] "
        console.print(head + " ".join(what["reasons"]), highlight=False)
    cols = columns(report, task, level=1)
    with_ci = {k for by_v in report.get("intervals", {}).values() for per in by_v.values() for k in per}
    for d, by_v in report["metrics"].items():
        ci = report.get("intervals", {}).get(d, {})
        table = Table(title=f"{report.get('suite') or 'eval'}: {d}")
        table.add_column("variant", no_wrap=True)
        for c in cols:
            table.add_column(c.label + (" [95% CI]" if c.key in with_ci else ""), justify="right")
        for v, m in by_v.items():
            table.add_row(v, *(fmt_ci(c, m.get(c.key), ci.get(v, {}).get(c.key)) for c in cols))
        console.print(table)
    if grammar_line(report):
        console.print(grammar_line(report), highlight=False)
    if timing_line(report):
        console.print(timing_line(report), highlight=False)
    for v, why in report["skipped"].items():
        console.print(f"[yellow]skipped[/] {v}: {why}")
    for line in failed_checks(report, task):
        console.print(f"[red]threshold failed[/] {line}")
