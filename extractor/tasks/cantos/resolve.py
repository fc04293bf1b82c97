"""``extract --resolve-lines``: a reference's line numbers made absolute, impossible ones flagged."""

from __future__ import annotations

from .schema import Reference
from .sections import CANTO_LENGTHS, is_impossible_line, resolve_line


def reference_record(ref: Reference, resolve: bool = False) -> dict:
    """A reference as JSON; with ``resolve``, absolute line numbers and impossible ones flagged.

    ``resolved_lines`` matches ``lines`` item for item: negative lines (counted from the end)
    become absolute where the canto's length is known (Cantos I-XXX); a line that cannot exist,
    or a negative one in a canto of unknown length, is ``null``. ``impossible_lines`` lists the
    given lines beyond the canto's length.
    """
    out = ref.to_json()
    if resolve:
        impossible = [n for n in ref.lines if is_impossible_line(ref.canto, n)]
        out["length"] = CANTO_LENGTHS.get(ref.canto)
        out["resolved_lines"] = [None if n in impossible else resolve_line(ref.canto, n) for n in ref.lines]
        out["impossible_lines"] = impossible
    return out
