"""A deterministic extractor: regular expressions and the section table, no model.

It is the "do we need an LLM at all?" row of every report. It follows docs/labeling.md for the
forms it knows (Canto XLV, IX:ll.15-28, LXXXI/538, the forty-fifth canto, the first Pisan Canto,
the last five lines of ..., the following three lines, Cantos XVII–XIX, cantos 40–42, 45) and misses
what it does not.
"""

from __future__ import annotations

import re

from .schema import Reference
from .sections import FIRST_CANTO, LAST_CANTO, SECTIONS, from_roman

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
          "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_UNIT_ORD = ["zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
             "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth",
             "nineteenth"]
_TENS_ORD = {"twentieth": 20, "thirtieth": 30, "fortieth": 40, "fiftieth": 50, "sixtieth": 60, "seventieth": 70,
             "eightieth": 80, "ninetieth": 90}


def _ordinals() -> dict[str, int]:
    below = {w: i for i, w in enumerate(_UNIT_ORD) if i}
    below.update(_TENS_ORD)
    for tens, t in _TENS.items():
        for i in range(1, 10):
            below[f"{tens}-{_UNIT_ORD[i]}"] = t + i
    table = dict(below)
    table["hundredth"] = table["one hundredth"] = 100
    for word, n in below.items():
        if n < 21:
            table[f"one hundred and {word}"] = 100 + n
    return table


ORDINALS = _ordinals()
CARDINALS = {w: i for i, w in enumerate(_UNITS) if i} | {"a": 1}
_ORD_RE = "|".join(sorted(map(re.escape, ORDINALS), key=len, reverse=True))
_NUM = r"(?:\d+|" + "|".join(sorted(CARDINALS, key=len, reverse=True)) + ")"
_ROMAN = r"[IVXLC]+"
_OTHER = r"Dante|Inferno|Purgatorio|Paradiso|Byron|Don Juan|Spenser|Faerie|Ariosto|Tasso|Orlando"
_OTHER_BEFORE = re.compile(rf"(?:{_OTHER})\W*(?:\w+\W+)?$", re.I)
_OTHER_AFTER = re.compile(rf"^\s*,?\s*(?:of|in|from)\s+(?:the\s+|\w+'s\s+)?(?:{_OTHER})", re.I)

# A mention of one canto: "Canto XLV", "canto 45", "the forty-fifth canto", "the 45th Canto", "IX:", "LXXXI/538".
_MENTION = re.compile(
    rf"\b[Cc]antos?\s+(?P<num>{_ROMAN}|\d+)\b"
    rf"|\bthe\s+(?P<ord>{_ORD_RE})\s+[Cc]anto\b"
    rf"|\bthe\s+(?P<nth>\d+)(?:st|nd|rd|th)\s+[Cc]anto\b"
    rf"|(?<![\w.])(?P<bare>{_ROMAN})(?=\s*[:/]\s*(?:ll?\.?\s*)?\d|\s+at\s+p\.|,\s*p\.|,\s*ll?\.|,\s*lines?\s+\d)"
)
# Every name and spelling docs/labeling.md gives a section ("Names and spellings..."); "cantos" in any
# case, singular for an ordinal inside it ("the first Pisan Canto").
_C = r"[Cc]antos?"
SECTION_NAMES: dict[str, str] = {
    "A Draft of XVI Cantos": r"A Draft of XVI Cantos",
    "A Draft of XXX Cantos": r"A Draft of XXX Cantos",
    "Malatesta Cantos": rf"Malatesta (?:{_C}|sequence)",
    "Hell Cantos": rf"Hell {_C}",
    "Eleven New Cantos": rf"Eleven New {_C}",
    "The Fifth Decad of Cantos": rf"Fifth Decad(?: of {_C})?",
    "China Cantos": rf"(?:China|Chinese [Hh]istory) {_C}",
    "Adams Cantos": rf"(?:John )?Adams {_C}",
    "Italian Cantos": rf"Italian {_C}",
    "Pisan Cantos": rf"Pisan (?:{_C}|sequence|section|volume)|Pisans\b",
    "Section: Rock-Drill": rf"(?:Section: )?Rock[- ]Drill(?: (?:{_C}|section))?",
    "Thrones": rf"Thrones(?: (?:{_C}|section))?",
    "Drafts & Fragments": r"Drafts (?:&|and) Fragments",
}
_SECTION_RE = re.compile("|".join(f"(?P<s{i}>{pattern})" for i, pattern in enumerate(SECTION_NAMES.values())))
_SECTION_KEYS = list(SECTION_NAMES)
_WHICH = rf"last|final|closing|opening|penultimate|{_ORD_RE}"
_SECTION_ORDINAL = re.compile(
    rf"\b[Tt]he\s+(?P<which>{_WHICH})\s+(?:(?:[Cc]anto\s+)?(?:of|in)\s+)?(?:[Tt]he\s+)?(?={_SECTION_RE.pattern})"
)


def _section_span(m: re.Match) -> tuple[int, int]:
    """First and last canto of the section a _SECTION_RE match names."""
    return SECTIONS[_SECTION_KEYS[int(m.lastgroup[1:])]]


# Line phrases right after a mention.
_AFTER = re.compile(
    rf"^(?:\s*:\s*(?:ll?\.\s*)?|,?\s+ll?\.\s*|,?\s+lines?\s+)(?P<spec>\d+(?:\s*(?:[-–]|to|through)\s*\d+)?"
    rf"(?:\s*(?:,|and)\s*\d+(?:\s*[-–]\s*\d+)?)*)"
)
# Line phrases right before a mention: "lines 104 through 116 of", "l. 30 of", "the last five lines of".
_BEFORE = re.compile(
    rf"(?:\b(?:ll?\.|lines?)\s+(?P<spec>\d+(?:\s*(?:[-–]|to|through)\s*\d+)?(?:\s*(?:,|and)\s*\d+)*)"
    rf"|\bthe\s+(?P<pos>last|final|closing|penultimate|first|opening)(?:\s+(?P<count>{_NUM}))?\s+lines?"
    rf"|\bthe\s+(?P<nth>{_ORD_RE})\s+line)"
    rf"\s+(?:of|in)\s+(?:the\s+)?$"
)
_FOLLOW = re.compile(
    rf"^[^.;]*?\b(?:the\s+following\s+(?P<a>{_NUM})\s+lines|the\s+next\s+(?P<b>{_NUM})\s+lines"
    rf"|the\s+(?P<c>{_NUM})\s+lines\s+(?:that\s+follow|after\s+it))"
)


# A list of cantos after "Cantos" with at least one range or two items: "Cantos XVII–XIX",
# "cantos 40–42, 45", "Cantos LXXX to LXXXII", "Cantos XIV, XV and XVI", "Cantos 21, 24 and 36".
_RANGE_SEP = r"\s*(?:[-–]|to|through)\s*"
_LIST_SEP = r"\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*"
_ITEM = rf"(?:{_ROMAN}|\d+)(?![\w:/])(?:{_RANGE_SEP}(?:{_ROMAN}|\d+)(?![\w:/]))?"
_CANTO_LIST = re.compile(rf"\b[Cc]antos\s+(?P<items>{_ITEM}(?:(?:{_LIST_SEP}){_ITEM})*)"
                         rf"(?!\s*[:/]|\s*,?\s*ll?\.|\s*,?\s*lines?\b)")


def _canto_list(items: str) -> list[int] | None:
    """The cantos of a list, ranges expanded in text order; None if it is one canto or not a list."""
    out: list[int] = []
    for part in re.split(_LIST_SEP, items.strip()):
        ends = re.split(_RANGE_SEP, part)
        try:
            nums = [int(x) if x.isdigit() else from_roman(x) for x in ends]
        except ValueError:
            return None
        if len(nums) == 2:
            if not nums[0] < nums[1] <= nums[0] + 40:
                return None
            out.extend(range(nums[0], nums[1] + 1))
        else:
            out.append(nums[0])
    if len(out) < 2 or not all(FIRST_CANTO <= n <= LAST_CANTO for n in out):
        return None
    return out


def _num(word: str) -> int:
    return int(word) if word.isdigit() else CARDINALS[word.lower()]


def _spec_lines(spec: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"\s*(?:,|\band\b)\s*", spec.strip()):
        m = re.fullmatch(r"(\d+)\s*(?:[-–]|to|through)\s*(\d+)", part)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            out.extend(range(a, b + 1) if a <= b else [a, b])
        elif part.isdigit():
            out.append(int(part))
    return out


def _canto_number(m: re.Match) -> int | None:
    try:
        if m.group("num"):
            s = m.group("num")
            return int(s) if s.isdigit() else from_roman(s)
        if m.group("ord"):
            return ORDINALS[m.group("ord").lower()]
        if m.group("nth"):
            return int(m.group("nth"))
        return from_roman(m.group("bare"))
    except ValueError:
        return None


def _lines_around(text: str, start: int, end: int) -> tuple[list[int], int]:
    """Line numbers given right before or right after the mention at [start, end); and where they end."""
    after = _AFTER.match(text[end:])
    if after and not re.match(r"\s*/", text[end:]):
        return _spec_lines(after.group("spec")), end + after.end()
    before = _BEFORE.search(text[max(0, start - 60):start])
    if before:
        if before.group("spec"):
            return _spec_lines(before.group("spec")), end
        if before.group("nth"):
            return [ORDINALS[before.group("nth").lower()]], end
        count = _num(before.group("count")) if before.group("count") else 1
        pos = before.group("pos").lower()
        if pos == "penultimate":
            return [-2], end
        if pos in ("first", "opening"):
            return list(range(1, count + 1)), end
        return list(range(-count, 0)), end
    return [], end


def extract(text: str) -> list[Reference]:
    """References in text order, following docs/labeling.md where the rules know the form."""
    found: list[tuple[int, Reference]] = []
    taken: list[tuple[int, int]] = []
    for m in _SECTION_ORDINAL.finditer(text):
        name = _SECTION_RE.match(text, m.end())  # the lookahead of _SECTION_ORDINAL matched it
        lo, hi = _section_span(name)
        which = m.group("which").lower()
        n = {"last": hi, "final": hi, "closing": hi, "penultimate": hi - 1, "opening": lo}.get(which)
        n = lo + ORDINALS[which] - 1 if n is None else n
        if lo <= n <= hi:
            found.append((m.start(), Reference(n)))
            taken.append((m.start(), name.end()))
    for m in _SECTION_RE.finditer(text):
        if not any(a <= m.start() < b for a, b in taken):
            lo, hi = _section_span(m)
            found.extend((m.start() + i / 1000, Reference(c)) for i, c in enumerate(range(lo, hi + 1)))
            taken.append(m.span())
    for m in _CANTO_LIST.finditer(text):
        cantos = _canto_list(m.group("items"))
        if cantos and not any(a <= m.start() < b for a, b in taken):
            found.extend((m.start() + i / 1000, Reference(c)) for i, c in enumerate(cantos))
            taken.append(m.span())
    for m in _MENTION.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        canto = _canto_number(m)
        other = _OTHER_BEFORE.search(text[max(0, m.start() - 30):m.start()]) or _OTHER_AFTER.match(text[m.end():])
        if canto is None or not FIRST_CANTO <= canto <= LAST_CANTO or other:
            continue
        lines, stop = _lines_around(text, m.start(), m.end())
        found.append((m.start(), Reference(canto, tuple(lines))))
        follow = _FOLLOW.match(text[stop:])
        if follow and lines:
            k = _num(follow.group("a") or follow.group("b") or follow.group("c"))
            found.append((m.start() + 1, Reference(canto, tuple(range(max(lines) + 1, max(lines) + 1 + k)))))
    return [ref for _, ref in sorted(found, key=lambda x: x[0])]
