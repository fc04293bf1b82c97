"""A report as text: report.md and the terminal table, and the formatting report.html shares.

Columns, their labels and how each figure reads come from the task's metric declarations
(``Task.metrics``, ``core.metrics.Metric``); report.json's ``table`` says which of them the
tables show. Imports go one way: ``report`` -> ``report_html`` -> ``report_text``.
"""

from __future__ import annotations

import json

from ..core.metrics import Metric, by_key
from ..core.task import Task
from ..runtimes import grammar_gaps
from . import calibration, charts, parity
from .records import Decision, Report, Timing

RATE = Metric("rate", "rate", "", True)
"""How a rate without a declaration reads (a per-tag exact match)."""


def columns(report: Report, task: Task, level: int = 2) -> list[Metric]:
    """The declared metrics of report.json's ``table`` shown at ``level`` (1: the terminal's; 2:
    report.md's and report.html's); a key the task no longer declares shows under its own name."""
    declared = by_key(task.metrics)
    keys = report.table or [m.key for m in task.metrics if m.level <= 2]
    cols = [declared.get(k) or Metric(k, k, "", None, "number") for k in keys]
    return [m for m in cols if m.level <= level]


DECISION = ("exact_match", "schema_valid", "clean_stop", "runaway", "latency_p50_s")
"""The decision table's columns (every task has them, ``core.metrics.CORE``); every other declared
metric is one toggle away (report.html) or in the table below it (report.md)."""


def decision_columns(report: Report, task: Task) -> list[Metric]:
    declared = by_key(task.metrics)
    return [declared[k] for k in DECISION if k in declared]


def all_columns(report: Report, task: Task) -> list[Metric]:
    """Every shown metric, less those that are 0 (or missing) for every row of every data file."""
    def empty(c: Metric) -> bool:
        return c.unit != "count" and all(not m.get(c.key) for by_v in report.metrics.values() for m in by_v.values())
    return [c for c in columns(report, task) if not empty(c)]


def value(variant: str, metric: Metric, m: dict):
    """A row's figure as the tables show it: the rules' speed is not shown (they load no model)."""
    if variant.startswith("rules") and metric.unit in ("seconds", "per_second"):
        return None
    return m.get(metric.key)


def folded(report: Report, d: str, variant: str) -> str | None:
    """``same outputs as merged-gguf (291/291)`` for a row the tables fold (report.json's
    ``same_outputs``), else None."""
    same = report.same_outputs.get(d, {}).get(variant)
    return f"same outputs as {same['as']} ({same['n']}/{same['n']})" if same else None


def fmt_ci(metric: Metric, value, interval) -> str:
    """A figure with its interval where one was computed: 0.838 [0.79, 0.88]."""
    if not interval or value is None:
        return metric.format(value)
    return f"{metric.format(value)} [{interval[0]:.2f}, {interval[1]:.2f}]"


def grammar_line(report: Report) -> str | None:
    """The +grammar rows' one line: the schema keywords their grammar does not enforce (llama.cpp's
    converter; served rows say whose decoding they used)."""
    if report.grammar_unenforced is None:
        return None
    line = grammar_gaps.summary(report.grammar_unenforced, report.grammar_stricter)
    if report.grammar_hf:
        line += " " + report.grammar_hf
    served = {v: s for v, s in (report.served or {}).items() if s.get("schema_via")}
    for v, s in served.items():
        owner = f" ({s['owned_by']})" if s.get("owned_by") else ""
        if s["schema_via"] == "grammar":
            line += f" {v}: the server decoded under the same converter's grammar{owner}."
        else:
            line += (f" {v}: the server's own JSON-schema decoding{owner}, sent as {s['schema_via']}; "
                     "what it leaves out is the server's and is not inspected here.")
    for v, c in report.inherited.items():
        free = v.replace("+grammar", "")
        line += (f" {v} continued {free}'s outputs: {c['whole']}/{c['n']} taken whole (the grammar accepted every "
                 f"token), {c['partly']} decoded from the first token it rejected; its speed figures count only "
                 "what it decoded.")
    return line


def timing_line(t: Timing) -> str | None:
    """Report.json's ``timing`` as one sentence: this evaluation's generation time per variant and,
    when ``make report`` asked for its job summary, the job's earlier steps as they recorded them
    (None when nothing was timed). A report of format 1 kept those steps beside ``eval``."""
    if not t.total_seconds:
        return None
    evals = ", ".join(f"{v} {s:.0f} s" for v, s in t.eval.items())
    if t.likelihood:
        evals += (f"; likelihood view {sum(t.likelihood.values()):.0f} s: "
                  + ", ".join(f"{v} {s:.0f} s" for v, s in t.likelihood.items()))
    job = t.job_steps
    if job is None:
        return f"Time: {t.total_seconds / 60:.1f} min of generation and scoring ({evals})." if t.likelihood else \
            f"Time: {t.total_seconds / 60:.1f} min of generation ({evals})."
    steps = [f"{step} {label} {v:.0f} s" for step in ("install", "train", "export") for label, v in job[step].items()]
    return (f"Time: {t.job_seconds / 60:.1f} min in all for the job, its install, training and export times as those "
            f"steps recorded them ({', '.join(steps + [evals])}).")


def failed_checks(report: Report, task: Task) -> list[str]:
    """One line per threshold a variant missed."""
    declared = by_key(task.metrics)
    out = []
    for c in report.checks:
        if not c.passed:
            m = declared.get(c.metric) or Metric(c.metric, c.metric, "", None, "number")
            missing = (report.not_evaluated or {}).get(c.data, {}).get(c.variant)
            tail = f"; {missing['missing']} of {missing['rows']} rows not evaluated" if missing else ""
            out.append(f"{c.variant} on {c.data}: {c.metric} = {m.format(c.value)} ({c.kind} {c.bound}){tail}")
    return out


def decision_label(report: Report, d: str) -> str:
    """A data label, marked when it is the suite's decision split and others are shown too."""
    return f"{d} (the decision split)" if d == report.decision and len(report.metrics) > 1 else d


def headline(report: Report) -> tuple[str, Decision] | None:
    """The verdict a user acts on: (data file, its decision) on the suite's decision split (else the
    first data file decided)."""
    return report.headline()


def head_line(d: str, what: Decision) -> str:
    if what.incomplete:
        return f"{d}: no verdict, rows not evaluated"
    return f"{d}: ship {what.ship}" if what.ship else f"{d}: nothing to ship"


def missing_lines(report: Report) -> list[str]:
    """One line per data file with rows not evaluated (``report.not_evaluated``): shown first."""
    out = []
    for d, by_v in (report.not_evaluated or {}).items():
        n, rows = sum(m["missing"] for m in by_v.values()), sum(m["rows"] for m in by_v.values())
        which = ", ".join(f"{v}: {m['missing']} of {m['rows']}" for v, m in by_v.items())
        out.append(f"NOT EVALUATED: {n} of {rows} rows of {d} ({which}). Their figures below count only the rows "
                   "evaluated, and there is no verdict for this split until `extractor eval ... --resume` "
                   "evaluates them.")
    return out


def main_reasons(what: Decision) -> list[str]:
    """The headline's sentences: why this artefact (or the closest one), and the rules baseline."""
    rules = [r for r in what.reasons[1:] if r.startswith("Against the rules")]
    return what.reasons[:1] + rules


def other_reasons(what: Decision) -> list[str]:
    """Why not the others: significantly less exact, or failing a gate."""
    shown = set(main_reasons(what))
    return ([r for r in what.reasons if r not in shown]
            + [f"{v} fails a gate: {why}." for v, why in what.failing.items() if v != what.closest])


def confirmations(report: Report) -> list[str]:
    """One line per other data file: whether the same rule picks the same artefact there."""
    top = headline(report)
    if not top:
        return []
    out = []
    for d, what in report.verdict.data.items():
        if d == top[0]:
            continue
        if what.ship == top[1].ship:
            out.append(f"{d} (confirmation): the same choice" + (f", {what.ship}." if what.ship else ": nothing to ship."))
        else:
            out.append(f"{d} (confirmation): {head_line(d, what).split(': ', 1)[1]}; " + main_reasons(what)[0])
    return out


def verdict_lines(report: Report) -> list[str]:
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
    lines += [f"Rule: {report.verdict.rule}", ""]
    near = parity_lines(report)
    if near:
        lines += [f"Against the adapter as trained ({report.likelihood.reference}, teacher-forced on "
                  f"{likelihood_split(report)}):", ""] + [f"- {x}" for x in near] + [""]
    return lines


def likelihood_split(report: Report) -> str | None:
    """The data file the likelihood view speaks of first: the decision split where it was scored."""
    view = report.likelihood
    if view is None or not view.artefacts:
        return None
    return report.decision if report.decision in view.artefacts else next(iter(view.artefacts))


def parity_lines(report: Report) -> list[str]:
    """Near the verdict: one line per artefact against the reference, and the stop diagnosis, on the
    decision split (``evaluation/parity.py``)."""
    d = likelihood_split(report)
    if d is None:
        return []
    view = report.likelihood
    out = [parity.line(v, p) for v, p in view.parity.get(d, {}).items()]
    out += [x for v, a in view.artefacts[d].items() if (x := parity.stop_line(v, a))]
    return out


LIKELIHOOD_HEAD = ("artefact", "gold NLL/token", "P(stop | gold)", "greedy = gold", "KL/token vs ref",
                   "NLL vs ref [95% CI]", "rows worse / better", "reading")


def likelihood_rows(report: Report, d: str) -> list[list[str]]:
    """The likelihood table's cells for data file ``d``: every scored artefact, the reference first."""
    view = report.likelihood
    rows = []
    for v, a in sorted(view.artefacts.get(d, {}).items(), key=lambda kv: kv[0] != view.reference):
        p = view.parity.get(d, {}).get(v)
        stop = f"{a.p_stop:.4f}" + (" never stops" if a.never_stops else "")
        if p is None:
            rows.append([v, f"{a.nll_per_token:.4f}", stop, f"{a.greedy_reproduces:.2f}", "reference" if
                         v == view.reference else "-", "-", "-", ""])
            continue
        rows.append([v, f"{a.nll_per_token:.4f}", stop, f"{a.greedy_reproduces:.2f}", f"{p.kl_per_token:.4f}",
                     f"{p.nll_change:+.1%} [{p.nll_ci[0]:+.1%}, {p.nll_ci[1]:+.1%}]",
                     f"{p.worse_rows} / {p.better_rows} (p={p.sign_p:.2g})", p.verdict])
    return rows


def likelihood_md(report: Report) -> list[str]:
    """report.md's likelihood section: the table per data file, the causes, what was not scored."""
    view = report.likelihood
    if view is None:
        return []
    ref = f"`{view.reference}`" if view.reference else "none (no reference artefact was scored)"
    lines = ["## Likelihood view: the gold answers, teacher-forced", "",
             f"Every artefact scores each gold answer (its tokens fed after the prompt) in one forward pass; "
             f"reference: {ref}. Columns and tests: docs/metrics.md.", ""]
    for d in view.artefacts:
        lines += [f"### {d}", "", "| " + " | ".join(LIKELIHOOD_HEAD) + " |", "|---" * len(LIKELIHOOD_HEAD) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in likelihood_rows(report, d)] + [""]
    if view.causes:
        lines += ["### Causes, checked", ""] + [f"- {c}" for c in view.causes] + [""]
    if view.not_scored:
        lines += [f"Not scored: " + "; ".join(f"`{v}`: {why}" for v, why in view.not_scored.items()) + ".", ""]
    return lines


def row_cells(report: Report, d: str, v: str, m: dict, cols: list[Metric]) -> list[str]:
    """A text table's cells for variant ``v`` on data file ``d``: each figure with its interval, or,
    for a folded row, ``same outputs as ...`` in the first cell and the others empty."""
    same = folded(report, d, v)
    if same:
        return [same] + [""] * (len(cols) - 1)
    ci = report.intervals.get(d, {}).get(v, {})
    return [fmt_ci(c, value(v, c, m), ci.get(c.key)) for c in cols]


def table_md(report: Report, d: str, by_v: dict, cols: list[Metric], sizes: bool = False) -> list[str]:
    sized = report.sizes if sizes else None
    lines = ["| variant | " + " | ".join(m.label for m in cols) + (" | size" if sized else "") + " |",
             "|---" * (len(cols) + 1 + bool(sized)) + "|"]
    for v, m in by_v.items():
        cells = row_cells(report, d, v, m, cols)
        if sized:
            cells.append("" if folded(report, d, v) else charts.size_text(sized.get(v)) or "-")
        lines.append(f"| {v} | " + " | ".join(cells) + " |")
    return lines


def render_md(report: Report, task: Task) -> str:
    lines = [f"# Evaluation report: {report.suite or 'ad hoc'}", ""]
    lines += [f"> **{line}**\n" for line in missing_lines(report)]
    runs = ", ".join(f"`{k}` = `{v}`" for k, v in report.runs.items()) or "none"
    lines += [f"Runs: {runs}. Settings: {json.dumps(report.settings)}.", ""]
    lines += verdict_lines(report)
    for d, by_v in report.metrics.items():
        lines += [f"## {decision_label(report, d)} (`{report.data.get(d, d)}`)", ""]
        lines += table_md(report, d, by_v, decision_columns(report, task), sizes=True)
        lines += ["", "Exact match and clean stop with their 95% Wilson intervals; the column names: docs/metrics.md.", "",
                  f"### {d}: every metric", ""]
        lines += table_md(report, d, by_v, all_columns(report, task))
        lines += ["", "Columns that are 0 for every row are left out.", ""]
        tags = report.by_tag.get(d)
        if tags:
            names = [v for v in by_v if not folded(report, d, v)]  # a folded row would repeat its twin's column
            lines += [f"### {d}: exact match per tag", "", "| tag | rows | " + " | ".join(names) + " |",
                      "|---" * (len(names) + 2) + "|"]
            for t, per_v in tags.items():
                n = max(x["n"] for x in per_v.values())
                lines.append(f"| {t} | {n} | " + " | ".join(RATE.format(per_v[v]["exact_match"]) if v in per_v else "-"
                                                          for v in names) + " |")
            lines.append("")
    lines += likelihood_md(report)
    lines += calibration.md_lines(report)
    if grammar_line(report):
        lines += [grammar_line(report), ""]
    if report.skipped:
        lines += ["## Skipped", ""] + [f"- `{v}`: {why}" for v, why in report.skipped.items()] + [""]
    if report.checks:
        failed = failed_checks(report, task)
        lines += ["## Thresholds", "", f"{len(report.checks) - len(failed)} of {len(report.checks)} passed.", ""]
        lines += [f"- FAILED {line}" for line in failed]
        lines.append("")
    if timing_line(report.timing):
        lines += [timing_line(report.timing), ""]
    lines += ["Metric definitions: docs/metrics.md. Rates are fractions of rows.", ""]
    return "\n".join(lines)


def print_table(report: Report, task: Task, console=None) -> None:
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
    for line in parity_lines(report):
        console.print(line, highlight=False)
    cols = decision_columns(report, task)
    with_ci = {k for by_v in report.intervals.values() for per in by_v.values() for k in per}
    for d, by_v in report.metrics.items():
        table = Table(title=f"{report.suite or 'eval'}: {d}")
        table.add_column("variant", no_wrap=True)
        for c in cols:
            table.add_column(c.label + (" [95% CI]" if c.key in with_ci else ""), justify="right")
        for v, m in by_v.items():
            table.add_row(v, *row_cells(report, d, v, m, cols))
        console.print(table)
    calibration.print_tables(report, console)
    if grammar_line(report):
        console.print(grammar_line(report), highlight=False)
    if timing_line(report.timing):
        console.print(timing_line(report.timing), highlight=False)
    for v, why in report.skipped.items():
        console.print(f"[yellow]skipped[/] {v}: {why}")
    for line in failed_checks(report, task):
        console.print(f"[red]threshold failed[/] {line}")
