"""A loss curve as a small self-contained SVG (no plotting dependency)."""

from __future__ import annotations

from html import escape


def loss_curve_svg(records: list[dict], title: str, width: int = 640, height: int = 360) -> str:
    train = [(r["step"], r["loss"]) for r in records if "loss" in r]
    valid = [(r["step"], r["valid_loss"]) for r in records if "valid_loss" in r]
    points = train + valid
    pad_l, pad_r, pad_t, pad_b = 56, 16, 32, 40
    if not points:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"><text x="10" y="20">no data</text></svg>\n'
    x_max = max(s for s, _ in points) or 1
    y_max = max(v for _, v in points) * 1.05 or 1.0

    def xy(step, value):
        x = pad_l + (width - pad_l - pad_r) * step / x_max
        y = height - pad_b - (height - pad_t - pad_b) * value / y_max
        return f"{x:.1f},{y:.1f}"

    def line(series, color):
        return f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{" ".join(xy(s, v) for s, v in series)}"/>'

    ticks = "".join(
        f'<text x="{pad_l - 6}" y="{height - pad_b - (height - pad_t - pad_b) * f + 4:.1f}" text-anchor="end" font-size="11">{y_max * f:.2f}</text>'
        for f in (0, 0.25, 0.5, 0.75, 1.0))
    dots = "".join(f'<circle cx="{xy(s, v).split(",")[0]}" cy="{xy(s, v).split(",")[1]}" r="3" fill="#d62728"/>' for s, v in valid)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif">'
        f'<rect width="100%" height="100%" fill="white"/>'
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}: loss per completion token</text>'
        f'<line x1="{pad_l}" y1="{height - pad_b}" x2="{width - pad_r}" y2="{height - pad_b}" stroke="black"/>'
        f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{height - pad_b}" stroke="black"/>{ticks}'
        f'<text x="{width / 2}" y="{height - 8}" text-anchor="middle" font-size="12">step (last: {x_max})</text>'
        f'{line(train, "#1f77b4")}{line(valid, "#d62728") if len(valid) > 1 else ""}{dots}'
        f'<text x="{width - pad_r}" y="{pad_t}" text-anchor="end" font-size="12" fill="#1f77b4">train</text>'
        f'<text x="{width - pad_r}" y="{pad_t + 16}" text-anchor="end" font-size="12" fill="#d62728">validation</text>'
        "</svg>\n"
    )
