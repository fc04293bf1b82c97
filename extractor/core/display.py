"""How an answer is shown against its gold in report.html's per-sample view.

A task turns an answer into display rows (``Task.show``), one per thing a reader checks: a field
path of a JSON answer, a canto of a Cantos answer. A row is ``[label, pieces, mark]``: the label,
the pieces of its value, each ``[text, mark]``, and a mark for the whole row; marks index
``MARKS``. The page renders the rows of any task the same way: a missing piece struck out, an extra
one underlined, a different one in orange with the gold beside it as a note.

``field_rows`` is the generic view every task gets by default: one row per field path of the
answer's leaves (``fields.leaves``), compared with the task's own leaf comparison
(``fields.compare``).
"""

from __future__ import annotations

import json
from typing import Any

from . import fields

MARKS = ("same", "missing", "extra", "different", "near", "note")
SAME, MISSING, EXTRA, DIFFERENT, NEAR, NOTE = range(len(MARKS))

Row = list  # [label: str, pieces: [[text: str, mark: int], ...], mark: int]


def _grouped(value: Any) -> dict[str, list]:
    """Field path -> the values of its leaves, paths in the order they first appear."""
    out: dict[str, list] = {}
    for path, v in fields.leaves(value):
        out.setdefault(path, []).append(v)
    return out


def _text(values: list) -> str:
    return ", ".join(json.dumps(v, ensure_ascii=False) for v in values)


def gold_rows(gold: Any) -> list[Row]:
    """The gold answer's rows: one per field path, every piece the same as itself."""
    return [[path, [[_text(vs), SAME]], SAME] for path, vs in _grouped(gold).items()]


def field_rows(gold: Any, pred: Any, options: fields.FieldOptions = fields.FieldOptions(),
               counts: dict[str, fields.Counts] | None = None) -> list[Row]:
    """Rows for ``pred`` against ``gold``, one per field path, gold's paths first. A path whose
    leaves no predicted leaf matches is *missing*, predicted leaves matching no gold leaf are
    *extra*, both is *different*; leaves that match only within the options' tolerance are *near*.
    ``counts``: ``fields.compare(gold, pred, options)`` when the caller has it already."""
    g = _grouped(gold)
    counts = fields.compare(gold, pred, options) if counts is None else counts
    p = _grouped(pred)
    rows = []
    for path in list(g) + [k for k in p if k not in g]:
        gv, pv = g.get(path, []), p.get(path, [])
        c = counts.get(path) or fields.Counts()
        note = [[f"gold: {_text(gv)}", NOTE]] if gv else []
        if c.missing and c.extra:
            rows.append([path, [[_text(pv), DIFFERENT], *note], DIFFERENT])
        elif c.missing:
            rows.append([path, ([[_text(pv), DIFFERENT]] if pv else []) + [[_text(gv), MISSING]], MISSING])
        elif c.extra:
            rows.append([path, [[_text(pv), EXTRA], *note], EXTRA])
        elif sorted(fields.canonical_json(v, options) for v in gv) != sorted(fields.canonical_json(v, options) for v in pv):
            rows.append([path, [[_text(pv), NEAR], *note], NEAR])
        else:
            rows.append([path, [[_text(gv), SAME]], SAME])
    return rows
