"""The pieces of report.html without a browser: how endings are classified, the two charts, the
per-sample payload and its 'differ' rule, and the terminal view (verdict first, intervals)."""

import io
import json
import re

import pytest

from extractor import charts, report, report_html, report_samples
from extractor.report_samples import cells_differ, ending, payload

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
    ('{"references": [{"canto": 9, "lines": [1, 2, 3', "length", None, "cut_off"),
    ('{"references": [{"canto": "IX", "lines": []}]}', "stop", None, "invalid"),
    ("Canto nine, lines one and two", "stop", None, "no_json"),
    ("", "error", "ValueError: context", "error"),
])
def test_every_record_has_one_ending(raw, finish, error, expected):
    assert ending({"raw": raw, "finish_reason": finish, "error": error}) == expected


def test_endings_chart_stacks_the_shares_of_each_variant():
    svg = charts.endings_chart([("a", {"clean": 3, "runaway": 1}), ("b", {"no_json": 4})], report_samples.ENDINGS, "t")
    segs = re.findall(r'data-ending="(\w+)" x="[\d.]+" y="\d+" width="([\d.]+)"', svg)
    assert [k for k, _ in segs] == ["clean", "runaway", "no_json"]
    widths = [float(w) for _, w in segs]
    assert widths[0] == pytest.approx(3 * widths[1]) and widths[2] == pytest.approx(widths[0] + widths[1])
    assert "a: runaway (token limit) 1 of 4 (25.0%)" in svg and svg.startswith("<svg") and 'width="900"' in svg


def test_scatter_uses_a_log_scale_only_for_a_wide_spread_and_draws_the_rules_as_a_line():
    pts = [{"name": "merged-gguf", "exact": 0.7, "lo": 0.6, "hi": 0.8, "seconds": 0.25, "size": 145_000_000},
           {"name": "adapter-hf", "exact": 0.72, "lo": 0.62, "hi": 0.8, "seconds": 1.1, "size": None}]
    svg = charts.accuracy_latency_chart(pts, "t", {"name": "rules", "exact": 0.9})
    assert "(log scale)" not in svg and svg.count('<g class="point"') == 2
    assert "merged-gguf  0.700, 0.25 s, 145 MB" in svg and "rules: 0.900 (baseline, no model)" in svg
    wide = charts.accuracy_latency_chart(pts + [{"name": "base", "exact": 0.0, "lo": 0.0, "hi": 0.02, "seconds": 30.0}], "t")
    assert "(log scale)" in wide


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
    assert rows["r2"][5][1][2] == [[9, [1, 2, 3]]]  # canonical prediction
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
    report.print_table(rep, Console(file=buf, width=200, force_terminal=False))
    text = buf.getvalue()
    assert text.startswith("test: nothing to ship. no artefact passes the gates: merged-gguf: clean_stop 0.900 < 0.95")
    assert "exact [95% CI]" in text and "1.000 [0.93, 1.00]" in text


def test_the_html_table_fits_and_marks_the_gated_variant(scored):
    rep, records = scored
    page = report_html.render_html(rep, records)
    assert page.index('id="verdict"') < page.index('class="comparison"') < page.index('class="chart endings"')
    assert '<tr class="gated" title="fails the gates: clean_stop 0.900 &lt; 0.95">' in page
    assert "<small>0.93–1.00</small>" in page and "max-width:1300px" in page
