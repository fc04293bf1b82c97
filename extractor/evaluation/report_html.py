"""report.html: one self-contained file (no network, no external assets) to share an evaluation.

Top to bottom: the verdict (which artefact to ship, and why), then per data file the comparison
table (rates with 95% intervals), how each variant's generations ended (stacked bars), exact
match against latency (one point per artefact), exact match per tag; then the per-sample view
(``report_samples``). The charts are inline SVG drawn here, so they show with scripts off; only the
per-sample view needs its small script. Laid out to read at 1366 px wide without sideways scrolling.
"""

from __future__ import annotations

import html
import json

from . import calibration_charts, charts, report_samples
from ..core.task import Task
from .records import Decision, Report
from .report_text import (RATE, all_columns, confirmations, decision_columns, decision_label, failed_checks, folded,
                          grammar_line, head_line, headline, LIKELIHOOD_HEAD, likelihood_rows, main_reasons,
                          missing_lines, other_reasons, parity_lines, timing_line, value)
from ..core.sample_record import SampleRecord
from ..core.sample_record import records as as_records

_CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0 auto;padding:20px 24px;color:#1d2125;max-width:1300px}
h1{font-size:22px;margin:4px 0}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:3px}
h3{font-size:15px;margin:18px 0 6px}
.missing{border:2px solid #b00020;background:#fdecee;color:#7a0016;font-weight:650;border-radius:6px;padding:8px 14px}nav.toc{font-size:13px;margin:2px 0 6px}nav.toc a{color:#1f4e8c}.meta{color:#5f6670;font-size:12px}.fail{color:#b00020}
#verdict{border:1px solid #cfd8e3;background:#f5f9ff;border-radius:6px;padding:10px 16px;margin:14px 0}
#verdict h2{border:0;margin:0 0 6px;font-size:16px;color:#3b4a5a}
.ship{margin:8px 0}.ship .what{font-size:20px;font-weight:650}.ship .what code{background:#dff3e6;padding:1px 6px;border-radius:4px}
.ship.none .what{color:#9b1c1c}.ship ul{margin:4px 0 0;padding-left:20px}li.confirm{color:#3b4a5a}
details.others,details.all-metrics{margin:4px 0 10px}details summary{cursor:pointer;color:#1f4e8c}
table.comparison tr.folded td{color:#5f6670;font-style:italic;text-align:left}
table{border-collapse:collapse;margin:6px 0 14px}
table.comparison{width:100%;font-variant-numeric:tabular-nums}
table.comparison th,table.comparison td{border:1px solid #dde1e6;padding:3px 6px;text-align:right;vertical-align:top}
table.comparison th{background:#f3f5f7;font-weight:600;font-size:12px;vertical-align:bottom;white-space:normal}
table.comparison th:first-child,table.comparison td:first-child{text-align:left;white-space:nowrap}
table.comparison small{display:block;color:#6b7280;font-size:11px;white-space:nowrap}
table.comparison tr.shipped td{background:#e9f7ee}table.comparison tr.shipped td:first-child{font-weight:650}
table.comparison tr.gated td:first-child::after{content:" ⚠";color:#b45309}
.charts{display:flex;flex-direction:column;gap:18px;margin:10px 0}
.scatter-box{display:flex;gap:18px;align-items:flex-start}table.legend{font-variant-numeric:tabular-nums;margin-top:34px}
table.legend td,table.legend th{border:1px solid #e3e3e3;padding:2px 6px;text-align:right}table.legend td:nth-child(2){text-align:left}
table.legend td.num{color:#1f4e8c;font-weight:600}
svg.chart{background:#fff;max-width:100%;height:auto}
table.tags{font-variant-numeric:tabular-nums}table.tags td,table.tags th{border:1px solid #e3e3e3;padding:2px 5px;text-align:right}
table.tags td:first-child,table.tags th:first-child{text-align:left;white-space:nowrap}
table.tags th.v{height:128px;vertical-align:bottom;padding:2px 0;width:44px}
table.tags th.v span{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;font-weight:500;font-size:12px;display:inline-block}
"""


def _verdict(report: Report) -> str:
    top = headline(report)
    if not top:
        return ""
    d, what = top
    head = (f'{html.escape(d)}: ship <code>{html.escape(what.ship)}</code>' if what.ship
            else html.escape(head_line(d, what)))
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in main_reasons(what))
    confirm = "".join(f'<li class="confirm">{html.escape(c)}</li>' for c in confirmations(report))
    others = other_reasons(what)
    more = (f'<details class="others"><summary>Why not the others</summary><ul>'
            f'{"".join(f"<li>{html.escape(r)}</li>" for r in others)}</ul></details>' if others else "")
    return (f'<section id="verdict"><h2>Verdict: which artefact to ship</h2>'
            f'<div class="ship{"" if what.ship else " none"}" data-data="{html.escape(d)}">'
            f'<div class="what">{head}</div><ul>{reasons}{confirm}</ul></div>{more}'
            f'<p class="meta">Rule: {html.escape(report.verdict.rule)}</p></section>')


def _likelihood(report: Report) -> str:
    """The likelihood view: parity lines and the stop diagnosis near the verdict, the table per data
    file, the causes checked."""
    view = report.likelihood
    if view is None:
        return ""
    near = "".join(f"<li>{html.escape(x)}</li>" for x in parity_lines(report))
    head = "".join(f"<th>{html.escape(h)}</th>" for h in LIKELIHOOD_HEAD)
    tables = "".join(
        f'<h3>{html.escape(d)}</h3><table class="comparison likelihood"><thead><tr>{head}</tr></thead><tbody>'
        + "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in likelihood_rows(report, d))
        + "</tbody></table>" for d in view.artefacts)
    causes = ("<h3>Causes, checked</h3><ul>" + "".join(f"<li>{html.escape(c)}</li>" for c in view.causes) + "</ul>"
              if view.causes else "")
    unscored = ("<p class=\"meta\">Not scored: " + html.escape("; ".join(f"{v}: {w}" for v, w in view.not_scored.items()))
                + "</p>" if view.not_scored else "")
    ref = html.escape(view.reference or "none")
    return (f'<section id="likelihood"><h2>Likelihood view: the gold answers, teacher-forced</h2>'
            f'<p class="meta">Every artefact scores each gold answer in one forward pass; reference: {ref} '
            f'(the adapter as trained). Columns and tests: docs/metrics.md.</p><ul>{near}</ul>{tables}{causes}'
            f'{unscored}</section>')


def _cell(variant: str, metric, m: dict, interval) -> str:
    figure = value(variant, metric, m)
    text = metric.format(figure)
    if interval and figure is not None:
        text += f"<small>{interval[0]:.2f}–{interval[1]:.2f}</small>"
    return f"<td>{text}</td>"


def _size(n) -> str:
    return charts.size_text(n) or "-"


def _table(report: Report, d: str, by_v: dict, cols: list, cls: str) -> str:
    ci = report.intervals.get(d, {})
    sizes = report.sizes
    what = report.decision_of(d) or Decision(None, [])
    head = "".join(f'<th title="{html.escape(c.key)}: {html.escape(c.help)}">{html.escape(c.label)}</th>' for c in cols)
    if sizes:
        head += '<th title="bytes on disk of what the variant loads (adapter-gguf: base + adapter)">size</th>'
    rows = []
    for v, m in by_v.items():
        same = folded(report, d, v)
        if same:
            rows.append(f'<tr class="folded"><td>{html.escape(v)}</td><td colspan="{len(cols) + bool(sizes)}">'
                        f'{html.escape(same)}</td></tr>')
            continue
        row = "shipped" if what.ship == v else ("gated" if v in what.failing else "")
        title = f' title="fails the gates: {html.escape(what.failing[v])}"' if row == "gated" else ""
        rows.append(f'<tr class="{row}"{title}><td>{html.escape(v)}</td>'
                    + "".join(_cell(v, c, m, ci.get(v, {}).get(c.key)) for c in cols)
                    + (f"<td>{_size(sizes.get(v))}</td>" if sizes else "") + "</tr>")
    return (f'<table class="comparison {cls}" data-data="{html.escape(d)}"><thead><tr><th>variant</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _tables(report: Report, d: str, by_v: dict, task: Task) -> str:
    """The decision table, and every metric behind a toggle (columns that are 0 everywhere left out)."""
    return (_table(report, d, by_v, decision_columns(report, task), "decision")
            + '<p class="meta">Green: the verdict\'s choice; ⚠: fails a gate (hover the row). Small figures: 95% '
              'Wilson intervals. Hover a column name for what it measures (docs/metrics.md).</p>'
            + f'<details class="all-metrics"><summary>Every metric</summary>'
              f'{_table(report, d, by_v, all_columns(report, task), "all")}'
              f'<p class="meta">Columns that are 0 for every row are left out.</p></details>')


def _endings(records: list[SampleRecord], d: str, variants: list[str], task: Task) -> str:
    counts: dict[str, dict[str, int]] = {v: {} for v in variants}
    for r in records:
        if r.data == d and r.variant in counts:
            e = report_samples.ending(r, task.parse_answer(r.raw))
            counts[r.variant][e] = counts[r.variant].get(e, 0) + 1
    return charts.endings_chart([(v, c) for v, c in counts.items() if c], report_samples.ENDINGS,
                                f"{d}: how generations ended (share of rows)")


def _scatter(report: Report, d: str, by_v: dict) -> str:
    ci = report.intervals.get(d, {})
    points, baseline = [], None
    for v, m in by_v.items():
        if m.get("exact_match") is None:
            continue
        if v.startswith("rules"):
            baseline = baseline or {"name": v, "exact": m["exact_match"]}
            continue
        lo, hi = (ci.get(v, {}).get("exact_match") or [m["exact_match"], m["exact_match"]])
        points.append({"name": v, "exact": m["exact_match"], "lo": lo, "hi": hi, "seconds": m.get("latency_p50_s"),
                       "size": report.sizes.get(v)})
    if not points:
        return ""
    return (f'<div class="scatter-box">{charts.accuracy_latency_chart(points, f"{d}: exact match against latency (up and left is better)", baseline)}'
            f'{charts.legend(points)}</div>')


def _tag_table(data: str, variants: list[str], tags: dict | None) -> str:
    if not tags:
        return ""
    head = "".join(f'<th class="v" title="{html.escape(v)}"><span>{html.escape(v)}</span></th>' for v in variants)

    def cell(x):
        if x is None:
            return "<td>-</td>"
        e = x["exact_match"]
        return f'<td style="background:hsl({120 * e:.0f},55%,{88 - 6 * abs(e - 0.5):.0f}%)">{RATE.format(e)}</td>'

    rows = "".join(f"<tr><td>{html.escape(t)}</td><td>{max(x['n'] for x in per_v.values())}</td>"
                   + "".join(cell(per_v.get(v)) for v in variants) + "</tr>" for t, per_v in tags.items())
    return (f'<h3>{html.escape(data)}: exact match per tag</h3>'
            f'<table class="tags"><thead><tr><th>tag</th><th>rows</th>{head}</tr></thead><tbody>{rows}</tbody></table>')


def _nav(report: Report) -> str:
    links = [("verdict", "verdict")] + ([("likelihood", "likelihood")] if report.likelihood else []) + \
        [(f"data-{d}", d) for d in report.metrics] + ([("calibration", "calibration")] if report.calibration else [])
    if report.checks:
        links.append(("thresholds", "thresholds"))
    links.append(("samples", "every sample"))
    return '<nav class="toc">' + " · ".join(f'<a href="#{html.escape(a)}">{html.escape(t)}</a>' for a, t in links) + "</nav>"


def render_html(report: Report, records: "list[SampleRecord]", task: Task) -> str:
    """The page for report.json's content and the records it was scored from (SampleRecords or
    their JSON objects), by the task that scored them."""
    records = as_records(records)
    title = f"Evaluation report: {report.suite or 'ad hoc'}"
    runs = ", ".join(f"{k} = {v}" for k, v in report.runs.items()) or "none"
    body = [f"<h1>{html.escape(title)}</h1>",
            f'<p class="meta">Runs: {html.escape(runs)}. Settings: {html.escape(json.dumps(report.settings))}. '
            f'Metric definitions: docs/metrics.md.</p>', _nav(report)]
    body += [f'<p class="missing">{html.escape(line)}</p>' for line in missing_lines(report)]
    body.append(_verdict(report))
    body.append(_likelihood(report))
    for d, by_v in report.metrics.items():
        body.append(f'<h2 id="data-{html.escape(d)}">{html.escape(decision_label(report, d))} <span class="meta">'
                    f'{html.escape(str(report.data.get(d, d)))}</span></h2>')
        body.append(_tables(report, d, by_v, task))
        unfolded = {v: m for v, m in by_v.items() if not folded(report, d, v)}  # folded rows would repeat a bar
        body.append(f'<div class="charts">{_endings(records, d, list(unfolded), task)}{_scatter(report, d, unfolded)}</div>')
        body.append(_tag_table(d, list(unfolded), report.by_tag.get(d)))
    body.append(calibration_charts.section(report))
    if grammar_line(report):
        body.append(f'<p class="meta" id="grammar">{html.escape(grammar_line(report))}</p>')
    if report.skipped:
        body.append("<h2>Skipped variants</h2><ul>" + "".join(
            f"<li><b>{html.escape(v)}</b>: {html.escape(w)}</li>" for v, w in report.skipped.items()) + "</ul>")
    failed = [c for c in report.checks if not c.passed]
    if report.checks:
        n = len(report.checks)
        body.append(f'<h2 id="thresholds">Thresholds</h2><p>{n - len(failed)} of {n} passed.</p>')
        body.append("<ul>" + "".join(f'<li class="fail">{html.escape(line)}</li>'
                                     for line in failed_checks(report, task)) + "</ul>")
    if timing_line(report.timing):
        body.append(f'<p class="meta">{html.escape(timing_line(report.timing))}</p>')
    body.append(report_samples.section(report_samples.payload(records, report.variants, task, decision=report.decision)))
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title>'
            f"<style>{_CSS}{calibration_charts.CSS}{report_samples.CSS}</style></head><body>{''.join(body)}"
            f"<script>{report_samples.JS}</script></body></html>\n")
