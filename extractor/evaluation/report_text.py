"""How report figures read as text: the formatting that report.md, the terminal table (``report``)
and report.html (``report_html``) share. It lives here so that imports go one way only:
``report`` -> ``report_html`` -> ``report_text``."""

from __future__ import annotations

from . import grammar_gaps


def fmt(key: str, value) -> str:
    """One metric value: ``-`` for none, the count as is, seconds and rates per second with 2
    decimals (none under 100 and more), other rates with 3."""
    if value is None:
        return "-"
    if key == "n":
        return str(value)
    if key.endswith("_s") or key.endswith("_per_s"):
        return f"{value:.2f}" if value < 100 else f"{value:.0f}"
    return f"{value:.3f}"


def fmt_ci(key: str, value, interval) -> str:
    """A rate with its interval where one was computed: 0.838 [0.79, 0.88]."""
    if not interval or value is None:
        return fmt(key, value)
    return f"{fmt(key, value)} [{interval[0]:.2f}, {interval[1]:.2f}]"


def grammar_line(report: dict) -> str | None:
    """The +grammar rows' one line: the schema keywords their grammar does not enforce."""
    if "grammar_unenforced" not in report:
        return None
    return grammar_gaps.summary(report["grammar_unenforced"], report.get("grammar_stricter"))


def timing_line(report: dict) -> str | None:
    """Report.json's ``timing`` as one sentence (None when nothing was timed)."""
    t = report.get("timing")
    if not t or not t.get("total_seconds"):
        return None
    parts = [f"{step} {label} {v:.0f} s" for step in ("install", "train", "export") for label, v in t.get(step, {}).items()]
    parts += [f"{v} {s:.0f} s" for v, s in t["eval"].items()]
    return f"Time: {t['total_seconds'] / 60:.1f} min in all (" + ", ".join(parts) + ")."
