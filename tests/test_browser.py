"""report.html in a real browser: headless Chromium loads a report with a view set in the URL hash
(data file, a pair of variants that differ, an opened sample), the probe then picks an outcome in
a filter the way a person would, and we check what a person would see: the verdict, the number of
matching rows the data implies, the opened sample's gold and marked prediction, no console
errors, no sideways scrolling at 1366 px; and the two screenshots of `make screenshots` are taken.
The per-sample view's own controls (the decision split as the default data filter, search, sort,
the side-by-side pair and its diff, the JSONL and CSV downloads, the state restored from the hash)
are driven on a page of that view alone.

`make test` (so CI) and `make browser-test` install Debian's chromium where none is found and
apt-get runs as root; where that cannot be done, make prints a warning and these tests are skipped,
the summary saying why and what to do."""

import json
import re
import subprocess

import pytest

from extractor.evaluation import report, report_screens
from extractor.evaluation.report_screens import chromium_args, find_chromium
from test_report_html import invoice_report  # noqa: F401 - a fixture: a file-defined task's report

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=(
    "NOT RUN: no chromium binary (chromium, chromium-browser, google-chrome or $CHROMIUM), so report.html "
    "was not checked in a browser. `make test` installs Debian's chromium where apt-get runs as root (its "
    "warning above says why it could not); else apt-get install chromium, or set CHROMIUM=/path/to/chromium"))

# Injected first in <head> of a copy: records errors and console.error calls, and once the page's
# own script has rendered, acts (choose outcome "valid but wrong" of merged-gguf) and writes what
# is visible into the DOM we dump.
PROBE = """<script>window.__errs=[];addEventListener('error',function(e){__errs.push(String(e.message))});
var _ce=console.error;console.error=function(){__errs.push([].join.call(arguments,' '));_ce.apply(console,arguments)};
addEventListener('load',function(){setTimeout(function(){
function vis(el){var r=el.getBoundingClientRect(),s=getComputedStyle(el);return r.width>0&&r.height>0&&s.visibility!=='hidden'&&s.display!=='none'}
function q(s){return document.querySelector(s)}
var seen={verdict:[].map.call(document.querySelectorAll('#verdict .what'),function(e){return e.textContent}),
 matching:+q('#count').dataset.matching,rows:[].filter.call(document.querySelectorAll('tr.srow'),vis).length,
 open:(q('tr.srow.open')||{}).dataset, detail:q('tr.sdetail')?q('tr.sdetail').innerText:'',
 missing:[].map.call(document.querySelectorAll('tr.sdetail tbody del.missing'),function(e){return e.textContent}),
 extra:[].map.call(document.querySelectorAll('tr.sdetail tbody ins.extra'),function(e){return e.textContent}),
 invented:[].map.call(document.querySelectorAll('tr.sdetail tbody mark.invented'),function(e){return e.textContent}),
 tables:[].filter.call(document.querySelectorAll('table.comparison.decision'),vis).length,
 charts:[].filter.call(document.querySelectorAll('svg.chart'),vis).length,
 segments:document.querySelectorAll('svg.endings rect.seg').length,
 points:document.querySelectorAll('svg.scatter g.point').length,
 page_width:document.documentElement.scrollWidth};
var o=q('#f-outcome');o.value='wrong';o.dispatchEvent(new Event('change'));
var of=q('#f-of');of.value='merged-gguf';of.dispatchEvent(new Event('change'));
seen.wrong_matching=+q('#count').dataset.matching;seen.hash=location.hash;seen.errors=__errs;
var p=document.createElement('pre');p.id='probe';p.textContent=JSON.stringify(seen);document.body.appendChild(p)},0)});</script>"""

GOLD = [{"canto": 9, "lines": [1, 2]}]


def rec(variant, i, raw, data="test", finish="stop", tags=("lines",)):
    return {"data": data, "variant": variant, "id": f"r{i:02d}", "tags": list(tags), "input": f"Canto IX, ll. 1-2 (row {i})",
            "gold": GOLD, "raw": raw, "finish_reason": finish, "seconds": {"rules": 0.001}.get(variant, 0.4), "gen_tokens": 10}


def records():
    right = json.dumps({"references": GOLD})
    wrong = json.dumps({"references": [{"canto": 9, "lines": [2, 3]}, {"canto": 12, "lines": []}]})
    out = []
    for data, n in (("test", 30), ("valid", 10)):
        for i in range(n):
            tags = ("lines", "multi") if i % 3 == 0 else ("lines",)
            out.append(rec("rules", i, right, data, tags=tags))
            out.append(rec("adapter-hf", i, right if i >= 4 else wrong, data, tags=tags))
            # merged-gguf differs from adapter-hf on rows 0-1 (right where it is wrong) and 4-9 (wrong,
            # row 5 running on with an invented question); rows 2-3 are wrong in both, the same way.
            if i in (0, 1):
                raw, finish = right, "stop"
            elif i == 5:
                raw, finish = wrong + "\n### Question: and Canto XII?", "length"
            elif i < 10:
                raw, finish = wrong, "stop"
            else:
                raw, finish = right, "stop"
            out.append(rec("merged-gguf", i, raw, data, finish, tags=tags))
    return out


def run_chromium(args, timeout=120):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def test_report_html_in_headless_chromium(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records()))
    rep = report.write_reports(out)
    page = (out / "report.html").read_text()
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("<head>", "<head>" + PROBE, 1))
    view = "#data=test&pair=adapter-hf,merged-gguf&open=test/r05"
    r = run_chromium(chromium_args(CHROMIUM, 1366, 1000) + ["--enable-logging=stderr", "--v=0", "--dump-dom",
                                                              probed.as_uri() + view])
    m = re.search(r'<pre id="probe">(.*?)</pre>', r.stdout, re.S)
    assert m, f"the page did not finish loading:\n{r.stderr[-2000:]}"
    seen = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))
    console_errors = [line for line in r.stderr.splitlines() if "CONSOLE" in line and ("Uncaught" in line or "rror" in line)]
    assert seen["errors"] == [] and console_errors == []

    # The verdict as report.json has it: on test adapter-hf ships (merged-gguf is less exact on 6 of 30
    # rows and runs away on one); the rule's reasons are there too.
    # One headline, on the decision split; the other split is a confirmation line under it.
    from extractor.evaluation.report_text import head_line, headline
    assert seen["verdict"] == [head_line(*headline(rep))] and "ship adapter-hf" in seen["verdict"][0]
    # Filtered by the hash: test rows where the pair differ are 0, 1 and 4-9 (2-3: the same wrong answer).
    assert seen["matching"] == 8 and seen["rows"] == 8
    assert seen["open"] == {"key": "test/r05"}
    assert re.search(r"gold:\s*Canto 9: ll\.\s*1–2", seen["detail"])  # label and value are two elements
    assert "1" in seen["missing"] and "3" in seen["extra"] and "Canto 12" in seen["extra"]
    assert seen["invented"] and seen["invented"][0].strip() == "### Question: and Canto XII?"
    # A filter chosen in the page: merged-gguf valid but wrong, within the pair filter: rows 4-9.
    assert seen["wrong_matching"] == 6
    assert "outcome=wrong" in seen["hash"] and "of=merged-gguf" in seen["hash"]
    # Charts and tables are laid out; nothing forces sideways scrolling at 1366 px.
    assert seen["tables"] == len(rep["metrics"]) and seen["charts"] == 2 * len(rep["metrics"])
    assert seen["points"] == 2 * len(rep["metrics"])  # adapter-hf and merged-gguf; the rules are a line
    assert seen["segments"] >= 3 * len(rep["metrics"])
    assert seen["page_width"] <= 1366

    # The screenshots `make screenshots` takes (the top of the page; the per-sample view with a pair
    # filter and a sample opened, through the hash) are real pictures, not blank pages.
    for png in report_screens.screenshots(out / "report.html", tmp_path / "img"):
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[16:24] == (1366).to_bytes(4, "big") + (1100).to_bytes(4, "big")
        assert len(data) > 20_000, f"{png.name} looks blank ({len(data)} bytes)"  # a blank page is a few kB


def test_a_file_task_row_opens_to_its_marked_field_paths(tmp_path, invoice_report):
    """The same view for a task other than Cantos: an opened row lists gold and each prediction by
    field path; a dropped item is struck out, a near total is marked, the invented turn highlighted."""
    _, page, _ = invoice_report
    probe = ("<script>addEventListener('load',function(){setTimeout(function(){function t(s){return [].map.call("
             "document.querySelectorAll('tr.sdetail tbody '+s),function(e){return e.textContent})}"
             "var p=document.createElement('pre');p.id='probe';p.textContent=JSON.stringify({missing:t('del.missing'),"
             "changed:t('ins.changed'),extra:t('ins.extra'),invented:t('mark.invented'),paths:t('.path')});"
             "document.body.appendChild(p)},0)});</script>")
    seen = {}
    for row in ("i1", "i2"):
        f = tmp_path / f"{row}.html"
        f.write_text(page.replace("<head>", "<head>" + probe, 1))
        r = run_chromium(chromium_args(CHROMIUM, 1366, 1000) + ["--dump-dom", f.as_uri() + "#open=test/" + row])
        m = re.search(r'<pre id="probe">(.*?)</pre>', r.stdout, re.S)
        assert m, f"the page did not finish loading:\n{r.stderr[-2000:]}"
        seen[row] = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))
    assert seen["i1"]["changed"] == ["1, 3"] and seen["i1"]["invented"] == ["\n### Question: next?"]
    assert seen["i2"]["changed"] == ["9.991"] and seen["i2"]["missing"] == ['"EF-3"', "3"]
    assert seen["i2"]["paths"][:4] == ["number", "total", "items[].sku", "items[].qty"]


# The per-sample view's own controls, on a page of just that view (report_samples' section, CSS and
# script) whose payload names "test" as the decision split: the default data filter, the search, the
# sort, the side-by-side pair with its diff, the downloads (read back through window.__lastDownload),
# and an output with markup that must stay text. The download link's click is counted, not followed
# (a real download would leave a file behind and can keep headless Chromium from exiting).
VIEW_PROBE = """<script>window.__errs=[];addEventListener('error',function(e){__errs.push(String(e.message))});
HTMLAnchorElement.prototype.click=function(){window.__clicks=(window.__clicks||[]).concat([this.download+' '+this.href.slice(0,5)])};
addEventListener('load',function(){setTimeout(function(){
function q(s){return document.querySelector(s)}function all(s){return [].map.call(document.querySelectorAll(s),function(e){return e.textContent})}
function set(id,v){var e=q('#'+id);if(e.type==='search'){e.value=v;e.dispatchEvent(new Event('input'))}else{e.value=v;e.dispatchEvent(new Event('change'))}}
function n(){return +q('#count').dataset.matching}function keys(){return [].map.call(document.querySelectorAll('tr.srow'),function(e){return e.dataset.key})}
var s={data:q('#f-data').value,initial:n(),hash0:location.hash};
set('f-data','');s.all=n();s.hash_all=location.hash;set('f-data','test');s.hash_back=location.hash;
set('f-q','QUESTION xii');s.search=keys();s.hash_q=location.hash;set('f-q','r30-');s.search_id=keys();set('f-q','');
var sid=q('th[data-sort=id]');sid.click();s.id_asc=keys()[0];sid.click();s.id_desc=keys()[0];s.aria=sid.getAttribute('aria-sort');
q('th[data-sort="v:merged-gguf"] span').click();s.v_asc=keys().slice(0,2);q('th[data-sort="v:merged-gguf"]').click();s.v_desc=keys().slice(0,2);
set('f-sa','adapter-hf');set('f-sb','merged-gguf');s.pairs=document.querySelectorAll('tr.spair').length;
var r5=q('tr.srow[data-key="test/r05"]').nextElementSibling;s.del=all('tr.srow[data-key="test/r05"]+tr.spair del.da');
s.ins=all('tr.srow[data-key="test/r05"]+tr.spair ins.db');s.pair_text=r5.innerText;
s.img=document.querySelectorAll('#sample-rows img').length;s.pwned=!!window.__pwned;s.hash=location.hash;
var t=q('tr.srow td.sid');s.sid={text:t.textContent,fits:t.scrollWidth<=t.clientWidth+1};
q('#dl-jsonl').click();s.jsonl=window.__lastDownload;q('#dl-csv').click();s.csv=window.__lastDownload;s.clicks=window.__clicks;s.errors=__errs;
var p=document.createElement('pre');p.id='probe';p.textContent=JSON.stringify(s);document.body.appendChild(p)},0)});</script>"""
LONG_ID = "r30-" + "x" * 60


def view_page(tmp_path):
    from extractor.evaluation.report_samples import payload, section
    from extractor.evaluation.report_samples_page import CSS, JS
    from helpers import CANTOS
    recs = records() + [rec(v, 30, raw, "test") | {"id": LONG_ID} for v, raw in (
        ("rules", json.dumps({"references": GOLD})), ("adapter-hf", json.dumps({"references": GOLD})),
        ("merged-gguf", '<img src=x onerror="window.__pwned=1"> "quoted", and more'))]
    data = payload(recs, ["rules", "adapter-hf", "merged-gguf"], CANTOS, decision="test")
    page = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><style>{CSS}</style></head><body>'
            f"{section(data)}<script>{JS}</script></body></html>")
    f = tmp_path / "view.html"
    f.write_text(page.replace("<head>", "<head>" + VIEW_PROBE, 1))
    return f


def probe(url):
    r = run_chromium(chromium_args(CHROMIUM, 1366, 1000) + ["--dump-dom", url])
    m = re.search(r'<pre id="probe">(.*?)</pre>', r.stdout, re.S)
    assert m, f"the page did not finish loading:\n{r.stderr[-2000:]}"
    return json.loads(m.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))


def test_search_sort_side_by_side_and_downloads_in_headless_chromium(tmp_path):
    import csv
    import io
    seen = probe(view_page(tmp_path).as_uri())
    assert seen["errors"] == []
    # The decision split is the default (and, being the default, not written in the hash); "all" is one choice away.
    assert seen["data"] == "test" and seen["initial"] == 31 and seen["hash0"] == ""
    assert seen["all"] == 41 and seen["hash_all"] == "#data=*" and seen["hash_back"] == ""
    # Search: every word, any case, in the id, input or an output (row 5's invented question).
    assert seen["search"] == ["test/r05"] and seen["hash_q"] == "#q=QUESTION%20xii"
    assert seen["search_id"] == ["test/" + LONG_ID]
    # Sort by id (numeric-aware), then reversed; by a variant's outcome: exact first, then worst first.
    assert seen["id_asc"] == "test/r00" and seen["id_desc"] == "test/" + LONG_ID and seen["aria"] == "descending"
    assert seen["v_asc"] == ["test/r00", "test/r01"] and seen["v_desc"] == ["test/" + LONG_ID, "test/r05"]
    # Side by side: a pair row under every row, the words only one side has marked, markup kept as text.
    assert seen["pairs"] == 31
    assert any("Question" in t for t in seen["ins"]) and any("12" in t for t in seen["ins"]) and seen["del"]
    assert "adapter-hf" in seen["pair_text"] and "### Question: and Canto XII?" in seen["pair_text"]
    assert seen["img"] == 0 and seen["pwned"] is False
    assert "sort=-v%3Amerged-gguf" in seen["hash"] and "side=adapter-hf,merged-gguf" in seen["hash"]
    # Full ids: the first row (sorted last by merged-gguf) is the long id, whole and wrapped inside its cell.
    assert seen["sid"] == {"text": "test/" + LONG_ID, "fits": True}
    # Downloads: the 31 matching rows in the shown order, as JSONL and as quoted CSV.
    jl, cs = seen["jsonl"], seen["csv"]
    assert seen["clicks"] == [f"{jl['name']} blob:", f"{cs['name']} blob:"]  # each offered as a file from a Blob
    assert jl["name"].endswith(".jsonl") and cs["name"].endswith(".csv") and cs["type"].startswith("text/csv")
    lines = [json.loads(x) for x in jl["text"].splitlines()]
    assert len(lines) == 31 and [x["id"] for x in lines[:2]] == [LONG_ID, "r05"]
    assert lines[1]["variants"]["merged-gguf"] == {"outcome": "wrong", "ending": "runaway", "output": json.dumps(
        {"references": [{"canto": 9, "lines": [2, 3]}, {"canto": 12, "lines": []}]}) + "\n### Question: and Canto XII?"}
    assert lines[1]["gold"] == "Canto 9: ll. 1–2" and lines[1]["input"] == "Canto IX, ll. 1-2 (row 5)"
    table = list(csv.reader(io.StringIO(cs["text"], newline="")))
    assert table[0][:5] == ["data", "id", "tags", "input", "gold"] and "merged-gguf output" in table[0]
    assert len(table) == 32 and all(len(row) == len(table[0]) for row in table)
    out = table[0].index("merged-gguf output")
    assert table[1][out] == lines[0]["variants"]["merged-gguf"]["output"]  # quotes, commas and markup round-trip
    assert table[2][out] == lines[1]["variants"]["merged-gguf"]["output"]  # and a newline


def test_the_view_is_restored_from_the_hash(tmp_path):
    seen = probe(view_page(tmp_path).as_uri() + "#q=question&data=*&sort=-id&side=adapter-hf,merged-gguf")
    assert seen["errors"] == [] and seen["data"] == "" and seen["initial"] == 2  # test/r05 and valid/r05
    assert seen["hash0"] == "#q=question&data=*&sort=-id&side=adapter-hf,merged-gguf"
