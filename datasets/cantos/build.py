"""Build datasets/cantos/{train,valid,test}.jsonl deterministically.

    python datasets/cantos/build.py          # rewrite the three files
    python datasets/cantos/build.py --check  # exit 1 if the committed files differ

Every sentence frame and every no-reference sentence below was written by hand for this
project, following docs/labeling.md. The generator only fills frames with canto and line
slots (roman / arabic / ordinal forms, ranges, lists, positions from the end, sections,
page citations) and labels the result by construction, so labels cannot drift from text.
Rows are deduplicated on normalized input before the split, so no input is in two splits.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parents[1]))

from extractor.cantos import CANTO_LENGTHS, SECTIONS, to_roman  # noqa: E402
from extractor.data import normalize  # noqa: E402

SEED = 20261122
SPLITS = {"train": 0.74, "valid": 0.13, "test": 0.13}

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


# ---------------------------------------------------------------- reference phrases
# Each maker returns (phrase, [(canto, [lines])], tags). Phrases are noun phrases that fit
# the frames below ("... in {ref} ...").


def canto_name(rng: random.Random, c: int) -> tuple[str, str]:
    style = rng.choice(["roman", "roman", "arabic", "ordinal_words", "ordinal_digits"])
    if style == "roman":
        return rng.choice([f"Canto {to_roman(c)}", f"Canto {to_roman(c)}", f"canto {to_roman(c)}"]), "roman"
    if style == "arabic":
        return rng.choice([f"Canto {c}", f"canto {c}"]), "arabic"
    if style == "ordinal_words":
        return f"the {ordinal_words(c)} canto", "ordinal"
    return f"the {ordinal_digits(c)} Canto", "ordinal"


def pick_canto(rng: random.Random, with_lines: bool) -> int:
    # Line references lean on I-XXX, whose lengths are known, so gold lines are always possible.
    if with_lines and rng.random() < 0.7:
        return rng.randint(1, 30)
    return rng.randint(1, 117)


def max_line(c: int) -> int:
    return CANTO_LENGTHS.get(c, 120)


def ref_canto(rng):
    c = pick_canto(rng, False)
    name, style = canto_name(rng, c)
    return name, [(c, [])], [style]


def ref_single_line(rng):
    c = pick_canto(rng, True)
    n = rng.randint(1, max_line(c))
    r = to_roman(c)
    forms = [
        (f"line {n} of Canto {r}", "roman"),
        (f"Canto {c}, l. {n}", "arabic"),
        (f"Canto {r}, line {n}", "roman"),
        (f"l. {n} of the {ordinal_words(c)} canto", "ordinal"),
    ]
    text, style = rng.choice(forms)
    return text, [(c, [n])], [style, "lines"]


def ref_range(rng):
    c = pick_canto(rng, True)
    size = rng.randint(2, 16)
    a = rng.randint(1, max(1, max_line(c) - size))
    b = a + size - 1
    r = to_roman(c)
    forms = [
        (f"ll. {a}-{b} of Canto {r}", "roman"),
        (f"Canto {r}, ll. {a}-{b}", "roman"),
        (f"Canto {c}, lines {a} to {b}", "arabic"),
        (f"lines {a}\u2013{b} of Canto {c}", "arabic"),
        (f"lines {a} through {b} of the {ordinal_words(c)} canto", "ordinal"),
        (f"{r}:ll.{a}-{b}", "roman"),
    ]
    text, style = rng.choice(forms)
    return text, [(c, list(range(a, b + 1)))], [style, "lines", "range"]


def ref_list(rng):
    c = pick_canto(rng, True)
    a = rng.randint(1, max_line(c) - 8)
    b = a + rng.choice([1, 1, 2, 3, 5])
    r = to_roman(c)
    forms = [
        (f"Canto {r}, ll. {a}, {b}", "roman"),
        (f"lines {a} and {b} of Canto {c}", "arabic"),
        (f"ll. {a} and {b} of the {ordinal_words(c)} canto", "ordinal"),
    ]
    text, style = rng.choice(forms)
    return text, [(c, [a, b])], [style, "lines", "list"]


def ref_from_end(rng):
    c = pick_canto(rng, False)
    name, style = canto_name(rng, c)
    k = rng.choice([1, 1, 2, 2, 3, 4, 5])
    if k == 1:
        text, lines = rng.choice([(f"the last line of {name}", [-1]), (f"the final line of {name}", [-1]),
                                  (f"the closing line of {name}", [-1])])
    elif k == 2 and rng.random() < 0.4:
        text, lines = f"the penultimate line of {name}", [-2]
    else:
        word = rng.choice(["last", "final", "closing"])
        text, lines = f"the {word} {cardinal(k)} lines of {name}", list(range(-k, 0))
    return text, [(c, lines)], [style, "lines", "from_end"]


def ref_first_lines(rng):
    c = pick_canto(rng, False)
    name, style = canto_name(rng, c)
    k = rng.choice([1, 2, 3, 4, 6])
    if k == 1:
        text = rng.choice([f"the first line of {name}", f"the opening line of {name}"])
    else:
        text = f"the {rng.choice(['first', 'opening'])} {cardinal(k)} lines of {name}"
    return text, [(c, list(range(1, k + 1)))], [style, "lines", "from_start"]


def ref_page(rng):
    c = rng.randint(1, 117)
    p = rng.randint(3, 820)
    r = to_roman(c)
    text = rng.choice([f"{r}/{p}", f"Canto {r} at p. {p}", f"Canto {r} (p. {p})", f"{r}, p. {p}"])
    return text, [(c, [])], ["roman", "page"]


def ref_section(rng):
    name, (lo, hi) = rng.choice([(n, span) for n, span in SECTIONS.items() if span[1] - span[0] < 15])
    label = name if name.startswith(("A Draft", "Section", "Drafts", "Thrones")) else f"the {name}"
    count = hi - lo + 1
    kind = rng.random()
    if kind < 0.45:
        return label, [(c, []) for c in range(lo, hi + 1)], ["section"]
    k = rng.randint(1, min(count, 5))
    group = name.replace("Section: ", "")
    if kind < 0.8:
        text = rng.choice([f"the {ordinal_words(k)} of the {group}", f"the {ordinal_words(k)} canto of {label}"])
        if name.endswith("Cantos") and not name.startswith("A Draft") and rng.random() < 0.5:
            text = f"the {ordinal_words(k)} {name[:-1]}"
        return text, [(lo + k - 1, [])], ["section", "ordinal"]
    return f"the last canto of {label}", [(hi, [])], ["section", "ordinal"]


REF_MAKERS = [ref_canto, ref_canto, ref_single_line, ref_range, ref_range, ref_range, ref_list,
              ref_from_end, ref_first_lines, ref_page, ref_section]


def bare_citation(rng):
    c = pick_canto(rng, True)
    r = to_roman(c)
    a = rng.randint(1, max_line(c) - 12)
    b = a + rng.randint(1, 11)
    forms = [
        (f"{r}:{a}-{b}", [(c, list(range(a, b + 1)))]),
        (f"{r}:ll.{a}-{b}", [(c, list(range(a, b + 1)))]),
        (f"{r}, ll.{a}, {a + 1}", [(c, [a, a + 1])]),
        (f"Canto {r}, l. {a}", [(c, [a])]),
        (f"({r}/{rng.randint(3, 800)})", [(c, [])]),
        (f"cf. {r}:{a}", [(c, [a])]),
        (f"C. {c}, ll. {a}-{b}", [(c, list(range(a, b + 1)))]),
    ]
    text, refs = rng.choice(forms)
    return text, refs, ["citation", "roman" if r in text else "arabic"]


# ---------------------------------------------------------------- hand-written frames
# One {ref}: scholarly prose.
PROSE_1 = [
    "Kenner's reading of {ref} stresses its sound over its argument.",
    "The shift from narrative to ideogram is already visible in {ref}.",
    "Critics have long disagreed about the speaker of {ref}.",
    "A draft of {ref} survives among the Beinecke papers with substantial cancellations.",
    "Terrell's Companion glosses the Greek of {ref} at some length.",
    "The periplum structure governs {ref}, where the eye moves coast by coast.",
    "It is in {ref} that the voice of the poem becomes most openly elegiac.",
    "Bacigalupo treats {ref} as a turning point in the sequence.",
    "The rhythm of {ref} owes more to Anglo-Saxon stress than to the pentameter.",
    "Several translators have stumbled over the Provencal phrases in {ref}.",
    "The documentary method is pushed to its limit in {ref}.",
    "My argument turns on a close reading of {ref}.",
    "Students often find {ref} the least forbidding place to begin.",
    "The ideogrammic juxtapositions of {ref} resist paraphrase.",
    "One hears the Pisan voice anticipated in {ref}.",
    "Pound revised {ref} twice before its first periodical printing.",
    "The typescript of {ref} shows the poet cutting whole paragraphs.",
    "An earlier version of {ref} appeared in a little magazine.",
    "Makin connects {ref} with the troubadour tradition.",
    "The landscape of {ref} is Mediterranean rather than English.",
    "The economics of {ref} are stated baldly, without ornament.",
    "A Confucian maxim anchors {ref}.",
    "Few passages in the poem are as quietly lyrical as {ref}.",
    "The Chinese characters printed beside {ref} were added late.",
    "Readers of {ref} should keep a classical dictionary to hand.",
    "The seminar spent an hour on {ref} without exhausting it.",
    "Eliot admired {ref} but doubted the whole design.",
    "The collage in {ref} sets a letter beside a ledger entry.",
    "In {ref} the gods appear without announcement.",
    "The metamorphosis motif returns in {ref}.",
    "Nothing in {ref} is invented; every phrase has a source.",
    "The syntax of {ref} breaks down under the weight of quotation.",
    "I quote {ref} from the New Directions text.",
    "Her essay reads {ref} against the Homeric hymns.",
    "The light imagery of {ref} recalls Grosseteste.",
    "Some editions misprint a word in {ref}.",
    "The sound of water runs through {ref}.",
    "The fragmentary close of {ref} has been taken as a confession of failure.",
    "Davie thought {ref} among the finest things Pound wrote.",
    "A recording of Pound reading {ref} survives from the late fifties.",
    "The cadence of {ref} slows almost to a halt.",
    "Compare the treatment of the same theme in {ref}.",
    "Pound's marginal note beside {ref} reads simply 'keep'.",
    "There is a sly joke buried in {ref}.",
    "The Venetian material in {ref} comes from the poet's own memory.",
    "Scholars still dispute the dating of {ref}.",
    "The catalogue of names in {ref} can overwhelm a first reader.",
    "The anger of {ref} is directed at the banks.",
    "The Adams material in {ref} is drawn almost verbatim from the letters.",
    "Translation is the subject as well as the method of {ref}.",
]

# One {ref}: questions a user might type.
QUESTIONS_1 = [
    "What is going on in {ref}?",
    "Can you explain {ref} to me?",
    "Who is speaking in {ref}?",
    "What sources did Pound use for {ref}?",
    "Where can I find a commentary on {ref}?",
    "Is there a good recording of {ref}?",
    "Why is {ref} so hard to follow?",
    "Could you summarize {ref} in plain English?",
    "What does the Greek in {ref} mean?",
    "How should I read {ref}?",
    "What is the historical background of {ref}?",
    "Which translation does Pound quote in {ref}?",
    "Please give me a short gloss of {ref}.",
    "Help me understand {ref}.",
    "Is {ref} about usury?",
    "Tell me about {ref}.",
    "How does {ref} fit into the whole poem?",
    "Any idea what the Chinese characters in {ref} say?",
    "What happens in {ref}, briefly?",
    "I am stuck on {ref} - any pointers?",
]

# Two references: {ref} then {ref2}, in text order.
PROSE_2 = [
    "The imagery of {ref} is taken up again in {ref2}.",
    "Compare {ref} with {ref2}.",
    "{ref} and {ref2} share a single source.",
    "The argument moves from {ref} to {ref2} without transition.",
    "Critics pair {ref} with {ref2} as the poem's two great elegies.",
    "What is the link between {ref} and {ref2}?",
    "Is {ref} answered by {ref2}?",
    "The same epithet occurs in {ref} and again in {ref2}.",
    "Pound wrote {ref} before {ref2}, though it was printed later.",
    "A reader who knows {ref} will recognise the echo in {ref2}.",
]

# Relative references: the second phrase resolves against the first (docs/labeling.md).
RELATIVE = [
    "The passage at {ref}, and the following {k} lines, rework a medieval chronicle.",
    "Read {ref} together with the next {k} lines.",
    "{ref} and the {k} lines that follow form one sentence.",
    "In {ref}, and in the {k} lines after it, the speaker changes.",
]

# Cantos of other poems, or other works: no reference to Pound's Cantos.
OTHER_POEMS = [
    "In Dante's Inferno, {o}, the lovers are swept by the wind.",
    "Purgatorio {o} is where Dante meets Arnaut Daniel.",
    "Byron wrote {o} of Don Juan in a single autumn.",
    "Book I, {o} of The Faerie Queene opens with the Redcrosse Knight.",
    "Ariosto's {o} sends Astolfo to the moon.",
    "The Paradiso's {o} is the canto of Cacciaguida.",
    "Tasso's {o} has a garden that Spenser imitated.",
    "Which is the best translation of Inferno {o}?",
    "Don Juan, {o}, stanza 12 is my favourite.",
    "Dante's {o} of the Inferno describes the wood of the suicides.",
]


def other_canto_phrase(rng):
    n = rng.randint(1, 34)
    return rng.choice([f"Canto {to_roman(n)}", f"canto {n}", f"Canto {n}"])


# No reference at all. Written by hand; each is a distinct sentence.
NO_REF = [
    "Pound arrived in London in 1908 with a few pounds and a book of poems.",
    "The Cantos as a whole resist any single thematic summary.",
    "The later cantos are more fragmentary than the early ones.",
    "Imagism was a movement of a few years, but its principles lasted.",
    "Pound's translations from the Chinese appeared in Cathay in 1915.",
    "Hugh Selwyn Mauberley is often read as a farewell to London.",
    "The poet spent thirteen years at St Elizabeths Hospital.",
    "Olga Rudge kept the poet's papers in order for decades.",
    "His economic views were shaped by Major Douglas and Social Credit.",
    "The trade through Canton shaped the fortunes of several American families.",
    "Canton was the only Chinese port open to Western merchants for much of the period.",
    "Her grandfather sailed to Canton in the tea trade.",
    "The poem was published in parts over half a century.",
    "Pound corresponded with hundreds of writers, editors and cranks.",
    "The modernist long poem has no settled form.",
    "Fenollosa's notes on the Chinese written character changed Pound's poetics.",
    "Readers new to Pound should start with the shorter poems.",
    "The Vorticists exhibited together only once or twice.",
    "What is the best biography of Ezra Pound?",
    "Is The Cantos worth reading in full?",
    "How long did Pound work on The Cantos?",
    "Who published the first collected edition of the poem?",
    "Did Pound ever finish his epic?",
    "What does 'make it new' actually mean?",
    "Where did Pound live in Italy?",
    "Why was Pound held at St Elizabeths?",
    "Which critics wrote most sympathetically about Pound?",
    "Can you recommend an introduction to modernist poetry?",
    "What is an ideogram in Pound's sense?",
    "How did Eliot edit The Waste Land with Pound's help?",
    "The Bollingen Prize controversy divided American letters.",
    "The manuscript collection is housed at Yale.",
    "Pound's prose criticism is uneven but often sharp.",
    "The ABC of Reading is a teaching book, not a theory.",
    "Provencal poetry gave Pound his model of the singing line.",
    "Rapallo became the poet's home between the wars.",
    "The radio broadcasts remain the most troubling part of the record.",
    "The poem's politics cannot be separated from its method.",
    "Later cantos in general abandon narrative altogether.",
    "The cantos Pound wrote late in life are full of light.",
    "A canto, in Italian, is simply a song.",
    "The word canto goes back to the Latin cantus.",
    "Modern long poems often borrow the canto as a unit.",
    "Pound admired Cavalcanti above most Italian poets.",
    "Gaudier-Brzeska died in the trenches in 1915.",
    "The Egoist published work by Joyce as well as Pound.",
    "Pound's letters are full of misspellings made on purpose.",
    "The Malatesta family ruled Rimini in the fifteenth century.",
    "Sigismondo built the Tempio as a monument to himself and Isotta.",
    "John Adams served as the second President of the United States.",
    "Confucius appears in many of Pound's prose works.",
    "The Pisan detention camp held American military prisoners.",
    "Mussolini's regime fell in 1943.",
    "The Chinese dynastic histories run to many volumes.",
    "Thomas Jefferson and John Adams corresponded for decades.",
    "Pound's Guide to Kulchur is an eccentric cultural history.",
    "The Spirit of Romance was Pound's first critical book.",
    "This paragraph discusses Pound's reception in France.",
    "Page 577 of the 1994 printing has a misprint.",
    "As Terrell notes (1994: 577), the source is obscure.",
    "See Carpenter (1988: 412) for the biographical details.",
    "The quotation is on p. 230 of the first edition.",
    "Bush (1976: 143) discusses the early drafts in detail.",
    "Cantos of the Divine Comedy are much shorter than Pound's.",
    "Dante's poem has one hundred cantos in all.",
    "Byron's cantos are made of ottava rima stanzas.",
    "The Faerie Queene divides each book into twelve cantos.",
    "Pound's Homage to Sextus Propertius angered classicists.",
    "Lustra contains some of his sharpest epigrams.",
    "Ripostes includes the translation of The Seafarer.",
    "The Seafarer is Pound's version of an Old English poem.",
    "Exile was the name of a magazine Pound edited.",
    "The Little Review printed Ulysses in instalments.",
    "Pound helped Joyce find patrons and publishers.",
    "Hemingway boxed with Pound in Paris.",
    "The Paris years were short but busy.",
    "H.D. was Pound's first serious reader.",
    "Yeats and Pound wintered together at Stone Cottage.",
    "Pound's music criticism appeared under a pseudonym.",
    "He wrote an opera about Villon.",
    "The poet's daughter translated the poem into Italian.",
    "Pound returned to Italy in 1958.",
    "His last years were largely silent.",
    "Critics disagree about whether the epic has a plot.",
    "The poem refuses to tell us how to read it.",
    "Documentary poetry borrowed heavily from Pound's example.",
    "Olson and Zukofsky both learned from Pound.",
    "The Objectivists took Pound's precision as a starting point.",
    "The poem's typography changed between editions.",
    "The collected edition adds a few late fragments.",
    "Did Pound read Chinese fluently?",
    "Is it true that Pound never visited China?",
    "What were the Pisan detention conditions like?",
    "How many cantos did Pound write?",
    "Who were the Vorticists?",
    "What did Pound think of Milton?",
    "Did Pound like Whitman?",
    "Why does Pound quote so much Greek?",
    "Where are Pound's papers kept?",
    "Is there an annotated edition of the poem?",
    "Give me a short biography of Pound.",
    "How did Pound meet Yeats?",
    "Which translation of Confucius did Pound make?",
    "Tell me about Social Credit.",
    "Explain Imagism in two sentences.",
    "The Canton Trade Fair is held twice a year.",
    "A canton is also an administrative district in Switzerland.",
    "The canton of Ticino borders Italy.",
    "She wrote her thesis on the later cantos.",
    "The early cantos are easier than the late ones.",
    "Most readers never get past the first few cantos.",
]

# Bare page citations and other numbers that are not references.
NO_REF_TEMPLATES = [
    "As Terrell notes ({y}: {p}), the source is a chronicle.",
    "See Carpenter ({y}: {p}).",
    "The passage is quoted in Kenner ({y}, p. {p}).",
    "Cf. Makin ({y}: {p}) on the troubadours.",
    "On p. {p} of the {y} edition the note is missing.",
    "Bacigalupo ({y}: {p}) disagrees.",
]


def make_refs(rng, n_refs_pool):
    return rng.choice(n_refs_pool)(rng)


def build_rows(rng: random.Random) -> list[dict]:
    rows: list[dict] = []

    def add(text, refs, tags):
        rows.append({"input": text, "output": {"references": [{"canto": c, "lines": ls} for c, ls in refs]},
                     "tags": sorted(set(tags))})

    for frame in PROSE_1:
        for _ in range(4):
            ref, refs, tags = rng.choice(REF_MAKERS)(rng)
            add(frame.format(ref=ref), refs, ["scholarly", *tags])
    for frame in QUESTIONS_1:
        for _ in range(6):
            ref, refs, tags = rng.choice(REF_MAKERS)(rng)
            add(frame.format(ref=ref), refs, ["question", *tags])
    for frame in PROSE_2:
        for _ in range(5):
            r1, refs1, t1 = rng.choice(REF_MAKERS)(rng)
            r2, refs2, t2 = rng.choice(REF_MAKERS)(rng)
            text = frame.format(ref=r1, ref2=r2)
            add(text[0].upper() + text[1:], refs1 + refs2,
                ["question" if text.endswith("?") else "scholarly", "multi", *t1, *t2])
    for frame in RELATIVE:
        for _ in range(6):
            while True:  # the following lines must exist too
                text, refs, tags = ref_range(rng)
                c, lines = refs[0]
                k = rng.randint(2, 5)
                if lines[-1] + k <= max_line(c):
                    break
            following = list(range(lines[-1] + 1, lines[-1] + k + 1))
            s = frame.format(ref=text, k=cardinal(k))
            add(s[0].upper() + s[1:], refs + [(c, following)], ["scholarly", "relative", *tags])
    for _ in range(70):
        text, refs, tags = bare_citation(rng)
        add(text, refs, tags)
    for frame in OTHER_POEMS:
        for _ in range(4):
            add(frame.format(o=other_canto_phrase(rng)), [], ["no_ref", "other_poem"])
    for sentence in NO_REF:
        add(sentence, [], ["no_ref", "question" if sentence.endswith("?") else "prose"])
    for frame in NO_REF_TEMPLATES:
        for _ in range(8):
            add(frame.format(y=rng.randint(1960, 2015), p=rng.randint(3, 700)), [], ["no_ref", "page_only"])
    # Mixed: a Pound reference beside another poem's canto.
    for _ in range(20):
        ref, refs, tags = rng.choice([ref_canto, ref_range, ref_single_line])(rng)
        other = rng.choice(["Inferno", "Purgatorio", "Paradiso"])
        text = rng.choice([
            f"Pound's {ref} rewrites {other} {to_roman(rng.randint(1, 33))}.",
            f"Behind {ref} stands {other} {rng.randint(1, 33)}, not Homer.",
        ])
        add(text, refs, ["scholarly", "other_poem", *tags])
    return rows


def split_rows(rows: list[dict], rng: random.Random) -> dict[str, list[dict]]:
    unique: dict[str, dict] = {}
    for row in rows:
        unique.setdefault(normalize(row["input"]), row)
    parts: dict[str, list[str]] = {split: [] for split in SPLITS}
    # Stratified on "has a reference" so every split keeps the same share of empty answers.
    for has_ref in (True, False):
        keys = sorted(k for k, r in unique.items() if bool(r["output"]["references"]) == has_ref)
        rng.shuffle(keys)
        cut1 = round(len(keys) * SPLITS["train"])
        cut2 = cut1 + round(len(keys) * SPLITS["valid"])
        parts["train"] += keys[:cut1]
        parts["valid"] += keys[cut1:cut2]
        parts["test"] += keys[cut2:]
    out = {}
    for split, ks in parts.items():
        rng.shuffle(ks)
        out[split] = [{"id": f"{split}-{i:04d}", **unique[k]} for i, k in enumerate(ks, 1)]
    return out


def render(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def counts_table(splits: dict[str, list[dict]]) -> str:
    """Markdown table of rows per tag and split, for the dataset card."""
    from collections import Counter

    per = {s: Counter(t for r in rows for t in r["tags"]) for s, rows in splits.items()}
    lines = ["| | " + " | ".join(splits) + " |", "|---|" + "---:|" * len(splits)]
    lines.append("| rows | " + " | ".join(str(len(r)) for r in splits.values()) + " |")
    empty = {s: sum(1 for r in rows if not r["output"]["references"]) for s, rows in splits.items()}
    lines.append("| no reference (share) | " + " | ".join(
        f"{empty[s]} ({empty[s] / len(rows):.0%})" for s, rows in splits.items()) + " |")
    for tag in sorted(set().union(*per.values())):
        lines.append(f"| tag `{tag}` | " + " | ".join(str(per[s][tag]) for s in splits) + " |")
    return "\n".join(lines) + "\n"


def card(splits: dict[str, list[dict]]) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    head, _, rest = text.partition("<!-- counts:start -->")
    _, _, tail = rest.partition("<!-- counts:end -->")
    return f"{head}<!-- counts:start -->\n{counts_table(splits)}<!-- counts:end -->{tail}"


def main(argv: list[str]) -> int:
    rng = random.Random(SEED)
    splits = split_rows(build_rows(rng), rng)
    stale = []
    outputs = {ROOT / f"{split}.jsonl": render(rows) for split, rows in splits.items()}
    outputs[ROOT / "README.md"] = card(splits)
    for path, text in outputs.items():
        if "--check" in argv:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print("out of date (run python datasets/cantos/build.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
