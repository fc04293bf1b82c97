"""The JSONL loader and `extractor data check` on good and bad files."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.core.data import load, read_file
from extractor.core.errors import DataError, ExtractorError
from extractor.tasks.cantos.schema import Reference
from helpers import CANTOS

ROOT = Path(__file__).resolve().parents[1]
GOOD = {"input": "Canto IX, ll. 15-16", "output": {"references": [{"canto": 9, "lines": [15, 16]}]}}


def write(tmp_path, name, lines: list, raw: bytes | None = None) -> Path:
    p = tmp_path / name
    if raw is not None:
        p.write_bytes(raw)
    else:
        p.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8")
    return p


def reasons(path) -> list[tuple[int, str]]:
    _, problems = read_file(path, CANTOS)
    return [(p.line, p.reason) for p in problems]


def test_good_rows_in_all_accepted_formats(tmp_path):
    rows = [
        GOOD,
        {"input": "no reference here", "output": json.dumps({"references": []}), "id": "b", "tags": ["no_ref"]},
        {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "XX:1-2"},
                      {"role": "assistant", "content": '{"references": [{"canto": 20, "lines": [1, 2]}]}'}]},
    ]
    ex, problems = read_file(write(tmp_path, "ok.jsonl", rows), CANTOS)
    assert problems == []
    assert [CANTOS.references(e.output) for e in ex] == [(Reference(9, (15, 16)),), (), (Reference(20, (1, 2)),)]
    assert ex[1].id == "b" and ex[1].tags == ("no_ref",)
    assert ex[0].id == "ok:1" and ex[0].source.endswith("ok.jsonl:1")


@pytest.mark.parametrize(
    "bad_line,needle",
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not an object"),
        (json.dumps({"input": "x"}), "missing field `output`"),
        (json.dumps({"output": {"references": []}}), "missing field `input`"),
        (json.dumps({"input": "  ", "output": {"references": []}}), "empty input"),
        (json.dumps({"input": "x", "output": {"references": [{"canto": "IX", "lines": []}]}}), "$.references[0].canto"),
        (json.dumps({"input": "x", "output": {"references": [{"canto": 9, "lines": ["1"]}]}}), "$.references[0].lines[0]"),
        (json.dumps({"input": "x", "output": "not json either"}), "string that is not JSON"),
        (json.dumps({"input": "x", "output": {"references": []}, "lable": 1}), "unknown field(s) lable"),
        (json.dumps({"input": 3, "output": {"references": []}}), "`input` must be a string"),
        (json.dumps({"input": "x", "output": {"references": []}, "tags": "a"}), "`tags` must be a list"),
        (json.dumps({"messages": [{"role": "user", "content": "x"}]}), "one user turn then one assistant turn"),
        ("", "blank line"),
    ],
)
def test_each_bad_row_is_reported_with_its_line(tmp_path, bad_line, needle):
    p = write(tmp_path, "bad.jsonl", [GOOD, bad_line, {**GOOD, "input": "other"}])
    found = reasons(p)
    assert len(found) == 1, found
    line, reason = found[0]
    assert line == 2 and needle in reason


def test_non_utf8_bytes_are_reported(tmp_path):
    raw = (json.dumps(GOOD) + "\n").encode() + b'{"input": "caf\xe9", "output": {"references": []}}\n'
    assert reasons(write(tmp_path, "latin1.jsonl", [], raw)) == [(2, "bytes that are not UTF-8 at column 15; re-save the file as UTF-8")]


def test_duplicate_ids(tmp_path):
    p = write(tmp_path, "dup.jsonl", [{**GOOD, "id": "a"}, {**GOOD, "id": "a", "input": "y"}])
    assert reasons(p) == [(2, "duplicate id 'a' (first on line 1); ids must be unique")]


def test_empty_and_missing_files(tmp_path):
    assert reasons(write(tmp_path, "empty.jsonl", [], b"")) [0][1].startswith("empty file")
    assert reasons(tmp_path / "nope.jsonl")[0][1].startswith("file not found")
    assert reasons(tmp_path)[0][1].startswith("is a directory")


def test_load_raises_a_typed_error_listing_every_problem(tmp_path):
    p = write(tmp_path, "two.jsonl", ["{", GOOD, "["])
    with pytest.raises(DataError) as e:
        load([p], CANTOS)
    assert [pr.line for pr in e.value.problems] == [1, 3]
    assert f"{p}:1:" in str(e.value)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=80) | st.text(max_size=80).map(str.encode), max_size=6))
def test_fuzz_loader_only_raises_typed_errors(tmp_path_factory, lines):
    p = tmp_path_factory.mktemp("fuzz") / "f.jsonl"
    p.write_bytes(b"\n".join(lines))
    examples, problems = read_file(p, CANTOS)
    assert all(pr.line >= 0 and pr.reason for pr in problems)
    try:
        load([p], CANTOS)
    except ExtractorError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["input", "output", "id", "tags", "messages"]),
                       st.recursive(st.none() | st.integers() | st.text(max_size=8),
                                    lambda k: st.lists(k, max_size=3) | st.dictionaries(st.text(max_size=8), k, max_size=3),
                                    max_leaves=10)))
def test_fuzz_loader_on_json_shaped_rows(tmp_path_factory, row):
    p = tmp_path_factory.mktemp("fuzz") / "row.jsonl"
    p.write_text(json.dumps(row) + "\n", encoding="utf-8")
    examples, problems = read_file(p, CANTOS)
    assert len(examples) + len(problems) == 1


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "extractor", *args], capture_output=True, text=True, cwd=ROOT)


def test_cli_data_check_passes_on_the_project_datasets():
    files = sorted(str(p) for p in (ROOT / "datasets" / "cantos").glob("*.jsonl"))
    assert len(files) == 3
    r = run_cli("data", "check", *files)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == ""


def test_cli_data_check_reports_a_broken_middle_line_and_exits_1(tmp_path):
    rows = [GOOD, {**GOOD, "input": "b"}, "{\"input\": \"c\", \"output\": ", {**GOOD, "input": "d"}]
    p = write(tmp_path, "broken.jsonl", rows)
    r = run_cli("data", "check", str(p))
    assert r.returncode == 1
    assert r.stdout.startswith(f"{p}:3: not JSON")
    assert "Traceback" not in r.stderr
