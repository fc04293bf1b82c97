"""The per-sample comparison view of report.html: one row per sample, one coloured cell per variant.

Python builds a compact JSON payload (embedded in the page in a ``<script type="application/json">``
tag) and a small script renders it: rows in pages of 100, filters (data file, tag, outcome of any or
one variant, variants that disagree, a chosen pair that differs), the state in the URL hash
(``report.html#data=test&pair=adapter-hf,merged-gguf&open=test/ID``), and a click on a row opens
gold against every variant's prediction, missing and extra references marked, and the text a
model invented after its answer highlighted.

Two cells *differ* when their outcome, their ending or their (canonical) answer differ; the
"variants disagree" filter and the pair filter both use that definition (``cells_differ``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from .sample_record import SampleRecord
from .sample_record import records as as_records
from .tasks.cantos import to_sample
from .tasks.cantos.metrics import is_exact, stopped_cleanly
from .tasks.cantos.schema import canonical, parse, references_from_json

# How a generation ended: (key, label, colour), in the order the endings chart stacks them.
ENDINGS = [
    ("clean", "clean stop", "#2e8b57"),
    ("trailing_text", "trailing text", "#e9c46a"),
    ("chained_turn", "chained turn", "#f08a3c"),
    ("runaway", "runaway (token limit)", "#c0392b"),
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
RAW_CHARS = 600
INPUT_CHARS = 400


def ending(r: SampleRecord | Mapping, parsed=None) -> str:
    """One ending per record: error, then the parser's failures, then runaway for a valid answer that
    went on to the token limit, then what followed the answer. ``r``: a record, or any mapping with
    its ``raw``, ``finish_reason`` and ``error`` (a SampleRecord is one)."""
    if r.get("finish_reason") == "error" or r.get("error"):
        return "error"
    p = parsed or parse(r["raw"])
    if p.status in ("cut_off", "invalid", "no_json"):
        return p.status
    if r.get("finish_reason") == "length":
        return "runaway"
    return p.status


def outcome(r: SampleRecord | Mapping, sample) -> str:
    """The outcome (``OUTCOMES``) of a record (or a mapping with its ``finish_reason`` and ``error``)
    and its Sample."""
    if r.get("finish_reason") == "error" or r.get("error"):
        return "error"
    if not sample.parsed.valid:
        return "invalid"
    if not is_exact(sample):
        return "wrong"
    return "exact" if stopped_cleanly(sample) else "runs_on"


def _refs(refs) -> list:
    return [[r.canto, list(r.lines)] for r in canonical(list(refs))]


def _gold(r: SampleRecord) -> list:
    try:
        return _refs(references_from_json({"references": r.gold}))
    except ValueError:
        return []


def payload(records: "list[SampleRecord]", variants: list[str]) -> dict:
    """The page's sample data: rows keyed by (data, id), a cell per variant; raw outputs are kept
    (shortened, stored once when several variants wrote the same text) only where the answer is not
    exact with a clean stop. ``records``: SampleRecords or their JSON objects."""
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
            rows[key] = [data_names.index(r.data), r.id, text, tags, _gold(r), [None] * len(variants)]
        s = to_sample(r)
        o, e = outcome(r, s), ending(r, s.parsed)
        cell = [oix[o], eix[e]]
        if o != "exact":
            raw = r.raw or (r.error or "")
            cut = len(raw) - len(s.parsed.rest) if s.parsed.json_text and s.parsed.rest.strip() and e != "clean" else -1
            short = raw if len(raw) <= RAW_CHARS else raw[:RAW_CHARS] + f"… ({len(raw) - RAW_CHARS} more characters)"
            if short not in string_ix:
                string_ix[short] = len(strings)
                strings.append(short)
            cell += [_refs(s.parsed.references) if s.parsed.valid else None, string_ix[short], cut if cut < RAW_CHARS else RAW_CHARS]
        rows[key][5][vix[r.variant]] = cell
    return {"variants": variants, "data": data_names, "tags": tag_names,
            "outcomes": [list(o) for o in OUTCOMES], "endings": [list(e) for e in ENDINGS],
            "strings": strings, "rows": list(rows.values())}


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


CSS = """
.filters{display:flex;flex-wrap:wrap;gap:6px 14px;align-items:center;margin:8px 0;padding:8px;background:#f6f7f9;border:1px solid #e1e4e8}
.filters select{max-width:190px}.count{font-weight:600;margin-left:auto}
table.samples{table-layout:fixed;width:100%;border-collapse:collapse}
table.samples td,table.samples th{border:1px solid #e3e3e3;padding:2px 4px;text-align:left;vertical-align:top}
table.samples th.v{width:30px;height:128px;vertical-align:bottom;padding:2px 0}
table.samples th.v span{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;font-weight:500;font-size:12px;display:inline-block;margin:0 auto}
table.samples .sid{width:150px;font-size:12px;color:#555;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
table.samples .sinput{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
tr.srow{cursor:pointer}tr.srow:hover td:not(.c){background:#f3f7ff}tr.srow.open td:not(.c){background:#dce8ff;font-weight:600}
td.c{text-align:center!important;font-size:12px;color:#fff;padding:2px 0!important}
.o{display:inline-block;min-width:18px;text-align:center;color:#fff;border-radius:3px;padding:0 3px;font-size:12px}
.o0,td.o0{background:#2e8b57}.o1,td.o1{background:#e9c46a;color:#222}.o2,td.o2{background:#d1495b}
.o3,td.o3{background:#8e5ea2}.o4,td.o4{background:#333}td.none{background:#fafafa}
tr.sdetail td{background:#fcfcfc;padding:8px 12px}
.detail table{width:100%;table-layout:auto;border-collapse:collapse;margin:6px 0}
.detail td,.detail th{border:1px solid #e3e3e3;padding:3px 6px;text-align:left;vertical-align:top}
.detail td:nth-child(1){width:170px;white-space:nowrap}.detail td:nth-child(2){width:175px;white-space:nowrap}.detail td:nth-child(3){width:150px}.detail td:nth-child(4){width:240px}
.detail pre{white-space:pre-wrap;word-break:break-word;margin:0;font-size:12px;background:#f6f6f6;padding:3px}
del.missing{background:#ffe0e0;color:#a00;text-decoration:line-through}ins.extra{background:#fff1c2;color:#7a5200;text-decoration:underline}
mark.invented{background:#ffc9c9}
"""

JS = r"""
(function () {
  var el = document.getElementById('samples-data');
  if (!el) return;
  var D = JSON.parse(el.textContent), V = D.variants, PAGE = 100, limit = PAGE;
  var S = {data: '', tag: '', outcome: '', of: '', disagree: false, pa: '', pb: '', open: ''};
  function $(id) { return document.getElementById(id); }
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]; }); }
  function fill(id, values, labels) {
    var s = $(id);
    values.forEach(function (v, i) { var o = document.createElement('option'); o.value = v; o.textContent = labels ? labels[i] : v; s.appendChild(o); });
  }
  fill('f-data', D.data); fill('f-tag', D.tags.slice().sort());
  fill('f-outcome', D.outcomes.map(function (o) { return o[0]; }), D.outcomes.map(function (o) { return o[1]; }));
  fill('f-of', V); fill('f-pa', V); fill('f-pb', V);
  var head = $('sample-table').tHead.rows[0];
  V.forEach(function (v) { var th = document.createElement('th'); th.className = 'v'; th.title = v; th.innerHTML = '<span>' + esc(v) + '</span>'; head.appendChild(th); });
  function key(r) { return D.data[r[0]] + '/' + r[1]; }
  function answer(c) { return c[0] !== 0 && c.length > 2 ? JSON.stringify(c[2]) : 'gold'; }
  function differ(a, b) { return !!(a && b) && (a[0] !== b[0] || a[1] !== b[1] || answer(a) !== answer(b)); }
  function disagree(cells) {
    var seen = cells.filter(function (c) { return c; });
    for (var i = 1; i < seen.length; i++) if (differ(seen[0], seen[i])) return true;
    return false;
  }
  function matches(r) {
    if (S.data && D.data[r[0]] !== S.data) return false;
    if (S.tag && r[3].map(function (t) { return D.tags[t]; }).indexOf(S.tag) < 0) return false;
    if (S.outcome) {
      var oi = D.outcomes.map(function (o) { return o[0]; }).indexOf(S.outcome);
      var cells = S.of ? [r[5][V.indexOf(S.of)]] : r[5];
      if (!cells.some(function (c) { return c && c[0] === oi; })) return false;
    }
    if (S.disagree && !disagree(r[5])) return false;
    if (S.pa && S.pb && S.pa !== S.pb && !differ(r[5][V.indexOf(S.pa)], r[5][V.indexOf(S.pb)])) return false;
    return true;
  }
  function ranges(lines) {
    var out = [], i = 0;
    while (i < lines.length) {
      var j = i; while (j + 1 < lines.length && lines[j + 1].n === lines[j].n + 1 && lines[j + 1].k === lines[i].k) j++;
      var t = lines[i].n + (j > i ? '–' + lines[j].n : '');
      out.push(lines[i].k ? '<' + lines[i].k + ' class="' + (lines[i].k === 'del' ? 'missing' : 'extra') + '">' + t + '</' + lines[i].k + '>' : t);
      i = j + 1;
    }
    return out.join(', ');
  }
  // gold and pred are canonical [[canto, [lines]]]; pred null: no valid answer.
  function refs(gold, pred, mark) {
    if (pred === null) return '<i>no valid answer</i>';
    var g = {}, p = {}, cantos = [];
    gold.forEach(function (r) { g[r[0]] = r[1]; cantos.push(r[0]); });
    pred.forEach(function (r) { p[r[0]] = r[1]; if (!(r[0] in g)) cantos.push(r[0]); });
    cantos.sort(function (a, b) { return a - b; });
    if (!cantos.length) return '<i>no references</i>';
    return cantos.map(function (c) {
      var inG = c in g, inP = c in p, all = {}, ls = [];
      (g[c] || []).forEach(function (n) { all[n] = 1; }); (p[c] || []).forEach(function (n) { all[n] = 1; });
      Object.keys(all).map(Number).sort(function (a, b) { return a - b; }).forEach(function (n) {
        var ing = inG && g[c].indexOf(n) >= 0, inp = inP && p[c].indexOf(n) >= 0;
        ls.push({n: n, k: !mark || (ing && inp) ? '' : (ing ? 'del' : 'ins')});
      });
      var body = 'Canto ' + c + (ls.length ? ': ll. ' + ranges(ls) : '');
      if (mark && !inP) return '<del class="missing" title="missing from the prediction">' + body + '</del>';
      if (mark && !inG) return '<ins class="extra" title="not in gold">' + body + '</ins>';
      return body;
    }).join('; ');
  }
  function raw(c) {
    var s = D.strings[c[3]], cut = c[4];
    if (cut < 0) return esc(s);
    return esc(s.slice(0, cut)) + '<mark class="invented" title="invented after the answer">' + esc(s.slice(cut)) + '</mark>';
  }
  function detail(r) {
    var h = '<div class="detail"><div><b>' + esc(key(r)) + '</b>' + (r[3].length ? ' · tags: ' + r[3].map(function (t) { return esc(D.tags[t]); }).join(', ') : '') +
      '</div><div>' + esc(r[2]) + '</div><div class="gold"><b>gold:</b> ' + refs(r[4], r[4], false) + '</div>' +
      '<table><thead><tr><th>variant</th><th>outcome</th><th>ending</th><th>prediction (<del class="missing">missing</del>, <ins class="extra">extra</ins>)</th><th>raw output (<mark class="invented">invented</mark>)</th></tr></thead><tbody>';
    V.forEach(function (v, i) {
      var c = r[5][i];
      if (!c) return;
      var o = D.outcomes[c[0]];
      h += '<tr><td>' + esc(v) + '</td><td><span class="o o' + c[0] + '">' + o[3] + '</span> ' + esc(o[1]) + '</td><td>' + esc(D.endings[c[1]][1]) +
        '</td><td>' + (c[0] === 0 || c.length < 3 ? refs(r[4], r[4], false) : refs(r[4], c[2], true)) + '</td><td>' + (c.length > 3 ? '<pre>' + raw(c) + '</pre>' : '') + '</td></tr>';
    });
    return h + '</tbody></table></div>';
  }
  function writeHash() {
    var parts = [];
    ['data', 'tag', 'outcome', 'of'].forEach(function (k) { if (S[k]) parts.push(k + '=' + encodeURIComponent(S[k])); });
    if (S.disagree) parts.push('disagree=1');
    if (S.pa && S.pb) parts.push('pair=' + encodeURIComponent(S.pa) + ',' + encodeURIComponent(S.pb));
    if (S.open) parts.push('open=' + encodeURIComponent(S.open));
    var h = parts.length ? '#' + parts.join('&') : ' ';
    if (location.hash !== h) history.replaceState(null, '', h === ' ' ? location.pathname + location.search : h);
  }
  function readHash() {
    S = {data: '', tag: '', outcome: '', of: '', disagree: false, pa: '', pb: '', open: ''};
    location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
      if (!kv) return;
      var i = kv.indexOf('='), k = kv.slice(0, i < 0 ? kv.length : i), v = i < 0 ? '' : decodeURIComponent(kv.slice(i + 1));
      if (k === 'pair') { var p = v.split(','); S.pa = p[0] || ''; S.pb = p[1] || ''; }
      else if (k === 'disagree') S.disagree = v !== '0';
      else if (k in S) S[k] = v;
    });
    $('f-data').value = S.data; $('f-tag').value = S.tag; $('f-outcome').value = S.outcome; $('f-of').value = S.of;
    $('f-disagree').checked = S.disagree; $('f-pa').value = S.pa; $('f-pb').value = S.pb;
  }
  function render() {
    var shown = D.rows.filter(matches), n = shown.length, html = [];
    if (S.open) {
      var at = shown.map(key).indexOf(S.open);
      if (at >= limit) limit = at + 1;
    }
    shown.slice(0, limit).forEach(function (r) {
      var k = key(r), open = k === S.open;
      html.push('<tr class="srow' + (open ? ' open' : '') + '" data-key="' + esc(k) + '"><td class="sid" title="' + esc(k) + '">' + esc(k) +
        '</td><td class="sinput" title="' + esc(r[2]) + '">' + esc(r[2]) + '</td>' + r[5].map(function (c, i) {
          return c ? '<td class="c o' + c[0] + '" title="' + esc(V[i] + ': ' + D.outcomes[c[0]][1] + ', ' + D.endings[c[1]][1]) + '">' + D.outcomes[c[0]][3] + '</td>' : '<td class="c none"></td>';
        }).join('') + '</tr>');
      if (open) html.push('<tr class="sdetail"><td colspan="' + (V.length + 2) + '">' + detail(r) + '</td></tr>');
    });
    $('sample-rows').innerHTML = html.join('');
    $('count').textContent = 'showing ' + Math.min(n, limit) + ' of ' + n + ' matching samples (' + D.rows.length + ' in all)';
    $('count').dataset.matching = n;
    var more = $('more'); more.hidden = n <= limit; more.textContent = 'show ' + Math.min(PAGE, n - limit) + ' more';
    writeHash();
  }
  function changed() {
    S.data = $('f-data').value; S.tag = $('f-tag').value; S.outcome = $('f-outcome').value; S.of = $('f-of').value;
    S.disagree = $('f-disagree').checked; S.pa = $('f-pa').value; S.pb = $('f-pb').value; limit = PAGE; render();
  }
  ['f-data', 'f-tag', 'f-outcome', 'f-of', 'f-disagree', 'f-pa', 'f-pb'].forEach(function (id) { $(id).addEventListener('change', changed); });
  $('f-reset').addEventListener('click', function () { history.replaceState(null, '', location.pathname + location.search); readHash(); limit = PAGE; render(); });
  $('more').addEventListener('click', function () { limit += PAGE; render(); });
  $('sample-rows').addEventListener('click', function (e) {
    var tr = e.target.closest('tr.srow');
    if (!tr) return;
    S.open = S.open === tr.dataset.key ? '' : tr.dataset.key; render();
  });
  window.addEventListener('hashchange', function () { readHash(); render(); });
  readHash(); render();
  if (S.open) { var o = document.querySelector('tr.srow.open'); if (o) o.scrollIntoView({block: 'start'}); }
})();
"""
