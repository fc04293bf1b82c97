"""The pieces of report.html without a browser: how endings are classified, the two charts, the
per-sample payload and its 'differ' rule, and the terminal view (verdict first, intervals)."""

import io
import json
import re

import pytest

from extractor.evaluation import charts, report, report_html, report_samples
from extractor.evaluation.report_samples import cells_differ, ending
from extractor.evaluation.report_text import print_table
from helpers import CANTOS


def payload(records, variants, task=CANTOS):
    return report_samples.payload(records, variants, task)

GOLD = [{"canto": 9, "lines": [1, 2]}]
RIGHT = json.dumps({"references": GOLD})


def rec(variant, i, raw, finish="stop", data="test", error=None, seconds=0.5):
    return {"data": data, "variant": variant, "id": f"r{i}", "tags": ["t"], "input": "x" * (10 + i), "gold": GOLD,
            "raw": raw, "finish_reason": finish, "seconds": seconds, "gen_tokens": 5, "error": error}


@pytest.mark.parametrize("raw,finish,error,expected", [
    (RIGHT, "stop", None, "clean"),
    (RIGHT + "<|im_end|>", "stop", None, "clean"),
    (RIGHT + " This is canto nine.", "stop", None, "trailing_text"),
    (RIGHT + "\n### Question: next?", "stop", None, "chained_turn"),
    (RIGHT + "\n### Question: next? " * 9, "length", None, "runaway"),
    ('{"references": [{"canto": 9, "lines": [1, 2, 3', "length", None, "runaway"),  # cut off by the limit
    ('{"references": [{"canto": 9, "lines": [1, 2, 3', "stop", None, "no_answer"),  # ended its turn mid-JSON
    ('{"references": [{"canto": "IX", "lines": []}]}', "stop", None, "no_answer"),
    ("Canto nine, lines one and two", "stop", None, "no_answer"),
    ("", "error", "ValueError: context", "error"),
])
def test_every_record_has_one_ending(raw, finish, error, expected):
    assert ending({"raw": raw, "finish_reason": finish, "error": error}, CANTOS.parse_answer(raw)) == expected


def test_endings_chart_stacks_the_shares_of_each_variant():
    svg = charts.endings_chart([("a", {"clean": 3, "runaway": 1}), ("b", {"no_answer": 4})], report_samples.ENDINGS, "t")
    segs = re.findall(r'data-ending="(\w+)" x="[\d.]+" y="\d+" width="([\d.]+)"', svg)
    assert [k for k, _ in segs] == ["clean", "runaway", "no_answer"]
    widths = [float(w) for _, w in segs]
    assert widths[0] == pytest.approx(3 * widths[1]) and widths[2] == pytest.approx(widths[0] + widths[1])
    assert "a: runaway 1 of 4 (25.0%)" in svg and svg.startswith("<svg") and 'width="900"' in svg


def test_scatter_uses_a_log_scale_only_for_a_wide_spread_and_draws_the_rules_as_a_line():
    pts = [{"name": "merged-gguf", "exact": 0.7, "lo": 0.6, "hi": 0.8, "seconds": 0.25, "size": 145_000_000},
           {"name": "adapter-hf", "exact": 0.72, "lo": 0.62, "hi": 0.8, "seconds": 1.1, "size": None}]
    svg = charts.accuracy_latency_chart(pts, "t", {"name": "rules", "exact": 0.9})
    assert "(log scale)" not in svg and svg.count('<g class="point"') == 2
    assert "rules: 0.900 (baseline, no model)" in svg
    assert "<td>merged-gguf</td><td>0.700</td><td>0.25</td><td>145 MB</td>" in charts.legend(pts)
    wide = charts.accuracy_latency_chart(pts + [{"name": "base", "exact": 0.0, "lo": 0.0, "hi": 0.02, "seconds": 30.0}], "t")
    assert "(log scale)" in wide


def test_scatter_numbers_a_cluster_of_points_without_overlap_inside_the_frame():
    """Six artefacts within 0.1 s and 0.01 exact of each other (the default report's trained rows),
    one at the frame's corner: every number is inside the plot and no two numbers overlap."""
    import re
    pts = [{"name": f"v{i}", "exact": 0.71 + 0.002 * i, "lo": 0.65, "hi": 0.77, "seconds": 0.07 + 0.01 * i}
           for i in range(6)] + [{"name": "slow", "exact": 0.0, "lo": 0.0, "hi": 0.01, "seconds": 0.5}]
    svg = charts.accuracy_latency_chart(pts, "t")
    frame = re.search(r'<rect x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"', svg).groups()
    x0, y0, w, h = map(float, frame)
    spots = [(float(x), float(y) - 4) for x, y in re.findall(r'<text class="label" x="([\d.]+)" y="([\d.]+)"', svg)]
    assert len(spots) == 7
    assert all(x0 < x < x0 + w and y0 < y < y0 + h for x, y in spots)
    assert all(abs(a[0] - b[0]) >= 16 or abs(a[1] - b[1]) >= 14 for i, a in enumerate(spots) for b in spots[i + 1:])


def test_payload_keeps_raw_text_only_where_needed_and_marks_the_invented_part():
    records = [rec("a", 0, RIGHT), rec("b", 0, RIGHT),
               rec("a", 1, RIGHT + "\n### Question: and?"), rec("b", 1, RIGHT + "\n### Question: and?"),
               rec("a", 2, RIGHT), rec("b", 2, json.dumps({"references": [{"canto": 9, "lines": [2, 1, 3]}]})),
               rec("a", 3, "x" * 2000, "length"), rec("b", 3, "", "error", error="boom")]
    data = payload(records, ["a", "b"])
    rows = {r[1]: r for r in data["rows"]}
    assert rows["r0"][5] == [[0, 0], [0, 0]]  # exact, clean: no text kept
    a1, b1 = rows["r1"][5]
    assert a1[3] == b1[3] and len(data["strings"]) == 4  # identical outputs stored once; an error keeps its message
    assert data["strings"][a1[3]][a1[4]:] == "\n### Question: and?"
    assert rows["r2"][5][1][2] == [["Canto 9: ll.", [["1–2", 0], ["3", 2]], 0]]  # canonical prediction, 3 extra
    assert len(data["strings"][rows["r3"][5][0][3]]) < 700 and rows["r3"][5][0][4] == -1
    assert [data["outcomes"][c[0]][0] for c in rows["r3"][5]] == ["invalid", "error"]
    assert not cells_differ(*rows["r0"][5]) and not cells_differ(*rows["r1"][5])
    assert cells_differ(*rows["r2"][5]) and cells_differ(*rows["r3"][5])
    blob = report_samples.section(data)
    assert "</script>" not in blob.split('id="samples-data">', 1)[1].split("</script>", 1)[0]


def test_payload_escapes_markup_in_inputs():
    data = payload([rec("a", 0, "</script><b>")], ["a"])
    html = report_samples.section(data)
    inner = html.split('id="samples-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in inner and json.loads(inner)["strings"] == ["</script><b>"]


@pytest.fixture
def scored(tmp_path):
    records = ([rec("merged-gguf", i, RIGHT if i < 45 else RIGHT + " and more", seconds=0.2) for i in range(50)]
               + [rec("rules", i, RIGHT, seconds=0.001) for i in range(50)])
    (tmp_path / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return report.score(tmp_path), records


def test_terminal_prints_the_verdict_first_with_intervals(scored):
    from rich.console import Console

    rep, _ = scored
    buf = io.StringIO()
    print_table(rep, CANTOS, Console(file=buf, width=200, force_terminal=False))
    text = buf.getvalue()
    assert text.startswith("test: nothing to ship. closest: merged-gguf: clean stop 0.900, needs 0.95.")
    assert "exact [95% CI]" in text and "1.000 [0.93, 1.00]" in text


def test_a_row_with_another_rows_outputs_is_folded_everywhere_but_never_the_shipped_one(tmp_path):
    """merged-gguf+grammar repeats merged-gguf on every row: one line in both tables, no column in the
    per-tag table, no bar; adapter-gguf differs on one row and keeps its figures."""
    from extractor.evaluation.report_text import render_md

    merged = [rec("merged-gguf", i, RIGHT, seconds=0.2) for i in range(40)]
    records = (merged + [dict(r, variant="merged-gguf+grammar", seconds=0.0) for r in merged]
               + [rec("adapter-gguf", i, RIGHT if i else RIGHT + " and more", seconds=0.9) for i in range(40)])
    (tmp_path / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    rep = report.score(tmp_path)
    assert rep["verdict"]["data"]["test"]["ship"] == "merged-gguf"
    assert rep["same_outputs"] == {"test": {"merged-gguf+grammar": {"as": "merged-gguf", "n": 40}}}
    md = render_md(rep, CANTOS)
    assert md.count("| merged-gguf+grammar | same outputs as merged-gguf (40/40) |") == 2  # decision + every metric
    tag_head = next(line for line in md.splitlines() if line.startswith("| tag |"))
    assert "merged-gguf+grammar" not in tag_head and "adapter-gguf" in tag_head
    page = report_html.render_html(rep, report.as_records(records), CANTOS)
    assert page.count("same outputs as merged-gguf (40/40)") >= 1 and 'title="merged-gguf+grammar"' not in page
    # the shipped artefact is never folded into an earlier twin
    assert report.same_outputs(report.as_records(records), ["merged-gguf", "merged-gguf+grammar"],
                               {"merged-gguf"}) == {"test": {"merged-gguf+grammar": {"as": "merged-gguf", "n": 40}}}
    assert report.same_outputs(report.as_records(records), ["merged-gguf+grammar", "merged-gguf"],
                               {"merged-gguf"}) == {}


def test_the_html_table_fits_and_marks_the_gated_variant(scored):
    rep, records = scored
    page = report_html.render_html(rep, records, CANTOS)
    assert page.index('id="verdict"') < page.index('class="comparison decision"') < page.index('class="chart endings"')
    assert '<tr class="gated" title="fails the gates: clean stop 0.900, needs 0.95">' in page
    assert "<small>0.93–1.00</small>" in page and "max-width:1300px" in page


# ----------------------------------------------------------------------------- a task other than Cantos
INVOICE_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["number", "total", "items"],
    "properties": {
        "number": {"type": "string"}, "total": {"type": "number"},
        "items": {"type": "array", "items": {"type": "object", "additionalProperties": False, "required": ["sku", "qty"],
                                             "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}}}},
    },
}
INVOICE_TOML = 'name = "invoices"\nsystem = "Extract the invoice as JSON."\n[metrics]\nfold_case = true\nabs_tol = 0.01\n' \
               'keys = {"items[]" = ["sku"]}\n'
INVOICES = [  # (id, gold, variant a's output, variant b's output)
    ("i1", {"number": "7", "total": 12.5, "items": [{"sku": "AB-1", "qty": 1}, {"sku": "CD-2", "qty": 2}]},
     '{"number": "7", "total": 12.5, "items": [{"sku": "cd-2", "qty": 2}, {"sku": "AB-1", "qty": 1}]}',
     '{"number": "7", "total": 12.5, "items": [{"sku": "AB-1", "qty": 1}, {"sku": "CD-2", "qty": 3}]}\n### Question: next?'),
    ("i2", {"number": "X9", "total": 9.99, "items": [{"sku": "EF-3", "qty": 3}]},
     '{"number": "X9", "total": 9.991, "items": [{"sku": "EF-3", "qty": 3}]}',
     '{"number": "X9", "total": 9.99, "items": []}'),
    ("i3", {"number": "<12>", "total": 20, "items": []},
     '{"number": "<12>", "total": "20", "items": []}',
     '{"number": "<12>", "total": 20, "items": [{"sku": "</script><b>&", "qty": 1}]}'),
]


@pytest.fixture
def invoice_report(tmp_path):
    """A scored report of a file-defined task written from sample records alone (no model, no eval)."""
    from extractor.core.sample_record import SampleRecord, Writer

    task_dir = tmp_path / "invoices"
    task_dir.mkdir()
    (task_dir / "task.toml").write_text(INVOICE_TOML)
    (task_dir / "schema.json").write_text(json.dumps(INVOICE_SCHEMA))
    out = tmp_path / "out"
    out.mkdir()
    (out / "eval.json").write_text(json.dumps({"task": "invoices", "task_source": str(task_dir), "variants": ["a", "b"]}))
    with Writer(out / "samples.jsonl") as w:
        for i, gold, *raws in INVOICES:
            for variant, raw in zip("ab", raws):
                w.append(SampleRecord(data="test", variant=variant, id=i, tags=("inv",), input=f"Invoice {i}", gold=gold,
                                      raw=raw, finish_reason="stop", seconds=0.1, gen_tokens=9))
    rep = report.write_reports(out)
    page = (out / "report.html").read_text()
    blob = page.split('<script type="application/json" id="samples-data">', 1)[1].split("</script>", 1)[0]
    return rep, page, blob


def test_the_per_sample_view_of_a_file_task_marks_each_field_path(invoice_report):
    rep, page, blob = invoice_report
    assert rep["task"] == "invoices" and 'id="sample-table"' in page and "samples.jsonl.</p></section>" not in page
    assert "<" not in blob  # every value is escaped in the embedded JSON; the script escapes what it draws
    data = json.loads(blob)
    assert data["variants"] == ["a", "b"]
    marks, outcomes, endings = data["marks"], [o[0] for o in data["outcomes"]], [e[0] for e in data["endings"]]
    rows = {r[1]: r for r in data["rows"]}

    def changed(shown):
        """The rows that are not the gold's: [label, piece texts, mark]."""
        return [[label, [t for t, _ in pieces], marks[m]] for label, pieces, m in shown if m != 0]

    # gold: one line per field path, the values of its leaves
    assert [[label, [t for t, _ in pieces]] for label, pieces, _ in rows["i1"][4]] == [
        ["number", ['"7"']], ["total", ["12.5"]], ["items[].sku", ['"AB-1", "CD-2"']], ["items[].qty", ["1, 2"]]]
    assert [r[0] for r in rows["i3"][4]] == ["number", "total"]  # an empty array has no leaves

    def cell(i, v):
        c = rows[i][5]["ab".index(v)]
        return outcomes[c[0]], endings[c[1]], (c[2] if len(c) > 2 else "exact"), c

    # a: exact up to case and item order; b: a wrong quantity, then an invented turn (highlighted)
    assert cell("i1", "a")[:3] == ("exact", "clean", "exact")
    o, e, shown, c = cell("i1", "b")
    assert (o, e) == ("wrong", "chained_turn") and changed(shown) == [["items[].qty", ["1, 3", "gold: 1, 2"], "different"]]
    assert data["strings"][c[3]][c[4]:] == "\n### Question: next?"
    # a: the total matches within abs_tol but is not exact (near); b: the items are missing
    assert changed(cell("i2", "a")[2]) == [["total", ["9.991", "gold: 9.99"], "near"]]
    assert changed(cell("i2", "b")[2]) == [["items[].sku", ['"EF-3"'], "missing"], ["items[].qty", ["3"], "missing"]]
    # a: no valid answer (the total is a string); b: an item gold does not have (extra), markup kept as text
    assert cell("i3", "a")[:3] == ("invalid", "no_answer", None)
    assert changed(cell("i3", "b")[2]) == [["items[].sku", ['"</script><b>&"'], "extra"], ["items[].qty", ["1"], "extra"]]
    assert all(cells_differ(*r[5]) for r in data["rows"])


def test_a_cantos_answer_shows_by_canto_with_its_lines_as_ranges():
    data = payload([rec("a", 0, RIGHT), rec("a", 1, json.dumps({"references": [{"canto": 9, "lines": [1]}]}))], ["a"])
    assert data["rows"][0][4] == [["Canto 9: ll.", [["1–2", 0]], 0]]
    assert data["rows"][1][5][0][2] == [["Canto 9: ll.", [["1", 0], ["2", 1]], 0]]  # line 2 missing
