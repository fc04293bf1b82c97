"""The samples.jsonl record: one typed class, read and written in one place, the file unchanged
byte for byte (keys a task adds, and keys this version does not know, included)."""

import json
from pathlib import Path

import pytest

from extractor.core import data, sample_record
from extractor.evaluation import evaluate
from extractor.core.errors import ConfigError
from extractor.tasks.filetask import FileTask
from extractor.core.generation import Generation
from extractor.core.sample_record import SampleRecord
from helpers import CANTOS

ROOT = Path(__file__).resolve().parents[1]


def line(record: SampleRecord) -> bytes:
    return (json.dumps(record.to_json(), ensure_ascii=False) + "\n").encode("utf-8")


def test_a_cantos_record_round_trips_through_the_writer_and_the_reader(tmp_path):
    ex = data.load([ROOT / "datasets" / "cantos" / "valid.jsonl"], CANTOS)[0]
    gen = Generation('{"references": [{"canto": 9, "lines": [15]}]} ### Question: ü?', "stop", 41, 17, 0.123456)
    rec = evaluate.record("valid", "merged-gguf", ex, gen, CANTOS)
    assert rec.task_fields == {"references": [{"canto": 9, "lines": [15]}]} and rec.seconds == 0.1235
    assert rec.key == ("valid", "merged-gguf", ex.id) and rec.tags == tuple(ex.tags)
    path = tmp_path / "samples.jsonl"
    with sample_record.Writer(path) as w:
        w.append(rec)
    assert path.read_bytes() == line(rec)
    (back,) = sample_record.read(path)
    assert back == rec and line(back) == path.read_bytes()
    assert list(back) == list(back.to_json()) and back["references"] == rec.task_fields["references"]
    with pytest.raises(TypeError, match="a SampleRecord, not dict"), sample_record.Writer(path) as w:
        w.append(rec.to_json())


def test_a_file_task_record_keeps_its_answer_key_and_keys_it_does_not_know(tmp_path):
    task = FileTask("inv", {"type": "object"}, "Extract.")
    ex = data.Example("Invoice 7", {"number": "7"}, "i1", ("t",))
    rec = evaluate.record("rows", "merged-gguf", ex, Generation('{"number": "7"}', "stop", 3, 4, 0.5), task)
    assert rec.task_fields == {"answer": {"number": "7"}} and "references" not in rec
    obj = rec.to_json()
    assert list(obj)[8:11] == ["status", "answer", "rest"]
    obj["reviewer"] = {"ok": True}  # a key a later version (or a user's tool) added after the known ones
    path = tmp_path / "samples.jsonl"
    text = json.dumps(obj, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    (back,) = sample_record.read(path)
    assert back.extra == {"reviewer": {"ok": True}} and back.task_fields == {"answer": {"number": "7"}}
    assert back["reviewer"] == {"ok": True} and list(back)[-1] == "reviewer"
    assert line(back).decode("utf-8") == text
    with sample_record.Writer(path) as w:  # appended after the line it read, unchanged
        w.append(back)
    assert path.read_text(encoding="utf-8") == text * 2


def test_the_committed_baseline_reads_and_writes_back_byte_for_byte():
    path = ROOT / "reports" / "baseline" / "samples.jsonl"
    records = sample_record.read(path)
    assert len(records) > 1000 and all(r.task_fields.keys() == {"references"} and not r.extra for r in records)
    assert b"".join(line(r) for r in records) == path.read_bytes()


def test_a_record_missing_optional_keys_takes_their_defaults():
    r = SampleRecord.from_json({"data": "test", "variant": "rules", "id": "a", "gold": [], "raw": "{}",
                                "finish_reason": "stop"})
    assert r.tags == () and r.input == "" and r.status is None and r.seconds == 0.0 and r.error is None


@pytest.mark.parametrize("row, reason", [
    ({"data": "test", "variant": "rules", "id": "a", "gold": []}, "not a sample record: missing key(s) raw, finish_reason"),
    ({"data": "test", "variant": "rules", "id": 7, "gold": [], "raw": "", "finish_reason": "stop"}, "id = 7 must be a string"),
    ({"data": "test", "variant": "rules", "id": "a", "tags": "x", "gold": [], "raw": "", "finish_reason": "stop"},
     "tags = 'x' must be a list of strings"),
    ({"data": "test", "variant": "rules", "id": "a", "gold": [], "raw": "", "finish_reason": "stop", "seconds": "1"},
     "seconds = '1' must be a number or null"),
])
def test_a_bad_row_is_named_by_file_and_line(tmp_path, row, reason):
    good = {"data": "test", "variant": "rules", "id": "ok", "gold": [], "raw": "{}", "finish_reason": "stop"}
    path = tmp_path / "samples.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(row) + "\n")
    with pytest.raises(ConfigError) as e:
        sample_record.read(path)
    assert str(e.value).startswith(f"{path}:2: ") and reason in str(e.value)
    assert "start over with a new --out" in str(e.value)


def test_a_torn_last_line_is_left_out_and_a_task_key_may_not_shadow_a_core_key(tmp_path):
    path = tmp_path / "samples.jsonl"
    good = {"data": "test", "variant": "rules", "id": "ok", "gold": [], "raw": "{}", "finish_reason": "stop"}
    path.write_text(json.dumps(good) + "\n" + json.dumps(good)[:20])
    assert [r.id for r in sample_record.read(path)] == ["ok"]
    with pytest.raises(ConfigError, match="incomplete"):
        sample_record.read(path, torn="error")
    with pytest.raises(ValueError, match="task_fields repeats the core key"):
        SampleRecord(**good, task_fields={"raw": "x"})


def test_token_ids_and_inherited_counts_are_written_only_when_set_and_read_back(tmp_path):
    """A free row keeps its token ids for the +grammar row that continues it; a +grammar output
    taken whole has no time of its own (seconds null) and decodes nothing; records without those
    keys are written as before."""
    ex = data.load([ROOT / "datasets" / "cantos" / "valid.jsonl"], CANTOS)[0]
    free = Generation('{"references": []}', "stop", 41, 6, 0.2, tokens=(1, 2, 3, 4, 5), stop_token=2)
    plain = evaluate.record("valid", "merged-gguf", ex, free, CANTOS)
    assert not {"tokens", "stop_token", "inherited"} & set(plain.to_json())
    kept = evaluate.record("valid", "merged-gguf", ex, free, CANTOS, keep_tokens=True)
    taken = evaluate.record("valid", "merged-gguf+grammar", ex,
                            Generation(free.text, "stop", 41, 6, 0.001, inherited=6), CANTOS)
    part = evaluate.record("valid", "merged-gguf+grammar", ex,
                           Generation(free.text, "stop", 41, 6, 0.05, inherited=4), CANTOS)
    assert list(kept.to_json())[-3:] == ["error", "tokens", "stop_token"] and kept["tokens"] == [1, 2, 3, 4, 5]
    assert taken.seconds is None and taken.decoded_tokens == 0 and CANTOS.score(taken).seconds is None
    assert part.seconds == 0.05 and CANTOS.score(part).gen_tokens == 2
    path = tmp_path / "samples.jsonl"
    with sample_record.Writer(path) as w:
        for r in (plain, kept, taken, part):
            w.append(r)
    assert sample_record.read(path) == [plain, kept, taken, part]
    assert path.read_bytes() == b"".join(line(r) for r in (plain, kept, taken, part))
    with pytest.raises(ValueError, match="tokens"):
        SampleRecord.from_json({**kept.to_json(), "tokens": ["a"]})
