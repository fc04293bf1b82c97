"""eval.json and report.json as typed records (extractor/evaluation/records.py): one reader and one
writer, a format number, unknown keys kept, and the committed baseline (format 1, before typed
records) read, written and scored again byte for byte."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from extractor.core.errors import ExtractorError
from extractor.evaluation.records import (FORMAT, Decision, EvalLog, Report, read_eval, read_report,
                                          write_eval, write_report)

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "reports" / "baseline"


def test_the_committed_report_reads_and_writes_back_byte_for_byte(tmp_path):
    report = read_report(BASELINE)
    assert isinstance(report, Report) and report.task == "cantos" and report.decision == "test"
    head = report.headline()
    assert head is not None and isinstance(head[1], Decision) and head[1].ship
    assert report["metrics"] == report.metrics  # a read-only Mapping of its JSON form, as earlier versions' dicts
    write_report(tmp_path, report)
    assert (tmp_path / "report.json").read_bytes() == (BASELINE / "report.json").read_bytes()
    log = read_eval(BASELINE)
    write_eval(tmp_path, log)
    assert (tmp_path / "eval.json").read_bytes() == (BASELINE / "eval.json").read_bytes()


def test_unknown_keys_survive_a_round_trip_and_a_bad_file_is_one_clear_line(tmp_path):
    found = json.loads((BASELINE / "report.json").read_text())
    found["from_the_future"] = {"x": 1}
    found["verdict"]["data"]["test"]["confidence"] = 0.9
    (tmp_path / "report.json").write_text(json.dumps(found))
    again = read_report(tmp_path).to_json()
    assert again["from_the_future"] == {"x": 1} and again["verdict"]["data"]["test"]["confidence"] == 0.9
    (tmp_path / "report.json").write_text("[1, 2]")
    with pytest.raises(ExtractorError, match="report.json: not a JSON object"):
        read_report(tmp_path)
    (tmp_path / "report.json").write_text("{}")
    with pytest.raises(ExtractorError, match="report.json: .*missing"):
        read_report(tmp_path)


def test_eval_log_falls_back_to_the_report_when_eval_json_is_absent(tmp_path):
    shutil.copy(BASELINE / "report.json", tmp_path / "report.json")
    log = read_eval(tmp_path)
    assert isinstance(log, EvalLog) and log.task == "cantos" and log.runs["default"] == "runs/cantos-smollm2"
    assert {(t.data, t.variants[0], *t.bounds) for t in log.thresholds} >= {("test", "merged-gguf", "exact_match")}
    assert read_eval(tmp_path / "nothing-here").task is None
    new = EvalLog(task="cantos", format=FORMAT)
    assert new.to_json()["format"] == FORMAT and "retries" not in new.to_json()  # empty sections left out


def test_the_committed_baseline_rescores_byte_identically_without_its_runs(tmp_path):
    """A fresh clone has no runs/: the rescore keeps the job's recorded times and the sizes of the
    artefacts it cannot measure, so the committed report.json comes back byte for byte."""
    copy = tmp_path / "baseline"
    shutil.copytree(BASELINE, copy)
    for name in ("eval.json", "report.json"):  # runs that do not exist here
        found = json.loads((copy / name).read_text())
        found["runs"] = {k: str(tmp_path / "gone" / k) for k in found["runs"]}
        (copy / name).write_text(json.dumps(found, indent=2, sort_keys=True) + "\n")
    before = (copy / "report.json").read_bytes()
    r = subprocess.run([sys.executable, "-m", "extractor", "report", "rescore", str(copy)], capture_output=True,
                       text=True, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (copy / "report.json").read_bytes() == before
