"""Facts about *The Cantos* that the labelling convention and the metrics rely on.

See docs/labeling.md for how these are used when labelling.
"""

from __future__ import annotations

import re

FIRST_CANTO = 1
LAST_CANTO = 120

# Named sections -> inclusive canto ranges (docs/labeling.md, "Sections").
SECTIONS: dict[str, tuple[int, int]] = {
    "A Draft of XVI Cantos": (1, 16),
    "A Draft of XXX Cantos": (1, 30),
    "Malatesta Cantos": (8, 11),
    "Hell Cantos": (14, 15),
    "Eleven New Cantos": (31, 41),
    "The Fifth Decad of Cantos": (42, 51),
    "China Cantos": (52, 61),
    "Adams Cantos": (62, 71),
    "Italian Cantos": (72, 73),
    "Pisan Cantos": (74, 84),
    "Section: Rock-Drill": (85, 95),
    "Thrones": (96, 109),
    "Drafts & Fragments": (110, 117),
}

# Line counts of Cantos I-XXX, used to flag impossible line numbers and to resolve
# negative (counted-from-the-end) positions. Later cantos' lengths are not tabulated.
CANTO_LENGTHS: dict[int, int] = {
    1: 77, 2: 160, 3: 43, 4: 135, 5: 127, 6: 80, 7: 137, 8: 179, 9: 268, 10: 189,
    11: 144, 12: 140, 13: 80, 14: 94, 15: 109, 16: 277, 17: 117, 18: 132, 19: 141, 20: 229,
    21: 154, 22: 184, 23: 105, 24: 165, 25: 197, 26: 260, 27: 131, 28: 254, 29: 179, 30: 75,
}

_ROMAN = [
    (100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
]
_ROMAN_RE = re.compile(r"^C?(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")


def to_roman(n: int) -> str:
    """1..120 -> 'I'..'CXX'."""
    if not FIRST_CANTO <= n <= LAST_CANTO:
        raise ValueError(f"canto {n} is outside I-CXX")
    out = []
    for value, numeral in _ROMAN:
        while n >= value:
            out.append(numeral)
            n -= value
    return "".join(out)


def from_roman(s: str) -> int:
    """'XLV' -> 45. Raises ValueError for anything that is not a canonical numeral in I-CXX."""
    s = s.strip().upper()
    if not s or not _ROMAN_RE.match(s):
        raise ValueError(f"not a roman numeral: {s!r}")
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
    total = 0
    for i, ch in enumerate(s):
        v = values[ch]
        total += -v if i + 1 < len(s) and values[s[i + 1]] > v else v
    if not FIRST_CANTO <= total <= LAST_CANTO:
        raise ValueError(f"{s} = {total} is outside I-CXX")
    return total


def resolve_line(canto: int, line: int) -> int | None:
    """Absolute line number for a (possibly negative) position, or None if the length is unknown."""
    if line > 0:
        return line
    length = CANTO_LENGTHS.get(canto)
    return None if length is None else length + 1 + line


def is_impossible_line(canto: int, line: int) -> bool:
    """True when a line number cannot exist in a canto of known length."""
    length = CANTO_LENGTHS.get(canto)
    return length is not None and abs(line) > length
