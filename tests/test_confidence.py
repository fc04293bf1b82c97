"""Answer and field confidences from the generated tokens' probabilities (extractor/core/confidence.py),
calibration (extractor/evaluation/calibration.py) and `extract --min-confidence`, without a model:
the span walker on hand-made JSON, tokens mapped to values, the servers' logprobs, ECE and
coverage on synthetic samples, old samples without the new keys, a scripted variant for extract.
The real model's confidences: tests/test_confidence_model.py."""

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from extractor.cli import cli
from extractor.core import confidence as conf
from extractor.core.generation import Generation, Prior
from extractor.core.parsing import Answer, find_answer
from extractor.core.sample_record import SampleRecord
from extractor.core.task import Sample
from extractor.evaluation import calibration
from extractor.evaluation.records import Report
from extractor.extract import extractor as extraction
from extractor.extract.corpus import meta_path
from extractor.runtimes.variant import BaseVariant

ROOT = Path(__file__).resolve().parents[1]


def valid(raw: str) -> Answer:
    return find_answer(raw, lambda v: [])


def per_char(raw: str, low: dict[int, float] | None = None):
    """A token per character, each with log-probability -0.001, except ``low`` (index -> logprob)."""
    lps = [(low or {}).get(i, -0.001) for i in range(len(raw))]
    return lps, list(range(len(raw)))


# ----------------------------------------------------------------------------- spans
@pytest.mark.parametrize("text", [
    '{"references": [{"canto": 9, "lines": [15, 16]}, {"canto": 45, "lines": []}]}',
    '{"a": "x\\"y\\u00e9", "b": [true, false, null], "c": {"d": -1.5e3, "e": {}}, "f": [[1], []]}',
    '  [ 1 ,"two" , {"three" : 3.0} ]  ',
    '"just a string"',
    '{"author": "Lind, K.", "date": "(1998).", "title": "Harbour towns — of the north."}',
])
def test_leaf_spans_give_each_scalar_in_the_order_of_the_field_leaves(text):
    from extractor.core.fields import leaves

    spans = conf.leaf_spans(text)
    value = json.loads(text)
    assert spans is not None
    got = [json.loads(text[a:b]) for a, b in spans]
    assert got == [v for _, v in leaves(value)]


def test_leaf_spans_refuse_what_is_not_one_json_value():
    assert conf.leaf_spans('{"a": 1') is None
    assert conf.leaf_spans("{'a': 1}") is None
    assert conf.leaf_spans("nope") is None
    # starting inside a text: the value that begins there
    raw = 'Answer: {"a": [1, 22]} and more'
    start = raw.index("{")
    assert [raw[a:b] for a, b in conf.leaf_spans(raw, start)] == ["1", "22"]


# ----------------------------------------------------------------------------- token -> value mapping
def test_the_answer_is_its_least_likely_token_and_each_field_its_values_tokens():
    raw = '{"references": [{"canto": 9, "lines": [15, 16]}]} and then prose'
    low_line = raw.index("16") + 1        # the 6 of 16: a lines value
    low_after = raw.index("prose")        # after the answer: not the answer's
    lps, offsets = per_char(raw, {low_line: math.log(0.4), low_after: math.log(0.01)})
    c = conf.confidence(raw, lps, offsets, valid(raw))
    assert c.answer == pytest.approx(0.4, abs=1e-4)
    assert c.fields["references[].lines[]"] == pytest.approx(0.4, abs=1e-4)
    assert c.fields["references[].canto"] == pytest.approx(math.exp(-0.001), abs=1e-4)
    mean = conf.confidence(raw, lps, offsets, valid(raw), how="mean")
    assert 0.4 < mean.answer < 1  # the mean dilutes the one unsure digit over the answer's ~50 tokens


def test_tokens_that_straddle_a_value_belong_to_it_and_fences_are_skipped():
    raw = '```json\n{"a": "xy", "b": 12}\n```'
    # tokens: '```json\n{"' | 'a": "' | 'x' | 'y", "' | 'b": 1' | '2}' | '\n```'
    pieces = ['```json\n{"', 'a": "', "x", 'y", "', 'b": 1', "2}", "\n```"]
    assert "".join(pieces) == raw
    offsets = [sum(len(p) for p in pieces[:k]) for k in range(len(pieces))]
    lps = [-0.01, -0.02, math.log(0.5), -0.03, math.log(0.7), -0.04, math.log(0.1)]
    c = conf.confidence(raw, lps, offsets, valid(raw))
    assert c.fields["a"] == pytest.approx(0.5, abs=1e-4)  # '"xy"': tokens 1, 2, 3
    assert c.fields["b"] == pytest.approx(0.7, abs=1e-4)  # '12': tokens 4, 5
    assert c.answer == pytest.approx(0.5, abs=1e-4)       # the closing fence's token is not the answer's


def test_no_confidence_without_a_valid_answer_or_probabilities():
    raw = '{"a": 1}'
    lps, offsets = per_char(raw)
    assert conf.confidence(raw, lps, offsets, find_answer(raw, lambda v: ["$: no"])) is None
    assert conf.confidence("no json", *per_char("no json"), valid("no json")) is None
    assert conf.confidence(raw, None, None, valid(raw)) is None
    assert conf.confidence(raw, lps[:-1], offsets, valid(raw)) is None
    empty = '{"references": []}'
    c = conf.confidence(empty, *per_char(empty), valid(empty))
    assert c.answer > 0.99 and c.fields == {}  # an answer without scalars: no per-field figure


def test_offsets_from_pieces_give_a_split_character_to_the_token_that_completes_it():
    text = 'é{"a": 1}'
    data = text.encode("utf-8")
    pieces = [data[:1], data[1:2], data[2:]]  # the two bytes of é in two tokens
    assert conf.piece_offsets(pieces, text) == (0, 0, 1)
    assert conf.piece_offsets([b"ab"], "abc") is None
    ids = [1, 2, 3]
    table = {1: "ab", 2: "c", 3: "de"}
    decode = lambda xs: "".join(table[x] for x in xs)  # noqa: E731
    assert conf.decode_offsets(ids, decode, "abcde") == (0, 2, 3)
    assert conf.decode_offsets([], decode, "") == ()


def test_servers_logprobs_become_offsets_from_the_completions_start():
    text = '{"a": 1}'
    # llama-cpp-python counts text_offset from the prompt's start, others from the completion's
    got = conf.completion_logprobs(text, [-0.1, -0.2, -0.3], [100, 102, 106], ['{"', 'a": ', '1}'])
    assert got == ((-0.1, -0.2, -0.3), (0, 2, 6))
    assert conf.completion_logprobs(text, [-0.1, -0.2, -0.3], None, ['{"', 'a": ', '1}']) == got
    assert conf.completion_logprobs(text, None, None, None) is None
    assert conf.completion_logprobs(text, [-0.1, None], [0, 1], ["x", "y"]) is None
    chat = [{"token": '{"', "logprob": -0.1, "bytes": list(b'{"')}, {"token": 'a": ', "logprob": -0.2, "bytes": None},
            {"token": "1}", "logprob": -0.3}]
    assert conf.chat_logprobs(text, chat) == got
    assert conf.chat_logprobs(text, None) is None


# ----------------------------------------------------------------------------- records
def record(**kw) -> SampleRecord:
    base = dict(data="test", variant="merged-gguf", id="r1", gold={"a": 1}, raw='{"a": 1}', finish_reason="stop",
                status="clean", task_fields={"answer": {"a": 1}})
    return SampleRecord(**{**base, **kw})


def test_a_record_keeps_rounded_logprobs_and_offsets_and_writes_them_only_when_set():
    raw = '{"a": 1}'
    lps = [-0.000012, -0.5, -1.23456789, -0.0, -0.01, -0.02, -0.03, -0.04]
    part = conf.recorded(raw, lps, list(range(len(raw))), valid(raw))
    assert part["logprobs"][:3] == (0.0, -0.5, -1.2346) and part["offsets"] == tuple(range(8))
    assert part["confidence"] == round(math.exp(-1.2346), 4) and part["field_confidence"] == {"a": round(math.exp(-0.03), 4)}
    r = record(**part)
    line = r.to_json()
    assert list(line)[-4:] == ["confidence", "field_confidence", "logprobs", "offsets"]
    assert str(json.dumps(line["logprobs"])).startswith("[0.0, -0.5, -1.2346")
    again = SampleRecord.from_json(json.loads(json.dumps(line)))
    assert again.to_json() == line and again.logprobs == part["logprobs"]
    old = record()  # an earlier version's record: none of the keys
    assert not {"confidence", "logprobs", "offsets", "field_confidence"} & set(old.to_json())
    assert conf.recorded(raw, None, None, valid(raw)) == {}
    with pytest.raises(ValueError, match="logprobs"):
        record(logprobs=["x"])


def test_scored_adds_the_confidence_for_any_task_and_old_records_have_none():
    from extractor.tasks.registry import get_task

    task = get_task("cantos")
    raw = '{"references": [{"canto": 9, "lines": []}]}'
    lps, offsets = per_char(raw, {raw.index("9"): math.log(0.6)})
    r = SampleRecord(data="test", variant="v", id="1", gold=[{"canto": 9, "lines": []}], raw=raw, finish_reason="stop",
                     logprobs=tuple(lps), offsets=tuple(offsets))
    s = conf.scored(task, r)
    assert s.exact and s.confidence == pytest.approx(0.6, abs=1e-4)
    old = SampleRecord(data="test", variant="v", id="1", gold=[{"canto": 9, "lines": []}], raw=raw, finish_reason="stop")
    assert conf.scored(task, old).confidence is None


def test_a_prior_hands_its_logprobs_to_the_tokens_taken():
    p = Prior((1, 2, 3), "stop", 9, (-0.1, -0.2, -0.3))
    assert p.taken_logprobs(2) == [-0.1, -0.2] and p.taken_logprobs(0) == []
    assert Prior((1, 2), "stop", 9).taken_logprobs(1) is None


# ----------------------------------------------------------------------------- calibration
def samples(pairs) -> list[Sample]:
    ok = Answer("clean", value={}, json_text="{}")
    return [Sample(None, ok, "stop", exact=e, confidence=c) for c, e in pairs]


def test_ece_is_zero_when_each_bins_exact_rate_is_its_confidence_and_measures_the_gap_otherwise():
    # bin [0.9, 1.0]: 10 answers at 0.95, 9 exact (0.9): gap 0.05; bin [0.5, 0.6): 4 at 0.5, 2 exact: gap 0
    pairs = [(0.95, i < 9) for i in range(10)] + [(0.5, i < 2) for i in range(4)]
    c = calibration.figures(samples(pairs))
    assert c.answered == 14 and c.rows == 14 and c.exact == 11
    assert c.ece == pytest.approx(10 / 14 * 0.05, abs=1e-4)
    top = c.bins[-1]
    assert top[:3] == [0.9, 1.0, 10] and top[3] == pytest.approx(0.9) and top[4] == pytest.approx(0.95)
    assert c.bins[5][2] == 4 and c.bins[0][2] == 0 and c.bins[0][3] is None
    assert calibration.figures(samples([(1.0, True), (0.25, False), (0.25, True), (0.75, True)])).bins[-1][2] == 1
    assert calibration.figures(samples([(0.8, True)] * 4 + [(0.2, False)] * 4 + [(0.5, True), (0.5, False)])).ece \
        == pytest.approx((4 * 0.2 + 4 * 0.2 + 2 * 0.0) / 10, abs=1e-4)


def test_coverage_keeps_the_most_rows_whose_kept_answers_reach_the_target():
    # 100 rows: 80 answered; the 60 most confident all exact, then 20 with 10 exact; 20 rows no answer
    pairs = [(0.99 - i * 0.001, True) for i in range(60)] + [(0.5 - i * 0.01, i % 2 == 0) for i in range(20)]
    rows = samples(pairs) + [Sample(None, Answer("no_json"), "stop")] * 20
    c = calibration.figures(rows)
    assert c.rows == 100 and c.answered == 80
    # below the 60: 0.50 exact (61/61), 0.49 wrong (61/62), ... 0.44 exact (64/67 = 0.955), 0.43 wrong (64/68 = 0.941)
    assert c.keep["0.95"] == {"threshold": 0.44, "kept": 67, "coverage": 0.67, "exact": round(64 / 67, 4)}
    assert c.keep["0.99"] == {"threshold": 0.5, "kept": 61, "coverage": 0.61, "exact": 1.0}
    assert c.mean_exact > c.mean_wrong and c.auroc > 0.9
    assert c.curve[0] == [0.01, 1.0] and c.curve[-1] == [0.8, 0.875] and len(c.curve) <= calibration.CURVE_POINTS
    assert calibration.figures(samples([(0.9, False), (0.8, True)])).keep["0.95"] is None  # the top answer is wrong
    never = calibration.figures(samples([(0.9, False), (0.8, False)]))
    assert never.keep == {"0.95": None, "0.99": None} and never.auroc is None
    assert calibration.keep_text(None) == "not reachable"
    assert calibration.figures(rows[-20:]) is None  # no answer has a confidence


def test_auroc_counts_ties_half():
    assert calibration._auroc([0.9, 0.8], [0.1]) == 1.0
    assert calibration._auroc([0.5], [0.5]) == 0.5
    assert calibration._auroc([0.1], [0.9]) == 0.0


def test_the_view_is_none_without_confidences_so_old_reports_rescore_unchanged():
    old = {"test": {"merged-gguf": {"1": Sample(None, Answer("clean", value={}), "stop", exact=True)}}}
    assert calibration.view(old, ["merged-gguf"]) is None
    new = {"test": {"merged-gguf": dict(enumerate(samples([(0.9, True), (0.3, False)]))),
                    "rules": {"1": Sample(None, Answer("clean", value={}), "stop", exact=True)}}}
    v = calibration.view(new, ["rules", "merged-gguf"])
    assert list(v.data["test"]) == ["merged-gguf"] and list(v.without) == ["rules"]
    report = Report.from_json({"suite": "s", "task": "cantos", "task_source": "cantos", "table": [], "runs": {},
                               "data": {}, "variants": [], "skipped": {}, "settings": {}, "wall_seconds": {},
                               "errors": 0, "metrics": {}})
    assert "calibration" not in report.to_json()
    report.calibration = v
    back = Report.from_json(json.loads(json.dumps(report.to_json())))
    assert back.calibration.data["test"]["merged-gguf"].answered == 2
    md = "\n".join(calibration.md_lines(back))
    assert "## Confidence and calibration" in md and "| merged-gguf | 2 of 2 |" in md and "`rules`" in md
    from extractor.evaluation import calibration_charts

    page = calibration_charts.section(back)
    assert page.count("<svg") == 2 and 'id="calibration"' in page


def test_old_samples_without_the_new_keys_read_and_rescore(tmp_path):
    from extractor.evaluation.report import score

    lines = [record(id=str(i)).to_json() for i in range(3)]
    (tmp_path / "samples.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    (tmp_path / "eval.json").write_text(json.dumps({"task": "citations", "variants": ["merged-gguf"],
                                                    "data": {"test": "x"}}))
    report = score(tmp_path)
    assert report.calibration is None and "calibration" not in report.to_json()
    assert report.metrics["test"]["merged-gguf"]["n"] == 3


# ----------------------------------------------------------------------------- extract --min-confidence
UNSURE = '{"number": "8", "total": 3.5}'
SCRIPT = {
    "sure": ('{"number": "7", "total": 12.5}', {}),
    "unsure": (UNSURE, {UNSURE.index('"8"') + 1: math.log(0.3)}),  # the 8
    "bad": ("no answer", {}),
}
SCHEMA = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
          "properties": {"number": {"type": "string"}, "total": {"type": "number"}}}


class Scripted(BaseVariant):
    """Answers from SCRIPT with a token per character and their log-probabilities."""

    name = "base-gguf"

    def __init__(self, with_logprobs=True):
        self.with_logprobs = with_logprobs

    def execute(self, inputs):
        for i, t in enumerate(inputs):
            raw, low = SCRIPT[t]
            lps, offsets = per_char(raw, low)
            yield i, Generation(raw, "stop", 10, len(raw), 0.01,
                                logprobs=tuple(lps) if self.with_logprobs else None,
                                offsets=tuple(offsets) if self.with_logprobs else None)


@pytest.fixture
def task_dir(tmp_path):
    d = tmp_path / "invoices"
    d.mkdir()
    (d / "task.toml").write_text('name = "invoices"\nsystem = "Extract the invoice number and total as JSON."\n')
    (d / "schema.json").write_text(json.dumps(SCHEMA))
    return d


def run(monkeypatch, tmp_path, task_dir, *args, with_logprobs=True):
    monkeypatch.setattr(extraction, "build", lambda *a: Scripted(with_logprobs))
    src = tmp_path / "in.txt"
    src.write_text("sure\n\nunsure\n\nbad\n")
    out = tmp_path / "out.jsonl"
    if out.exists():
        out.unlink()
    r = CliRunner().invoke(cli, ["extract", "--variant", "base-gguf", "--task", str(task_dir), str(src), "--out",
                                 str(out), "--quiet", *args], catch_exceptions=False)
    recs = [json.loads(x) for x in out.read_text().splitlines()] if out.exists() else []
    return r, recs, out


def test_extract_records_carry_confidences_and_min_confidence_marks_review(monkeypatch, tmp_path, task_dir):
    r, recs, out = run(monkeypatch, tmp_path, task_dir)
    assert r.exit_code == 0, r.output
    assert [x["status"] for x in recs] == ["ok", "ok", "no_json"]
    assert recs[0]["confidence"] > 0.99 and recs[1]["confidence"] == pytest.approx(0.3, abs=1e-4)
    assert recs[1]["field_confidence"]["number"] == pytest.approx(0.3, abs=1e-4)
    assert recs[1]["field_confidence"]["total"] > 0.99
    assert "confidence" not in recs[2]
    assert list(recs[1])[-2:] == ["confidence", "field_confidence"]

    r, recs, out = run(monkeypatch, tmp_path, task_dir, "--min-confidence", "0.9")
    assert r.exit_code == 0, r.output  # review is not skipped: the exit status is as documented
    assert [x["status"] for x in recs] == ["ok", "review", "no_json"]
    assert recs[1]["answer"] == {"number": "8", "total": 3.5}  # the answer is kept
    assert json.loads(meta_path(out).read_text())["min_confidence"] == 0.9
    # --resume with another threshold is refused: the statuses written would not agree
    r2 = CliRunner().invoke(cli, ["extract", "--variant", "base-gguf", "--task", str(task_dir),
                                  str(tmp_path / "in.txt"), "--out", str(out), "--quiet", "--resume",
                                  "--min-confidence", "0.5"], catch_exceptions=False)
    assert r2.exit_code == 1 and "min_confidence" in r2.output

    r, recs, _ = run(monkeypatch, tmp_path, task_dir, "--min-confidence", "0.9", with_logprobs=False)
    assert [x["status"] for x in recs] == ["review", "review", "no_json"]  # unknown confidence: reviewed
    assert all("confidence" not in x for x in recs)

    r, _, _ = run(monkeypatch, tmp_path, task_dir, "--min-confidence", "1.5")
    assert r.exit_code == 2 and "1.5" in r.output


# ----------------------------------------------------------------------------- served rows
@pytest.mark.parametrize("api", ["completions", "chat"])
def test_a_served_answer_takes_its_confidence_from_the_servers_logprobs_or_has_none(tmp_path, api):
    from openai_stub import Stub

    from extractor.extract.corpus import run_extract
    from extractor.extract.extractor import Extractor
    from extractor.runtimes.variant import Settings

    text = tmp_path / "in.txt"
    text.write_text("Canto IX, ll. 1-2.\n\nCanto XLV is about usury.\n")

    def extract(url, out, **settings):
        s = Settings(max_new_tokens=32, concurrency=2, served_api=api, **settings)
        with Extractor.load(None, "served:stub", task="cantos", settings=s, endpoint=url) as ex:
            run_extract(ex, [str(text)], out, progress=False, log=lambda m: None)
            asked = ex.variant.logprobs
        return [json.loads(x) for x in out.read_text().splitlines()], asked

    with Stub(logprobs="give") as stub:
        recs, asked = extract(stub.url, tmp_path / "give.jsonl")
        # one token per character, the answer's first digit at exp(-1.2): its canto's value
        assert asked and [r["confidence"] for r in recs] == [round(math.exp(-1.2), 4)] * 2
        assert all(r["field_confidence"]["references[].canto"] == round(math.exp(-1.2), 4) for r in recs)
        recs, asked = extract(stub.url, tmp_path / "off.jsonl", served_logprobs=False)
        assert not asked and all("confidence" not in r for r in recs)
    with Stub() as stub:  # a server that returns none: no confidence, the answers as ever
        recs, _ = extract(stub.url, tmp_path / "none.jsonl")
        assert [r["status"] for r in recs] == ["ok", "ok"] and all("confidence" not in r for r in recs)
    with Stub(logprobs="refuse") as stub:  # refused: asked again without the field, once per prompt
        recs, asked = extract(stub.url, tmp_path / "refused.jsonl")
        assert not asked and [r["status"] for r in recs] == ["ok", "ok"] and all("confidence" not in r for r in recs)
        assert set(stub.stats()["answered"].values()) == {1}
