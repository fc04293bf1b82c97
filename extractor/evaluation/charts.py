"""The report's two charts as inline SVG strings (no plotting dependency, no script needed):

- ``endings_chart``: one stacked horizontal bar per variant, how its generations ended;
- ``accuracy_latency_chart``: exact match (with its 95% interval) against seconds per sample,
  one numbered point per artefact, named in a table beside it (``legend``).

Both size themselves to a fixed width that fits a 1366 px window beside the page margins.
"""

from __future__ import annotations

import math
from html import escape

WIDTH = 900
FONT = 'font-family="system-ui,sans-serif" font-size="12"'


def endings_chart(rows: list[tuple[str, dict[str, int]]], categories: list[tuple[str, str, str]], title: str) -> str:
    """rows: (variant, {category: count}); categories: (key, label, colour) in stacking order."""
    label_w, bar_w, row_h, top = 190, WIDTH - 190 - 60, 22, 46
    height = top + row_h * len(rows) + 10
    out = [f'<svg class="chart endings" role="img" aria-label="{escape(title)}" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg" {FONT}>',
           f'<text x="0" y="14" font-weight="bold" font-size="13">{escape(title)}</text>']
    x = 0.0
    for key, label, colour in categories:  # the legend, one line
        out.append(f'<rect x="{x:.0f}" y="24" width="11" height="11" fill="{colour}"/>'
                   f'<text x="{x + 15:.0f}" y="34">{escape(label)}</text>')
        x += 15 + 6.6 * len(label) + 18
    for i, (variant, counts) in enumerate(rows):
        y = top + i * row_h
        n = sum(counts.values())
        out.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{escape(variant)}</text>')
        x = float(label_w)
        for key, label, colour in categories:
            k = counts.get(key, 0)
            if not k or not n:
                continue
            w = bar_w * k / n
            out.append(f'<rect class="seg" data-ending="{key}" x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" '
                       f'fill="{colour}"><title>{escape(variant)}: {escape(label)} {k} of {n} ({k / n:.1%})</title></rect>')
            if w >= 34:
                light = key == "trailing_text"
                out.append(f'<text x="{x + w / 2:.1f}" y="{y + 15}" text-anchor="middle" font-size="11" '
                           f'fill="{"#222" if light else "#fff"}">{k / n:.0%}</text>')
            x += w
        out.append(f'<text x="{label_w + bar_w + 6}" y="{y + 15}" fill="#666">{n}</text>')
    out.append("</svg>")
    return "".join(out)


def size_text(n: int | None) -> str:
    """Bytes on disk as read: ``145 MB``, ``1.2 GB`` (empty when unknown)."""
    if not n:
        return ""
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= div:
            return f"{n / div:.0f} {unit}" if n / div >= 10 else f"{n / div:.1f} {unit}"
    return f"{n} B"


def accuracy_latency_chart(points: list[dict], title: str, baseline: dict | None = None) -> str:
    """points: {"name", "exact", "lo", "hi", "seconds", "size" (bytes or None)}. X is median seconds
    per sample (log scale when the fastest and slowest differ by more than 10x), Y is exact match.
    Each point carries its number in ``legend`` (the table beside the chart names it), placed
    where it overlaps no other number and stays inside the frame.
    baseline: {"name", "exact"} drawn as a dashed line (the rules: no model, no latency to speak of)."""
    width, height, left, right, top, bottom = 620, 400, 56, 18, 34, 46
    pw, ph = width - left - right, height - top - bottom
    timed = [p["seconds"] for p in points if p.get("seconds")]
    floor = max(min(timed) / 2, 1e-4) if timed else 1e-3
    xs = [max(p.get("seconds") or 0.0, floor) for p in points]
    lo_x, hi_x = (min(xs), max(xs)) if xs else (floor, 1.0)
    log = hi_x / lo_x > 10
    if log:
        lo_x, hi_x = 10 ** math.floor(math.log10(lo_x)), 10 ** math.ceil(math.log10(hi_x))
    else:
        step = _nice(hi_x * 1.05 / 5)
        lo_x, hi_x = 0.0, math.ceil(hi_x * 1.05 / step) * step
    ys = [v for p in points for v in (p["lo"], p["hi"])] + ([baseline["exact"]] if baseline else [])
    lo_y = 0.0 if not ys or min(ys) < 0.3 else math.floor(min(ys) * 10 - 1) / 10
    hi_y = 1.0

    def px(v):
        v = max(v, floor) if log else v  # a log axis cannot show 0; a linear one starts there
        f = (math.log10(v) - math.log10(lo_x)) / (math.log10(hi_x) - math.log10(lo_x)) if log else (v - lo_x) / (hi_x - lo_x)
        return left + pw * f

    def py(v):
        return top + ph * (hi_y - v) / (hi_y - lo_y)

    out = [f'<svg class="chart scatter" role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" {FONT}>',
           f'<text x="0" y="14" font-weight="bold" font-size="13">{escape(title)}</text>']
    steps = 5
    for k in range(steps + 1):
        f = lo_y + (hi_y - lo_y) * k / steps
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(f):.1f}" y2="{py(f):.1f}" stroke="#eee"/>'
                   f'<text x="{left - 6}" y="{py(f) + 4:.1f}" text-anchor="end" fill="#555">{f:.2f}</text>')
    ticks = ([10 ** e for e in range(round(math.log10(lo_x)), round(math.log10(hi_x)) + 1)] if log
             else [k * step for k in range(round(hi_x / step) + 1)])
    for t in ticks:
        label = f"{t:g}" if t >= 0.001 or t == 0 else f"{t:.0e}"
        out.append(f'<line x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{top}" y2="{top + ph}" stroke="#eee"/>'
                   f'<text x="{px(t):.1f}" y="{top + ph + 16}" text-anchor="middle" fill="#555">{label}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>'
               f'<text x="{left + pw / 2}" y="{height - 8}" text-anchor="middle">median seconds per sample'
               f'{" (log scale)" if log else ""}; faster is left</text>'
               f'<text transform="translate(14 {top + ph / 2}) rotate(-90)" text-anchor="middle">exact match (95% interval)</text>')
    if baseline:
        y = py(baseline["exact"])
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#888" stroke-dasharray="5 4"/>'
                   f'<text x="{left + 6}" y="{y - 5:.1f}" fill="#555">{escape(baseline["name"])}: {baseline["exact"]:.3f} '
                   f'(baseline, no model)</text>')
    centres = [(px(xs[i]), py(p["exact"])) for i, p in enumerate(points)]
    places = _place_numbers(centres, (left, top, left + pw, top + ph))
    for i, p in enumerate(points):
        cx, cy = centres[i]
        size = size_text(p.get("size"))
        tip = (f'{i + 1}. {p["name"]}: exact {p["exact"]:.3f} [{p["lo"]:.2f}, {p["hi"]:.2f}], '
               f'{p.get("seconds") or 0:.3f} s per sample' + (f", {size} on disk" if size else ""))
        lx, ly = places[i]
        out.append(f'<g class="point" data-variant="{escape(p["name"])}"><title>{escape(tip)}</title>'
                   f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{py(p["hi"]):.1f}" y2="{py(p["lo"]):.1f}" stroke="#7b9cc9" stroke-width="1.5"/>'
                   f'<line x1="{cx - 4:.1f}" x2="{cx + 4:.1f}" y1="{py(p["hi"]):.1f}" y2="{py(p["hi"]):.1f}" stroke="#7b9cc9"/>'
                   f'<line x1="{cx - 4:.1f}" x2="{cx + 4:.1f}" y1="{py(p["lo"]):.1f}" y2="{py(p["lo"]):.1f}" stroke="#7b9cc9"/>'
                   f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4.5" fill="#1f4e8c" stroke="#fff" stroke-width="1"/>'
                   f'<text class="label" x="{lx:.1f}" y="{ly + 4:.1f}" text-anchor="middle" font-weight="600" '
                   f'fill="#1f4e8c">{i + 1}</text></g>')
    out.append("</svg>")
    return "".join(out)


def legend(points: list[dict]) -> str:
    """The table beside the scatter chart: each point's number, variant and figures."""
    rows = "".join(f'<tr><td class="num">{i + 1}</td><td>{escape(p["name"])}</td><td>{p["exact"]:.3f}</td>'
                   f'<td>{p.get("seconds") or 0:.2f}</td><td>{escape(size_text(p.get("size")) or "-")}</td></tr>'
                   for i, p in enumerate(points))
    return ('<table class="legend"><thead><tr><th></th><th>variant</th><th>exact</th><th>p50 s</th><th>size</th></tr>'
            f'</thead><tbody>{rows}</tbody></table>')


def _place_numbers(centres: list[tuple[float, float]], frame: tuple[float, float, float, float]) -> list[tuple[float, float]]:
    """A spot for each point's number: the first of a ring of spots around the point (near first)
    whose 16x14 box stays inside ``frame`` and overlaps no point or number placed before."""
    x0, y0, x1, y1 = frame
    taken: list[tuple[float, float]] = list(centres)  # the points themselves are taken too
    boxes: list[tuple[float, float]] = []
    out = []
    offsets = [(dx * r, dy * r) for r in (12, 20, 30, 42, 56)
               for dx, dy in ((1, 0), (-1, 0), (0, -1), (0, 1), (1, -1), (-1, -1), (1, 1), (-1, 1))]
    for cx, cy in centres:
        spot = None
        for dx, dy in offsets:
            x, y = cx + dx, cy + dy
            if not (x0 + 8 <= x <= x1 - 8 and y0 + 7 <= y <= y1 - 7):
                continue
            if any(abs(x - bx) < 16 and abs(y - by) < 14 for bx, by in boxes) or \
                    any(abs(x - px) < 11 and abs(y - py) < 10 for px, py in taken):
                continue
            spot = (x, y)
            break
        spot = spot or (min(max(cx + 12, x0 + 8), x1 - 8), cy)
        boxes.append(spot)
        out.append(spot)
    return out


def _nice(v: float) -> float:
    """The next round number at or above v (1, 2, 2.5, 5 times a power of ten)."""
    if v <= 0:
        return 1.0
    e = 10 ** math.floor(math.log10(v))
    return next(m * e for m in (1, 2, 2.5, 5, 10) if m * e >= v)
