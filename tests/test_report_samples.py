"""The Python side of report.html's per-sample view (``report_samples``): the payload's decision
split (the data filter's default), the raw outputs of exact cells (for the side-by-side view and the
search) kept apart from the others, and the controls the page's script expects. The script itself
is driven in headless Chromium by test_browser.py."""

import json

from extractor.evaluation import report_samples
from extractor.evaluation.report_samples_page import CSS, JS
from helpers import CANTOS

GOLD = [{"canto": 9, "lines": [1, 2]}]
RIGHT = json.dumps({"references": GOLD})
WRONG = json.dumps({"references": [{"canto": 9, "lines": [1, 3]}]})


def rec(variant, i, raw, data="test", finish="stop"):
    return {"data": data, "variant": variant, "id": f"r{i}", "tags": ["t"], "input": f"row {i}", "gold": GOLD,
            "raw": raw, "finish_reason": finish, "seconds": 0.5, "gen_tokens": 5}


def records():
    return [rec("a", 0, RIGHT, "valid"), rec("b", 0, RIGHT + " ", "valid"),
            rec("a", 1, RIGHT), rec("b", 1, WRONG), rec("a", 2, RIGHT)]


def blob(page: str) -> dict:
    return json.loads(page.split('id="samples-data">', 1)[1].split("</script>", 1)[0])


def test_the_decision_split_is_kept_only_when_it_is_one_of_the_data_files():
    assert report_samples.payload(records(), ["a", "b"], CANTOS, decision="test")["decision"] == "test"
    assert report_samples.payload(records(), ["a", "b"], CANTOS, decision="holdout")["decision"] is None
    assert report_samples.payload(records(), ["a", "b"], CANTOS)["decision"] is None  # as before: "all"
    page = report_samples.section(report_samples.payload(records(), ["a", "b"], CANTOS, decision="test"))
    assert blob(page)["decision"] == "test"
    assert '<select id="f-data"><option value="">all</option></select>' in page  # "all" stays selectable


def test_exact_outputs_are_stored_apart_once_and_other_cells_keep_their_shape():
    data = report_samples.payload(records(), ["a", "b"], CANTOS)
    rows = {(data["data"][r[0]], r[1]): r for r in data["rows"]}
    assert rows[("valid", "r0")][5] == [[0, 0], [0, 0]]  # exact cells: outcome and ending only, as before
    assert [data["exact"][i] for i in rows[("valid", "r0")][6]] == [RIGHT, RIGHT + " "]
    a1, b1 = rows[("test", "r1")][5]
    assert a1 == [0, 0] and b1[0] == 2 and data["strings"][b1[3]] == WRONG and data["strings"] == [WRONG]
    assert rows[("test", "r1")][6] == [data["exact"].index(RIGHT), None]  # the wrong cell's text is in strings
    assert rows[("test", "r2")][6] == [data["exact"].index(RIGHT), None]  # b has no sample here
    assert rows[("test", "r2")][5][1] is None
    assert len(data["exact"]) == 2  # the same text of several cells is stored once


def test_long_exact_outputs_are_shortened_like_the_others():
    long = json.dumps({"references": GOLD}, indent=400)
    data = report_samples.payload([rec("a", 0, long)], ["a"], CANTOS)
    assert data["rows"][0][5][0] == [0, 0]
    stored = data["exact"][data["rows"][0][6][0]]
    assert stored.startswith(long[:report_samples.RAW_CHARS]) and stored.endswith("more characters)")


def test_markup_in_an_exact_output_cannot_close_the_data_script():
    raw = RIGHT + "<|im_end|></script><img src=x onerror=alert(1)>"
    page = report_samples.section(report_samples.payload([rec("a", 0, raw)], ["a"], CANTOS))
    inner = page.split('id="samples-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in inner
    data = json.loads(inner)
    texts = data["exact"] + data["strings"]
    assert raw in texts


def test_the_section_has_the_controls_the_script_reads():
    page = report_samples.section(report_samples.payload(records(), ["a", "b"], CANTOS))
    for control in ('id="f-q"', 'id="f-sa"', 'id="f-sb"', 'id="dl-jsonl"', 'id="dl-csv"', 'data-sort="id"',
                    'data-sort="input"', 'id="f-pa"', 'id="f-disagree"'):
        assert control in page
    for id_ in ("f-q", "f-sa", "f-sb", "dl-jsonl", "dl-csv", "f-data"):
        assert f"'{id_}'" in JS  # the script binds what the section draws
    sid = next(rule for rule in CSS.split("\n") if rule.startswith("table.samples .sid"))
    assert "ellipsis" not in sid and "nowrap" not in sid and "overflow-wrap:anywhere" in sid  # full ids, wrapped
    assert "innerHTML = '<span>" not in JS and "th.innerHTML" not in JS  # variant names go in as text
