"""report.html's confidence and calibration section: per data file, a reliability chart per variant
(small multiples) and one coverage chart, inline SVG (no plotting dependency, no script), and the
table of ``evaluation/calibration.py``.

- **reliability**: one bar per confidence bin, as high as the bin's exact-match rate, over the
  bin's width; the dashed diagonal is perfect calibration (bars under it: over-confident); the
  number over a bar is its answers;
- **coverage**: per variant, the exact-match rate of the answers kept (y) against the share of the
  rows kept (x) as the confidence threshold goes down; the dashed lines are the 95% and 99% targets.
"""

from __future__ import annotations

import html
from html import escape

from .calibration import HEAD, NO_CONFIDENCE, TARGETS, intro, ordered, rows
from .charts import FONT
from .records import Report
from .view_records import Calibration

COLOURS = ("#1f4e8c", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0e7490", "#a16207", "#4b5563")

CSS = """
.reliability{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}
table.calibration td{white-space:nowrap}
"""


def reliability_chart(variant: str, c: Calibration) -> str:
    """One variant's reliability chart: exact rate per confidence bin against the diagonal."""
    width, height, left, right, top, bottom = 250, 210, 34, 8, 30, 34
    pw, ph = width - left - right, height - top - bottom

    def px(v: float) -> float:
        return left + pw * v

    def py(v: float) -> float:
        return top + ph * (1 - v)

    title = f"{variant}: ECE {c.ece:.3f}"
    out = [f'<svg class="chart reliability-chart" role="img" aria-label="{escape(title)}" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" {FONT}>',
           f'<text x="0" y="13" font-weight="bold" font-size="12">{escape(variant)}</text>'
           f'<text x="0" y="25" font-size="11" fill="#555">ECE {c.ece:.3f}, {c.answered} answers</text>']
    for k in range(0, 11, 5):
        v = k / 10
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(v):.1f}" y2="{py(v):.1f}" stroke="#eee"/>'
                   f'<text x="{left - 4}" y="{py(v) + 4:.1f}" text-anchor="end" font-size="10" fill="#555">{v:.1f}</text>'
                   f'<text x="{px(v):.1f}" y="{top + ph + 13}" text-anchor="middle" font-size="10" fill="#555">{v:.1f}</text>')
    for lo, hi, n, exact, conf in c.bins:
        if not n:
            continue
        x, w = px(lo) + 1, pw * (hi - lo) - 2
        tip = f"{variant}: confidence {lo:.1f}-{hi:.1f}: {n} answers, {exact:.1%} exact, mean confidence {conf:.3f}"
        out.append(f'<rect x="{x:.1f}" y="{py(exact):.1f}" width="{w:.1f}" height="{ph * exact:.1f}" fill="#7b9cc9">'
                   f'<title>{escape(tip)}</title></rect>'
                   f'<text x="{x + w / 2:.1f}" y="{py(exact) - 3:.1f}" text-anchor="middle" font-size="9" fill="#333">{n}</text>')
    out.append(f'<line x1="{px(0):.1f}" y1="{py(0):.1f}" x2="{px(1):.1f}" y2="{py(1):.1f}" stroke="#888" '
               f'stroke-dasharray="4 3"/><rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>'
               f'<text x="{left + pw / 2}" y="{height - 6}" text-anchor="middle" font-size="11">confidence; bars: exact</text>'
               "</svg>")
    return "".join(out)


def coverage_chart(d: str, curves: list[tuple[str, Calibration]]) -> str:
    """Exact rate of the kept answers against the share of rows kept, one line per variant."""
    width, height, left, right, top, bottom = 620, 330, 50, 16, 34, 46
    pw, ph = width - left - right, height - top - bottom
    lows = [y for _, c in curves for _, y in c.curve] + [min(TARGETS)]
    lo_y = max(0.0, min(int(min(lows) * 10) / 10, 0.9))

    def px(v: float) -> float:
        return left + pw * v

    def py(v: float) -> float:
        return top + ph * (1 - v) / (1 - lo_y)

    title = f"{d}: exact match of the answers kept against the share of rows kept"
    out = [f'<svg class="chart coverage-chart" role="img" aria-label="{escape(title)}" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" {FONT}>',
           f'<text x="0" y="14" font-weight="bold" font-size="13">{escape(title)}</text>']
    for k in range(6):
        v = lo_y + (1 - lo_y) * k / 5
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(v):.1f}" y2="{py(v):.1f}" stroke="#eee"/>'
                   f'<text x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end" fill="#555">{v:.2f}</text>')
        x = k / 5
        out.append(f'<text x="{px(x):.1f}" y="{top + ph + 16}" text-anchor="middle" fill="#555">{x:.1f}</text>')
    for t in TARGETS:
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(t):.1f}" y2="{py(t):.1f}" stroke="#888" '
                   f'stroke-dasharray="5 4"/><text x="{left + pw - 4}" y="{py(t) - 4:.1f}" text-anchor="end" '
                   f'font-size="11" fill="#555">{t:.0%} exact</text>')
    for i, (v, c) in enumerate(curves):
        colour = COLOURS[i % len(COLOURS)]
        points = " ".join(f"{px(x):.1f},{py(max(y, lo_y)):.1f}" for x, y in c.curve)
        out.append(f'<polyline class="curve" data-variant="{escape(v)}" points="{points}" fill="none" '
                   f'stroke="{colour}" stroke-width="1.8"><title>{escape(v)}</title></polyline>')
        y = top + ph - 12 - 15 * (len(curves) - 1 - i)  # the legend, bottom left: the curves start high
        out.append(f'<rect x="{left + 8}" y="{y - 4}" width="11" height="3" fill="{colour}"/>'
                   f'<text x="{left + 24}" y="{y}" font-size="11">{escape(v)}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>'
               f'<text x="{left + pw / 2}" y="{height - 8}" text-anchor="middle">share of rows kept (the most '
               f'confident first)</text><text transform="translate(13 {top + ph / 2}) rotate(-90)" '
               f'text-anchor="middle">exact among the kept</text></svg>')
    return "".join(out)


def section(report: Report) -> str:
    """The page's section (empty when no variant has a confidence)."""
    view = report.calibration
    if view is None:
        return ""
    parts = [f'<section id="calibration"><h2>Confidence and calibration</h2><p class="meta">{html.escape(intro(view))}</p>']
    head = "".join(f"<th>{escape(h)}</th>" for h in HEAD)
    for d, by_v in view.data.items():
        shown = [(v, by_v[v]) for v in ordered(report, by_v) if v not in report.same_outputs.get(d, {})]
        table = "".join("<tr>" + "".join(f"<td>{escape(x)}</td>" for x in r) + "</tr>" for r in rows(report, d))
        parts.append(f'<h3>{escape(d)}</h3><table class="comparison calibration"><thead><tr>{head}</tr></thead>'
                     f'<tbody>{table}</tbody></table>'
                     f'<div class="reliability">{"".join(reliability_chart(v, c) for v, c in shown)}</div>'
                     f'{coverage_chart(d, shown)}')
    if view.without:
        parts.append(f'<p class="meta">No confidence: {escape(", ".join(view.without))}: {escape(NO_CONFIDENCE)}.</p>')
    parts.append("</section>")
    return "".join(parts)
