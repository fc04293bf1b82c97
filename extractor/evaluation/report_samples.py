"""The per-sample comparison view of report.html: one row per sample, one coloured cell per variant.

Python builds a compact JSON payload (embedded in the page in a ``<script type="application/json">``
tag) and a small script (``report_samples_page``) renders it: rows in pages of 100; filters (data
file, defaulting to the suite's decision split; tag; outcome of any or one variant; variants that
disagree; a chosen pair that differs); a text search over id, input and outputs; a sort on any
column; a side-by-side view of two variants' outputs with their differences marked; downloads of
the matching rows as JSONL or CSV; the state in the URL hash
(``report.html#data=test&pair=adapter-hf,merged-gguf&q=question&sort=-id&side=a,b&open=test/ID``).
A click on a row opens gold against every variant's prediction and the text a model invented after
its answer highlighted. Answers are shown as the task's display rows (``Task.show``,
``core.display``): a field path per row for a JSON answer, a canto per row for Cantos; missing,
extra, different and near pieces marked.

Two cells *differ* when their outcome, their ending or their (canonical) answer differ; the
"variants disagree" filter and the pair filter both use that definition (``cells_differ``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ..core.display import MARKS
from ..core.generation import ran_on
from ..core.sample_record import SampleRecord
from ..core.sample_record import records as as_records
from ..core.task import Task
from .report_samples_page import CSS, JS  # noqa: F401 - report_html puts them in the page

# How a generation ended: (key, label, colour), in the order the endings chart stacks them.
ENDINGS = [
    ("clean", "clean stop", "#2e8b57"),
    ("trailing_text", "trailing text", "#e9c46a"),
    ("chained_turn", "chained turn", "#f08a3c"),
    ("runaway", "runaway", "#c0392b"),
    ("no_answer", "no valid answer", "#8e5ea2"),
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
RAW_CHARS = 600
INPUT_CHARS = 400


def ending(r: SampleRecord | Mapping, parsed) -> str:
    """One ending per record: error, then the parser's failures, then runaway for a valid answer that
    went on to the token limit (or into a loop), then what followed the answer. ``r``: a record, or
    any mapping with its ``finish_reason`` and ``error`` (a SampleRecord is one); ``parsed``: the
    task's parse of its raw output."""
    if r.get("finish_reason") == "error" or r.get("error"):
        return "error"
    p = parsed
    if ran_on(r.get("finish_reason")):  # the table's runaway: JSON cut off by the limit is one too
        return "runaway"
    if p.status in ("cut_off", "invalid", "no_json"):
        return "no_answer"
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


def shorten(text: str, n: int) -> str:
    """``text`` cut to ``n`` characters, saying how many more there were."""
    return text if len(text) <= n else text[:n] + f"… ({len(text) - n} more characters)"


def _intern(text: str, table: list[str], ix: dict[str, int]) -> int:
    short = shorten(text, RAW_CHARS)
    if short not in ix:
        ix[short] = len(table)
        table.append(short)
    return ix[short]


def payload(records: "list[SampleRecord]", variants: list[str], task: Task, decision: str | None = None) -> dict:
    """The page's sample data: rows keyed by (data, id), a cell per variant. A row is
    ``[data index, id, input (shortened), tag indices, gold, cells, exact outputs]``; a cell is
    ``[outcome, ending]``, followed by ``[answer, string index, cut]`` where the answer is not exact
    with a clean stop (its raw output in ``strings``, shortened, stored once when several variants
    wrote the same text; ``cut``: where the invented text starts, -1 for none). The raw outputs of
    exact cells, which only the side-by-side view shows, are in ``exact`` (the row's last item: an
    index per variant, None for the others). ``records``: SampleRecords or their JSON objects. Gold
    and answers are the task's display rows (``Task.show_gold``, ``Task.show``; an answer that is
    not valid: None). ``decision``: report.json's decision split, the data filter's default when
    it is one of the data files (else the filter starts at "all")."""
    data_names, tag_names, strings, string_ix, exact, exact_ix = [], [], [], {}, [], {}
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
            rows[key] = [data_names.index(r.data), r.id, text, tags, task.show_gold(r.gold), [None] * len(variants),
                         [None] * len(variants)]
        s = task.score(r)
        o, e = outcome(r, s), ending(r, s.parsed)
        cell = [oix[o], eix[e]]
        if o != "exact":
            raw = r.raw or (r.error or "")
            cut = len(raw) - len(s.parsed.rest) if s.parsed.json_text and s.parsed.rest.strip() and e != "clean" else -1
            answer = task.show(r.gold, s.parsed.value) if s.parsed.valid else None
            cell += [answer, _intern(raw, strings, string_ix), cut if cut < RAW_CHARS else RAW_CHARS]
        else:
            rows[key][6][vix[r.variant]] = _intern(r.raw, exact, exact_ix)
        rows[key][5][vix[r.variant]] = cell
    return {"variants": variants, "data": data_names, "tags": tag_names, "marks": list(MARKS),
            "outcomes": [list(o) for o in OUTCOMES], "endings": [list(e) for e in ENDINGS],
            "strings": strings, "exact": exact, "rows": list(rows.values()),
            "decision": decision if decision in data_names else None}


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
Click a row to see gold against each prediction, a column's head to sort by it (again to reverse). The view is in the
address (after #), so a link shows it. Texts are shortened here; samples.jsonl has them whole.</p>
<div class="filters">
<label>search <input type="search" id="f-q" placeholder="id, input or output" size="18"></label>
<label>data <select id="f-data"><option value="">all</option></select></label>
<label>tag <select id="f-tag"><option value="">any</option></select></label>
<label>outcome <select id="f-outcome"><option value="">any</option></select></label>
<label>of <select id="f-of"><option value="">any variant</option></select></label>
<label><input type="checkbox" id="f-disagree"> variants disagree</label>
<label>pair <select id="f-pa"><option value="">-</option></select> vs <select id="f-pb"><option value="">-</option></select> differ</label>
<label>side by side <select id="f-sa"><option value="">-</option></select> and <select id="f-sb"><option value="">-</option></select></label>
<button type="button" id="f-reset">reset</button>
<span class="dl">download <button type="button" id="dl-jsonl">JSONL</button> <button type="button" id="dl-csv">CSV</button></span>
<span id="count" class="count"></span>
</div>
<table id="sample-table" class="samples"><thead><tr><th class="sid" data-sort="id" tabindex="0">sample</th>\
<th class="sinput" data-sort="input" tabindex="0">input</th></tr></thead>
<tbody id="sample-rows"></tbody></table>
<button type="button" id="more" hidden>show more</button>
<script type="application/json" id="samples-data">{blob}</script>
<noscript><p>The per-sample view needs JavaScript; every sample is in samples.jsonl.</p></noscript>
</section>"""
