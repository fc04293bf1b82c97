"""A report as text: report.md and the terminal table, and the formatting report.html shares.

Columns, their labels and how each figure reads come from the task's metric declarations
(``Task.metrics``, ``core.metrics.Metric``); report.json's ``table`` says which of them the
tables show. Imports go one way: ``report`` -> ``report_html`` -> ``report_text``.
"""

from __future__ import annotations

import json

from ..core.metrics import Metric, by_key
from ..core.task import Task
from . import charts, grammar_gaps

RATE = Metric("rate", "rate", "", True)
"""How a rate without a declaration reads (a per-tag exact match)."""


def columns(report: dict, task: Task, level: int = 2) -> list[Metric]:
    """The declared metrics of report.json's ``table`` shown at ``level`` (1: the terminal's; 2:
    report.md's and report.html's); a key the task no longer declares shows under its own name."""
    declared = by_key(task.metrics)
    keys = report.get("table") or [m.key for m in task.metrics if m.level <= 2]
    cols = [declared.get(k) or Metric(k, k, "", None, "number") for k in keys]
    return [m for m in cols if m.level <= level]


DECISION = ("exact_match", "schema_valid", "clean_stop", "runaway", "latency_p50_s")
"""The decision table's columns (every task has them, ``core.metrics.CORE``); every other declared
metric is one toggle away (report.html) or in the table below it (report.md)."""


def decision_columns(report: dict, task: Task) -> list[Metric]:
    declared = by_key(task.metrics)
    return [declared[k] for k in DECISION if k in declared]


def all_columns(report: dict, task: Task) -> list[Metric]:
    """Every shown metric, less those that are 0 (or missing) for every row of every data file."""
    def empty(c: Metric) -> bool:
        return c.unit != "count" and all(not m.get(c.key) for by_v in report["metrics"].values() for m in by_v.values())
    return [c for c in columns(report, task) if not empty(c)]


def value(variant: str, metric: Metric, m: dict):
    """A row's figure as the tables show it: the rules' speed is not shown (they load no model)."""
    if variant.startswith("rules") and metric.unit in ("seconds", "per_second"):
        return None
    return m.get(metric.key)


def folded(report: dict, d: str, variant: str) -> str | None:
    """``same outputs as merged-gguf (291/291)`` for a row the tables fold (report.json's
    ``same_outputs``), else None."""
    same = (report.get("same_outputs") or {}).get(d, {}).get(variant)
    return f"same outputs as {same['as']} ({same['n']}/{same['n']})" if same else None


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
    if report.get("grammar_hf"):
        line += " " + report["grammar_hf"]
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
    """Report.json's ``timing`` as one sentence: this evaluation's generation time per variant and,
    when ``make report`` asked for its job summary, the job's earlier steps as they recorded them
    (None when nothing was timed). A report of an earlier version kept those steps beside ``eval``."""
    t = report.get("timing")
    if not t or not t.get("total_seconds"):
        return None
    job = t.get("job") or ({k: t[k] for k in ("install", "train", "export") if k in t} if "install" in t else None)
    evals = ", ".join(f"{v} {s:.0f} s" for v, s in t["eval"].items())
    if not job:
        return f"Time: {t['total_seconds'] / 60:.1f} min of generation ({evals})."
    steps = [f"{step} {label} {v:.0f} s" for step in ("install", "train", "export") for label, v in job.get(step, {}).items()]
    total = job.get("total_seconds") or t["total_seconds"]
    return (f"Time: {total / 60:.1f} min in all for the job, its install, training and export times as those steps "
            f"recorded them ({', '.join(steps + [evals])}).")


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


def headline(report: dict) -> tuple[str, dict] | None:
    """The verdict a user acts on: (data file, its verdict) on the suite's decision split (else the
    first data file decided)."""
    data = (report.get("verdict") or {}).get("data") or {}
    if not data:
        return None
    d = report.get("decision") if report.get("decision") in data else next(iter(data))
    return d, data[d]


def head_line(d: str, what: dict) -> str:
    if what.get("incomplete"):
        return f"{d}: no verdict, rows not evaluated"
    return f"{d}: ship {what['ship']}" if what["ship"] else f"{d}: nothing to ship"


def missing_lines(report: dict) -> list[str]:
    """One line per data file with rows not evaluated (``report.not_evaluated``): shown first."""
    out = []
    for d, by_v in (report.get("not_evaluated") or {}).items():
        n, rows = sum(m["missing"] for m in by_v.values()), sum(m["rows"] for m in by_v.values())
        which = ", ".join(f"{v}: {m['missing']} of {m['rows']}" for v, m in by_v.items())
        out.append(f"NOT EVALUATED: {n} of {rows} rows of {d} ({which}). Their figures below count only the rows "
                   "evaluated, and there is no verdict for this split until `extractor eval ... --resume` "
                   "evaluates them.")
    return out


def main_reasons(what: dict) -> list[str]:
    """The headline's sentences: why this artefact (or the closest one), and the rules baseline."""
    rules = [r for r in what["reasons"][1:] if r.startswith("Against the rules")]
    return what["reasons"][:1] + rules


def other_reasons(what: dict) -> list[str]:
    """Why not the others: significantly less exact, or failing a gate."""
    shown = set(main_reasons(what))
    return ([r for r in what["reasons"] if r not in shown]
            + [f"{v} fails a gate: {why}." for v, why in what.get("failing", {}).items() if v != what.get("closest")])


def confirmations(report: dict) -> list[str]:
    """One line per other data file: whether the same rule picks the same artefact there."""
    top = headline(report)
    if not top:
        return []
    out = []
    for d, what in report["verdict"]["data"].items():
        if d == top[0]:
            continue
        if what["ship"] == top[1]["ship"]:
            out.append(f"{d} (confirmation): the same choice" + (f", {what['ship']}." if what["ship"] else ": nothing to ship."))
        else:
            out.append(f"{d} (confirmation): {head_line(d, what).split(': ', 1)[1]}; " + main_reasons(what)[0])
    return out


def verdict_lines(report: dict) -> list[str]:
    """The verdict as markdown: the decision split's, why, the other splits as confirmation, the rule."""
    top = headline(report)
    if not top:
        return []
    d, what = top
    lines = ["## Verdict: which artefact to ship", "", f"**{head_line(d, what)}.** " + " ".join(main_reasons(what)), ""]
    confirmed = confirmations(report)
    if confirmed:
        lines += [f"- {c}" for c in confirmed] + [""]
    others = other_reasons(what)
    if others:
        lines += ["Why not the others: " + " ".join(others), ""]
    lines += [f"Rule: {report['verdict']['rule']}", ""]
    return lines


def row_cells(report: dict, d: str, v: str, m: dict, cols: list[Metric]) -> list[str]:
    """A text table's cells for variant ``v`` on data file ``d``: each figure with its interval, or,
    for a folded row, ``same outputs as ...`` in the first cell and the others empty."""
    same = folded(report, d, v)
    if same:
        return [same] + [""] * (len(cols) - 1)
    ci = report.get("intervals", {}).get(d, {}).get(v, {})
    return [fmt_ci(c, value(v, c, m), ci.get(c.key)) for c in cols]


def table_md(report: dict, d: str, by_v: dict, cols: list[Metric], sizes: bool = False) -> list[str]:
    sized = report.get("sizes") if sizes else None
    lines = ["| variant | " + " | ".join(m.label for m in cols) + (" | size" if sized else "") + " |",
             "|---" * (len(cols) + 1 + bool(sized)) + "|"]
    for v, m in by_v.items():
        cells = row_cells(report, d, v, m, cols)
        if sized:
            cells.append("" if folded(report, d, v) else charts.size_text(sized.get(v)) or "-")
        lines.append(f"| {v} | " + " | ".join(cells) + " |")
    return lines


def render_md(report: dict, task: Task) -> str:
    lines = [f"# Evaluation report: {report.get('suite') or 'ad hoc'}", ""]
    lines += [f"> **{line}**\n" for line in missing_lines(report)]
    runs = ", ".join(f"`{k}` = `{v}`" for k, v in report["runs"].items()) or "none"
    lines += [f"Runs: {runs}. Settings: {json.dumps(report['settings'])}.", ""]
    lines += verdict_lines(report)
    for d, by_v in report["metrics"].items():
        lines += [f"## {decision_label(report, d)} (`{report['data'].get(d, d)}`)", ""]
        lines += table_md(report, d, by_v, decision_columns(report, task), sizes=True)
        lines += ["", "Exact match and clean stop with their 95% Wilson intervals; the column names: docs/metrics.md.", "",
                  f"### {d}: every metric", ""]
        lines += table_md(report, d, by_v, all_columns(report, task))
        lines += ["", "Columns that are 0 for every row are left out.", ""]
        tags = report.get("by_tag", {}).get(d)
        if tags:
            names = [v for v in by_v if not folded(report, d, v)]  # a folded row would repeat its twin's column
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
    for line in missing_lines(report):
        console.print(f"[bold red]{line}[/]", highlight=False)
    top = headline(report)
    if top:
        console.print(f"[bold]{head_line(*top)}.[/] " + " ".join(main_reasons(top[1])), highlight=False)
        for line in confirmations(report):
            console.print(line, highlight=False)
    cols = decision_columns(report, task)
    with_ci = {k for by_v in report.get("intervals", {}).values() for per in by_v.values() for k in per}
    for d, by_v in report["metrics"].items():
        table = Table(title=f"{report.get('suite') or 'eval'}: {d}")
        table.add_column("variant", no_wrap=True)
        for c in cols:
            table.add_column(c.label + (" [95% CI]" if c.key in with_ci else ""), justify="right")
        for v, m in by_v.items():
            table.add_row(v, *row_cells(report, d, v, m, cols))
        console.print(table)
    if grammar_line(report):
        console.print(grammar_line(report), highlight=False)
    if timing_line(report):
        console.print(timing_line(report), highlight=False)
    for v, why in report["skipped"].items():
        console.print(f"[yellow]skipped[/] {v}: {why}")
    for line in failed_checks(report, task):
        console.print(f"[red]threshold failed[/] {line}")
