"""Build datasets/cantos/{train,valid,test}.jsonl (version 2) deterministically.

    python datasets/cantos/build.py          # rewrite the three files and the card's counts
    python datasets/cantos/build.py --check  # exit 1 if the committed files differ

Sentence frames live in `frames/*.txt` (one hand-written frame a line; blank lines and `#`
lines ignored). Slots, filled here and labelled by construction (docs/labeling.md):

    {ref} {ref2} ... {ref5}  one reference phrase each, any kind this file knows
    {refs}                   a coordinated list of 2-5 references ("Cantos XIV, XV and XVI")
    {canto}                  a canto mention without lines, any numeral form
    {k}                      relative.txt only, after a line-bearing {ref}: "the following {k} lines"
    {other}                  another poem's canto phrase ("Canto XXVI"); the frame names the poem
    {y} {p} {n}              a year, a page, a small number: never labelled

**The split is by frame.** Every frame (and every bare-citation form below) goes to one split,
chosen by a SHA-256 hash of its normalized text, so adding a frame never moves another one and
no sentence pattern of valid or test is ever seen in training. Rows are also deduplicated on
`normalize(input)` across splits (held-out splits are built first and win). Everything is
seeded from SEED through hashlib, so output is the same on every run and Python version.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import statistics
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent
FRAMES_DIR = ROOT / "frames"
sys.path.insert(0, str(ROOT.parents[1]))

from extractor.tasks.cantos.sections import CANTO_LENGTHS, SECTIONS, to_roman  # noqa: E402
from extractor.core.data import normalize  # noqa: E402

SEED = 20261130
SPLITS = ("train", "valid", "test")
# A frame's hash in [0, 1) falls in the first bucket whose bound exceeds it: ~78/8/14 % of frames.
SPLIT_BOUNDS = (("train", 0.78), ("valid", 0.86), ("test", 1.0))

# Rows drawn per frame, by split and frame file ("cite" = the bare-citation forms below).
# Held-out frames get fewer rows each: more patterns, fewer repeats. Rescale here.
INSTANCES = {
    "train": {"prose": 4, "prose_multi": 4, "relative": 5, "citation_contexts": 4, "cite": 8,
              "questions": 2, "mixed": 2, "no_ref": 2, "other_poems": 2},
    "valid": {"prose": 2, "prose_multi": 2, "relative": 3, "citation_contexts": 2, "cite": 4,
              "questions": 2, "mixed": 2, "no_ref": 1, "other_poems": 1},
    "test": {"prose": 2, "prose_multi": 2, "relative": 2, "citation_contexts": 2, "cite": 3,
             "questions": 2, "mixed": 1, "no_ref": 1, "other_poems": 1},
}
NO_REF_SHARE = 0.27     # each split is topped up with no-reference rows to at least this share
ARTEFACT_RATE = 0.13    # share of rows given a printed-scholarship artefact
MULTI_FILLER_RATE = 0.08  # share of multi-slot rows where one slot holds a non-reference
MAX_ANSWER_TOKENS = 340  # estimated tokens of the JSON answer; longer rows are redrawn
UNKNOWN_LENGTH = 150    # highest line number used for cantos whose length is not tabulated
ATTEMPTS = 40           # draws per row before giving up on a fresh (non-duplicate) input

# ------------------------------------------------------------------ frame files
REF_SLOTS = ("ref", "ref2", "ref3", "ref4", "ref5", "refs", "canto")
NUM_SLOTS = ("y", "p", "n")
SLOTS = set(REF_SLOTS) | set(NUM_SLOTS) | {"k", "other"}


@dataclass(frozen=True)
class FileSpec:
    kind: str                 # kind tag for rows with a reference
    slots: frozenset          # slots allowed in the file
    min_refs: int = 0         # reference slots a frame must have
    needs_other: bool = False
    needs_k: bool = False
    owner: str = "cantos"     # who writes it (missing files of another helper only warn)


FILES = {
    "prose": FileSpec("scholarly", frozenset(REF_SLOTS + NUM_SLOTS), min_refs=1),
    "prose_multi": FileSpec("scholarly", frozenset(REF_SLOTS + NUM_SLOTS), min_refs=2),
    "relative": FileSpec("scholarly", frozenset(REF_SLOTS + NUM_SLOTS + ("k",)), min_refs=1, needs_k=True),
    "citation_contexts": FileSpec("citation", frozenset(REF_SLOTS + NUM_SLOTS), min_refs=1),
    "questions": FileSpec("question", frozenset(REF_SLOTS + NUM_SLOTS), owner="questions"),
    "mixed": FileSpec("scholarly", frozenset(REF_SLOTS + NUM_SLOTS + ("other",)), min_refs=1,
                      needs_other=True, owner="questions"),
    "no_ref": FileSpec("prose", frozenset(NUM_SLOTS), owner="questions"),
    "other_poems": FileSpec("prose", frozenset(NUM_SLOTS + ("other",)), owner="questions"),
}


class FrameError(ValueError):
    pass


@dataclass
class Frame:
    stem: str
    index: int                 # 1-based position among the frames of its file
    where: str                 # file:line
    text: str
    parts: list                # str (literal text) or ("slot", name)
    split: str = ""
    key: str = ""

    @property
    def fid(self) -> str:
        return f"{self.stem}{self.index:04d}"

    @property
    def ref_slots(self) -> list[str]:
        return [p[1] for p in self.parts if isinstance(p, tuple) and p[1] in REF_SLOTS]

    def has(self, slot: str) -> bool:
        return any(isinstance(p, tuple) and p[1] == slot for p in self.parts)


_SLOT_RE = re.compile(r"\{([^{}]*)\}")


def parse_frame(text: str, where: str, stem: str) -> list:
    spec = FILES[stem]
    parts: list = []
    pos = 0
    for m in _SLOT_RE.finditer(text):
        name = m.group(1)
        if name not in SLOTS:
            raise FrameError(f"{where}: unknown slot {{{name}}}")
        if name not in spec.slots:
            raise FrameError(f"{where}: slot {{{name}}} is not allowed in {stem}.txt")
        if m.start() > pos:
            parts.append(text[pos:m.start()])
        parts.append(("slot", name))
        pos = m.end()
    if pos < len(text):
        parts.append(text[pos:])
    if any("{" in p or "}" in p for p in parts if isinstance(p, str)):
        raise FrameError(f"{where}: stray brace in {text!r}")
    names = [p[1] for p in parts if isinstance(p, tuple)]
    refs = [n for n in names if n in REF_SLOTS]
    weight = sum(2 if n == "refs" else 1 for n in refs)
    if weight < spec.min_refs:
        raise FrameError(f"{where}: {stem}.txt frames need at least {spec.min_refs} reference slot(s)")
    if spec.needs_other and "other" not in names:
        raise FrameError(f"{where}: {stem}.txt frames need an {{other}} slot")
    if spec.needs_k and "k" not in names:
        raise FrameError(f"{where}: {stem}.txt frames need a {{k}} slot")
    if "k" in names:
        before = names[:names.index("k")]
        if names.count("k") > 1 or not before or before[-1] not in ("ref", "ref2", "ref3", "ref4", "ref5"):
            raise FrameError(f"{where}: {{k}} must come once, right after a {{ref}} slot (no slot between)")
    return parts


def split_of(key: str) -> str:
    h = int(hashlib.sha256(f"cantos-v2-split:{key}".encode()).hexdigest()[:12], 16) / 16**12
    return next(name for name, bound in SPLIT_BOUNDS if h < bound)


def load_frames(warnings: list[str]) -> list[Frame]:
    frames: list[Frame] = []
    seen: dict[str, str] = {}
    present = {p.stem: p for p in FRAMES_DIR.glob("*.txt")} if FRAMES_DIR.is_dir() else {}
    for stem in sorted(set(present) - set(FILES)):
        warnings.append(f"warning: {present[stem].relative_to(ROOT)}: unknown frame file, ignored")
    for stem in FILES:
        path = present.get(stem)
        if path is None:
            warnings.append(f"warning: frames/{stem}.txt is missing; treated as empty")
            continue
        index = 0
        for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            where = f"frames/{stem}.txt:{lineno}"
            parts = parse_frame(text, where, stem)
            key = normalize(text)
            if key in seen:
                raise FrameError(f"{where}: duplicate frame (first at {seen[key]})")
            seen[key] = where
            index += 1
            frames.append(Frame(stem, index, where, text, parts, split_of(key), key))
    return frames


# ------------------------------------------------------------------ numbers in words
_UNITS = ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
          "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
          "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORD = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
        "nine": "ninth", "twelve": "twelfth"}


def cardinal(n: int) -> str:
    if n < 20:
        return _UNITS[n]
    if n < 100:
        t, u = divmod(n, 10)
        return _TENS[t] + (f"-{_UNITS[u]}" if u else "")
    rest = n - 100
    return "one hundred" + (f" and {cardinal(rest)}" if rest else "")


def ordinal_words(n: int) -> str:
    words = cardinal(n)
    head, sep, last = words.rpartition("-") if "-" in words.split(" ")[-1] else words.rpartition(" ")
    if last in _ORD:
        last = _ORD[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + sep + last


def ordinal_digits(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def max_line(c: int) -> int:
    return CANTO_LENGTHS.get(c, UNKNOWN_LENGTH)


# ------------------------------------------------------------------ drawing
def seeded(*key: object) -> random.Random:
    digest = hashlib.sha256(":".join(map(str, (SEED, *key))).encode()).hexdigest()
    return random.Random(int(digest[:16], 16))


class Deck:
    """Cantos 1..120 dealt from shuffled decks, so every canto is drawn about equally often."""

    def __init__(self, rng: random.Random):
        self.rng, self.cards = rng, []

    def draw(self) -> int:
        if not self.cards:
            self.cards = list(range(1, 121))
            self.rng.shuffle(self.cards)
        return self.cards.pop()


def pick(rng: random.Random, weighted):
    """weighted: [(value, weight), ...] with weight > 0 (entries with weight 0 are skipped)."""
    items = [(v, w) for v, w in weighted if w > 0]
    total = sum(w for _, w in items)
    x = rng.random() * total
    for v, w in items:
        x -= w
        if x < 0:
            return v
    return items[-1][0]


@dataclass
class Ref:
    text: str
    entries: list                                   # [(canto, [lines])]
    tags: set
    mentions: int = 1
    numerals: list = field(default_factory=list)    # [(canto, style)]: cantos written as numbers


class Gen:
    def __init__(self, rng: random.Random, decks: dict[str, Deck]):
        self.rng, self.decks = rng, decks

    def dash(self) -> str:
        return "\u2013" if self.rng.random() < 0.45 else "-"

    def style(self) -> str:
        return pick(self.rng, [("roman", 55), ("arabic", 25), ("ordinal", 20)])

    def canto(self, style: str) -> int:
        return self.decks[style].draw()

    def np(self, style: str | None = None, abbrev: bool = True) -> tuple[str, int, str]:
        """A canto noun phrase without lines: (text, canto, style)."""
        style = style or self.style()
        c = self.canto(style)
        r = to_roman(c)
        forms = {
            "roman": [(f"Canto {r}", 8), (f"canto {r}", 3), (f"C. {r}", 0.6 * abbrev)],
            "arabic": [(f"Canto {c}", 6), (f"canto {c}", 4), (f"C. {c}", 0.6 * abbrev)],
            "ordinal": [(f"the {ordinal_words(c)} canto", 4), (f"the {ordinal_words(c)} Canto", 1.5),
                        (f"the {ordinal_digits(c)} Canto", 2), (f"the {ordinal_digits(c)} canto", 1.5)],
        }[style]
        return pick(self.rng, forms), c, style

    def start(self, c: int, size: int) -> int:
        return self.rng.randint(1, max(1, max_line(c) - size + 1))

    def page(self, canto: int | None = None) -> int:
        """A page of the collected edition; near where that canto falls (about 7 pages a canto)."""
        if canto is None:
            return self.rng.randint(3, 820)
        return max(3, min(820, round(canto * 6.9 + self.rng.randint(-20, 20))))


# ------------------------------------------------------------------ reference phrases
def ref_canto(g: Gen) -> Ref:
    text, c, st = g.np()
    return Ref(text, [(c, [])], {st}, numerals=[(c, st)])


def ref_single_line(g: Gen) -> Ref:
    np, c, st = g.np()
    n = g.rng.randint(1, max_line(c))
    r = to_roman(c)
    forms = [(f"line {n} of {np}", 4), (f"l. {n} of {np}", 2), (f"{np}, line {n}", 3), (f"{np}, l. {n}", 3),
             (f"{np}, l.{n}", 1), (f"{np} (line {n})", 1.5), (f"{np} (l. {n})", 1), (f"{np}, at line {n}", 0.7),
             (f"around line {n} of {np}", 1), (f"near line {n} of {np}", 0.7), (f"{np}, around line {n}", 0.5),
             (f"{np}, near l. {n}", 0.3)]
    if st == "roman":
        forms += [(f"{r}:{n}", 4), (f"{r}, l. {n}", 1.2), (f"{r}: {n}", 0.4)]
    return Ref(pick(g.rng, forms), [(c, [n])], {st, "lines", "single_line"}, numerals=[(c, st)])


def range_size(g: Gen) -> int:
    return pick(g.rng, [(g.rng.randint(2, 4), 35), (g.rng.randint(5, 10), 40), (g.rng.randint(11, 20), 25)])


def ref_range(g: Gen) -> Ref:
    np, c, st = g.np()
    size = min(range_size(g), max_line(c))
    a = g.start(c, size)
    b = a + size - 1
    d, r = g.dash(), to_roman(c)
    forms = [(f"ll. {a}{d}{b} of {np}", 3), (f"ll.{a}{d}{b} of {np}", 0.7), (f"lines {a}{d}{b} of {np}", 3),
             (f"lines {a} to {b} of {np}", 1.5), (f"lines {a} through {b} of {np}", 1), (f"{np}, ll. {a}{d}{b}", 3),
             (f"{np}, lines {a}{d}{b}", 2), (f"{np}, lines {a} to {b}", 1), (f"{np} (ll. {a}{d}{b})", 1.5),
             (f"{np} (lines {a}{d}{b})", 1), (f"{np}, ll.{a}{d}{b}", 0.7)]
    if st == "roman":
        forms += [(f"{r}:{a}{d}{b}", 3), (f"{r}:ll.{a}{d}{b}", 2), (f"{r}: ll. {a}{d}{b}", 0.7),
                  (f"{r}, ll. {a}{d}{b}", 1.5)]
    return Ref(pick(g.rng, forms), [(c, list(range(a, b + 1)))], {st, "lines", "range"}, numerals=[(c, st)])


def ref_list(g: Gen) -> Ref:
    np, c, st = g.np()
    top = max_line(c)
    d = g.dash()
    shape = pick(g.rng, [("two", 6), ("three", 2.5), ("range", 1.5)])
    nums = sorted(g.rng.sample(range(1, top - 3), 3 if shape == "three" else 2))
    tags = {st, "lines", "list"}
    if shape == "two":
        spec, lines = g.rng.choice([f"{nums[0]}, {nums[1]}", f"{nums[0]} and {nums[1]}"]), nums
    elif shape == "three":
        spec = pick(g.rng, [(f"{nums[0]}, {nums[1]} and {nums[2]}", 3), (f"{nums[0]}, {nums[1]}, {nums[2]}", 2),
                            (f"{nums[0]}, {nums[1]}, and {nums[2]}", 1)])
        lines = nums
    else:
        a, b = nums
        e = min(top, b + g.rng.randint(1, 4))
        spec = g.rng.choice([f"{a}, {b}{d}{e}", f"{a} and {b}{d}{e}"])
        lines = [a, *range(b, e + 1)]
        tags.add("range")
    pre = pick(g.rng, [("ll. ", 3), ("lines ", 2), ("ll.", 0.5)])
    r = to_roman(c)
    forms = [(f"{pre}{spec} of {np}", 3), (f"{np}, {pre}{spec}", 3), (f"{np} ({pre}{spec})", 1)]
    if st == "roman":
        forms.append((f"{r}, ll. {spec}", 1.5))
    return Ref(pick(g.rng, forms), [(c, lines)], tags, numerals=[(c, st)])


def ref_from_end(g: Gen) -> Ref:
    np, c, st = g.np(abbrev=False)
    k = pick(g.rng, [(1, 4), (2, 2), (3, 2), (4, 1.5), (5, 1), (6, 0.7), (8, 0.4), (10, 0.3)])
    if k == 1:
        if g.rng.random() < 0.18:
            text, lines = f"the penultimate line of {np}", [-2]
        else:
            text = pick(g.rng, [(f"the last line of {np}", 4), (f"the final line of {np}", 2),
                                (f"the closing line of {np}", 1.5), (f"{np}, last line", 0.4)])
            lines = [-1]
    else:
        count = cardinal(k) if g.rng.random() < 0.9 else str(k)
        word = pick(g.rng, [("last", 4), ("final", 2), ("closing", 1.5)])
        text, lines = f"the {word} {count} lines of {np}", list(range(-k, 0))
    tags = {st, "lines", "from_end"} | ({"single_line"} if len(lines) == 1 else set())
    return Ref(text, [(c, lines)], tags, numerals=[(c, st)])


def ref_from_start(g: Gen) -> Ref:
    np, c, st = g.np(abbrev=False)
    k = pick(g.rng, [(1, 4), (2, 2), (3, 2), (4, 1.5), (5, 1), (6, 0.7), (8, 0.4)])
    if k == 1 and g.rng.random() < 0.3:
        m = g.rng.randint(2, 10)
        text, lines = f"the {ordinal_words(m)} line of {np}", [m]
    elif k == 1:
        text, lines = g.rng.choice([f"the first line of {np}", f"the opening line of {np}"]), [1]
    else:
        count = cardinal(k) if g.rng.random() < 0.9 else str(k)
        text = g.rng.choice([f"the first {count} lines of {np}", f"the opening {count} lines of {np}"])
        lines = list(range(1, k + 1))
    tags = {st, "lines", "from_start"} | ({"single_line"} if len(lines) == 1 else set())
    return Ref(text, [(c, lines)], tags, numerals=[(c, st)])


def page_range(g: Gen, p: int) -> str:
    q = p + g.rng.randint(1, 4)
    s, t = str(p), str(q)
    if g.rng.random() < 0.45 and len(s) == len(t):
        i = 0
        while i < len(s) - 1 and s[i] == t[i]:
            i += 1
        t = t[i:]
    return f"{p}{g.dash()}{t}"


def ref_page(g: Gen) -> Ref:
    st = pick(g.rng, [("roman", 8), ("arabic", 1.5), ("ordinal", 0.7)])
    c = g.canto(st)
    p = g.page(c)
    r = to_roman(c)
    forms = {
        "roman": [(f"{r}/{p}", 5), (f"{r}/{page_range(g, p)}", 1.2), (f"Canto {r} at p. {p}", 1), (f"{r} at p. {p}", 1),
                  (f"Canto {r} (p. {p})", 1.5), (f"{r}, p. {p}", 1.2), (f"Canto {r}, pp. {page_range(g, p)}", 0.7),
                  (f"Canto {r}, p. {p}", 1)],
        "arabic": [(f"Canto {c} (p. {p})", 1), (f"Canto {c}, p. {p}", 1), (f"canto {c} at p. {p}", 0.6)],
        "ordinal": [(f"the {ordinal_words(c)} canto (p. {p})", 1)],
    }[st]
    return Ref(pick(g.rng, forms), [(c, [])], {st, "page"}, numerals=[(c, st)])


def ref_canto_range(g: Gen) -> Ref:
    st = pick(g.rng, [("roman", 55), ("arabic", 45)])
    size = pick(g.rng, [(2, 3), (3, 4), (4, 2.5), (5, 1.5), (6, 1), (7, 0.5), (8, 0.5)])
    lo = g.canto(st)
    lo = min(lo, 121 - size)
    hi = lo + size - 1
    d = g.dash()
    num = to_roman if st == "roman" else str
    a, b = num(lo), num(hi)
    body = pick(g.rng, [(f"{a}{d}{b}", 5), (f"{a} to {b}", 2), (f"{a} through {b}", 1)])
    entries = [(c, []) for c in range(lo, hi + 1)]
    numerals = [(lo, st), (hi, st)]
    mentions = 1
    if g.rng.random() < 0.25:           # "cantos 40-42, 45", "Cantos XIV and XVII-XIX"
        x = g.canto(st)
        while lo - 1 <= x <= hi + 1:
            x = g.canto(st)
        if g.rng.random() < 0.7:
            body += pick(g.rng, [(f", {num(x)}", 1), (f" and {num(x)}", 1)])
            entries = entries + [(x, [])]
        else:
            body = f"{num(x)} and {body}"
            entries = [(x, [])] + entries
        numerals.append((x, st))
        mentions = 2
    bare = st == "roman" and " to " in body and mentions == 1     # "XCI to XCIII"
    noun = pick(g.rng, [("Cantos ", 6), ("cantos ", 3), ("", 0.6 * bare)])
    return Ref(noun + body, entries, {st, "canto_range"}, mentions, numerals)


# (article, name, weight); the label is the section's span in extractor.tasks.cantos.sections.SECTIONS.
SECTION_NAMES = {
    "A Draft of XVI Cantos": [("", "A Draft of XVI Cantos", 1)],
    "A Draft of XXX Cantos": [("", "A Draft of XXX Cantos", 1)],
    "Malatesta Cantos": [("the ", "Malatesta Cantos", 4), ("the ", "Malatesta cantos", 3),
                         ("the ", "Malatesta sequence", 2)],
    "Hell Cantos": [("the ", "Hell Cantos", 4), ("the ", "Hell cantos", 2)],
    "Eleven New Cantos": [("", "Eleven New Cantos", 4), ("", "Eleven New Cantos XXXI\u2013XLI", 1)],
    "The Fifth Decad of Cantos": [("", "The Fifth Decad of Cantos", 4), ("the ", "Fifth Decad", 2),
                                  ("", "The Fifth Decad of Cantos XLII\u2013LI", 1)],
    "China Cantos": [("the ", "China Cantos", 4), ("the ", "China cantos", 2), ("the ", "Chinese History Cantos", 2),
                     ("the ", "Chinese history cantos", 1)],
    "Adams Cantos": [("the ", "Adams Cantos", 4), ("the ", "Adams cantos", 2), ("the ", "John Adams Cantos", 2)],
    "Italian Cantos": [("the ", "Italian Cantos", 4), ("the ", "Italian cantos", 2)],
    "Pisan Cantos": [("the ", "Pisan Cantos", 6), ("", "The Pisan Cantos", 2), ("the ", "Pisan cantos", 2),
                     ("the ", "Pisan sequence", 2), ("the ", "Pisans", 1.5), ("the ", "Pisan section", 1),
                     ("the ", "Pisan volume", 1)],
    "Section: Rock-Drill": [("", "Rock-Drill", 5), ("", "Section: Rock-Drill", 2),
                            ("", "Section: Rock-Drill de los cantares", 1),
                            ("", "Section: Rock-Drill 85\u201395 de los cantares", 0.7), ("", "Rock Drill", 1.5),
                            ("the ", "Rock-Drill cantos", 2), ("the ", "Rock-Drill section", 1)],
    "Thrones": [("", "Thrones", 5), ("", "Thrones de los cantares", 1.5),
                ("", "Thrones 96\u2013109 de los cantares", 0.7), ("the ", "Thrones cantos", 2),
                ("the ", "Thrones section", 1)],
    "Drafts & Fragments": [("", "Drafts & Fragments", 3), ("", "Drafts and Fragments", 3),
                           ("", "Drafts and Fragments of Cantos CX\u2013CXVII", 1),
                           ("", "Drafts & Fragments of Cantos CX\u2013CXVII", 1)],
}
# How often each section is drawn: the 30-canto volume rarely, the 16-canto one seldom.
SECTION_WEIGHTS = {"A Draft of XVI Cantos": 2, "A Draft of XXX Cantos": 0.6, "Malatesta Cantos": 3,
                   "Hell Cantos": 3, "Eleven New Cantos": 2.5, "The Fifth Decad of Cantos": 2.5, "China Cantos": 3,
                   "Adams Cantos": 3, "Italian Cantos": 2, "Pisan Cantos": 4, "Section: Rock-Drill": 3,
                   "Thrones": 3, "Drafts & Fragments": 3}
# "the first Pisan Canto": singular names for ordinals inside a section.
SECTION_SINGULAR = {"Malatesta Cantos": ["Malatesta Canto", "Malatesta canto"], "Hell Cantos": ["Hell Canto"],
                    "China Cantos": ["China Canto", "China canto"], "Adams Cantos": ["Adams Canto", "Adams canto"],
                    "Italian Cantos": ["Italian Canto"], "Pisan Cantos": ["Pisan Canto", "Pisan canto"],
                    "Section: Rock-Drill": ["Rock-Drill canto"], "Thrones": ["Thrones canto"]}
assert set(SECTION_NAMES) == set(SECTIONS) == set(SECTION_WEIGHTS), "SECTION_NAMES must follow extractor.tasks.cantos.sections"


def section_phrase(g: Gen, key: str, decorate: bool = True) -> str:
    names = [((a, n), w) for a, n, w in SECTION_NAMES[key] if decorate or not re.search(r"\d|\u2013", n)]
    article, name = pick(g.rng, names)
    if decorate and g.rng.random() < 0.12:
        q = pick(g.rng, [(('"', '"'), 4), (("\u201c", "\u201d"), 4.5), (("\u2018", "\u2019"), 1.5)])
        name = f"{q[0]}{name}{q[1]}"
    text = article + name
    lo, hi = SECTIONS[key]
    if decorate and g.rng.random() < 0.15 and not re.search(r"\d|[IVXLC]{2,}\u2013", name):
        d = g.dash()
        text += pick(g.rng, [(f" ({to_roman(lo)}{d}{to_roman(hi)})", 3), (f" ({lo}{d}{hi})", 1.5)])
    return text


def ref_section(g: Gen) -> Ref:
    key = pick(g.rng, list(SECTION_WEIGHTS.items()))
    lo, hi = SECTIONS[key]
    return Ref(section_phrase(g, key), [(c, []) for c in range(lo, hi + 1)], {"section"})


def ref_section_ordinal(g: Gen) -> Ref:
    key = pick(g.rng, [(k, w) for k, w in SECTION_WEIGHTS.items() if "Draft of" not in k])
    lo, hi = SECTIONS[key]
    size = hi - lo + 1
    pos = pick(g.rng, [("first", 3), ("opening", 1), ("last", 2), ("final", 1), ("closing", 0.5),
                       ("penultimate", 0.5 * (size > 2)), ("nth", 4 * (size > 2))])
    if pos == "nth":
        k = g.rng.randint(2, min(size, 10))
        word, canto = ordinal_words(k), lo + k - 1
    else:
        word = pos
        canto = {"first": lo, "opening": lo, "penultimate": hi - 1}.get(pos, hi)
    sect = section_phrase(g, key, decorate=False)
    forms = [(f"the {word} canto of {sect}", 3), (f"the {word} canto in {sect}", 1)]
    if re.search(r"(antos|Pisans)$", sect):
        forms.append((f"the {word} of {sect}", 2.5))
    if key in SECTION_SINGULAR:
        forms.append((f"the {word} {g.rng.choice(SECTION_SINGULAR[key])}", 3))
    return Ref(pick(g.rng, forms), [(canto, [])], {"section", "section_ordinal"})


# Kinds of a {ref} slot, with weights.
REF_KINDS = [(ref_canto, 20), (ref_single_line, 17), (ref_range, 13), (ref_list, 5), (ref_from_end, 7),
             (ref_from_start, 6), (ref_page, 7), (ref_canto_range, 8), (ref_section, 10), (ref_section_ordinal, 5)]
# Kinds that can carry "and the following {k} lines" (positive line numbers).
LINE_KINDS = [(ref_single_line, 4), (ref_range, 4), (ref_list, 1), (ref_from_start, 1)]


def join(g: Gen, items: list[str], semicolons: bool = False) -> str:
    if semicolons:
        return "; ".join(items)
    if len(items) == 2:
        return pick(g.rng, [(f"{items[0]} and {items[1]}", 5), (f"{items[0]}, {items[1]}", 1.5)])
    last = pick(g.rng, [(" and ", 5), (", and ", 2), (", ", 1)])
    return ", ".join(items[:-1]) + last + items[-1]


def ref_list_of_refs(g: Gen) -> Ref:
    """{refs}: 2-5 references coordinated in one phrase."""
    n = pick(g.rng, [(2, 4), (3, 3.5), (4, 1.5), (5, 1)])
    how = pick(g.rng, [("shared", 4), ("ordinals", 1 * (n <= 3)), ("repeated", 3), ("citations", 2.5),
                       ("phrases", 3), ("paren", 1 * (n == 2))])
    if how in ("shared", "ordinals"):
        st = "ordinal" if how == "ordinals" else pick(g.rng, [("roman", 55), ("arabic", 45)])
        cantos = [g.canto(st) for _ in range(n)]
        if g.rng.random() < 0.8:
            cantos.sort()
        entries = [(c, []) for c in cantos]
        numerals = [(c, st) for c in cantos]
        if st == "ordinal":
            digits = g.rng.random() < 0.35
            words = [ordinal_digits(c) if digits else ordinal_words(c) for c in cantos]
            noun = "Cantos" if digits else g.rng.choice(["cantos", "Cantos"])
            return Ref(f"the {join(g, words)} {noun}", entries, {st}, n, numerals)
        num = to_roman if st == "roman" else str
        words = [num(c) for c in cantos]
        tags = {st}
        if g.rng.random() < 0.3:            # one item is a short range: "cantos 40-42, 45"
            i = g.rng.randrange(n)
            lo = min(cantos[i], 118)
            hi = lo + g.rng.randint(1, 2)
            words[i] = f"{num(lo)}{g.dash()}{num(hi)}"
            entries[i:i + 1] = [(c, []) for c in range(lo, hi + 1)]
            numerals[i:i + 1] = [(lo, st), (hi, st)]
            tags.add("canto_range")
        noun = pick(g.rng, [("Cantos ", 6), ("cantos ", 3)])
        return Ref(noun + join(g, words), entries, tags, n, numerals)
    if how == "paren":
        st = pick(g.rng, [("roman", 6), ("arabic", 4)])
        a, b = g.canto(st), g.canto(st)
        num = to_roman if st == "roman" else str
        word = g.rng.choice(["Canto", "canto"])
        text = pick(g.rng, [(f"{word} {num(a)} (and {num(b)})", 3), (f"{word} {num(a)} (cf. {num(b)})", 1),
                            (f"{word} {num(a)} (also {word} {num(b)})", 1)])
        return Ref(text, [(a, []), (b, [])], {st}, 2, [(a, st), (b, st)])
    if how == "repeated":
        items = [ref_canto(g) for _ in range(n)]
    elif how == "citations":
        items = []
        for _ in range(n):
            st = "roman"
            c = g.canto(st)
            r = to_roman(c)
            kind = pick(g.rng, [("line", 3), ("range", 3), ("page", 2)])
            if kind == "line":
                x = g.rng.randint(1, max_line(c))
                items.append(Ref(f"{r}:{x}", [(c, [x])], {st, "lines", "single_line"}, numerals=[(c, st)]))
            elif kind == "range":
                size = min(range_size(g), max_line(c))
                a = g.start(c, size)
                items.append(Ref(f"{r}:{a}{g.dash()}{a + size - 1}", [(c, list(range(a, a + size)))],
                                 {st, "lines", "range"}, numerals=[(c, st)]))
            else:
                items.append(Ref(f"{r}/{g.page(c)}", [(c, [])], {st, "page"}, numerals=[(c, st)]))
        text = join(g, [i.text for i in items], semicolons=g.rng.random() < 0.6)
        return merge(text, items)
    else:
        kinds = [(f, w) for f, w in REF_KINDS if f is not ref_section] + [(ref_section, 3)]
        items = [pick(g.rng, kinds)(g) for _ in range(n)]
    semis = how == "phrases" and any("," in i.text for i in items) and g.rng.random() < 0.5
    return merge(join(g, [i.text for i in items], semicolons=semis), items)


def merge(text: str, items: list[Ref]) -> Ref:
    ref = Ref(text, [], set(), 0)
    for i in items:
        ref.entries += i.entries
        ref.tags |= i.tags
        ref.mentions += i.mentions
        ref.numerals += i.numerals
    return ref


def other_canto(g: Gen) -> str:
    n = g.rng.randint(1, 33)
    return pick(g.rng, [(f"Canto {to_roman(n)}", 4), (f"canto {to_roman(n)}", 1.5), (f"Canto {n}", 2),
                        (f"canto {n}", 1.5), (f"the {ordinal_words(n)} canto", 1.5)])


# ------------------------------------------------------------------ non-reference fillers
# Noun phrases that fit a reference slot but refer to no canto of The Cantos (docs/labeling.md,
# "Not references"). A frame filled with one of them is a no-reference row of the same pattern.
PLAIN_FILLERS = [
    "The Cantos", "The Cantos as a whole", "the poem as a whole", "the whole poem", "the later cantos",
    "the early cantos", "the first few cantos", "the late cantos", "the middle stretch of the poem",
    "Hugh Selwyn Mauberley", "Homage to Sextus Propertius", "Cathay", "Lustra", "Ripostes",
    "The Spirit of Romance", "Guide to Kulchur", "the ABC of Reading", "the Confucian Odes",
    "the Cavalcanti translations", "the wartime radio speeches", "The Waste Land", "Four Quartets",
    "Paterson", "The Maximus Poems", "Ulysses", "the Canton trade", "the city of Canton",
    "the letters to his parents", "Fenollosa's essay on the Chinese written character",
    "the Seafarer translation", "the Imagist anthology", "the Vorticist manifesto",
]
OTHER_POEMS = [  # (format, highest canto number): another poem's canto, named in the phrase
    ("Inferno {R}", 34), ("Inferno {n}", 34), ("Canto {R} of the Inferno", 34), ("Purgatorio {R}", 33),
    ("Paradiso {R}", 33), ("the {ow} canto of the Paradiso", 33), ("Dante's {ow} canto", 34),
    ("Canto {R} of Don Juan", 16), ("Don Juan, Canto {R}", 16), ("Byron's {ow} canto", 16),
    ("Canto {n} of Orlando Furioso", 46), ("Ariosto's {ow} canto", 46), ("the {ow} canto of Tasso's epic", 20),
    ("Book II, Canto {R} of The Faerie Queene", 12), ("Purgatorio, canto {n}", 33),
]
PAGE_FILLERS = [
    "Hale's gloss ({y}: {p})", "the passage Morrow quotes ({y}, p. {p})", "the note on p. {p} of the {y} reprint",
    "Okafor's commentary (p. {p})", "the letter printed in Lindqvist ({y}: {p})", "p. {p} of the {y} edition",
    "the reading offered by Castell ({y}, {p})",
]


def filler(g: Gen) -> tuple[str, set]:
    kind = pick(g.rng, [("plain", 5), ("other", 4), ("page", 2)])
    if kind == "plain":
        return g.rng.choice(PLAIN_FILLERS), set()
    if kind == "other":
        form, top = g.rng.choice(OTHER_POEMS)
        n = g.rng.randint(1, top)
        return form.format(R=to_roman(n), n=n, ow=ordinal_words(n)), {"other_poem"}
    return g.rng.choice(PAGE_FILLERS).format(y=g.rng.randint(1950, 2022), p=g.page()), {"page_only"}


# ------------------------------------------------------------------ bare citations (each form is a frame)
def _np_fixed(g: Gen, st: str) -> tuple[int, str]:
    c = g.canto(st)
    return c, (to_roman(c) if st == "roman" else str(c))


def _cite_lines(g: Gen, st: str, template: str, kind: str) -> Ref:
    c, x = _np_fixed(g, st)
    d = g.dash()
    if kind == "single":
        n = g.rng.randint(1, max_line(c))
        return Ref(template.format(X=x, n=n), [(c, [n])], {st, "lines", "single_line"}, numerals=[(c, st)])
    if kind == "range":
        size = min(range_size(g), max_line(c))
        a = g.start(c, size)
        return Ref(template.format(X=x, a=a, b=a + size - 1, d=d), [(c, list(range(a, a + size)))],
                   {st, "lines", "range"}, numerals=[(c, st)])
    if kind == "list":
        a, b = sorted(g.rng.sample(range(1, max_line(c) + 1), 2))
        return Ref(template.format(X=x, a=a, b=b), [(c, [a, b])], {st, "lines", "list"}, numerals=[(c, st)])
    if kind == "last":
        return Ref(template.format(X=x), [(c, [-1])], {st, "lines", "from_end", "single_line"}, numerals=[(c, st)])
    if kind == "page":
        p = g.page(c)
        return Ref(template.format(X=x, p=p, pp=page_range(g, p)), [(c, [])], {st, "page"}, numerals=[(c, st)])
    return Ref(template.format(X=x), [(c, [])], {st}, numerals=[(c, st)])


def _cite_pair(g: Gen, st: str, t1: str, k1: str, sep: str, t2: str, k2: str) -> Ref:
    a, b = _cite_lines(g, st, t1, k1), _cite_lines(g, st, t2, k2)
    return merge(a.text + sep + b.text, [a, b])


def _cite_range(g: Gen, st: str, template: str) -> Ref:
    size = g.rng.randint(2, 6)
    lo = min(g.canto(st), 121 - size)
    hi = lo + size - 1
    num = to_roman if st == "roman" else str
    return Ref(template.format(a=num(lo), b=num(hi), d=g.dash()), [(c, []) for c in range(lo, hi + 1)],
               {st, "canto_range"}, numerals=[(lo, st), (hi, st)])


def _cite_cantos(g: Gen, st: str, template: str, n: int) -> Ref:
    cs = sorted(g.canto(st) for _ in range(n))
    num = to_roman if st == "roman" else str
    return Ref(template.format(*map(num, cs)), [(c, []) for c in cs], {st}, n, [(c, st) for c in cs])


CITE_FORMS = [  # (key: the form as written, maker)
    ("X:a-b", lambda g: _cite_lines(g, "roman", "{X}:{a}{d}{b}", "range")),
    ("X:ll.a-b", lambda g: _cite_lines(g, "roman", "{X}:ll.{a}{d}{b}", "range")),
    ("X: ll. a-b", lambda g: _cite_lines(g, "roman", "{X}: ll. {a}{d}{b}", "range")),
    ("X:n", lambda g: _cite_lines(g, "roman", "{X}:{n}", "single")),
    ("cf. X:n", lambda g: _cite_lines(g, "roman", "cf. {X}:{n}", "single")),
    ("X/p", lambda g: _cite_lines(g, "roman", "{X}/{p}", "page")),
    ("(X/p)", lambda g: _cite_lines(g, "roman", "({X}/{p})", "page")),
    ("[X/p]", lambda g: _cite_lines(g, "roman", "[{X}/{p}]", "page")),
    ("X/p-q", lambda g: _cite_lines(g, "roman", "{X}/{pp}", "page")),
    ("(Canto X)", lambda g: _cite_lines(g, "roman", "(Canto {X})", "canto")),
    ("C. c, ll. a-b", lambda g: _cite_lines(g, "arabic", "C. {X}, ll. {a}{d}{b}", "range")),
    ("C. X, l. n", lambda g: _cite_lines(g, "roman", "C. {X}, l. {n}", "single")),
    ("Canto X, ll. a, b", lambda g: _cite_lines(g, "roman", "Canto {X}, ll. {a}, {b}", "list")),
    ("Canto c, line n", lambda g: _cite_lines(g, "arabic", "Canto {X}, line {n}", "single")),
    ("(Canto X, ll. a-b)", lambda g: _cite_lines(g, "roman", "(Canto {X}, ll. {a}{d}{b})", "range")),
    ("see Canto X", lambda g: _cite_lines(g, "roman", "see Canto {X}", "canto")),
    ("cf. Cantos X-Y", lambda g: _cite_range(g, "roman", "cf. Cantos {a}{d}{b}")),
    ("X, p. p", lambda g: _cite_lines(g, "roman", "{X}, p. {p}", "page")),
    ("Canto X (p. p)", lambda g: _cite_lines(g, "roman", "Canto {X} (p. {p})", "page")),
    ("X/p; Y/q", lambda g: _cite_pair(g, "roman", "{X}/{p}", "page", "; ", "{X}/{p}", "page")),
    ("X:a-b; Y:n", lambda g: _cite_pair(g, "roman", "{X}:{a}{d}{b}", "range", "; ", "{X}:{n}", "single")),
    ("Cantos c, d and e", lambda g: _cite_cantos(g, "arabic", "Cantos {0}, {1} and {2}", 3)),
    ("ll. a-b of Canto X", lambda g: _cite_lines(g, "roman", "ll. {a}{d}{b} of Canto {X}", "range")),
    ("(see X:a-b)", lambda g: _cite_lines(g, "roman", "(see {X}:{a}{d}{b})", "range")),
    ("Canto X, ll. a-b", lambda g: _cite_lines(g, "roman", "Canto {X}, ll. {a}{d}{b}", "range")),
    ("[Canto X]", lambda g: _cite_lines(g, "roman", "[Canto {X}]", "canto")),
    ("X at p. p", lambda g: _cite_lines(g, "roman", "{X} at p. {p}", "page")),
    ("Canto X, ll. a and b", lambda g: _cite_lines(g, "roman", "Canto {X}, ll. {a} and {b}", "list")),
    ("(X:n, Y:n)", lambda g: _cite_pair(g, "roman", "({X}:{n}", "single", ", ", "{X}:{n})", "single")),
    ("Cantos X-Y", lambda g: _cite_range(g, "roman", "Cantos {a}{d}{b}")),
    ("Canto X, line n", lambda g: _cite_lines(g, "roman", "Canto {X}, line {n}", "single")),
    ("Canto X, l. n", lambda g: _cite_lines(g, "roman", "Canto {X}, l. {n}", "single")),
    ("canto c", lambda g: _cite_lines(g, "arabic", "canto {X}", "canto")),
    ("Canto X, last line", lambda g: _cite_lines(g, "roman", "Canto {X}, last line", "last")),
    ("cf. X:a-b and Y:c-d", lambda g: _cite_pair(g, "roman", "cf. {X}:{a}{d}{b}", "range", " and ",
                                                 "{X}:{a}{d}{b}", "range")),
    ("(cantos c-d)", lambda g: _cite_range(g, "arabic", "(cantos {a}{d}{b})")),
    ("Canto X, around l. n", lambda g: _cite_lines(g, "roman", "Canto {X}, around l. {n}", "single")),
    ("Canto X and Canto Y", lambda g: _cite_cantos(g, "roman", "Canto {0} and Canto {1}", 2)),
    ("Canto X, p. p", lambda g: _cite_lines(g, "roman", "Canto {X}, p. {p}", "page")),
    ("Canto c, ll. a-b", lambda g: _cite_lines(g, "arabic", "Canto {X}, ll. {a}{d}{b}", "range")),
    ("(Canto c, l. n)", lambda g: _cite_lines(g, "arabic", "(Canto {X}, l. {n})", "single")),
    ("X:ll.a-b, Y:ll.c-d", lambda g: _cite_pair(g, "roman", "{X}:ll.{a}{d}{b}", "range", ", ",
                                                "{X}:ll.{a}{d}{b}", "range")),
    ("Cantos X to Y", lambda g: _cite_range(g, "roman", "Cantos {a} to {b}")),
]


# ------------------------------------------------------------------ rows
@dataclass
class Row:
    id: str
    text: str
    entries: list
    tags: set
    numerals: list
    artefact: str = ""

    def json(self) -> dict:
        refs = [{"canto": c, "lines": list(ls)} for c, ls in self.entries]
        return {"id": self.id, "input": self.text, "output": {"references": refs}, "tags": sorted(self.tags)}


def answer_tokens(entries: list) -> int:
    """Rough token count of the JSON answer: ~10 per entry, ~3 per line number."""
    return 6 + sum(10 + 3 * len(lines) for _, lines in entries)


def legacy_section_ok(text: str, entries: list) -> bool:
    """tests/test_datasets.py expects an unqualified "Pisan Cantos" row to label exactly 74-84."""
    if "Pisan Cantos" not in text or "of the" in text or text.count("Pisan") != 1:
        return True
    if "first" in text or "last" in text:
        return True
    lo, hi = SECTIONS["Pisan Cantos"]
    return [c for c, _ in entries] == list(range(lo, hi + 1))


def fill_frame(frame: Frame, g: Gen, no_ref: bool) -> tuple[list, list, set, int, list] | None:
    """Segments [(text, kind)], entries, tags, mentions, numerals. kind: lit / ref / num / other."""
    segments, entries, tags, numerals = [], [], set(), []
    mentions = 0
    ref_positions = [i for i, p in enumerate(frame.parts) if isinstance(p, tuple) and p[1] in REF_SLOTS]
    fill_at: set = set()
    if no_ref:
        fill_at = set(ref_positions)
    elif len(ref_positions) >= 2 and g.rng.random() < MULTI_FILLER_RATE:
        fill_at = {g.rng.choice(ref_positions)}
    names = [p[1] if isinstance(p, tuple) else None for p in frame.parts]
    k_at = names.index("k") if "k" in names else -1
    line_ref_at = max((i for i in ref_positions if i < k_at), default=-1) if k_at >= 0 else -1
    last_ref: Ref | None = None
    for i, part in enumerate(frame.parts):
        if isinstance(part, str):
            segments.append((part, "lit"))
            continue
        name = part[1]
        if i in fill_at:
            text, extra = filler(g)
            segments.append((text, "other" if "other_poem" in extra else "num" if "page_only" in extra else "lit"))
            tags |= extra
            continue
        if name in REF_SLOTS:
            if i == line_ref_at:
                ref = pick(g.rng, LINE_KINDS)(g)
            elif name == "canto":
                ref = ref_canto(g)
            elif name == "refs":
                ref = ref_list_of_refs(g)
            else:
                ref = pick(g.rng, REF_KINDS)(g)
            segments.append((ref.text, "ref"))
            entries += ref.entries
            tags |= ref.tags
            numerals += ref.numerals
            mentions += ref.mentions
            last_ref = ref
        elif name == "k":
            c, lines = last_ref.entries[-1]
            room = max_line(c) - max(lines)
            if room < 2 or min(lines) < 1:
                return None
            k = g.rng.randint(2, min(9, room))
            segments.append((cardinal(k), "ref"))
            entries.append((c, list(range(max(lines) + 1, max(lines) + k + 1))))
            tags.add("relative")
            mentions += 1
        elif name == "other":
            segments.append((other_canto(g), "other"))
            tags.add("other_poem")
        elif name == "y":
            segments.append((str(g.rng.randint(1925, 2022)), "num"))
        elif name == "p":
            segments.append((str(g.page()), "num"))
            tags.add("page_only")
        elif name == "n":
            segments.append((str(g.rng.randint(2, 12)), "num"))
    if isinstance(frame.parts[0], tuple) and segments[0][0][:1].islower():
        segments[0] = (segments[0][0][0].upper() + segments[0][0][1:], segments[0][1])
    return segments, entries, tags, mentions, numerals


# ------------------------------------------------------------------ artefacts of printed scholarship
_CUT_UNSAFE = re.compile(r"\d|canto|inferno|purgatorio|paradiso|\b[IVXLC]+\b", re.I)


def art_hyphenate(g: Gen, segs: list) -> list | None:
    spots = [(i, m) for i, (t, k) in enumerate(segs) if k == "lit" for m in re.finditer(r"[a-z]{8,}", t)]
    if not spots:
        return None
    i, m = g.rng.choice(spots)
    word = m.group()
    # Break where a printer might: after a vowel before a consonant, or between two consonants.
    cuts = [j for j in range(3, len(word) - 3) if word[j] not in "aeiouy"
            and (word[j - 1] in "aeiouy" or word[j - 1] != word[j] and word[j + 1] in "aeiouy")]
    cut = g.rng.choice(cuts or list(range(3, len(word) - 3)))
    joint = pick(g.rng, [("-\n", 6), ("- ", 3), ("-\n ", 1)])
    t = segs[i][0]
    return segs[:i] + [(t[:m.start() + cut] + joint + t[m.start() + cut:], "lit")] + segs[i + 1:]


def art_quotes(g: Gen, segs: list) -> list | None:
    lit = "".join(t for t, k in segs if k == "lit")
    if re.search("[\u201c\u201d\u2018\u2019]", lit):
        table = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
        return [(t.translate(table), k) if k == "lit" else (t, k) for t, k in segs]
    if not re.search("['\"]", lit):
        return None
    out, open_double = [], True
    for t, k in segs:
        if k != "lit":
            out.append((t, k))
            continue
        chars = []
        for j, ch in enumerate(t):
            if ch == '"':
                chars.append("\u201c" if open_double else "\u201d")
                open_double = not open_double
            elif ch == "'":
                prev = t[j - 1] if j else " "
                chars.append("\u2018" if prev in " (\n" else "\u2019")
            else:
                chars.append(ch)
        out.append(("".join(chars), k))
    return out


def art_footnote(g: Gen, segs: list) -> list | None:
    """A note number glued after a word or punctuation of the frame, never right after a reference."""
    spots = []
    for i, (t, k) in enumerate(segs):
        if k != "lit":
            continue
        rest = "".join(s for s, _ in segs[i + 1:])
        for m in re.finditer(r"[A-Za-z]{3,}([.,;:!?\u201d\u2019)]*)(?=\s|$)", t):
            if m.start() == 0 and i > 0:
                continue            # the word is glued to the slot before it
            if (t[m.end():] + rest).lstrip()[:1].isdigit():
                continue
            word_end = m.end() - len(m.group(1))
            if m.group(1) and g.rng.random() < 0.3:
                spots.append((i, word_end))        # "argues12, the"
            elif m.group(1) or not (t[m.end():] + rest).strip():
                spots.append((i, m.end()))         # "argues.12 The", or at the very end
    if not spots:
        return None
    i, pos = g.rng.choice(spots)
    note = str(pick(g.rng, [(g.rng.randint(1, 9), 2), (g.rng.randint(10, 60), 3)]))
    t = segs[i][0]
    return segs[:i] + [(t[:pos] + note + t[pos:], "lit")] + segs[i + 1:]


def art_cut(g: Gen, segs: list) -> list | None:
    """Start mid-word or stop mid-clause, cutting only frame text outside every slot."""
    if any(k == "other" for _, k in segs) or _CUT_UNSAFE.search("".join(t for t, k in segs if k == "lit")):
        return None
    options = []
    first, last = segs[0], segs[-1]
    m = re.match(r"[A-Za-z]{5,}", first[0]) if first[1] == "lit" else None
    if m:
        options.append("start")
    floor = 1 if len(segs) > 1 else 4       # words of frame text kept after the last slot
    words = list(re.finditer(r"\S+", last[0])) if last[1] == "lit" else []
    if len(words) >= floor + 2:
        options.append("end")
    if not options:
        return None
    if g.rng.choice(options) == "start":
        drop = g.rng.randint(1, len(m.group()) - 3)
        return [(first[0][drop:], "lit")] + segs[1:]
    keep = g.rng.randint(floor, len(words) - 2)
    return segs[:-1] + [(last[0][:words[keep].start()].rstrip(" ,;:"), "lit")]


def art_spacing(g: Gen, segs: list) -> list | None:
    spots = [(i, m.start()) for i, (t, k) in enumerate(segs) for m in re.finditer(" ", t)]
    if not spots:
        return None
    out = list(segs)
    for i, pos in sorted(g.rng.sample(spots, min(len(spots), g.rng.choice([1, 1, 2]))), reverse=True):
        t, k = out[i]
        out[i] = (t[:pos] + pick(g.rng, [("  ", 4), ("\n", 4), (" \n", 1)]) + t[pos + 1:], k)
    return out


ARTEFACTS = [("hyphenation", art_hyphenate, 3), ("quotes", art_quotes, 2), ("footnote", art_footnote, 3),
             ("cut", art_cut, 2), ("spacing", art_spacing, 2)]


def add_artefact(g: Gen, segs: list) -> tuple[list, str]:
    order = sorted(ARTEFACTS, key=lambda a: g.rng.random() / a[2])
    for name, fn, _ in order:
        out = fn(g, segs)
        if out is not None:
            return out, name
    return segs, ""


# ------------------------------------------------------------------ building
def kind_tag(stem: str, text: str, has_ref: bool) -> str:
    if stem in ("cite", "citation_contexts"):
        return "citation"
    if stem == "questions" or text.rstrip().endswith("?"):
        return "question"
    return "scholarly" if has_ref else "prose"


class Builder:
    def __init__(self):
        self.seen: set[str] = set()
        self.rows = {s: [] for s in SPLITS}
        self.count: Counter = Counter()       # rows made per frame id
        self.skipped = 0
        self.decks = {s: {st: Deck(seeded("deck", s, st)) for st in ("roman", "arabic", "ordinal")}
                      for s in SPLITS}
        self.rngs: dict[str, random.Random] = {}

    def gen(self, split: str, key: str) -> Gen:
        if key not in self.rngs:
            self.rngs[key] = seeded("frame", key)
        return Gen(self.rngs[key], self.decks[split])

    def accept(self, split: str, fid: str, text: str, entries, tags, numerals, artefact: str) -> bool:
        norm = normalize(text)
        if norm in self.seen or not norm:
            return False
        if answer_tokens(entries) > MAX_ANSWER_TOKENS or not legacy_section_ok(text, entries):
            return False
        self.seen.add(norm)
        self.count[fid] += 1
        self.rows[split].append(Row(f"{split}-{fid}-{self.count[fid]}", text, entries, tags, numerals, artefact))
        return True

    def frame_row(self, frame: Frame, split: str, no_ref: bool = False) -> bool:
        g = self.gen(split, frame.key)
        for _ in range(ATTEMPTS):
            made = fill_frame(frame, g, no_ref)
            if made is None:
                continue
            segs, entries, tags, mentions, numerals = made
            artefact = ""
            if g.rng.random() < ARTEFACT_RATE:
                segs, artefact = add_artefact(g, segs)
            text = "".join(t for t, _ in segs)
            tags = set(tags) | {kind_tag(frame.stem, frame.text, bool(entries))}
            if frame.stem in ("other_poems", "mixed"):
                tags.add("other_poem")
            if not entries:
                tags.add("no_ref")
            if mentions >= 2:
                tags.add("multi")
            if mentions >= 3:
                tags.add("many")
            if artefact:
                tags.add("artefact")
            if self.accept(split, frame.fid, text, entries, tags, numerals, artefact):
                return True
        self.skipped += 1
        return False

    def cite_row(self, index: int, key: str, maker, split: str) -> bool:
        g = self.gen(split, "cite:" + key)
        fid = f"cite{index:04d}"
        for _ in range(ATTEMPTS):
            ref = maker(g)
            segs, artefact = [(ref.text, "ref")], ""
            if g.rng.random() < ARTEFACT_RATE:
                segs, artefact = add_artefact(g, segs)
            text = "".join(t for t, _ in segs)
            tags = ref.tags | {"citation"} | ({"multi"} if ref.mentions >= 2 else set()) \
                | ({"many"} if ref.mentions >= 3 else set()) | ({"artefact"} if artefact else set())
            if self.accept(split, fid, text, ref.entries, tags, ref.numerals, artefact):
                return True
        self.skipped += 1
        return False


def build(frames: list[Frame]) -> tuple[dict[str, list[Row]], dict]:
    b = Builder()
    cites = [(i, key, maker, split_of("cite:" + key)) for i, (key, maker) in enumerate(CITE_FORMS, 1)]
    for split in ("test", "valid", "train"):    # held-out splits first: they win any duplicate
        for frame in (f for f in frames if f.split == split):
            n = INSTANCES[split][frame.stem]
            if not frame.ref_slots and not any(frame.has(s) for s in ("other", "y", "p", "n")):
                n = 1                               # a fixed sentence gives one row
            for _ in range(n):
                b.frame_row(frame, split)
        for i, key, maker, s in cites:
            if s == split:
                for _ in range(INSTANCES[split]["cite"]):
                    b.cite_row(i, key, maker, split)
        # Top up with no-reference rows: single-slot frames of this split filled with a non-reference.
        rows = b.rows[split]
        have = sum(1 for r in rows if not r.entries)
        need = -(-int(NO_REF_SHARE * 1000) * (len(rows) - have) // int((1 - NO_REF_SHARE) * 1000)) - have
        donors = [f for f in frames if f.split == split and len(f.ref_slots) == 1 and f.ref_slots[0] != "refs"
                  and not f.has("k") and not f.has("other")]
        while need > 0 and donors:
            progress = False
            for frame in donors:
                if need <= 0:
                    break
                if b.frame_row(frame, split, no_ref=True):
                    need -= 1
                    progress = True
            if not progress:
                break
    splits = {}
    for split in SPLITS:
        splits[split] = sorted(b.rows[split], key=lambda r: hashlib.sha256(r.id.encode()).hexdigest())
    info = {"skipped": b.skipped, "cites": cites}
    return splits, info


# ------------------------------------------------------------------ card
def render(rows: list[Row]) -> str:
    return "".join(json.dumps(r.json(), ensure_ascii=False) + "\n" for r in rows)


def counts_block(splits: dict[str, list[Row]], frames: list[Frame], info: dict) -> str:
    out = ["Frames per file and split (a frame is in exactly one split):", "",
           "| frame file | " + " | ".join(SPLITS) + " | rows (train / valid / test) |",
           "|---|" + "---:|" * len(SPLITS) + "---:|"]
    stems = list(FILES) + ["cite"]
    fsplit = Counter((f.stem, f.split) for f in frames) + Counter(("cite", s) for *_, s in info["cites"])
    rsplit = Counter((r.id.split("-")[1].rstrip("0123456789"), s) for s, rows in splits.items() for r in rows)
    for stem in stems:
        name = "bare-citation forms (build.py)" if stem == "cite" else f"`frames/{stem}.txt`"
        out.append(f"| {name} | " + " | ".join(str(fsplit[stem, s]) for s in SPLITS) + " | "
                   + " / ".join(str(rsplit[stem, s]) for s in SPLITS) + " |")
    out += ["", "Rows per tag and split (a row has several tags):", "",
            "| | " + " | ".join(SPLITS) + " |", "|---|" + "---:|" * len(SPLITS)]
    out.append("| rows | " + " | ".join(str(len(splits[s])) for s in SPLITS) + " |")
    empty = {s: sum(1 for r in splits[s] if not r.entries) for s in SPLITS}
    out.append("| no reference (share) | " + " | ".join(
        f"{empty[s]} ({empty[s] / max(1, len(splits[s])):.0%})" for s in SPLITS) + " |")
    per = {s: Counter(t for r in splits[s] for t in r.tags) for s in SPLITS}
    for tag in sorted(set().union(*per.values())):
        out.append(f"| `{tag}` | " + " | ".join(str(per[s][tag]) for s in SPLITS) + " |")
    arts = {s: Counter(r.artefact for r in splits[s] if r.artefact) for s in SPLITS}
    for name, *_ in ARTEFACTS:
        out.append(f"| artefact: {name} | " + " | ".join(str(arts[s][name]) for s in SPLITS) + " |")
    toks = [answer_tokens(r.entries) for s in SPLITS for r in splits[s]]
    out += ["", "Train rows per canto number (rows whose text writes the canto as a numeral; sections",
            "and ordinals inside sections not counted):", "",
            "| numeral form | min | median | max |", "|---|---:|---:|---:|"]
    for label, styles in (("any", ("roman", "arabic", "ordinal")), ("roman", ("roman",)), ("arabic", ("arabic",)),
                          ("ordinal", ("ordinal",))):
        per_canto = Counter()
        for r in splits["train"]:
            for c in {c for c, st in r.numerals if st in styles}:
                per_canto[c] += 1
        vals = [per_canto[c] for c in range(1, 121)]
        out.append(f"| {label} | {min(vals)} | {statistics.median(vals):g} | {max(vals)} |")
    out += ["", f"Longest estimated answer: {max(toks)} tokens (limit {MAX_ANSWER_TOKENS}).", ""]
    return "\n".join(out)


def card(splits, frames, info) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    head, _, rest = text.partition("<!-- counts:start -->")
    _, _, tail = rest.partition("<!-- counts:end -->")
    return f"{head}<!-- counts:start -->\n{counts_block(splits, frames, info)}<!-- counts:end -->{tail}"


def main(argv: list[str]) -> int:
    warnings: list[str] = []
    try:
        frames = load_frames(warnings)
    except FrameError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for w in warnings:
        print(w, file=sys.stderr)
    splits, info = build(frames)
    outputs = {ROOT / f"{split}.jsonl": render(rows) for split, rows in splits.items()}
    outputs[ROOT / "README.md"] = card(splits, frames, info)
    stale = []
    for path, text in outputs.items():
        if "--check" in argv:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT.parents[1])}")
    if "--check" not in argv:
        print(" ".join(f"{s}={len(splits[s])}" for s in SPLITS), f"(rows redrawn out: {info['skipped']})")
    if stale:
        print("out of date (run python datasets/cantos/build.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
