"""A Cantos answer in report.html's per-sample view: one row per canto, its lines as ranges.

Rows follow ``core.display``: ``[label, pieces, mark]``. Against the gold, a canto the
prediction lacks is marked missing (the whole row), one the gold lacks extra, and within a canto
each run of lines is a piece marked the same, missing or extra (``Canto 9: ll. 15–28, 29``).
"""

from __future__ import annotations

from typing import Any

from ...core.display import EXTRA, MISSING, SAME, Row
from .schema import Reference, canonical


def refs_of(gold: Any) -> list[Reference]:
    """A record's gold (a list of ``{"canto", "lines"}``) as references; [] when it is not one."""
    try:
        return [Reference(r["canto"], tuple(r["lines"])) for r in gold]
    except (TypeError, KeyError):
        return []


def _runs(lines: list[tuple[int, int]]) -> list[list]:
    """(line, mark) pairs, ascending -> pieces: consecutive lines of one mark as a range."""
    pieces, i = [], 0
    while i < len(lines):
        j = i
        while j + 1 < len(lines) and lines[j + 1][0] == lines[j][0] + 1 and lines[j + 1][1] == lines[i][1]:
            j += 1
        text = str(lines[i][0]) + (f"–{lines[j][0]}" if j > i else "")
        pieces.append([text, lines[i][1]])
        i = j + 1
    return pieces


def rows(gold: list[Reference], pred: list[Reference] | None) -> list[Row]:
    """The rows of ``pred`` against ``gold``, cantos ascending; ``pred`` None: the gold itself."""
    g = {r.canto: set(r.lines) for r in canonical(gold)}
    p = g if pred is None else {r.canto: set(r.lines) for r in canonical(pred)}
    out = []
    for c in sorted(set(g) | set(p)):
        in_g, in_p = g.get(c, set()), p.get(c, set())
        marks = [(n, SAME if (n in in_g) == (n in in_p) else (MISSING if n in in_g else EXTRA))
                 for n in sorted(in_g | in_p)]
        mark = SAME if c in g and c in p else (MISSING if c in g else EXTRA)
        if mark != SAME:  # the whole row carries the mark
            marks = [(n, SAME) for n, _ in marks]
        out.append([f"Canto {c}" + (": ll." if marks else ""), _runs(marks), mark])
    return out
