"""Build datasets/citations/{train,valid,test}.jsonl deterministically.

    python3 datasets/citations/build.py          # rewrite the three files and the card's counts
    python3 datasets/citations/build.py --check  # exit 1 if the committed files differ

A row is one bibliographic reference and its fields. Each reference is built as a list of
(field, text) segments by a *template* (style x type x variant); the input is the segments
joined by single spaces and the output maps each field to its segment's text exactly as
printed, so labels cannot drift from the text. Templates, not rows, are split: each template
goes to one split by a stable hash of its id, so the test split measures unseen variants of
known styles. Every word list (vocab.py) was written for this project. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.dont_write_bytecode = True  # no __pycache__ beside the data

from vocab import (  # noqa: E402
    ABSTRACT_NOUNS, BOOK_FRAMES, CITIES, CONF_ABBR, CONFERENCES, CONTAINER_FRAMES, CS_SYLL, CS_SYLL2, CS_TECH,
    CULTURES, DE_CITIES, DE_FRAMES, DE_JOURNALS, DE_PLACES, DE_PUBLISHERS, DE_SUBS, DE_TOPICS, DE_UNIVERSITIES,
    DISCIPLINES, DOI_PREFIXES, FR_CITIES, FR_FRAMES, FR_JOURNALS, FR_PUBLISHERS, FR_SUBS, FR_TOPICS,
    FR_UNIVERSITIES, FRAMES, FRAMES_BY_DISC, INSTITUTES, JOURNALS, LAW_EVENTS, LIT_QUOTES, MONTHS_DE, MONTHS_EN,
    MONTHS_EN_3, MONTHS_EN_DOT, MONTHS_FR, NEWS_SECTIONS, NEWSPAPERS, ORGS, PUBLISHERS, REPORT_GENRES, SERIES,
    SUBTITLES, THESIS_GENRES, UNIVERSITIES, US_STATE_OLD, WEB_SECTIONS,
    BOOK_REMARKS, ES_FRAMES, ES_JOURNALS, ES_PUBLISHERS, ES_SUBS, ES_TOPICS, ES_UNIVERSITIES, IT_FRAMES, IT_JOURNALS,
    IT_PUBLISHERS, IT_SUBS, IT_TOPICS, IT_UNIVERSITIES, MARKS, MONTHS_ES,
)

SEED = "citations-v1"
SIZES = {"train": 2000, "valid": 120, "test": 250}
SPLIT_SHARES = (("train", 0.75), ("valid", 0.10), ("test", 0.15))
ARTEFACT_RATE = 0.15
STRAIGHT_RATE = 0.32  # share of rows whose curly-quoted titles are printed with straight ASCII quotes
MIN_LEN, MAX_LEN = 45, 350
MIN_ROWS = 3  # every template gets at least this many rows in its split
SCHEMA = ROOT.parents[1] / "extractor" / "tasks" / "citations" / "schema.json"
FIELDS = ("author", "citation_number", "collection_title", "container_title", "date", "doi", "edition", "editor",
          "genre", "isbn", "journal", "location", "note", "pages", "publisher", "title", "translator", "url",
          "volume")
STYLES = ("apa", "mla", "chicago", "harvard", "vancouver", "ieee", "nature", "acs", "german", "french", "spanish",
          "italian", "numbered")
TYPES = ("article", "book", "chapter", "conference", "thesis", "report", "web")
FEATURES = ("number", "doi", "url", "editor", "et_al", "note", "artefact")
# Share of rows per style and per type (normalised over the types a style has templates for).
W_STYLE = {"apa": 22, "harvard": 12, "chicago": 11, "mla": 8, "vancouver": 9, "ieee": 6, "nature": 4, "acs": 3,
           "german": 6, "french": 5, "spanish": 3, "italian": 3, "numbered": 6}
W_TYPE = {"article": 60, "book": 13, "chapter": 7, "conference": 7, "thesis": 4, "report": 4, "web": 5}
# Templates that add a DOI or URL to a type that usually lacks one count for less.
W_LINK = 0.6
# Disciplines each style is drawn from (weights).
STYLE_DISC = {
    "apa": {"psychology": 4, "education": 3, "sociology": 2, "medicine": 1, "economics": 1, "linguistics": 1},
    "mla": {"literature": 5, "history": 2, "linguistics": 2, "education": 1},
    "chicago": {"history": 4, "literature": 2, "economics": 2, "sociology": 2, "law": 1},
    "harvard": {"economics": 2, "sociology": 2, "education": 2, "medicine": 1, "biology": 1, "law": 1,
                "psychology": 1, "cs": 1},
    "vancouver": {"medicine": 6, "biology": 2, "psychology": 1},
    "ieee": {"cs": 6, "physics": 2},
    "nature": {"biology": 4, "physics": 3, "chemistry": 2, "medicine": 1},
    "acs": {"chemistry": 6, "physics": 1, "biology": 1},
    "german": {"sociology": 2, "history": 2, "education": 2, "linguistics": 1, "law": 1, "literature": 1,
               "medicine": 1, "economics": 1},
    "french": {"sociology": 2, "history": 2, "literature": 2, "linguistics": 1, "economics": 1, "education": 1},
    "spanish": {"sociology": 2, "history": 2, "literature": 2, "linguistics": 1, "economics": 1, "medicine": 1},
    "italian": {"sociology": 2, "history": 2, "literature": 2, "linguistics": 1, "economics": 1, "law": 1},
    "numbered": {"cs": 2, "physics": 2, "biology": 2, "medicine": 1, "chemistry": 1, "economics": 1,
                 "linguistics": 1},
}


# ---------------------------------------------------------------- small helpers

def hfloat(*parts: object) -> float:
    """A stable number in [0, 1) from the parts (sha256; never Python's hash())."""
    digest = hashlib.sha256("|".join(str(p) for p in (SEED, *parts)).encode()).hexdigest()
    return int(digest[:13], 16) / 16 ** 13


def row_rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("|".join(str(p) for p in (SEED, *parts)).encode()).hexdigest()
    return random.Random(int(digest[:16], 16))


def wchoice(rng: random.Random, weights: dict):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def end(text: str, p: str) -> str:
    """Close text with punctuation p unless it already ends with terminal punctuation."""
    if text[-1] in "?!":
        return text
    if p == "." and text.endswith("."):
        return text
    return text + p


def cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def cap_word(w: str) -> str:
    """Capitalise the first letter unless the word starts with a digit ("27th" stays)."""
    for i, ch in enumerate(w):
        if ch.isdigit():
            return w
        if ch.isalpha():
            return w[:i] + ch.upper() + w[i + 1:]
    return w


SMALL_WORDS = {"a", "an", "the", "and", "but", "or", "for", "nor", "of", "on", "in", "at", "to", "by", "with",
               "from", "as", "into", "via", "among", "after", "under", "between", "versus", "per"}


def titlecase(text: str) -> str:
    words = text.split(" ")
    out = []
    for i, w in enumerate(words):
        first = i == 0 or words[i - 1].endswith((":", "?"))
        if not first and w in SMALL_WORDS:
            out.append(w)
        else:
            parts = w.split("-")
            out.append("-".join([cap_word(parts[0])] + [p if p in SMALL_WORDS else cap_word(p) for p in parts[1:]]))
    return " ".join(out)


def fix_articles(text: str) -> str:
    return re.sub(r"\b([Aa]) (?=[aeiouAEIOU])", r"\1n ", text)


def ascii_slug(text: str, words: int) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    toks = re.findall(r"[a-z0-9]+", plain.lower())
    return "-".join(toks[:words]) or "page"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def isbn13(rng: random.Random, group: str) -> str:
    body = "978" + group + "".join(str(rng.randint(0, 9)) for _ in range(9 - len(group)))
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body))
    check = (10 - total % 10) % 10
    reg = body[3 + len(group):3 + len(group) + 3]
    title = body[6 + len(group):]
    return f"978-{group}-{reg}-{title}-{check}"


# ---------------------------------------------------------------- people

class Person:
    def __init__(self, given: list[str], sur: str, mid_full: bool):
        self.given, self.sur, self.mid_full = given, sur, mid_full


def make_person(rng: random.Random, culture: str | None = None) -> Person:
    if culture is None:
        culture = wchoice(rng, {k: v[0] for k, v in CULTURES.items()})
    _, surnames, givens = CULTURES[culture]
    sur = rng.choice(surnames)
    if culture in ("en", "de", "es", "fr") and rng.random() < 0.04 and " " not in sur and "-" not in sur:
        other = rng.choice(surnames)
        if other != sur and " " not in other and "-" not in other:
            sur = f"{sur}-{other}"
    given = [rng.choice(givens)]
    if culture not in ("zh", "ja_ko") and rng.random() < 0.35:
        second = rng.choice(givens)
        if second != given[0] and "-" not in second:
            given.append(second)
    return Person(given, sur, rng.random() < 0.3)


def initials(p: Person, dots: bool = True, space: bool = True) -> str:
    parts = []
    for g in p.given:
        subs = [s[0].upper() for s in g.split("-") if s]
        parts.append("-".join(s + "." for s in subs) if dots else "".join(subs))
    return (" " if dots and space else "").join(parts)


def given_str(p: Person) -> str:
    rest = [g if p.mid_full else initials(Person([g], "", False)) for g in p.given[1:]]
    return " ".join([p.given[0], *rest])


def inv_i(p: Person, space: bool = True) -> str:
    return f"{p.sur}, {initials(p, space=space)}"


def inv_f(p: Person) -> str:
    return f"{p.sur}, {given_str(p)}"


def dir_f(p: Person) -> str:
    return f"{given_str(p)} {p.sur}"


def dir_i(p: Person) -> str:
    return f"{initials(p)} {p.sur}"


def van(p: Person) -> str:
    return f"{p.sur} {initials(p, dots=False)}"


def join_and(xs: list[str], conj: str, serial: bool) -> str:
    if len(xs) == 1:
        return xs[0]
    if len(xs) == 2:
        return f"{xs[0]}{',' if serial else ''} {conj} {xs[1]}"
    return ", ".join(xs[:-1]) + f"{',' if serial else ''} {conj} {xs[-1]}"


# ---------------------------------------------------------------- the record behind a reference

def sentence_title(rng: random.Random, disc: str) -> tuple[str, str]:
    d = DISCIPLINES[disc]
    frames = FRAMES + FRAMES_BY_DISC.get(disc, []) * 2
    frame = rng.choice(frames)
    a, b, c = rng.sample(d["topics"], 3)
    y1 = rng.randint(1500, 1950)
    repl = {"A": a, "B": b, "C": c, "P": rng.choice(d["settings"]), "M": rng.choice(d["methods"]),
            "X": rng.choice(ABSTRACT_NOUNS), "T": rng.choice(CS_TECH),
            "N": rng.choice(CS_SYLL) + rng.choice(CS_SYLL2), "Q": rng.choice(LIT_QUOTES),
            "E": rng.choice(LAW_EVENTS), "Y": f"{y1}-{y1 + rng.randint(10, 80)}"}
    main = cap(fix_articles(frame.format(**repl)))
    sub = ""
    if rng.random() < (0.5 if main.endswith("?") else 0.33) and "{" not in main:
        s = rng.choice(SUBTITLES).format(P=rng.choice(d["settings"]), M=rng.choice(d["methods"]),
                                         B=rng.choice([t for t in d["topics"] if t not in (a, b)]))
        sub = fix_articles(s)
    return main, sub


def book_title(rng: random.Random, disc: str, frames: list[str]) -> tuple[str, str]:
    d = DISCIPLINES[disc]
    a, b = rng.sample(d["topics"], 2)
    sub = fix_articles(rng.choice(SUBTITLES).format(P=rng.choice(d["settings"]), M=rng.choice(d["methods"]), B=b))
    frame = rng.choice(frames)
    main = cap(fix_articles(frame.format(A=a, B=b, P=rng.choice(d["settings"]), X=rng.choice(ABSTRACT_NOUNS),
                                         S=sub)))
    if ":" not in main and rng.random() < 0.25:
        return main, sub
    return main, ""


def de_title(rng: random.Random) -> tuple[str, str]:
    a, b = rng.sample(DE_TOPICS, 2)
    main = cap(rng.choice(DE_FRAMES).format(A=a, B=b, O=rng.choice(DE_PLACES)))
    return main, (rng.choice(DE_SUBS) if rng.random() < 0.55 else "")


def fr_title(rng: random.Random) -> tuple[str, str]:
    a, b = rng.sample(FR_TOPICS, 2)
    main = cap(rng.choice(FR_FRAMES).format(A=a, B=b))
    return main, (rng.choice(FR_SUBS) if rng.random() < 0.5 else "")


def es_title(rng: random.Random) -> tuple[str, str]:
    a, b = rng.sample(ES_TOPICS, 2)
    main = cap(rng.choice(ES_FRAMES).format(A=a, B=b))
    if main.startswith("¿"):
        main = "¿" + cap(main[1:])
    return main, (rng.choice(ES_SUBS) if rng.random() < 0.45 else "")


def it_title(rng: random.Random) -> tuple[str, str]:
    a, b = rng.sample(IT_TOPICS, 2)
    main = cap(rng.choice(IT_FRAMES).format(A=a, B=b))
    return main, (rng.choice(IT_SUBS) if rng.random() < 0.45 else "")


def title_text(pair: tuple[str, str], case: str, lang: str) -> str:
    main, sub = pair
    if lang == "de":
        return main + (rng_sep_de(main) + sub if sub else "")
    if lang == "fr":
        return main + (f" : {sub}" if sub else "")
    if lang in ("es", "it"):
        return main + (("" if main.endswith("?") else ".") + f" {cap(sub)}" if sub else "")
    if case == "title":
        main, sub = titlecase(main), titlecase(sub) if sub else ""
    if not sub:
        return main
    return main + (" " if main.endswith("?") else ": ") + cap(sub)


def rng_sep_de(main: str) -> str:
    return " " if main.endswith("?") else ". "


JOURNALS_BY_DISC: dict[str, list[tuple[str, str, str]]] = {}
for _j in JOURNALS:
    JOURNALS_BY_DISC.setdefault(_j[2], []).append(_j)
CONF_PUBLISHERS = {"cs": ["ACM", "IEEE", "IEEE Computer Society", "Association for Computational Linguistics",
                          "AAAI Press", "Curran Associates", "Springer", "USENIX Association", "ACM Press"],
                   "other": ["Cognitive Science Society", "Springer", "AIP Publishing", "IOP Publishing",
                             "Routledge", "Elsevier", "Sage", "PME"]}
DEPARTMENTS = {"cs": "Comput. Sci.", "physics": "Phys.", "chemistry": "Chem.", "biology": "Biol.",
               "economics": "Econ.", "medicine": "Med.", "psychology": "Psychol.", "education": "Educ.",
               "history": "Hist.", "literature": "English", "law": "Law", "linguistics": "Linguist.",
               "sociology": "Sociol."}


class Rec:
    """Everything a reference might print; templates pick what they need."""

    def __init__(self, rng: random.Random, style: str, n_auth: tuple[int, int] | None, lang: str,
                 modern: bool = False):
        self.rng = rng
        self.style = style
        self.lang = lang
        self.disc = wchoice(rng, STYLE_DISC[style])
        if n_auth is None:
            n = wchoice(rng, {1: 22, 2: 24, 3: 19, 4: 13, 5: 8, 6: 6})
        else:
            n = rng.randint(*n_auth)
        bias = {"de": "de", "fr": "fr", "es": "es", "it": "it"}.get(lang)
        self.authors = [make_person(rng, bias if bias and rng.random() < 0.7 else None) for _ in range(n)]
        self.editors = [make_person(rng, bias if bias and rng.random() < 0.7 else None)
                        for _ in range(wchoice(rng, {1: 5, 2: 4, 3: 1}))]
        self.translator = make_person(rng)
        self.org, self.org_domain = rng.choice(ORGS)
        self.year = wchoice(rng, {0: 12, 1: 38, 2: 50})
        self.year = {0: rng.randint(1952, 1989), 1: rng.randint(1990, 2009), 2: rng.randint(2010, 2024)}[self.year]
        if modern:  # web pages, URLs and DOIs: no earlier than the web
            self.year = max(self.year, rng.randint(1997, 2012))
        self.month, self.day = rng.randint(1, 12), rng.randint(1, 28)
        self.suffix = rng.choice("ab") if rng.random() < 0.06 else ""
        self.acc = (min(2025, self.year + rng.randint(0, 4)), rng.randint(1, 12), rng.randint(1, 28))
        # titles
        if lang == "de" and rng.random() < 0.65:
            self.t, self.tlang = de_title(rng), "de"
            self.b, self.cb = de_title(rng), (de_title(rng)[0], "")
        elif lang == "fr" and rng.random() < 0.65:
            self.t, self.tlang = fr_title(rng), "fr"
            self.b, self.cb = fr_title(rng), (fr_title(rng)[0], "")
        elif lang in ("es", "it") and rng.random() < 0.8:
            fn = es_title if lang == "es" else it_title
            self.t, self.tlang = fn(rng), lang
            self.b, self.cb = fn(rng), (fn(rng)[0], "")
        else:
            self.t, self.tlang = sentence_title(rng, self.disc), "en"
            self.b = book_title(rng, self.disc, BOOK_FRAMES)
            self.cb = book_title(rng, self.disc, CONTAINER_FRAMES)
        # periodical
        if lang == "de" and self.tlang == "de":
            self.jfull = self.jabbr = self.jnlm = rng.choice(DE_JOURNALS)
        elif lang == "fr" and self.tlang == "fr":
            self.jfull = self.jabbr = self.jnlm = rng.choice(FR_JOURNALS)
        elif lang in ("es", "it") and self.tlang == lang:
            self.jfull = self.jabbr = self.jnlm = rng.choice(ES_JOURNALS if lang == "es" else IT_JOURNALS)
        else:
            name, abbr, _ = rng.choice(JOURNALS_BY_DISC[self.disc])
            self.jfull, self.jabbr = name, abbr or name
            self.jnlm = self.jabbr.replace(".", "") if abbr else name
        self.volume = rng.randint(1, 60) if self.year < 1990 else rng.randint(5, 320)
        self.issue = rng.randint(1, 12)
        self.fp = int(rng.choice([rng.randint(1, 120), rng.randint(100, 999), rng.randint(1000, 3200)]))
        self.lp = self.fp + rng.randint(2, 34)
        self.eloc = ""
        if re.search(r"PLoS|eLife|BMC", self.jfull):
            self.eloc = f"e{rng.randint(1000000, 1009999)}" if "PLoS" in self.jfull else f"e{rng.randint(10000, 99999)}"
        elif self.jfull.startswith("Physical Review") and rng.random() < 0.7:
            self.eloc = f"{rng.randint(0, 2):02d}{rng.randint(1000, 9999)}"
        elif self.disc in ("physics", "biology", "medicine", "chemistry") and rng.random() < 0.06:
            self.eloc = rng.choice([f"A{rng.randint(1, 199)}", f"L{rng.randint(1, 99)}", f"e{rng.randint(1000, 99999)}"])
        # a second page range ("81-131, 208-241") in some articles and chapters
        self.fp2 = self.lp + rng.randint(20, 120) if rng.random() < 0.04 else 0
        self.npages = rng.randint(120, 780)
        self.es_pub, self.es_city = rng.choice(ES_PUBLISHERS)
        self.it_pub, self.it_city = rng.choice(IT_PUBLISHERS)
        self.es_univ, self.it_univ = rng.choice(ES_UNIVERSITIES), rng.choice(IT_UNIVERSITIES)
        # books, publishers
        pub = rng.choice(PUBLISHERS)
        self.pub, self.city = pub[0], rng.choice(pub[1])
        self.pub_short = pub[2] or pub[0]
        self.de_pub, self.de_city = rng.choice(DE_PUBLISHERS)
        self.fr_pub, self.fr_city = rng.choice(FR_PUBLISHERS)
        self.edition = rng.choice([2, 2, 2, 3, 3, 4, 5, 6, 8])
        self.series, self.series_abbr = rng.choice(SERIES)
        self.series_vol = rng.randint(12, 9999) if "Notes" in self.series else rng.randint(3, 180)
        self.chap_vol = rng.randint(1, 6)
        self.isbn = isbn13(rng, rng.choice(["0", "1", "3", "2", "90"]))
        self.orig_year = rng.randint(1850, max(1851, self.year - 5))
        # conferences
        confs = [c for c in CONFERENCES if c[2] == self.disc] or [c for c in CONFERENCES if c[2] == "cs"]
        self.conf, self.conf_acr, _ = rng.choice(confs)
        self.conf_n = rng.randint(2, 45)
        self.conf_city = rng.choice(list(CITIES))
        self.conf_pub = rng.choice(CONF_PUBLISHERS["cs" if self.disc == "cs" else "other"])
        # theses, reports
        self.univ, self.univ_city = rng.choice(UNIVERSITIES)
        self.de_univ, self.fr_univ = rng.choice(DE_UNIVERSITIES), rng.choice(FR_UNIVERSITIES)
        self.thesis = rng.choice(THESIS_GENRES)
        self.inst, self.inst_city = rng.choice(INSTITUTES)
        self.rep_genre = rng.choice(REPORT_GENRES)
        self.rep_no = rng.choice([str(rng.randint(1, 999)), f"{rng.randint(1, 99)}-{rng.randint(1, 99):02d}",
                                  f"TR-{self.year}-{rng.randint(1, 40):02d}", str(rng.randint(1000, 29999))])
        self.pmid = str(rng.randint(1000000, 39999999))
        self.newspaper, self.news_domain = rng.choice(NEWSPAPERS)

    # ---- derived strings
    def title(self, case: str = "sent") -> str:
        return title_text(self.t, case, self.tlang)

    def book(self, case: str = "sent") -> str:
        return title_text(self.b, case, self.tlang)

    def container(self, case: str = "sent") -> str:
        return title_text(self.cb, case, self.tlang)

    def pages(self, dash: str = "-", abbrev: bool = False) -> str:
        if self.eloc:
            return self.eloc
        a, b = str(self.fp), str(self.lp)
        if abbrev and len(a) == len(b):
            i = 0
            while i < len(a) - 1 and a[i] == b[i]:
                i += 1
            b = b[i:]
        if self.fp2:
            return f"{a}{dash}{b}, {self.fp2}{dash}{self.fp2 + self.rng.randint(3, 40)}"
        return f"{a}{dash}{b}"

    def pp(self, dash: str = "-", prefixes: tuple[str, str] = ("p.", "pp.")) -> str:
        """Pages with a prefix: "p." before an article number, "pp." before ranges."""
        return f"{prefixes[0] if self.eloc else prefixes[1]} {self.pages(dash)}"

    def loc(self, form: str, city: str | None = None) -> str:
        key = city or self.city
        name = key.split(",")[0]
        state, country = CITIES[key]
        if form == "city":
            return name
        if state:
            if form == "st":
                return f"{name}, {state}"
            if form == "old":
                return f"{name}, {US_STATE_OLD.get(state, state)}"
            return f"{name}, {state}, USA"
        if name == country:
            return name
        if form == "st" and country == "UK":
            return f"{name}, {self.rng.choice(['UK', 'England', 'UK'])}" if name != "Edinburgh" else f"{name}, UK"
        return f"{name}, {country}"

    def doi_bare(self) -> str:
        rng = self.rng
        reg = rng.choice(DOI_PREFIXES)
        words = re.findall(r"[A-Za-z]+", self.jabbr)
        code = "".join(w[0] for w in words).lower() or "jrn"
        if len(code) < 3:
            code = (words[0][:4] if words else "jrn").lower()
        pattern = rng.randint(0, 6)
        if pattern == 0:
            return f"10.{reg}/j.{code}.{self.year}.{self.month:02d}.{rng.randint(1, 120):03d}"
        if pattern == 1:
            return f"10.{reg}/{code}.{self.year}.{rng.randint(1000, 99999)}"
        if pattern == 2:
            return f"10.{reg}/s{rng.randint(10000, 13000)}-{rng.randint(0, 999):03d}-{rng.randint(0, 9999):04d}-{rng.randint(0, 9)}"
        if pattern == 3:
            return f"10.{reg}/{code}{rng.randint(10000, 99999)}"
        if pattern == 4:
            return f"10.{reg}/{rng.randint(10 ** 9, 10 ** 10 - 1)}{rng.randint(100000, 999999)}"
        if pattern == 5:
            return f"10.{reg}/{code.upper()}.{self.year}.{self.volume}.{self.fp}"
        return f"10.{reg}/journal.{code}.{rng.randint(1000000, 1009999)}"

    def doi(self, form: str) -> str:
        bare = self.doi_bare()
        return {"doi:": f"doi:{bare}", "doi: ": f"doi: {bare}", "DOI: ": f"DOI: {bare}", "DOI ": f"DOI {bare}",
                "https": f"https://doi.org/{bare}", "dx": f"http://dx.doi.org/{bare}"}[form]

    def article_url(self) -> str:
        rng = self.rng
        k = rng.randint(0, 3)
        if k == 0:
            return f"http://www.jstor.org/stable/{rng.randint(1000000, 4999999)}"
        if k == 1:
            site = ascii_slug(self.jfull, 3).replace("-", "")[:18]
            return f"https://www.{site}.org/content/{self.volume}/{self.issue}/{self.fp}"
        if k == 2:
            yy = max(7, self.year % 100)
            return f"https://arxiv.org/abs/{yy:02d}{self.month:02d}.{rng.randint(1000, 19999):05d}"
        host = ascii_slug(self.univ, 3).replace("university-of-", "").replace("-", "")[:14]
        return f"http://www.{host}.edu/~{ascii_slug(self.authors[0].sur, 1)}/papers/{ascii_slug(self.title(), 4)}.pdf"

    def web_url(self, domain: str | None = None, https: bool = True) -> str:
        dom = domain or self.org_domain
        host = dom if dom.count(".") >= 2 or "/" in dom else f"www.{dom}"
        return f"{'https' if https else 'http'}://{host}/{self.rng.choice(WEB_SECTIONS)}/{ascii_slug(self.title(), self.rng.randint(3, 6))}"

    def news_url(self) -> str:
        host = self.news_domain if self.news_domain.count(".") >= 2 else f"www.{self.news_domain}"
        sec = self.rng.choice(NEWS_SECTIONS)
        slug = ascii_slug(self.title(), self.rng.randint(4, 7))
        if self.rng.random() < 0.5:
            return f"https://{host}/{self.year}/{self.month:02d}/{self.day:02d}/{sec}/{slug}.html"
        return f"https://{host}/{sec}/{self.year}/{MONTHS_EN_3[self.month - 1].lower()}/{self.day:02d}/{slug}"

    def thesis_url(self) -> str:
        return f"http://hdl.handle.net/{self.rng.randint(1800, 2200)}/{self.rng.randint(10000, 99999)}"

    def date_en(self, y: int, m: int, d: int, form: str) -> str:
        if form == "mdy":
            return f"{MONTHS_EN[m - 1]} {d}, {y}"
        if form == "dmy":
            return f"{d} {MONTHS_EN[m - 1]} {y}"
        if form == "dmy_short":
            return f"{d} {MONTHS_EN_DOT[m - 1]} {y}"
        if form == "ymd_van":
            return f"{y} {MONTHS_EN_3[m - 1]} {d}"
        if form == "iso":
            return f"{y}-{m:02d}-{d:02d}"
        if form == "de":
            return f"{d:02d}.{m:02d}.{y}"
        if form == "fr":
            return f"{d} {MONTHS_FR[m - 1]} {y}"
        raise ValueError(form)

    def cnum(self, form: str) -> str:
        n = self.rng.choice([self.rng.randint(1, 30), self.rng.randint(1, 80), self.rng.randint(10, 160)])
        return {"dot": f"{n}.", "bracket": f"[{n}]", "paren": f"({n})", "bare": str(n)}[form]


# ---------------------------------------------------------------- author lists per style

def names_apa(ps: list[Person], ellipsis: bool = False) -> str:
    xs = [inv_i(p) for p in ps]
    if ellipsis and len(xs) >= 8:
        return ", ".join(xs[:6]) + ", . . . " + xs[-1]
    if len(xs) == 1:
        return xs[0]
    return ", ".join(xs[:-1]) + ", & " + xs[-1]


def eds_apa(ps: list[Person]) -> str:
    xs = [dir_i(p) for p in ps]
    return (xs[0] if len(xs) == 1 else join_and(xs, "&", len(xs) > 2)) + (" (Ed.)," if len(xs) == 1 else " (Eds.),")


def names_mla(ps: list[Person], etal: bool = True) -> str:
    if len(ps) >= 3 and etal:
        return f"{inv_f(ps[0])}, et al."
    xs = [inv_f(ps[0])] + [dir_f(p) for p in ps[1:]]
    return end(join_and(xs, "and", True), ".")


def names_chicago(ps: list[Person]) -> str:
    xs = [inv_f(ps[0])] + [dir_f(p) for p in ps[1:]]
    return end(join_and(xs, "and", True), ".")


def names_harvard(ps: list[Person], amp: bool = False, etal_at: int = 4) -> str:
    if len(ps) >= etal_at:
        return f"{inv_i(ps[0])} et al."
    return join_and([inv_i(p) for p in ps], "&" if amp else "and", False)


def names_van(ps: list[Person]) -> str:
    if len(ps) > 6:
        return ", ".join(van(p) for p in ps[:6]) + ", et al."
    return ", ".join(van(p) for p in ps) + "."


def names_ieee(ps: list[Person]) -> str:
    if len(ps) > 6:
        return f"{dir_i(ps[0])} et al.,"
    return join_and([dir_i(p) for p in ps], "and", len(ps) > 2) + ","


def names_nature(ps: list[Person]) -> str:
    if len(ps) > 5:
        return f"{inv_i(ps[0])} et al."
    xs = [inv_i(p) for p in ps]
    return xs[0] if len(xs) == 1 else ", ".join(xs[:-1]) + " & " + xs[-1]


def names_science(ps: list[Person]) -> str:
    if len(ps) > 5:
        return f"{dir_i(ps[0])} et al.,"
    return ", ".join(dir_i(p) for p in ps) + ","


def names_acs(ps: list[Person]) -> str:
    return "; ".join(inv_i(p) for p in ps)


def names_de(ps: list[Person], sep: str, short: bool = False) -> str:
    form = inv_i if short else inv_f
    if len(ps) > 3:
        return f"{form(ps[0])} u. a."
    return sep.join(form(p) for p in ps)


def names_fr(ps: list[Person], classic: bool) -> str:
    if classic:
        xs = [f"{p.sur.upper()}, {given_str(p)}" for p in ps[:3]]
        text = xs[0] if len(xs) == 1 else ", ".join(xs[:-1]) + " et " + xs[-1]
        return end(text + (" et al" if len(ps) > 3 else ""), ".")
    if len(ps) > 3:
        return f"{ps[0].sur.upper()} {initials(ps[0])} et al.,"
    return ", ".join(f"{p.sur.upper()} {initials(p)}" for p in ps) + ","


def names_springer(ps: list[Person]) -> str:
    return ", ".join(van(p) for p in ps)


def names_lncs(ps: list[Person]) -> str:
    if len(ps) > 4:
        return f"{inv_i(ps[0])}, et al.:"
    return ", ".join(inv_i(p) for p in ps) + ":"


def quoted(text: str, p: str, q: str = "“”") -> str:
    """Title in double quotes with the closing punctuation inside (American style)."""
    return f"{q[0]}{end(text, p)}{q[1]}"


def conf_abbr(name: str) -> str:
    return " ".join(CONF_ABBR.get(w, w) for w in name.split())


def proc_name(r: Rec, form: str) -> str:
    if form == "full":
        return f"Proceedings of the {ordinal(r.conf_n)} {r.conf}"
    if form == "full_acr":
        return f"Proceedings of the {r.conf} ({r.conf_acr} {r.year})"
    if form == "ieee":
        return f"Proc. {ordinal(r.conf_n)} {conf_abbr(r.conf)}"
    if form == "acr":
        return f"Proc. {r.conf_acr}"
    if form == "year":
        return f"Proceedings of the {r.year} {r.conf}"
    raise ValueError(form)


# ---------------------------------------------------------------- styles
# Each formatter takes the record and the template's options and returns [(field, text)].

def apa(r: Rec, t: str, o: dict) -> list:
    rng = r.rng
    s: list = []
    person = t not in ("web", "report") or o.get("person", False)
    if o.get("edited"):
        s.append(("editor", names_apa(r.editors) + (" (Ed.)." if len(r.editors) == 1 else " (Eds.).")))
    elif person:
        s.append(("author", names_apa(r.authors, o.get("ellipsis", False))))
    elif t == "report":
        s.append(("author", r.inst + "."))
    else:
        s.append(("author", r.org + "."))
    if o.get("inpress"):
        s.append(("date", "(in press)."))
    elif o.get("month"):
        s.append(("date", f"({r.year}, {MONTHS_EN[r.month - 1]})."))
    elif o.get("day"):
        s.append(("date", f"({r.year}, {MONTHS_EN[r.month - 1]} {r.day})."))
    elif o.get("nodate"):
        s.append(("date", "(n.d.)."))
    else:
        s.append(("date", f"({r.year}{r.suffix})."))
    loc = r.loc(o.get("loc", "st"))
    if t == "article":
        s.append(("title", end(r.title(), ".")))
        if o.get("inpress"):
            s.append(("journal", r.jfull + "."))
        else:
            s.append(("journal", r.jfull + ","))
            vol = (f"{r.volume}({r.issue})," if rng.random() < 0.8 else f"{r.volume} ({r.issue}),") \
                if o.get("issue", True) else f"{r.volume},"
            s += [("volume", vol), ("pages", r.pages(o.get("dash", "-")) + ".")]
        if o.get("doi"):
            s.append(("doi", r.doi(o["doi"])))
        if o.get("url") == "retrieved":
            s.append(("url", f"Retrieved from {r.article_url()}"))
        elif o.get("url") == "retrieved_date":
            s += [("note", f"Retrieved {r.date_en(*r.acc, 'mdy')}, from"), ("url", r.article_url())]
    elif t == "book":
        title = r.book()
        if o.get("edition"):
            s += [("title", title), ("edition", f"({ordinal(r.edition)} ed.).")]
        elif o.get("trans"):
            s += [("title", title), ("translator", f"({dir_i(r.translator)}, Trans.).")]
        else:
            s.append(("title", end(title, ".")))
        if not o.get("apa7"):
            s.append(("location", loc + ":"))
        s.append(("publisher", r.pub + "."))
        if o.get("trans"):
            s.append(("note", f"(Original work published {r.orig_year})"))
    elif t == "chapter":
        s += [("title", end(r.title(), ".")), ("editor", "In " + eds_apa(r.editors)), ("container_title", r.container())]
        pp = f"pp. {r.pages(o.get('dash', '-'))}"
        if o.get("edition"):
            s += [("edition", f"({ordinal(r.edition)} ed.,"), ("pages", pp + ").")]
        elif o.get("vol"):
            s += [("volume", f"(Vol. {r.chap_vol},"), ("pages", pp + ").")]
        else:
            s.append(("pages", f"({pp})."))
        if not o.get("apa7"):
            s.append(("location", loc + ":"))
        s.append(("publisher", r.pub + "."))
        if o.get("doi"):
            s.append(("doi", r.doi(o["doi"])))
    elif t == "conference":
        s.append(("title", end(r.title(), ".")))
        if o.get("presented"):
            s += [("container_title", f"Paper presented at the {r.conf},"), ("location", r.loc("st", r.conf_city) + ".")]
        else:
            if o.get("eds"):
                s += [("editor", "In " + eds_apa(r.editors)), ("container_title", proc_name(r, "full"))]
            else:
                s.append(("container_title", "In " + proc_name(r, "full")))
            s += [("pages", f"(pp. {r.pages()}).")]
            if o.get("pubonly"):
                s.append(("publisher", r.conf_pub + "."))
            else:
                s += [("location", r.loc("st", r.conf_city) + ":"), ("publisher", r.conf_pub + ".")]
    elif t == "thesis":
        kind = rng.choice(["Doctoral dissertation", "Master's thesis"])
        if o.get("apa7"):
            s += [("title", r.title()), ("genre", f"[{kind},"), ("publisher", f"{r.univ}].")]
        elif o.get("url"):
            s += [("title", r.title()), ("genre", f"({kind})."), ("url", f"Retrieved from {r.thesis_url()}")]
        else:
            s += [("title", r.title()), ("genre", f"(Unpublished {kind[0].lower() + kind[1:]})."),
                  ("publisher", r.univ + ","), ("location", r.loc("st", r.univ_city) + ".")]
    elif t == "report":
        genre = rng.choice(["Report No.", "Technical Report No.", "Working Paper No.", "Research Report No."])
        s += [("title", r.title()), ("genre", f"({genre} {r.rep_no})."),
              ("location", r.loc("st", r.inst_city) + ":"), ("publisher", r.inst + "." if person else "Author.")]
    elif t == "web":
        s.append(("title", end(r.title(), ".")))
        if o.get("news"):
            s += [("journal", r.newspaper + "."), ("url", r.news_url())]
        elif o.get("retrieved"):
            s += [("note", f"Retrieved {r.date_en(*r.acc, 'mdy')}, from"), ("url", r.web_url())]
        else:
            if person:
                s.append(("publisher", r.org + "."))
            s.append(("url", r.web_url()))
    return s


def mla_pub(name: str) -> str:
    name = re.sub(r"^University of (\w+) Press$", r"U of \1 P", name)
    return name.replace("University Press", "UP")


def mla(r: Rec, t: str, o: dict) -> list:
    rng = r.rng
    s: list = []
    mla7 = o.get("mla7", False)
    if o.get("edited"):
        s.append(("editor", f"{inv_f(r.editors[0])}, editor."))
    elif t == "web" and not o.get("news"):
        s.append(("author", names_mla(r.authors[:2])))
    else:
        s.append(("author", names_mla(r.authors, etal=not mla7)))
    if t == "article":
        s += [("title", quoted(r.title("title"), ".")), ]
        if mla7:
            s += [("journal", r.jfull), ("volume", f"{r.volume}.{r.issue}"), ("date", f"({r.year}):"),
                  ("pages", r.pages() + ".")]
            if o.get("web"):
                s.append(("note", f"Web. {r.date_en(*r.acc, 'dmy')}."))
        else:
            vol = f"vol. {r.volume}, no. {r.issue}," if o.get("issue", True) else f"vol. {r.volume},"
            date = f"{MONTHS_EN_DOT[r.month - 1]} {r.year}," if rng.random() < 0.2 else f"{r.year},"
            s += [("journal", r.jfull + ","), ("volume", vol), ("date", date)]
            if o.get("doi"):
                s += [("pages", f"pp. {r.pages()},"), ("doi", r.doi("doi:") + ".")]
            else:
                s.append(("pages", f"pp. {r.pages()}."))
    elif t == "book":
        s.append(("title", end(r.book("title"), ".")))
        if o.get("edition"):
            s.append(("edition", f"{ordinal(r.edition)} ed.,"))
        if o.get("trans"):
            s.append(("translator", f"Translated by {dir_f(r.translator)},"))
        if mla7:
            s += [("location", r.loc("city") + ":"), ("publisher", mla_pub(r.pub) + ","), ("date", f"{r.year}.")]
        else:
            s += [("publisher", mla_pub(r.pub) + ","), ("date", f"{r.year}.")]
    elif t in ("chapter", "conference"):
        s.append(("title", quoted(r.title("title"), ".")))
        cont = r.container("title") if t == "chapter" else titlecase(proc_name(r, "full"))
        eds = [dir_f(p) for p in r.editors]
        if mla7:
            if rng.random() < 0.4:
                eds = [dir_i(p) for p in r.editors]
            role = "Eds." if len(eds) > 1 and rng.random() < 0.5 else "Ed."
            s += [("container_title", end(cont, ".")), ("editor", f"{role} {join_and(eds, 'and', len(eds) > 2)}."),
                  ("location", r.loc("city") + ":"), ("publisher", mla_pub(r.pub) + ","), ("date", f"{r.year}."),
                  ("pages", r.pages() + ".")]
        else:
            s += [("container_title", cont + ","), ("editor", f"edited by {join_and(eds, 'and', len(eds) > 2)},"),
                  ("publisher", mla_pub(r.pub if t == "chapter" else r.conf_pub) + ","), ("date", f"{r.year},"),
                  ("pages", f"pp. {r.pages()}.")]
    elif t == "thesis":
        s.append(("title", end(r.title("title"), ".")))
        if mla7:
            s += [("genre", "Diss."), ("publisher", r.univ + ","), ("date", f"{r.year}.")]
        else:
            s += [("date", f"{r.year}."), ("publisher", r.univ + ","),
                  ("genre", rng.choice(["PhD dissertation.", "MA thesis.", "Dissertation."]))]
    elif t == "web":
        s.append(("title", quoted(r.title("title"), ".")))
        if o.get("news"):
            s += [("journal", r.newspaper + ","), ("date", r.date_en(r.year, r.month, r.day, "dmy_short") + ","),
                  ("url", r.news_url().split("://", 1)[1] + ".")]
        else:
            s += [("publisher", r.org + ","), ("date", r.date_en(r.year, r.month, r.day, "dmy_short") + ","),
                  ("url", r.web_url().split("://", 1)[1] + "."),
                  ("note", f"Accessed {r.date_en(*r.acc, 'dmy_short')}.")]
    return s


def chicago(r: Rec, t: str, o: dict) -> list:
    rng = r.rng
    ad = o.get("ad", False)
    dash = "–" if rng.random() < 0.7 else "-"
    s: list = []
    if o.get("edited"):
        xs = [inv_f(r.editors[0])] + [dir_f(p) for p in r.editors[1:]]
        s.append(("editor", join_and(xs, "and", True) + (", ed." if len(xs) == 1 else ", eds.")))
    elif t == "web" and not o.get("news") and rng.random() < 0.4:
        s.append(("author", r.org + "."))
    else:
        s.append(("author", names_chicago(r.authors)))
    if ad:
        s.append(("date", f"{r.year}{r.suffix}."))
    loc = r.loc(o.get("loc", "city"))
    if t == "article":
        s.append(("title", quoted(r.title("title"), ".")))
        if ad:
            vol = f"{r.volume} ({r.issue}):" if o.get("issue", True) else f"{r.volume}:"
            s += [("journal", r.jfull), ("volume", vol), ("pages", r.pages(dash) + ".")]
        else:
            date = f"({MONTHS_EN[r.month - 1]} {r.year}):" if o.get("month") else f"({r.year}):"
            s += [("journal", r.jfull), ("volume", f"{r.volume}, no. {r.issue}"), ("date", date),
                  ("pages", r.pages(dash) + ".")]
        if o.get("doi"):
            s.append(("doi", r.doi("https") + ("." if not ad else "")))
        if o.get("url"):
            s.append(("url", r.article_url() + "."))
    elif t == "book":
        s.append(("title", end(r.book("title"), ".")))
        if o.get("edition"):
            s.append(("edition", f"{ordinal(r.edition)} ed."))
        if o.get("trans"):
            s.append(("translator", f"Translated by {dir_f(r.translator)}."))
        if o.get("series"):
            s += [("collection_title", r.series), ("volume", f"{r.series_vol}.")]
        s.append(("location", loc + ":"))
        s += [("publisher", r.pub + ".")] if ad else [("publisher", r.pub + ","), ("date", f"{r.year}.")]
        if rng.random() < 0.1 and not o.get("series"):
            s.append(("pages", f"{r.npages} pp."))
    elif t == "chapter":
        eds = join_and([(dir_i if rng.random() < 0.3 else dir_f)(p) for p in r.editors], "and", len(r.editors) > 2)
        s += [("title", quoted(r.title("title"), ".")), ("container_title", f"In {r.container('title')},"),
              ("editor", f"ed. {eds}," if o.get("ed") else f"edited by {eds},"), ("pages", r.pages(dash) + "."),
              ("location", loc + ":")]
        s += [("publisher", r.pub + ".")] if ad else [("publisher", r.pub + ","), ("date", f"{r.year}.")]
    elif t == "conference":
        s.append(("title", quoted(r.title("title"), ".")))
        if o.get("paper"):
            s += [("container_title", f"Paper presented at the {r.conf},"), ("location", r.loc("st", r.conf_city) + ","),
                  ("date", f"{MONTHS_EN[r.month - 1]} {r.day}, {r.year}.")]
        else:
            s += [("container_title", f"In {titlecase(proc_name(r, 'full'))},"), ("pages", r.pages(dash) + "."),
                  ("location", r.loc("st", r.conf_city) + ":"), ("publisher", r.conf_pub + ".")]
    elif t == "thesis":
        s += [("title", quoted(r.title("title"), ".")), ("genre", rng.choice(["PhD diss.,", "PhD diss.,", "Master's thesis,"]))]
        s += [("publisher", r.univ + ".")] if ad else [("publisher", r.univ + ","), ("date", f"{r.year}.")]
    elif t == "report":
        s += [("title", end(r.title("title"), ".")), ("genre", f"{rng.choice(['Working Paper', 'Technical Report', 'Discussion Paper'])} {r.rep_no}."),
              ("location", r.loc("city", r.inst_city) + ":"), ("publisher", r.inst + ".")]
    elif t == "web":
        s.append(("title", quoted(r.title("title"), ".")))
        if o.get("news"):
            s += [("journal", r.newspaper.removeprefix("The ") + ","),
                  ("date", f"{MONTHS_EN[r.month - 1]} {r.day}, {r.year}.")]
            if rng.random() < 0.5:
                s.append(("url", r.news_url() + "."))
        else:
            s += [("publisher", r.org + "."), ("date", f"{MONTHS_EN[r.month - 1]} {r.day}, {r.year}."),
                  ("url", r.web_url() + ".")]
    return s


def harvard_available(r: Rec, url: str) -> list:
    """An access date is a note, an undated "Available at:" a prefix of the url (README)."""
    date = r.date_en(*r.acc, "dmy")
    k = r.rng.randint(0, 3)
    if k == 0:
        return [("url", f"Available at: {url}"), ("note", f"[Accessed {date}].")]
    if k == 1:
        return [("note", f"Available at [accessed {date}]"), ("url", url)]
    return [("url", f"Available at: {url}"), ("note", f"(Accessed: {date}).")]


def harvard(r: Rec, t: str, o: dict) -> list:
    rng = r.rng
    q = o.get("q", "‘’")
    amp = o.get("amp", False)
    dash = o.get("dash", "–" if rng.random() < 0.5 else "-")
    s: list = []
    if o.get("edited"):
        s.append(("editor", names_harvard(r.editors, amp) + (" (ed.)" if len(r.editors) == 1 else " (eds.)")))
    elif t == "report" and rng.random() < 0.5:
        s.append(("author", r.inst))
    elif t == "web" and rng.random() < 0.5:
        s.append(("author", r.org))
    else:
        s.append(("author", names_harvard(r.authors, amp)))
    if o.get("noparen"):
        s.append(("date", f"{r.year}{r.suffix}."))
    else:
        s.append(("date", f"({r.year}{r.suffix})"))
    loc = r.loc(o.get("loc", "city"))
    eds = names_harvard(r.editors, amp, etal_at=4)
    ed_role = "(ed.)" if len(r.editors) == 1 else "(eds.)"
    if t == "article":
        vol = f"{r.volume}({r.issue})"
        if o.get("noparen"):
            s += [("title", end(r.title(), ".")), ("journal", r.jfull), ("volume", vol + ","), ("pages", r.pages(dash) + ".")]
        elif o.get("plain"):
            s += [("title", end(r.title(), ".")), ("journal", r.jfull + ","), ("volume", vol + ","),
                  ("pages", r.pages(dash) + ".")]
        else:
            s += [("title", f"{q[0]}{r.title()}{q[1]},"), ("journal", r.jfull + ","), ("volume", vol + ",")]
            last = "," if o.get("available") else "."
            s.append(("pages", f"{r.pp(dash)}{last}" if not o.get("doi") else f"{r.pp(dash)}."))
        if o.get("doi"):
            s.append(("doi", r.doi(o["doi"])))
        if o.get("available"):
            s += harvard_available(r, r.article_url())
    elif t == "book":
        if o.get("series"):
            s += [("title", r.book()), ("collection_title", f"({r.series},"), ("volume", f"{r.series_vol}).")]
        else:
            s.append(("title", end(r.book(), ".")))
        if o.get("edition"):
            s.append(("edition", f"{ordinal(r.edition)} edn."))
        s += [("location", loc + ":"), ("publisher", r.pub + ".")]
        if rng.random() < 0.12:
            s.append(("pages", f"{r.npages} {rng.choice(['pp.', 'p.', 'pp.'])}"))
        if o.get("isbn"):
            s.append(("isbn", f"ISBN {r.isbn}."))
    elif t == "chapter":
        if o.get("In"):
            s += [("title", end(r.title(), ".")), ("editor", f"In: {eds} {ed_role}")]
        else:
            s += [("title", f"{q[0]}{r.title()}{q[1]},"), ("editor", f"in {eds} {ed_role}")]
        s += [("container_title", end(r.container(), ".")), ("location", loc + ":"), ("publisher", r.pub + ","),
              ("pages", f"{r.pp(dash)}.")]
    elif t == "conference":
        s += [("title", f"{q[0]}{r.title()}{q[1]},"), ("container_title", f"{proc_name(r, rng.choice(['full', 'year']))}."),
              ("location", r.loc("city", r.conf_city) + ":"), ("publisher", r.conf_pub + ","),
              ("pages", f"{r.pp(dash)}.")]
    elif t == "thesis":
        s += [("title", end(r.title(), ".")), ("genre", rng.choice(["PhD thesis.", "PhD thesis.", "MPhil thesis.", "Doctoral thesis."])),
              ("publisher", r.univ + ".")]
    elif t == "report":
        s += [("title", end(r.title(), ".")), ("genre", f"{rng.choice(['Working paper', 'Report', 'Research paper'])} no. {r.rep_no}."),
              ("location", r.loc("city", r.inst_city) + ":"), ("publisher", r.inst + ".")]
    elif t == "web":
        s += [("title", end(r.title(), "."))] + harvard_available(r, r.web_url())
    return s


def vancouver(r: Rec, t: str, o: dict) -> list:
    rng = r.rng
    s: list = []
    if o.get("num"):
        s.append(("citation_number", r.cnum(o["num"])))
    if o.get("edited"):
        s.append(("editor", ", ".join(van(p) for p in r.editors) + (", editor." if len(r.editors) == 1 else ", editors.")))
    elif t == "web" and rng.random() < 0.6:
        s.append(("author", r.org + "."))
    else:
        s.append(("author", names_van(r.authors)))
    loc = r.loc("city")
    eds = ", ".join(van(p) for p in r.editors) + (", editor." if len(r.editors) == 1 else ", editors.")
    if t == "article":
        if o.get("letter"):
            s += [("title", r.title()), ("genre", rng.choice(["[letter].", "[editorial].", "[abstract]."]))]
        else:
            s.append(("title", end(r.title(), ".")))
        s.append(("journal", r.jnlm + "."))
        if o.get("month"):
            date = f"{r.year} {MONTHS_EN_3[r.month - 1]}" + (f" {r.day}" if rng.random() < 0.3 else "") + ";"
        else:
            date = f"{r.year};"
        vol = f"{r.volume}({r.issue}):" if o.get("issue", True) else f"{r.volume}:"
        s += [("date", date), ("volume", vol), ("pages", r.pages("-", abbrev=o.get("abbrev", False)) + ".")]
        if o.get("doi"):
            s.append(("doi", r.doi(o["doi"])))
        if o.get("pmid") or (not o.get("doi") and rng.random() < 0.08):
            pmc = f"PMC{r.rng.randint(1000000, 9999999)}"
            s.append(("note", rng.choice([f"PMID: {r.pmid}.", f"PMID: {r.pmid}.", f"PMID {r.pmid}.", f"PubMed PMID: {r.pmid}.",
                                          f"PubMed PMID {r.pmid}", f"PMCID: {pmc}.", f"PMID: {r.pmid}; PMCID: {pmc}."])))
    elif t == "book":
        s.append(("title", end(r.book(), ".")))
        if o.get("edition"):
            s.append(("edition", f"{ordinal(r.edition)} ed."))
        s += [("location", loc + ":"), ("publisher", r.pub + ";"), ("date", f"{r.year}.")]
        if o.get("npages"):
            s.append(("pages", f"{r.npages} p."))
        if o.get("series"):
            s += [("collection_title", f"({r.series};"), ("volume", f"vol. {r.series_vol}).")]
    elif t == "chapter":
        s += [("title", end(r.title(), ".")), ("editor", f"In: {eds}"), ("container_title", end(r.container(), ".")),
              ("location", loc + ":"), ("publisher", r.pub + ";"), ("date", f"{r.year}."),
              ("pages", f"p. {r.pages('-', abbrev=True)}.")]
    elif t == "conference":
        s += [("title", end(r.title(), ".")), ("container_title", f"In: {proc_name(r, 'full')};"),
              ("location", r.loc("city", r.conf_city) + ":"), ("publisher", r.conf_pub + ";"), ("date", f"{r.year}."),
              ("pages", f"p. {r.pages('-', abbrev=True)}.")]
    elif t == "thesis":
        s += [("title", r.title()), ("genre", rng.choice(["[dissertation].", "[master's thesis].", "[PhD thesis]."])),
              ("location", r.loc("st", r.univ_city) + ":"), ("publisher", r.univ + ";"), ("date", f"{r.year}.")]
    elif t == "report":
        s += [("title", end(r.title(), ".")), ("location", r.loc("city", r.inst_city) + ":"), ("publisher", r.inst + ";"),
              ("date", f"{r.year}."), ("genre", f"Report No.: {r.rep_no}.")]
    elif t == "web":
        s += [("title", r.title()), ("genre", "[Internet]."), ("location", r.loc("city") + ":"), ("publisher", r.org + ";"),
              ("date", str(r.year)), ("note", f"[cited {r.date_en(*r.acc, 'ymd_van')}]."),
              ("url", f"Available from: {r.web_url()}")]
    return s


def ieee(r: Rec, t: str, o: dict) -> list:
    rng = r.rng
    s: list = [("citation_number", r.cnum("bracket"))]
    if t == "web" and rng.random() < 0.5:
        s.append(("author", r.org + ","))
    else:
        s.append(("author", names_ieee(r.authors)))
    dash = "–" if rng.random() < 0.7 else "-"
    loc = r.loc(rng.choice(["usa", "st", "city"]))
    month = f"{MONTHS_EN_DOT[r.month - 1]} {r.year}"
    if t == "article":
        vol = f"vol. {r.volume}, no. {r.issue}," if o.get("issue", True) else f"vol. {r.volume},"
        k = rng.random()
        if k < 0.12:
            vol = vol.replace("vol.", "Vol.").replace("no.", "No.")
        elif k < 0.22:
            vol = vol.replace("vol. ", "vol.").replace("no. ", rng.choice(["no.", "no. "]))
        s += [("title", quoted(r.title(), ",")), ("journal", r.jabbr + ","), ("volume", vol)]
        pages = r.eloc if r.eloc else f"{r.pp(dash)}"
        if r.eloc:
            pages = f"Art. no. {r.eloc}"
        date = month if o.get("issue", True) else str(r.year)
        if o.get("doi"):
            s += [("pages", pages + ","), ("date", date + ","), ("doi", r.doi("doi: ") + ".")]
        else:
            s += [("pages", pages + ","), ("date", date + ".")]
    elif t == "book":
        if o.get("edition"):
            s += [("title", r.book("title") + ","), ("edition", f"{ordinal(r.edition)} ed.")]
        else:
            s.append(("title", end(r.book("title"), ".")))
        s += [("location", loc + ":"), ("publisher", r.pub + ","), ("date", f"{r.year}.")]
    elif t == "chapter":
        eds = join_and([dir_i(p) for p in r.editors], "and", len(r.editors) > 2)
        s += [("title", quoted(r.title(), ",")), ("container_title", f"in {r.container('title')},"),
              ("editor", f"{eds}, {'Ed.' if len(r.editors) == 1 else 'Eds.'}"), ("location", loc + ":"),
              ("publisher", r.pub + ","), ("date", f"{r.year},"), ("pages", f"{r.pp(dash)}.")]
    elif t == "conference":
        s.append(("title", quoted(r.title(), ",")))
        if o.get("acr"):
            s += [("container_title", f"in {proc_name(r, 'acr')},"), ("date", f"{r.year},")]
        elif o.get("series"):
            s += [("container_title", f"in {proc_name(r, 'ieee')}"), ("collection_title", f"({r.series},"),
                  ("volume", f"vol. {r.series_vol})."), ("location", rng.choice(["Cham, Switzerland:", "Berlin, Germany:"])),
                  ("publisher", "Springer,"), ("date", f"{r.year},")]
        else:
            name = proc_name(r, rng.choice(["ieee", "ieee", "year", "full"]))
            s += [("container_title", f"in {name},"),
                  ("location", r.loc(rng.choice(['usa', 'st']), r.conf_city) + ","), ("date", f"{month},")]
        if o.get("doi"):
            s += [("pages", f"{r.pp(dash)},"), ("doi", r.doi("doi: ") + ".")]
        else:
            s.append(("pages", f"{r.pp(dash)}."))
    elif t == "thesis":
        univ = r.univ.replace("University", "Univ.")
        s += [("title", quoted(r.title(), ",")), ("genre", rng.choice(["Ph.D. dissertation,", "M.S. thesis,", "Ph.D. thesis,"])),
              ("publisher", f"Dept. {DEPARTMENTS[r.disc]}, {univ},"), ("location", r.loc("usa", r.univ_city) + ","),
              ("date", f"{r.year}.")]
    elif t == "report":
        s += [("title", quoted(r.title(), ",")), ("publisher", r.inst + ","), ("location", r.loc("usa", r.inst_city) + ","),
              ("genre", f"Tech. Rep. {r.rep_no},"), ("date", month + ".")]
    elif t == "web":
        s += [("title", quoted(r.title("title"), ".")), ("publisher", r.org + "."),
              ("note", f"Accessed: {MONTHS_EN_DOT[r.acc[1] - 1]} {r.acc[2]}, {r.acc[0]}."),
              ("url", f"[Online]. Available: {r.web_url()}")]
    return s


def nature(r: Rec, t: str, o: dict) -> list:
    rng = r.rng
    s: list = [("citation_number", r.cnum("dot"))]
    science = o.get("science", False)
    s.append(("author", names_science(r.authors) if science else names_nature(r.authors)))
    dash = "–" if rng.random() < 0.75 else "-"
    pub = r.pub_short if rng.random() < 0.5 else r.pub
    if t == "article":
        if not o.get("notitle"):
            s.append(("title", end(r.title(), ".")))
        pages = r.eloc or (str(r.fp) if science and rng.random() < 0.5 else r.pages(dash))
        s += [("journal", r.jabbr), ("volume", f"{r.volume},"), ("pages", pages), ("date", f"({r.year}).")]
        if o.get("doi"):
            s.append(("doi", r.doi("https")))
    elif t == "book":
        if o.get("edition"):
            s += [("title", r.book()), ("edition", f"{ordinal(r.edition)} edn")]
        else:
            s.append(("title", r.book()))
        s += [("publisher", f"({pub},"), ("location", r.loc("city") + ","), ("date", f"{r.year}).")]
    elif t == "chapter":
        if o.get("chtitle"):
            s.append(("title", end(r.title(), ".")))
        eds = names_nature(r.editors)
        role = "ed." if len(r.editors) == 1 else "eds"
        s += [("container_title", f"in {r.container('title')}"), ("editor", f"({role} {eds})"),
              ("pages", r.pages(dash)), ("publisher", f"({pub},"), ("date", f"{r.year}).")]
    elif t == "conference":
        s += [("title", end(r.title(), ".")), ("container_title", f"in {proc_name(r, 'ieee')}"),
              ("pages", r.pages(dash)), ("publisher", f"({r.conf_pub},"), ("date", f"{r.year}).")]
    return s


def acs(r: Rec, t: str, o: dict) -> list:
    s: list = [("citation_number", r.cnum(o.get("num", "paren")))]
    s.append(("author", names_acs(r.authors)))
    if t == "article":
        if not o.get("notitle"):
            s.append(("title", end(r.title(), ".")))
        vol = f"{r.volume} ({r.issue})," if o.get("issue") else f"{r.volume},"
        s += [("journal", r.jabbr), ("date", f"{r.year},"), ("volume", vol), ("pages", r.pages("–") + ".")]
        if o.get("doi"):
            s.append(("doi", r.doi("DOI: ") + "."))
    elif t == "book":
        if o.get("edition"):
            s += [("title", r.book("title") + ","), ("edition", f"{ordinal(r.edition)} ed.;")]
        else:
            s.append(("title", r.book("title") + ";"))
        s += [("publisher", r.pub + ":"), ("location", r.loc("st") + ","), ("date", f"{r.year}.")]
    elif t == "chapter":
        eds = "; ".join(inv_i(p) for p in r.editors) + (", Ed.;" if len(r.editors) == 1 else ", Eds.;")
        s += [("title", end(r.title(), ".")), ("container_title", f"In {r.container('title')};"), ("editor", eds),
              ("publisher", r.pub + ":"), ("location", r.loc("st") + ","), ("date", f"{r.year};"),
              ("volume", f"Vol. {r.chap_vol},"), ("pages", f"pp {r.pages('–')}.")]
    return s


def german(r: Rec, t: str, o: dict) -> list:
    rng = r.rng
    ay = o.get("ay", False)   # author-year: "Müller, H. (2005): Titel."
    sep = o.get("sep", "/")
    dash = "–" if rng.random() < 0.6 else "-"
    s: list = []
    if o.get("edited"):
        s.append(("editor", names_de(r.editors, sep) + " (Hg.):"))
    elif ay:
        s += [("author", names_de(r.authors, sep, short=True)), ("date", f"({r.year}{r.suffix}):")]
    else:
        s.append(("author", names_de(r.authors, sep) + ":"))
    title = end(r.title(), ".")
    jname = r.jfull
    if t == "article":
        s.append(("title", title))
        if o.get("heft"):
            vol = rng.choice([f"Jg. {r.volume}, H. {r.issue}", f"Jg. {r.volume}, H. {r.issue}", f"Bd. {r.volume}, H. {r.issue}",
                              f"Bd. {r.volume}, Nr. {r.issue}"])
            s += [("journal", f"In: {jname}"), ("volume", vol), ("date", f"({r.year}),")]
        elif ay:
            s += [("journal", f"In: {jname}"), ("volume", f"{r.volume} ({r.issue}),")]
        else:
            s += [("journal", f"In: {jname}"), ("volume", str(r.volume)), ("date", f"({r.year}),")]
        s.append(("pages", f"S. {r.pages(dash)}."))
    elif t == "book":
        pub, city = (r.de_pub, r.de_city) if rng.random() < 0.75 else (r.pub, r.loc("city"))
        s.append(("title", end(r.book(), ".")))
        if o.get("edition"):
            s.append(("edition", rng.choice([f"{r.edition}. Aufl.", f"{r.edition}., überarb. Aufl.", f"{r.edition}. Auflage."])))
        if ay:
            s += [("location", city + ":"), ("publisher", pub + ".")]
        elif o.get("edited"):
            s += [("location", city + ":"), ("publisher", pub + ","), ("date", f"{r.year}.")]
        else:
            s += [("location", city + ":"), ("publisher", pub), ("date", f"{r.year}.")]
            if rng.random() < 0.15:
                s.append(("pages", f"{r.npages} S."))
    elif t == "chapter":
        eds = names_de(r.editors, sep, short=ay)
        s += [("title", title)]
        if ay:
            s += [("editor", f"In: {eds} (Hrsg.):"), ("container_title", end(r.container(), ".")),
                  ("location", r.de_city + ":"), ("publisher", r.de_pub + ","), ("pages", f"S. {r.pages(dash)}.")]
        else:
            s += [("editor", f"In: {eds} (Hg.):"), ("container_title", end(r.container(), ".")),
                  ("location", r.de_city), ("date", f"{r.year},"), ("pages", f"S. {r.pages(dash)}.")]
    elif t == "thesis":
        s += [("title", title), ("genre", rng.choice(["Diss.", "Dissertation,", "Habil.-Schr."])), ("publisher", r.de_univ),
              ("date", f"{r.year}.")]
    elif t == "web":
        s.append(("title", title))
        if rng.random() < 0.5:
            s += [("url", f"Online unter: {r.web_url()}"), ("note", f"[Stand: {r.date_en(*r.acc, 'de')}].")]
        else:
            s += [("url", f"URL: {r.web_url()}"), ("note", f"(Zugriff am {r.date_en(*r.acc, 'de')}).")]
    return s


def fr_issue(rng: random.Random, n: int) -> str:
    return rng.choice([f"n° {n}", f"n° {n}", f"n°{n}", f"no {n}", f"nº {n}"])


def french(r: Rec, t: str, o: dict) -> list:
    rng = r.rng
    classic = o.get("classic", False)
    s: list = [("author", names_fr(r.authors, classic))]
    pub, city = (r.fr_pub, r.fr_city) if rng.random() < 0.75 else (r.pub, r.loc("city"))
    colon = " :" if classic else ","
    if t == "article":
        if classic:
            s += [("title", f"« {r.title()} »."), ("journal", r.jfull + ","), ("date", f"{r.year},"),
                  ("volume", f"vol. {r.volume}, {fr_issue(rng, r.issue)},"), ("pages", f"p. {r.pages('-')}.")]
        else:
            s += [("title", f"« {r.title()} »,"), ("journal", r.jfull + ","), ("volume", f"vol. {r.volume}, {fr_issue(rng, r.issue)},"),
                  ("date", f"{r.year},"), ("pages", f"p. {r.pages('-')}.")]
    elif t == "book":
        s.append(("title", r.book() + ("." if classic else ",")))
        if o.get("edition"):
            s.append(("edition", f"{r.edition}e éd.,"))
        s += [("location", city + colon), ("publisher", pub + ",")]
        if classic:
            s += [("date", f"{r.year},"), ("pages", f"{r.npages} p.")]
        else:
            s.append(("date", f"{r.year}."))
    elif t == "chapter":
        eds = ", ".join(f"{p.sur.upper()} {initials(p)}" for p in r.editors)
        s += [("title", f"« {r.title()} »,"), ("editor", f"in {eds} ({rng.choice(['dir.', 'dir.', 'éd.', 'éds.'])}),"), ("container_title", r.container() + ","),
              ("location", city + ","), ("publisher", pub + ","), ("date", f"{r.year},"), ("pages", f"p. {r.pages('-')}.")]
    elif t == "thesis":
        s += [("title", r.title() + ","), ("genre", rng.choice(["thèse de doctorat,", "thèse de doctorat en sociologie,",
                                                                 "thèse de doctorat en histoire,", "mémoire de master,"])),
              ("publisher", r.fr_univ + ","), ("date", f"{r.year}.")]
    elif t == "web":
        s += [("title", f"« {r.title()} »,"), ("journal", r.newspaper + ","), ("date", r.date_en(r.year, r.month, r.day, "fr") + ","),
              ("url", f"[en ligne] {r.news_url()}"), ("note", f"(consulté le {r.date_en(*r.acc, 'fr')}).")]
    return s


def names_es(ps: list[Person], form: str) -> str:
    """Spanish lists: "García, J. y López, M." (APA in Spanish), "GARCÍA, José y LÓPEZ, María:" (classic)."""
    if form == "classic":
        xs = [f"{p.sur.upper()}, {given_str(p)}" for p in ps[:3]]
        return join_and(xs, "y", False) + (" et al.:" if len(ps) > 3 else ":")
    xs = [inv_i(p) for p in ps]
    return xs[0] if len(xs) == 1 else ", ".join(xs[:-1]) + " y " + xs[-1]


def names_it(ps: list[Person]) -> str:
    """Italian lists: "Rossi, M. e Bianchi, L."; "Rossi, M. et al." beyond three."""
    if len(ps) > 3:
        return f"{inv_i(ps[0])} et al."
    xs = [inv_i(p) for p in ps]
    return xs[0] if len(xs) == 1 else ", ".join(xs[:-1]) + " e " + xs[-1]


def spanish(r: Rec, t: str, o: dict) -> list:
    rng = r.rng
    classic = o.get("classic", False)
    pub, city = (r.es_pub, r.es_city) if rng.random() < 0.8 else (r.pub, r.loc("city"))
    dash = "-" if rng.random() < 0.6 else "–"
    s: list = []
    if o.get("edited"):
        eds = names_es(r.editors, "classic" if classic else "apa").rstrip(":")
        s.append(("editor", eds + rng.choice([" (ed.)", " (eds.)", " (coord.)", " (dir.)"])
                  + (":" if classic else ".")))
    else:
        s.append(("author", names_es(r.authors, "classic" if classic else "apa")))
    if not classic:
        s.append(("date", f"({r.year})."))
    if t == "article":
        if classic:
            issue = rng.choice([f"n.º {r.issue}", f"núm. {r.issue}", f"n° {r.issue}", f"no. {r.issue}"])
            s += [("title", f"«{r.title()}»,"), ("journal", r.jfull + ","),
                  ("volume", rng.choice([f"vol. {r.volume}, {issue}", f"{r.volume}, {issue}"])),
                  ("date", f"({r.year}),"), ("pages", f"pp. {r.pages(dash)}.")]
        else:
            s += [("title", end(r.title(), ".")), ("journal", r.jfull + ","), ("volume", f"{r.volume}({r.issue}),"),
                  ("pages", r.pages(dash) + ".")]
    elif t == "book":
        if classic:
            s += [("title", r.book() + ","), ("location", city + ","), ("publisher", pub + ","), ("date", f"{r.year}.")]
        else:
            s += [("title", end(r.book(), ".")), ("location", city + ":"), ("publisher", pub + ".")]
    elif t == "chapter":
        if classic:
            eds = names_es(r.editors, "classic").rstrip(":")
            s += [("title", f"«{r.title()}»,"), ("editor", f"en {eds} ({rng.choice(['ed.', 'coord.', 'dir.'])}):"),
                  ("container_title", r.container() + ","), ("location", city + ","), ("publisher", pub + ","),
                  ("date", f"{r.year},"), ("pages", f"pp. {r.pages(dash)}.")]
        else:
            eds = join_and([dir_i(p) for p in r.editors], "y", False)
            role = "(Ed.)," if len(r.editors) == 1 else "(Eds.),"
            s += [("title", end(r.title(), ".")), ("editor", f"En {eds} {role}"), ("container_title", r.container()),
                  ("pages", f"(pp. {r.pages(dash)})."), ("location", city + ":"), ("publisher", pub + ".")]
    elif t == "thesis":
        s += [("title", end(r.title(), ".")), ("genre", rng.choice(["Tesis doctoral,", "Tesis de maestría,", "(Tesis doctoral)."])),
              ("publisher", r.es_univ + ".")]
    return s


def italian(r: Rec, t: str, o: dict) -> list:
    rng = r.rng
    pub, city = (r.it_pub, r.it_city) if rng.random() < 0.8 else (r.pub, r.loc("city"))
    dash = "-" if rng.random() < 0.7 else "–"
    s: list = []
    if o.get("edited"):
        s.append(("editor", names_it(r.editors) + " (a cura di)"))
    else:
        s.append(("author", names_it(r.authors)))
    s.append(("date", f"({r.year}),"))
    if t == "article":
        vol = rng.choice([f"{r.volume}, {r.issue},", f"{r.volume}({r.issue}),", f"n. {r.issue},", f"a. {r.volume}, n. {r.issue},"])
        jname = f"«{r.jfull}»," if rng.random() < 0.6 else r.jfull + ","
        s += [("title", r.title() + ","), ("journal", ("in " if rng.random() < 0.5 else "") + jname), ("volume", vol),
              ("pages", f"pp. {r.pages(dash)}.")]
    elif t == "book":
        s += [("title", r.book() + ","), ("publisher", pub + ","), ("location", city + ".")]
    elif t == "chapter":
        eds = join_and([dir_i(p) for p in r.editors], "e", False)
        s += [("title", r.title() + ","), ("editor", f"in {eds} (a cura di),"), ("container_title", r.container() + ","),
              ("publisher", pub + ","), ("location", city + ","), ("pages", f"pp. {r.pages(dash)}.")]
    elif t == "thesis":
        s += [("title", r.title() + ","), ("genre", rng.choice(["tesi di dottorato,", "tesi di laurea,"])),
              ("publisher", r.it_univ + ".")]
    return s


def names_mixed(rng: random.Random, ps: list[Person]) -> str:
    """Author lists as typeset in many journals' house styles."""
    k = rng.randint(0, 5)
    if k == 0:    # "Smith J., Doe K.," (".," between names)
        return ", ".join(f"{p.sur} {initials(p, space=False)}" for p in ps) + ","
    if k == 1:    # "Smith, J.; Doe, K.;"
        return "; ".join(inv_i(p) for p in ps) + ("." if rng.random() < 0.5 else ";")
    if k == 2:    # "BUROWAY, M., SMITH, J.,"
        return ", ".join(f"{p.sur.upper()}, {initials(p)}" for p in ps) + ","
    if k == 3:    # "DUPONT J., MARTIN P.,"
        return ", ".join(f"{p.sur.upper()} {initials(p, space=False)}" for p in ps) + ","
    if k == 4 and len(ps) >= 3:    # "Smith J, Doe K, et al."
        return ", ".join(van(p) for p in ps[:2]) + ", et al."
    return join_and([inv_i(p) for p in ps], "and", False) + ","


def numbered(r: Rec, t: str, o: dict) -> list:
    rng = r.rng
    form = o["form"]
    s: list = [("citation_number", r.cnum(o.get("num", "dot")))] if o.get("num") != "none" else []
    dash = "–" if rng.random() < 0.7 else "-"
    if form == "colon":
        # "Smith J., Doe K., 2004. Title. Journal 61: 4, 1-3." / "Journal, 26: 1-3,"
        s += [("author", names_mixed(rng, r.authors)), ("date", f"{r.year}."), ("title", end(r.title(), "."))]
        if rng.random() < 0.5:
            s += [("journal", r.jabbr), ("volume", f"{r.volume}: {r.issue},"), ("pages", r.pages(dash) + ".")]
        else:
            s += [("journal", r.jabbr + ","), ("volume", f"{r.volume}:"), ("pages", r.pages(dash) + ".")]
    elif form == "abnt":
        # "SILVA, J. P.; SOUZA, M. Title. Journal, v. 14, n. 3, p. 24-25, 2010."
        names = "; ".join(f"{p.sur.upper()}, {initials(p)}" for p in r.authors[:3]) + (" et al." if len(r.authors) > 3 else "")
        s += [("author", end(names, "."))]
        if t == "article":
            vol = rng.choice([f"v. {r.volume}, n. {r.issue},", f"v. {r.volume}, n° {r.issue},", f"v. {r.volume},"])
            s += [("title", end(r.title(), ".")), ("journal", r.jfull + ","), ("volume", vol),
                  ("pages", f"p. {r.pages('-')},"), ("date", f"{r.year}.")]
        elif t == "book":
            s += [("title", end(r.book(), "."))]
            if rng.random() < 0.4:
                s.append(("edition", f"{r.edition}. ed."))
            s += [("location", r.loc("city") + ":"), ("publisher", r.pub + ","), ("date", f"{r.year}.")]
            if rng.random() < 0.5:
                s.append(("pages", f"{r.npages} p."))
    elif form == "springer":
        s += [("author", names_springer(r.authors) if t != "web" else r.org), ("date", f"({r.year})")]
        if t == "article":
            s += [("title", end(r.title(), ".")), ("journal", r.jnlm), ("volume", f"{r.volume}({r.issue}):"),
                  ("pages", r.pages(dash))]
            if o.get("doi"):
                s.append(("doi", r.doi("https")))
        elif t == "book":
            s += [("title", r.book() + ","), ("edition", f"{ordinal(r.edition)} edn."), ("publisher", r.pub + ","),
                  ("location", r.loc("city"))]
        elif t == "chapter":
            eds = ", ".join(van(p) for p in r.editors) if rng.random() < 0.6 else join_and([dir_i(p) for p in r.editors], "and", False)
            s += [("title", end(r.title(), ".")), ("editor", f"In: {eds} ({'ed' if len(r.editors) == 1 and rng.random() < 0.7 else 'eds'})"),
                  ("container_title", end(r.container(), "."))]
            if o.get("series"):
                s += [("collection_title", r.series + ","), ("volume", f"vol {r.series_vol}.")]
            s += [("publisher", r.pub + ","), ("location", r.loc("city") + ","), ("pages", f"pp {r.pages(dash)}")]
        elif t == "conference":
            s += [("title", end(r.title(), ".")), ("container_title", f"In: {proc_name(r, 'full')},"),
                  ("location", r.loc("city", r.conf_city) + ","), ("pages", f"pp {r.pages(dash)}")]
        elif t == "web":
            s += [("title", end(r.title(), ".")), ("url", r.web_url()), ("note", f"Accessed {r.date_en(*r.acc, 'dmy')}")]
    elif form == "lncs":
        s.append(("author", names_lncs(r.authors)))
        if t == "article":
            s += [("title", end(r.title(), ".")), ("journal", r.jabbr), ("volume", f"{r.volume}({r.issue}),"),
                  ("pages", r.pages(dash)), ("date", f"({r.year})")]
        elif t == "conference":
            eds = ", ".join(inv_i(p) for p in r.editors) + (" (ed.)" if len(r.editors) == 1 else " (eds.)")
            coll = r.series_abbr or r.series
            s += [("title", end(r.title(), ".")), ("editor", f"In: {eds}"), ("container_title", f"{r.conf_acr} {r.year}."),
                  ("collection_title", coll + ","), ("volume", f"vol. {r.series_vol},"), ("pages", f"{r.pp(dash)}."),
                  ("publisher", "Springer,"), ("location", rng.choice(["Heidelberg", "Berlin", "Cham"])),
                  ("date", f"({r.year})")]
        elif t == "thesis":
            s += [("title", end(r.title(), ".")), ("genre", rng.choice(["PhD thesis,", "Master's thesis,", "Ph.D. thesis,"])),
                  ("publisher", r.univ), ("date", f"({r.year})")]
        elif t == "report":
            s += [("title", end(r.title(), ".")), ("genre", f"{rng.choice(['Tech. Rep.', 'Technical report'])} {r.rep_no},"),
                  ("publisher", r.inst), ("date", f"({r.year})")]
    elif form == "aip":
        s += [("author", names_ieee(r.authors)), ("journal", r.jabbr), ("volume", f"{r.volume},"),
              ("pages", r.eloc or str(r.fp)), ("date", f"({r.year}).")]
    elif form == "plain":
        s += [("author", names_van(r.authors)), ("title", end(r.title(), ".")), ("journal", r.jfull),
              ("date", f"{r.year};"), ("volume", f"{r.volume}:"), ("pages", r.pages(dash) + ".")]
    elif form == "apaish":
        k = rng.random()
        s += [("author", names_apa(r.authors).replace(", &", " and") if k < 0.35 else
               names_apa(r.authors) if k < 0.7 else names_mixed(rng, r.authors).rstrip(",;")),
              ("date", f"({r.year})"), ("title", end(r.title(), ".")), ("journal", r.jfull + ","),
              ("volume", f"{r.volume},"), ("pages", r.pages(dash) + ".")]
        if o.get("url"):
            s.append(("url", r.article_url()))
    return s


FORMATTERS = {"apa": apa, "mla": mla, "chicago": chicago, "harvard": harvard, "vancouver": vancouver, "ieee": ieee,
              "nature": nature, "acs": acs, "german": german, "french": french, "spanish": spanish, "italian": italian,
              "numbered": numbered}

# ---------------------------------------------------------------- templates
# (style, type, variant, options). Options "n" (author count range) and "lang" are read by the
# record; the rest by the style's formatter. The id is "<style>-<type>-<variant>".
MANY = (7, 14)
TEMPLATES: list[tuple[str, str, str, dict]] = [
    # APA
    ("apa", "article", "issue", {}), ("apa", "article", "doi6", {"doi": "doi:"}),
    ("apa", "article", "doi7", {"doi": "https"}), ("apa", "article", "noissue", {"issue": False}),
    ("apa", "article", "dxdoi", {"doi": "dx", "dash": "–"}), ("apa", "article", "retrieved", {"url": "retrieved"}),
    ("apa", "article", "retrieveddate", {"url": "retrieved_date"}), ("apa", "article", "magazine", {"month": True}),
    ("apa", "article", "inpress", {"inpress": True}), ("apa", "article", "ellipsis", {"ellipsis": True, "n": (8, 12)}),
    ("apa", "book", "loc", {}), ("apa", "book", "edition", {"edition": True}), ("apa", "book", "apa7", {"apa7": True}),
    ("apa", "book", "edited", {"edited": True}), ("apa", "book", "trans", {"trans": True, "n": (1, 1)}),
    ("apa", "book", "oldstate", {"loc": "old"}),
    ("apa", "chapter", "pp", {}), ("apa", "chapter", "edition", {"edition": True}),
    ("apa", "chapter", "apa7doi", {"apa7": True, "doi": "https"}), ("apa", "chapter", "vol", {"vol": True}),
    ("apa", "conference", "proc", {}), ("apa", "conference", "eds", {"eds": True}),
    ("apa", "conference", "presented", {"presented": True, "month": True}),
    ("apa", "conference", "pubonly", {"pubonly": True}),
    ("apa", "thesis", "unpub", {}), ("apa", "thesis", "apa7", {"apa7": True}), ("apa", "thesis", "url", {"url": True}),
    ("apa", "report", "org", {}), ("apa", "report", "person", {"person": True}),
    ("apa", "web", "news", {"news": True, "day": True, "person": True}),
    ("apa", "web", "retrieved", {"retrieved": True}), ("apa", "web", "nodate", {"nodate": True, "person": True}),
    # MLA
    ("mla", "article", "mla8", {}), ("mla", "article", "doi", {"doi": True}), ("mla", "article", "mla7", {"mla7": True}),
    ("mla", "article", "mla7web", {"mla7": True, "web": True}), ("mla", "article", "noissue", {"issue": False}),
    ("mla", "book", "mla8", {}), ("mla", "book", "mla7", {"mla7": True}), ("mla", "book", "edition", {"edition": True}),
    ("mla", "book", "trans", {"trans": True, "n": (1, 1)}), ("mla", "book", "editor", {"edited": True}),
    ("mla", "chapter", "mla8", {}), ("mla", "chapter", "mla7", {"mla7": True}),
    ("mla", "conference", "mla8", {}),
    ("mla", "thesis", "mla8", {"n": (1, 1)}), ("mla", "thesis", "mla7", {"mla7": True, "n": (1, 1)}),
    ("mla", "web", "site", {}), ("mla", "web", "news", {"news": True, "n": (1, 2)}),
    # Chicago (ad = author-date, nb = notes-bibliography)
    ("chicago", "article", "ad", {"ad": True}), ("chicago", "article", "addoi", {"ad": True, "doi": True}),
    ("chicago", "article", "adnoissue", {"ad": True, "issue": False}), ("chicago", "article", "nb", {}),
    ("chicago", "article", "nbdoi", {"doi": True}), ("chicago", "article", "nbmonth", {"month": True}),
    ("chicago", "article", "nburl", {"url": True}),
    ("chicago", "book", "ad", {"ad": True}), ("chicago", "book", "nb", {}), ("chicago", "book", "edition", {"edition": True}),
    ("chicago", "book", "trans", {"trans": True, "n": (1, 2)}), ("chicago", "book", "adedited", {"ad": True, "edited": True}),
    ("chicago", "book", "series", {"series": True}), ("chicago", "book", "nbstate", {"loc": "st"}),
    ("chicago", "chapter", "ad", {"ad": True}), ("chicago", "chapter", "nb", {}), ("chicago", "chapter", "ed", {"ed": True}),
    ("chicago", "conference", "ad", {"ad": True}), ("chicago", "conference", "paper", {"paper": True}),
    ("chicago", "thesis", "ad", {"ad": True, "n": (1, 1)}), ("chicago", "thesis", "nb", {"n": (1, 1)}),
    ("chicago", "report", "ad", {"ad": True}),
    ("chicago", "web", "site", {"n": (1, 2)}), ("chicago", "web", "news", {"news": True, "n": (1, 2)}),
    # Harvard
    ("harvard", "article", "pp", {}), ("harvard", "article", "doi", {"doi": "doi: "}),
    ("harvard", "article", "plain", {"plain": True}), ("harvard", "article", "available", {"available": True}),
    ("harvard", "article", "noparen", {"noparen": True}), ("harvard", "article", "straight", {"q": "''", "amp": True}),
    ("harvard", "article", "doicolon", {"doi": "doi:", "q": "“”"}),
    ("harvard", "book", "basic", {}), ("harvard", "book", "series", {"series": True}), ("harvard", "book", "edition", {"edition": True}),
    ("harvard", "book", "edited", {"edited": True}), ("harvard", "book", "isbn", {"isbn": True}),
    ("harvard", "chapter", "in", {}), ("harvard", "chapter", "Incolon", {"In": True}),
    ("harvard", "conference", "proc", {}), ("harvard", "thesis", "basic", {"n": (1, 1)}),
    ("harvard", "report", "basic", {}), ("harvard", "web", "available", {"n": (1, 2)}),
    # Vancouver
    ("vancouver", "article", "basic", {"num": "dot"}), ("vancouver", "article", "month", {"num": "dot", "month": True}),
    ("vancouver", "article", "doi", {"num": "dot", "doi": "doi:"}),
    ("vancouver", "article", "noissue", {"num": "bare", "issue": False, "abbrev": True}),
    ("vancouver", "article", "etal", {"num": "dot", "n": MANY}), ("vancouver", "article", "nonum", {}),
    ("vancouver", "article", "pmid", {"num": "dot", "pmid": True, "month": True}),
    ("vancouver", "article", "letter", {"num": "dot", "letter": True}),
    ("vancouver", "article", "nonumdoi", {"doi": "doi: ", "abbrev": True}),
    ("vancouver", "book", "edition", {"num": "dot", "edition": True}), ("vancouver", "book", "npages", {"num": "dot", "npages": True}),
    ("vancouver", "book", "edited", {"edited": True}),
    ("vancouver", "book", "series", {"num": "dot", "series": True}), ("vancouver", "chapter", "basic", {"num": "dot"}),
    ("vancouver", "chapter", "nonum", {}), ("vancouver", "conference", "basic", {"num": "dot"}),
    ("vancouver", "thesis", "basic", {"num": "dot", "n": (1, 1)}), ("vancouver", "report", "basic", {"num": "dot"}),
    ("vancouver", "web", "internet", {"num": "dot"}),
    # IEEE
    ("ieee", "article", "basic", {}), ("ieee", "article", "doi", {"doi": True}), ("ieee", "article", "noissue", {"issue": False}),
    ("ieee", "article", "etal", {"n": MANY}),
    ("ieee", "book", "basic", {}), ("ieee", "book", "edition", {"edition": True}), ("ieee", "chapter", "basic", {}),
    ("ieee", "conference", "basic", {}), ("ieee", "conference", "acr", {"acr": True}), ("ieee", "conference", "doi", {"doi": True}),
    ("ieee", "conference", "series", {"series": True}),
    ("ieee", "thesis", "basic", {"n": (1, 1)}), ("ieee", "report", "basic", {}), ("ieee", "web", "online", {"n": (1, 2)}),
    # Nature / Science
    ("nature", "article", "nature", {}), ("nature", "article", "doi", {"doi": True}),
    ("nature", "article", "science", {"science": True}), ("nature", "article", "sciencenotitle", {"science": True, "notitle": True}),
    ("nature", "article", "etal", {"n": MANY}),
    ("nature", "book", "basic", {"n": (1, 2)}), ("nature", "book", "edition", {"edition": True, "n": (1, 2)}),
    ("nature", "chapter", "notitle", {}), ("nature", "chapter", "title", {"chtitle": True}),
    ("nature", "conference", "proc", {}),
    # ACS
    ("acs", "article", "basic", {}), ("acs", "article", "issue", {"issue": True, "num": "dot"}),
    ("acs", "article", "doi", {"issue": True, "doi": True}), ("acs", "article", "notitle", {"notitle": True, "num": "bare"}),
    ("acs", "book", "edition", {"edition": True}), ("acs", "book", "basic", {"num": "dot"}), ("acs", "chapter", "basic", {}),
    # German
    ("german", "article", "in", {"lang": "de"}), ("german", "article", "heft", {"lang": "de", "heft": True}),
    ("german", "article", "ay", {"lang": "de", "ay": True}), ("german", "article", "semicolon", {"lang": "de", "sep": "; "}),
    ("german", "book", "basic", {"lang": "de", "edition": True}), ("german", "book", "ay", {"lang": "de", "ay": True}),
    ("german", "book", "hg", {"lang": "de", "edited": True}),
    ("german", "chapter", "hg", {"lang": "de"}), ("german", "chapter", "ay", {"lang": "de", "ay": True}),
    ("german", "thesis", "diss", {"lang": "de", "n": (1, 1)}), ("german", "web", "ay", {"lang": "de", "ay": True, "n": (1, 2)}),
    # French
    ("french", "article", "classic", {"lang": "fr", "classic": True}), ("french", "article", "short", {"lang": "fr"}),
    ("french", "book", "classic", {"lang": "fr", "classic": True}), ("french", "book", "short", {"lang": "fr"}),
    ("french", "book", "edition", {"lang": "fr", "edition": True}), ("french", "chapter", "dir", {"lang": "fr"}),
    ("french", "thesis", "short", {"lang": "fr", "n": (1, 1)}), ("french", "web", "news", {"lang": "fr", "n": (1, 2)}),
    # Spanish: APA in Spanish ("y", "En ... (Ed.),") and the classic humanities form («», n.º, coord.)
    ("spanish", "article", "apa", {"lang": "es"}), ("spanish", "article", "classic", {"lang": "es", "classic": True}),
    ("spanish", "article", "classicsingle", {"lang": "es", "classic": True, "n": (1, 1)}),
    ("spanish", "article", "classicpair", {"lang": "es", "classic": True, "n": (2, 3)}),
    ("spanish", "book", "apa", {"lang": "es"}), ("spanish", "book", "classic", {"lang": "es", "classic": True}),
    ("spanish", "book", "edited", {"lang": "es", "edited": True}),
    ("spanish", "chapter", "apa", {"lang": "es"}), ("spanish", "chapter", "classic", {"lang": "es", "classic": True}),
    ("spanish", "thesis", "apa", {"lang": "es", "n": (1, 1)}),
    # Italian ("e", «Rivista», "a cura di")
    ("italian", "article", "basic", {"lang": "it"}), ("italian", "article", "single", {"lang": "it", "n": (1, 1)}),
    ("italian", "article", "many", {"lang": "it", "n": (3, 6)}), ("italian", "book", "basic", {"lang": "it"}),
    ("italian", "book", "curatela", {"lang": "it", "edited": True}), ("italian", "chapter", "basic", {"lang": "it"}),
    ("italian", "chapter", "nb", {"lang": "it", "n": (1, 2)}), ("italian", "thesis", "basic", {"lang": "it", "n": (1, 1)}),
    # plain numbered lists in several house styles
    ("numbered", "article", "colon", {"form": "colon", "num": "bracket"}),
    ("numbered", "article", "colonnonum", {"form": "colon", "num": "none"}),
    ("numbered", "article", "abnt", {"form": "abnt", "num": "none"}),
    ("numbered", "article", "abntnum", {"form": "abnt", "num": "dot"}),
    ("numbered", "book", "abnt", {"form": "abnt", "num": "none"}),
    ("numbered", "article", "springer", {"form": "springer", "num": "bracket"}),
    ("numbered", "article", "springerdoi", {"form": "springer", "num": "dot", "doi": True}),
    ("numbered", "article", "lncs", {"form": "lncs"}), ("numbered", "article", "aip", {"form": "aip", "num": "bare"}),
    ("numbered", "article", "plain", {"form": "plain", "num": "bare"}),
    ("numbered", "article", "apaish", {"form": "apaish", "num": "bracket"}),
    ("numbered", "article", "apaishurl", {"form": "apaish", "num": "dot", "url": True}),
    ("numbered", "book", "springer", {"form": "springer", "num": "bracket"}),
    ("numbered", "chapter", "springer", {"form": "springer", "num": "bracket"}),
    ("numbered", "chapter", "springerseries", {"form": "springer", "num": "bracket", "series": True}),
    ("numbered", "conference", "lncs", {"form": "lncs"}), ("numbered", "conference", "springer", {"form": "springer", "num": "bracket"}),
    ("numbered", "thesis", "lncs", {"form": "lncs", "n": (1, 1)}), ("numbered", "report", "lncs", {"form": "lncs"}),
    ("numbered", "web", "springer", {"form": "springer", "num": "bracket"}),
]


def template_id(style: str, typ: str, variant: str) -> str:
    return f"{style}-{typ}-{variant}"


def assign_splits() -> dict[str, str]:
    """Template id -> split, by a stable hash; every style keeps templates in train."""
    out = {}
    for style, typ, variant, _ in TEMPLATES:
        tid = template_id(style, typ, variant)
        h, acc = hfloat("split", tid), 0.0
        for split, share in SPLIT_SHARES:
            acc += share
            if h < acc:
                out[tid] = split
                break
        else:
            out[tid] = "test"
    for style in STYLES:
        ids = sorted((template_id(s, t, v) for s, t, v, _ in TEMPLATES if s == style), key=lambda i: hfloat("split", i))
        if not any(out[i] == "train" for i in ids):
            out[ids[0]] = "train"
    return out


# ---------------------------------------------------------------- artefacts
# Each takes (rng, segments, record) and returns new segments or None when it does not apply.
# Segments are [field, text, sep] where sep is the text printed before the segment.

def art_hyphen(rng, segs, r):
    """A word broken at a line end: "infor- mation"; an existing hyphen gets a space: "Martin- Facklam"."""
    cands = [i for i, s in enumerate(segs) if s[0] in ("title", "journal", "container_title", "author", "publisher")]
    rng.shuffle(cands)
    for i in cands:
        text = segs[i][1]
        hy = [m.start() for m in re.finditer(r"(?<=[A-Za-zÀ-ÿ])-(?=[A-Za-zÀ-ÿ])", text)]
        if hy and rng.random() < 0.6:
            k = rng.choice(hy)
            segs[i][1] = text[:k + 1] + " " + text[k + 1:]
            return segs
        words = [m for m in re.finditer(r"[A-Za-z]{9,}", text)]
        if words:
            m = rng.choice(words)
            cut = m.start() + rng.randint(3, len(m.group()) - 4)
            # the line-end hyphen kept with or without the line break's space: "infor- mation", "Con-ference"
            segs[i][1] = text[:cut] + ("- " if rng.random() < 0.65 else "-") + text[cut:]
            return segs
    return None


def art_ligature(rng, segs, r):
    for i, s in enumerate(segs):
        if s[0] in ("title", "journal", "container_title") and re.search("fi|fl|ff", s[1]):
            segs[i][1] = s[1].replace("ffi", "ﬃ").replace("ff", "ﬀ").replace("fi", "ﬁ").replace("fl", "ﬂ")
            return segs
    return None


def art_double(rng, segs, r):
    cands = [i for i, s in enumerate(segs[:-1]) if s[1][-1] in ",." and s[0] != "citation_number"]
    if not cands:
        return None
    i = rng.choice(cands)
    segs[i][1] += segs[i][1][-1]
    return segs


def art_quotes(rng, segs, r):
    for i, s in enumerate(segs):
        if s[0] == "title" and ("“" in s[1] or "‘" in s[1]):
            segs[i][1] = s[1].replace("”", '"') if rng.random() < 0.5 else s[1].replace("“", '"').replace("‘", "'")
            return segs
        if s[0] in ("author", "title") and "'" in s[1]:
            segs[i][1] = s[1].replace("'", "’")
            return segs
    return None


def art_dash(rng, segs, r):
    for i, s in enumerate(segs):
        if s[0] == "pages" and re.search(r"\d[-–]\d", s[1]):
            new = rng.choice([" – ", "—", " - ", "–"])
            segs[i][1] = re.sub(r"(?<=\d)[-–](?=\d)", new, s[1], count=1)
            return segs
    return None


def art_initials(rng, segs, r):
    for i, s in enumerate(segs):
        if s[0] in ("author", "editor") and re.search(r"\b[A-Z]\. [A-Z]\.", s[1]):
            segs[i][1] = re.sub(r"(?<=\b[A-Z]\.) (?=[A-Z]\.)", "", s[1])
            return segs
    return None


def art_caps(rng, segs, r):
    for i, s in enumerate(segs):
        if s[0] == "author":
            text = s[1]
            for p in r.authors:
                if p.sur in text and p.sur.upper() != p.sur:
                    text = text.replace(p.sur, p.sur.upper(), 1)
            if text != s[1]:
                segs[i][1] = text
                return segs
    return None


def art_stray(rng, segs, r):
    """A footnote mark glued to the end of the reference: "2003.†" (a note, printed with no space)."""
    if any(s[0] == "note" for s in segs):
        return None
    return segs + [["note", rng.choice(["*", "†", "*", "**", "*†", "‡"]), ""]]


def art_glued(rng, segs, r):
    """A missing space between two segments ("Smith, J.(2005)."); the one documented break of
    "segments joined by single spaces"."""
    cands = [i for i in range(1, len(segs)) if (segs[i][1][0] in "(:[" or segs[i - 1][1][-1] in ":;")
             and segs[i - 1][0] not in ("url", "doi")]
    if not cands:
        return None
    segs[rng.choice(cands)][2] = ""
    return segs


def art_urlbreak(rng, segs, r):
    for i, s in enumerate(segs):
        if s[0] in ("url", "doi"):
            spots = [m.end() for m in re.finditer(r"[/.](?=[A-Za-z0-9])", s[1])][2:]
            if spots:
                k = rng.choice(spots)
                segs[i][1] = s[1][:k] + " " + s[1][k:]
                return segs
    return None


ARTEFACTS = {"hyphen": (art_hyphen, 4), "ligature": (art_ligature, 2), "double": (art_double, 2),
             "quotes": (art_quotes, 1), "dash": (art_dash, 2), "initials": (art_initials, 2), "caps": (art_caps, 2),
             "stray": (art_stray, 1), "glued": (art_glued, 1), "urlbreak": (art_urlbreak, 1)}


# ---------------------------------------------------------------- rows and checks

MODERN_OPTS = ("doi", "url", "retrieved", "available", "web", "pmid")


class DataError(Exception):
    pass


def check_row(row: dict, segs: list) -> None:
    """The construction rules; raise DataError with a clear message on any breach."""
    text = row["input"]
    where = f"{row['id']}: {text!r}"
    out = row["output"]
    rebuilt = "".join(sep + t for _, t, sep in segs).lstrip()
    if rebuilt != text:
        raise DataError(f"{where}: segments do not rebuild the input: {rebuilt!r}")
    if any(sep not in (" ", "") for _, _, sep in segs[1:]) or ("" in [s[2] for s in segs[1:]] and "artefact" not in row["tags"]):
        raise DataError(f"{where}: segments must be joined by single spaces (no space only as a tagged artefact)")
    fields = [f for f, _, _ in segs]
    if len(set(fields)) != len(fields):
        raise DataError(f"{where}: a field occurs twice: {fields}")
    for k, v in out.items():
        if k not in FIELDS:
            raise DataError(f"{where}: {k!r} is not a schema field")
        if not isinstance(v, str) or not v or v != " ".join(v.split()):
            raise DataError(f"{where}: value of {k!r} is empty or has stray whitespace: {v!r}")
        if v not in text:
            raise DataError(f"{where}: value of {k!r} is not a substring of the input: {v!r}")
    if "  " in text or text != text.strip():
        raise DataError(f"{where}: input has stray whitespace")


def straighten(segs: list) -> list:
    """Print quoted titles with straight ASCII quotes ("Title," and 'Title') as many typeset lists do;
    the JSON output then escapes the double quote (\\")."""
    for seg in segs:
        if seg[0] in ("title", "container_title") and re.search("[“”‘’]", seg[1]):
            seg[1] = seg[1].replace("“", '"').replace("”", '"').replace("‘", "'").replace("’", "'")
    return segs


def remarks(rng: random.Random, segs: list, typ: str, h: float) -> list:
    """Marks and remarks printed around a reference, all labelled note: a footnote or "key reference" mark
    after it ("... 2003. *") or before it ("* Smith, J. ..."), a subject or remark after a book
    ("(Psychologie).", "(reprint)."). Surnames in capitals are a house style here, not an artefact."""
    has_note = any(f == "note" for f, _, _ in segs)
    if h < 0.02 and not has_note:
        segs = segs + [["note", rng.choice(MARKS), " "]]
    elif h < 0.03 and not has_note:
        segs = [["note", rng.choice(MARKS), ""]] + segs
        segs[1][2] = " "
    elif h < 0.11 and not has_note and typ == "book" and segs[-1][0] != "pages":
        segs = segs + [["note", rng.choice(BOOK_REMARKS), " "]]
    elif 0.11 <= h < 0.14:
        for seg in segs:
            if seg[0] == "author":
                seg[1] = re.sub(r"(?<![\w.])([A-ZÀ-Þ][a-zà-ÿ']+(?:[- ][A-ZÀ-Þ][a-zà-ÿ']+)?)(?=,)",
                                lambda m: m.group(1).upper(), seg[1])
    return segs


def make_row(style: str, typ: str, variant: str, opts: dict, k: int, attempt: int) -> tuple[dict, list]:
    tid = template_id(style, typ, variant)
    rng = row_rng("row", tid, k, attempt)
    modern = typ == "web" or any(k in opts for k in MODERN_OPTS)
    r = Rec(rng, style, opts.get("n"), opts.get("lang", "en"), modern)
    segs = [[f, t, " "] for f, t in FORMATTERS[style](r, typ, opts)]
    segs[0][2] = ""
    if hfloat("straight", tid, k, attempt) < STRAIGHT_RATE:
        segs = straighten(segs)
    segs = remarks(rng, segs, typ, hfloat("remark", tid, k, attempt))
    empty = [f for f, t, _ in segs if not t.strip()]
    if empty:
        raise DataError(f"{tid} row {k}: empty segment for {empty}")
    tags = [style, typ]
    if rng.random() < ARTEFACT_RATE:
        names = list(ARTEFACTS)
        for _ in range(1 if rng.random() < 0.8 else 2):
            for _try in range(6):
                name = rng.choices(names, weights=[ARTEFACTS[n][1] for n in names])[0]
                new = ARTEFACTS[name][0](rng, [list(s) for s in segs], r)
                if new is not None:
                    segs = new
                    if "artefact" not in tags:
                        tags.append("artefact")
                    break
    output = {f: t for f, t, _ in segs}
    text = "".join(sep + t for _, t, sep in segs)
    for feat, test in (("number", "citation_number" in output), ("doi", "doi" in output), ("url", "url" in output),
                       ("editor", "editor" in output), ("et_al", "et al" in output.get("author", "")),
                       ("note", "note" in output)):
        if test:
            tags.append(feat)
    row = {"id": "", "input": text, "output": output,  # keys in print order
           "tags": [tags[0], tags[1], *sorted(set(tags[2:]), key=FEATURES.index)]}
    return row, segs


def normalize(text: str) -> str:
    """Key for "the same input" (as the project's extractor.core.data.normalize)."""
    return " ".join(text.lower().split()).strip(" .?!\"'")


def allocate(splits: dict[str, str]) -> dict[str, int]:
    """Rows per template: each split's size shared by template weight (largest remainder)."""
    n_var = Counter((s, t) for s, t, _, _ in TEMPLATES)
    types_of = {st: {t for s, t, _, _ in TEMPLATES if s == st} for st in STYLES}
    weight = {}
    for s, t, v, o in TEMPLATES:
        link = W_LINK if t != "web" and any(k in o for k in MODERN_OPTS) else 1.0
        weight[template_id(s, t, v)] = link * W_STYLE[s] * W_TYPE[t] / sum(W_TYPE[x] for x in types_of[s]) / n_var[(s, t)]
    rows = {}
    for split, size in SIZES.items():
        ids = sorted(i for i, sp in splits.items() if sp == split)
        total = sum(weight[i] for i in ids)
        exact = {i: size * weight[i] / total for i in ids}
        base = {i: max(MIN_ROWS, int(x)) for i, x in exact.items()}
        rest = size - sum(base.values())
        for i in sorted(ids, key=lambda i: (base[i] - exact[i], i))[:max(0, rest)]:
            base[i] += 1
        rows.update(base)
    return rows


def build() -> dict[str, list[dict]]:
    splits = assign_splits()
    counts = allocate(splits)
    seen: set[str] = set()
    out: dict[str, list[dict]] = {s: [] for s in SIZES}
    for style, typ, variant, opts in TEMPLATES:
        tid = template_id(style, typ, variant)
        split = splits[tid]
        for k in range(1, counts[tid] + 1):
            for attempt in range(40):
                row, segs = make_row(style, typ, variant, opts, k, attempt)
                key = normalize(row["input"])
                if key not in seen and MIN_LEN <= len(row["input"]) <= MAX_LEN:
                    break
            else:
                raise DataError(f"{tid}: no new reference of acceptable length after 40 attempts")
            seen.add(key)
            row["id"] = f"{split}-{tid}-{k}"
            check_row(row, segs)
            out[split].append(row)
    for rows in out.values():  # a stable shuffle, so a file is not grouped by template
        rows.sort(key=lambda row: hashlib.sha256(f"{SEED}|order|{row['id']}".encode()).hexdigest())
    return out


# ---------------------------------------------------------------- files

def render(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def pct(n: int, d: int) -> str:
    return f"{n} ({n / d:.0%})" if d else "0"


def counts_table(splits: dict[str, list[dict]], assignment: dict[str, str]) -> str:
    names = list(splits)
    head = "| | " + " | ".join(names) + " |\n|---|" + "---:|" * len(names) + "\n"
    lines = [head + "| rows | " + " | ".join(str(len(splits[s])) for s in names) + " |",
             "| templates | " + " | ".join(str(sum(1 for v in assignment.values() if v == s)) for s in names) + " |"]
    lens = {s: sorted(len(r["input"]) for r in rows) for s, rows in splits.items()}
    lines.append("| input length, median (min-max) | " + " | ".join(
        f"{lens[s][len(lens[s]) // 2]} ({lens[s][0]}-{lens[s][-1]})" for s in names) + " |")
    out = ["**Rows, templates and lengths**\n", "\n".join(lines), ""]
    tmpl_style = {s: Counter(tid.split("-")[0] for tid, sp in assignment.items() if sp == s) for s in names}
    for title, key, values in (("Rows per style (templates in brackets)", 0, STYLES), ("Rows per type", 1, TYPES),
                               ("Rows per feature tag", None, FEATURES)):
        rows = []
        for v in values:
            cells = []
            for s in names:
                if key is None:
                    n = sum(1 for r in splits[s] if v in r["tags"])
                else:
                    n = sum(1 for r in splits[s] if r["tags"][key] == v)
                cells.append(f"{n} ({tmpl_style[s][v]})" if key == 0 else pct(n, len(splits[s])))
            rows.append(f"| `{v}` | " + " | ".join(cells) + " |")
        out += [f"**{title}**\n", head + "\n".join(rows), ""]
    rows = []
    for f in FIELDS:
        rows.append(f"| `{f}` | " + " | ".join(pct(sum(1 for r in splits[s] if f in r["output"]), len(splits[s]))
                                               for s in names) + " |")
    out += ["**Rows with each field**\n", head + "\n".join(rows)]
    return "\n".join(out) + "\n"


def card(splits: dict[str, list[dict]], assignment: dict[str, str]) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    head, mark, rest = text.partition("<!-- counts:start -->")
    if not mark:
        raise DataError("README.md lacks the <!-- counts:start --> marker")
    _, _, tail = rest.partition("<!-- counts:end -->")
    return f"{head}<!-- counts:start -->\n{counts_table(splits, assignment)}<!-- counts:end -->{tail}"


def check_schema() -> None:
    if SCHEMA.exists():
        props = json.loads(SCHEMA.read_text(encoding="utf-8"))["properties"]
        if sorted(props) != sorted(FIELDS):
            raise DataError(f"{SCHEMA} fields differ from FIELDS: {sorted(set(props) ^ set(FIELDS))}")


def main(argv: list[str]) -> int:
    try:
        check_schema()
        ids = [template_id(s, t, v) for s, t, v, _ in TEMPLATES]
        if len(ids) != len(set(ids)):
            raise DataError(f"duplicate template ids: {[i for i, n in Counter(ids).items() if n > 1]}")
        splits = build()
    except DataError as exc:
        print(f"citations dataset: check failed: {exc}", file=sys.stderr)
        return 2
    outputs = {ROOT / f"{split}.jsonl": render(rows) for split, rows in splits.items()}
    outputs[ROOT / "README.md"] = card(splits, assign_splits())
    stale = []
    for path, text in outputs.items():
        if "--check" in argv:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print("out of date (run python3 datasets/citations/build.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
