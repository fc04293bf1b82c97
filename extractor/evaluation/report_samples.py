"""The per-sample comparison view of report.html: one row per sample, one coloured cell per variant.

Python builds a compact JSON payload (embedded in the page in a ``<script type="application/json">``
tag) and a small script renders it: rows in pages of 100, filters (data file, tag, outcome of any or
one variant, variants that disagree, a chosen pair that differs), the state in the URL hash
(``report.html#data=test&pair=adapter-hf,merged-gguf&open=test/ID``), and a click on a row opens
gold against every variant's prediction and the text a model invented after its answer
highlighted. For Cantos the answers are references by canto, missing and extra lines marked; for
any other task (``kind: "fields"``) they are the answer's leaves (``fields.leaves``), one line per
field path, a path marked missing, extra, different or near by the task's own leaf comparison
(``fields.compare`` with its options, the counts ``FileTask.score`` already made).

Two cells *differ* when their outcome, their ending or their (canonical) answer differ; the
"variants disagree" filter and the pair filter both use that definition (``cells_differ``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from . import fields
from .generation import ran_on
from .report_samples_page import CSS, JS  # noqa: F401 - report_html puts them in the page
from .sample_record import SampleRecord
from .sample_record import records as as_records
from .tasks.cantos import to_sample
from .tasks.cantos.schema import canonical, parse, references_from_json

# How a generation ended: (key, label, colour), in the order the endings chart stacks them.
ENDINGS = [
    ("clean", "clean stop", "#2e8b57"),
    ("trailing_text", "trailing text", "#e9c46a"),
    ("chained_turn", "chained turn", "#f08a3c"),
    ("runaway", "runaway (token limit or loop)", "#c0392b"),
    ("cut_off", "cut off", "#8e5ea2"),
    ("invalid", "invalid", "#5b7db1"),
    ("no_json", "no JSON", "#9e9e9e"),
    ("error", "error", "#333333"),
]
# The outcome of one sample: (key, label, colour, symbol).
OUTCOMES = [
    ("exact", "exact, clean stop", "#2e8b57", "✓"),
    ("runs_on", "exact, no clean stop", "#e9c46a", "✓…"),
    ("wrong", "valid but wrong", "#d1495b", "✗"),
    ("invalid", "no valid answer", "#8e5ea2", "∅"),
    ("error", "error", "#333333", "!"),
]
# How a field path of a prediction compares with the gold's (a task other than Cantos); "same"
# paths are left out of the payload.
MARKS = ["same", "missing", "extra", "different", "near"]
RAW_CHARS = 600
INPUT_CHARS = 400


def ending(r: SampleRecord | Mapping, parsed=None) -> str:
    """One ending per record: error, then the parser's failures, then runaway for a valid answer that
    went on to the token limit (or into a loop), then what followed the answer. ``r``: a record, or any mapping with
    its ``raw``, ``finish_reason`` and ``error`` (a SampleRecord is one)."""
    if r.get("finish_reason") == "error" or r.get("error"):
        return "error"
    p = parsed or parse(r["raw"])
    if p.status in ("cut_off", "invalid", "no_json"):
        return p.status
    if ran_on(r.get("finish_reason")):
        return "runaway"
    return p.status


def outcome(r: SampleRecord | Mapping, sample) -> str:
    """The outcome (``OUTCOMES``) of a record (or a mapping with its ``finish_reason`` and ``error``)
    and its Sample (any task's: its ``exact`` and ``clean_stop``)."""
    if r.get("finish_reason") == "error" or r.get("error"):
        return "error"
    if not sample.parsed.valid:
        return "invalid"
    if not sample.exact:
        return "wrong"
    return "exact" if sample.clean_stop else "runs_on"


def _refs(refs) -> list:
    return [[r.canto, list(r.lines)] for r in canonical(list(refs))]


def _gold(r: SampleRecord) -> list:
    try:
        return _refs(references_from_json({"references": r.gold}))
    except ValueError:
        return []


def _grouped(value) -> dict[str, list]:
    """Field path -> the values of its leaves, paths in the order they first appear."""
    out: dict[str, list] = {}
    for path, v in fields.leaves(value):
        out.setdefault(path, []).append(v)
    return out


def field_entries(gold, pred, options: fields.FieldOptions = fields.FieldOptions(), counts: dict | None = None) -> list:
    """``[path, predicted values, mark]`` (``MARKS``) for every field path whose leaves in ``pred``
    are not the gold's: *missing* (gold leaves no predicted leaf matches), *extra* (predicted leaves
    matching no gold leaf), *different* (both: a wrong value), *near* (every leaf matches under the
    options' tolerance, yet the canonical values differ, so the answer is not exact). Gold paths
    first, then paths only the prediction has. ``counts``: ``fields.compare(gold, pred, options)``
    when the caller already has it (a ``FieldScore``'s ``by_field``)."""
    counts = fields.compare(gold, pred, options) if counts is None else counts
    g, p = _grouped(gold), _grouped(pred)
    out = []
    for path in list(g) + [k for k in p if k not in g]:
        c = counts.get(path) or fields.Counts()
        if c.missing or c.extra:
            mark = 3 if c.missing and c.extra else (1 if c.missing else 2)
        elif sorted(fields.canonical_json(v, options) for v in g.get(path, [])) != \
                sorted(fields.canonical_json(v, options) for v in p.get(path, [])):
            mark = 4
        else:
            continue
        out.append([path, p.get(path, []), mark])
    return out


def _field_answer(task, r: SampleRecord, s) -> list | None:
    if not s.parsed.valid:
        return None
    result = s.result if isinstance(s.result, fields.FieldScore) and s.result.valid else None
    return field_entries(r.gold, s.parsed.value, getattr(task, "options", fields.FieldOptions()),
                         None if result is None else result.by_field)


def payload(records: "list[SampleRecord]", variants: list[str], task=None) -> dict:
    """The page's sample data: rows keyed by (data, id), a cell per variant; raw outputs are kept
    (shortened, stored once when several variants wrote the same text) only where the answer is not
    exact with a clean stop. ``records``: SampleRecords or their JSON objects. ``task``: the
    report's Task (None: cantos); any task but Cantos gets ``kind: "fields"``: gold as
    ``[path, [values]]`` and a prediction as its ``field_entries`` (None: no valid answer)."""
    cantos = task is None or getattr(task, "name", None) == "cantos"
    data_names, tag_names, strings, string_ix = [], [], [], {}
    rows: dict[tuple[str, str], list] = {}
    vix = {v: i for i, v in enumerate(variants)}
    oix = {k: i for i, (k, *_) in enumerate(OUTCOMES)}
    eix = {k: i for i, (k, *_) in enumerate(ENDINGS)}
    for r in as_records(records):
        if r.variant not in vix:
            continue
        if r.data not in data_names:
            data_names.append(r.data)
        key = (r.data, r.id)
        if key not in rows:
            tags = []
            for t in r.tags:
                if t not in tag_names:
                    tag_names.append(t)
                tags.append(tag_names.index(t))
            text = r.input
            text = text if len(text) <= INPUT_CHARS else text[:INPUT_CHARS] + "…"
            gold = _gold(r) if cantos else [[p, vs] for p, vs in _grouped(r.gold).items()]
            rows[key] = [data_names.index(r.data), r.id, text, tags, gold, [None] * len(variants)]
        s = to_sample(r) if cantos else task.score(r)
        o, e = outcome(r, s), ending(r, s.parsed)
        cell = [oix[o], eix[e]]
        if o != "exact":
            raw = r.raw or (r.error or "")
            cut = len(raw) - len(s.parsed.rest) if s.parsed.json_text and s.parsed.rest.strip() and e != "clean" else -1
            short = raw if len(raw) <= RAW_CHARS else raw[:RAW_CHARS] + f"… ({len(raw) - RAW_CHARS} more characters)"
            if short not in string_ix:
                string_ix[short] = len(strings)
                strings.append(short)
            if cantos:
                answer = _refs(s.parsed.references) if s.parsed.valid else None
            else:
                answer = _field_answer(task, r, s)
            cell += [answer, string_ix[short], cut if cut < RAW_CHARS else RAW_CHARS]
        rows[key][5][vix[r.variant]] = cell
    out = {"kind": "cantos" if cantos else "fields", "variants": variants, "data": data_names, "tags": tag_names,
           "outcomes": [list(o) for o in OUTCOMES], "endings": [list(e) for e in ENDINGS],
           "strings": strings, "rows": list(rows.values())}
    return out if cantos else {**out, "marks": MARKS}


def cells_differ(a: list | None, b: list | None) -> bool:
    """The definition the page's filters use (for tests and for anyone reading the page's data)."""
    if a is None or b is None:
        return False
    answer = (lambda c: c[2] if c[0] != 0 and len(c) > 2 else "gold")
    return a[0] != b[0] or a[1] != b[1] or answer(a) != answer(b)


def section(data: dict) -> str:
    """The comparison view: its controls, an empty table the script fills, the data and the script."""
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    legend = "".join(f'<span class="o o{i}">{sym}</span> {label} &nbsp; ' for i, (_, label, _, sym) in enumerate(OUTCOMES))
    return f"""<section id="samples"><h2>Every sample, every variant</h2>
<p class="meta">One row per sample, one cell per variant, coloured by outcome: {legend}
Click a row to see gold against each prediction. The view is in the address (after #), so a link shows it.</p>
<div class="filters">
<label>data <select id="f-data"><option value="">all</option></select></label>
<label>tag <select id="f-tag"><option value="">any</option></select></label>
<label>outcome <select id="f-outcome"><option value="">any</option></select></label>
<label>of <select id="f-of"><option value="">any variant</option></select></label>
<label><input type="checkbox" id="f-disagree"> variants disagree</label>
<label>pair <select id="f-pa"><option value="">-</option></select> vs <select id="f-pb"><option value="">-</option></select> differ</label>
<button type="button" id="f-reset">reset</button>
<span id="count" class="count"></span>
</div>
<table id="sample-table" class="samples"><thead><tr><th class="sid">sample</th><th class="sinput">input</th></tr></thead>
<tbody id="sample-rows"></tbody></table>
<button type="button" id="more" hidden>show more</button>
<script type="application/json" id="samples-data">{blob}</script>
<noscript><p>The per-sample view needs JavaScript; every sample is in samples.jsonl.</p></noscript>
</section>"""
