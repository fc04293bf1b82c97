"""report.html: one self-contained file (no network, no external assets) to share an evaluation.

It holds the comparison table, one bar chart per headline metric (inline SVG, drawn here, so it
shows even with scripts off), and a drill-down of failing samples with the raw output; the part
a model invented after its answer is highlighted. A few lines of script filter the drill-down.
"""

from __future__ import annotations

import html
import json

from .report import HEADLINE, TABLE, fmt, fmt_ci
from .schema import parse

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:8px 0 20px}th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f3f3f3}
.charts{display:flex;flex-wrap:wrap;gap:16px}.chart{border:1px solid #ddd;padding:6px;background:#fff}
.chart text{font:11px system-ui,sans-serif}.sample{border:1px solid #ddd;margin:8px 0;padding:6px 10px}
.sample pre{white-space:pre-wrap;background:#f8f8f8;padding:6px;margin:4px 0}
mark.invented{background:#ffc9c9}.meta{color:#666;font-size:12px}.fail{color:#b00}
"""

_JS = """
document.addEventListener('DOMContentLoaded', function () {
  var sel = document.getElementById('variant-filter');
  if (!sel) return;
  sel.addEventListener('change', function () {
    var v = sel.value, shown = 0;
    document.querySelectorAll('.sample').forEach(function (el) {
      var on = v === '' || el.dataset.variant === v;
      el.style.display = on ? '' : 'none';
      if (on) shown++;
    });
    document.getElementById('shown').textContent = shown;
  });
});
"""


def _bar_chart(title: str, values: list[tuple[str, float | None]]) -> str:
    width, row, label_w = 380, 18, 150
    height = 24 + row * len(values)
    parts = [f'<svg class="chart" role="img" aria-label="{html.escape(title)}" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
             f'<text x="4" y="14" font-weight="bold">{html.escape(title)}</text>']
    scale = width - label_w - 50
    for i, (name, v) in enumerate(values):
        y = 22 + i * row
        parts.append(f'<text x="4" y="{y + 12}">{html.escape(name)}</text>')
        if v is None:
            parts.append(f'<text x="{label_w}" y="{y + 12}" fill="#999">n/a</text>')
            continue
        w = max(1.0, scale * max(0.0, min(1.0, v)))
        parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{row - 5}" fill="#4a78b5"/>')
        parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 12}">{v:.3f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _verdict(report: dict) -> str:
    v = report.get("verdict")
    if not v:
        return ""
    items = []
    for d, what in v["data"].items():
        head = f"{d}: ship <b>{html.escape(what['ship'])}</b>" if what["ship"] else f"{d}: nothing to ship"
        items.append(f"<li>{head}. " + " ".join(html.escape(r) for r in what["reasons"]) + "</li>")
    return (f'<section id="verdict"><h2>Verdict: which artefact to ship</h2><ul>{"".join(items)}</ul>'
            f'<p class="meta">Rule: {html.escape(v["rule"])}</p></section>')


def _tag_table(data: str, variants: list[str], tags: dict | None) -> str:
    if not tags:
        return ""
    head = "".join(f"<th>{html.escape(v)}</th>" for v in variants)
    rows = "".join(
        f"<tr><td>{html.escape(t)}</td><td>{max(x['n'] for x in per_v.values())}</td>" + "".join(
            f"<td>{fmt('exact_match', per_v[v]['exact_match']) if v in per_v else '-'}</td>" for v in variants) + "</tr>"
        for t, per_v in tags.items())
    return (f'<h3>{html.escape(data)}: exact match per tag</h3><div style="overflow-x:auto">'
            f'<table class="tags"><thead><tr><th>tag</th><th>rows</th>{head}</tr></thead><tbody>{rows}</tbody></table></div>')


def _highlight(raw: str) -> str:
    """Raw output with whatever follows the JSON answer marked as invented."""
    p = parse(raw)
    if p.json_text is None or not p.rest.strip():
        return html.escape(raw)
    cut = raw.rfind(p.rest) if p.rest else len(raw)
    return html.escape(raw[:cut]) + f'<mark class="invented" title="{p.status}">{html.escape(raw[cut:])}</mark>'


def _failing(records: list[dict], limit_per_variant: int = 60) -> list[dict]:
    from .metrics import is_exact, stopped_cleanly
    from .report import to_sample

    out, counts = [], {}
    for r in records:
        s = to_sample(r)
        if is_exact(s) and stopped_cleanly(s):
            continue
        key = (r["data"], r["variant"])
        counts[key] = counts.get(key, 0) + 1
        if counts[key] <= limit_per_variant:
            out.append(r)
    return out


def render_html(report: dict, records: list[dict]) -> str:
    title = f"Evaluation report: {report.get('suite') or 'ad hoc'}"
    body = [f"<h1>{html.escape(title)}</h1>",
            f'<p class="meta">Runs: {html.escape(json.dumps(report["runs"]))}; settings: '
            f'{html.escape(json.dumps(report["settings"]))}</p>']
    body.append(_verdict(report))
    for d, by_v in report["metrics"].items():
        body.append(f"<h2>{html.escape(d)}</h2>")
        ci = report.get("intervals", {}).get(d, {})
        head = "".join(f"<th>{html.escape(k)}</th>" for k in TABLE)
        rows = "".join(f"<tr><td>{html.escape(v)}</td>" + "".join(f"<td>{fmt_ci(k, m[k], ci.get(v, {}).get(k))}</td>"
                                                                   for k in TABLE) + "</tr>"
                       for v, m in by_v.items())
        body.append(f'<table class="comparison" data-data="{html.escape(d)}"><thead><tr><th>variant</th>{head}</tr>'
                    f"</thead><tbody>{rows}</tbody></table>")
        charts = "".join(_bar_chart(k, [(v, m[k]) for v, m in by_v.items()]) for k in HEADLINE)
        body.append(f'<div class="charts">{charts}</div>')
        body.append(_tag_table(d, list(by_v), report.get("by_tag", {}).get(d)))
    if report["skipped"]:
        body.append("<h2>Skipped variants</h2><ul>" + "".join(
            f"<li><b>{html.escape(v)}</b>: {html.escape(w)}</li>" for v, w in report["skipped"].items()) + "</ul>")
    failed = [c for c in report.get("checks", []) if not c["passed"]]
    if report.get("checks"):
        body.append(f"<h2>Thresholds</h2><p>{len(report['checks']) - len(failed)} of {len(report['checks'])} passed.</p>")
        body.append("<ul>" + "".join(
            f'<li class="fail">{html.escape(c["variant"])} on {html.escape(c["data"])}: {c["metric"]} = '
            f'{fmt(c["metric"], c["value"])} ({c["kind"]} {c["bound"]})</li>' for c in failed) + "</ul>")
    failing = _failing(records)
    variants = sorted({r["variant"] for r in failing})
    options = '<option value="">all variants</option>' + "".join(
        f'<option value="{html.escape(v)}">{html.escape(v)}</option>' for v in variants)
    body.append(f'<h2>Failing samples</h2><p>Not exact, or not a clean stop (up to 60 per variant and data file). '
                f'<select id="variant-filter">{options}</select> showing <span id="shown">{len(failing)}</span>.</p>')
    for r in failing:
        gold = json.dumps({"references": r["gold"]})
        err = f'<div class="fail">error: {html.escape(r["error"])}</div>' if r.get("error") else ""
        body.append(
            f'<div class="sample" data-variant="{html.escape(r["variant"])}"><div class="meta">{html.escape(r["data"])} · '
            f'{html.escape(r["variant"])} · {html.escape(r["id"])} · status {html.escape(r["status"])} · finish '
            f'{html.escape(r["finish_reason"])}</div><div>{html.escape(r["input"])}</div>'
            f'<div class="meta">gold</div><pre>{html.escape(gold)}</pre><div class="meta">raw output</div>'
            f'<pre>{_highlight(r["raw"])}</pre>{err}</div>')
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_CSS}</style><script>{_JS}</script></head><body>{''.join(body)}</body></html>\n")
