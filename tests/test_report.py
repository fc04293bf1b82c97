"""The eval loop, scoring and reports with a scripted generator (the one narrow fake): resume,
per-sample failures, re-scoring without generating, thresholds, the HTML sample view (compare:
test_report_compare.py)."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from extractor.evaluation import evaluate, report
from extractor.evaluation.suite import Suite, Threshold, load_suite
from extractor.evaluation.evaluate import run_eval
from extractor.runtimes.variants import Sources
from extractor.core.errors import ConfigError
from extractor.core.generation import Generation
from extractor.evaluation.report_text import timing_line
from extractor.evaluation.testing import assert_thresholds, load_report
from extractor.runtimes.variant import BaseVariant
from helpers import CANTOS

ROOT = Path(__file__).resolve().parents[1]
ROWS = [
    {"id": "a", "input": "Canto IX, ll. 1-2", "output": {"references": [{"canto": 9, "lines": [1, 2]}]}},
    {"id": "b", "input": "Nothing here.", "output": {"references": []}},
    {"id": "c", "input": "The last canto of Thrones", "output": {"references": [{"canto": 109, "lines": []}]}},
    {"id": "d", "input": "BOOM", "output": {"references": []}},
]
SCRIPT = {
    "Canto IX, ll. 1-2": '{"references": [{"canto": 9, "lines": [1, 2]}]}',
    "Nothing here.": '{"references": []}\n### Question: "And Canto II?"',
    "The last canto of Thrones": '{"references": [{"canto": 96, "lines": []}]}',
}


class Scripted(BaseVariant):
    """Answers from SCRIPT; 'BOOM' fails the way a context overflow does; counts every call."""

    calls: list[str] = []

    def __init__(self, name):
        self.name = name

    def execute(self, inputs):
        for i, text in enumerate(inputs):
            Scripted.calls.append(text)
            if text == "BOOM":
                yield i, Generation("", "error", seconds=0.1, error="ValueError: Requested tokens exceed context window")
            else:
                yield i, Generation(SCRIPT[text], "stop", 20, 8, 0.5)


@pytest.fixture
def suite(tmp_path, monkeypatch):
    f = tmp_path / "rows.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    monkeypatch.setattr(evaluate, "build", lambda name, sources, settings, task: Scripted(str(name)))
    Scripted.calls = []
    s = Suite("t", CANTOS, {"rows": f}, ["merged-gguf"],
              thresholds=[Threshold("rows", ["merged-gguf"], {"exact_match": 0.5, "runaway": 0.0})])
    s.settings.batch_size = 2
    return s


def test_samples_record_everything_and_a_failed_sample_does_not_stop_the_run(suite, tmp_path):
    run_eval(suite, Sources(), tmp_path / "out", progress=False)
    recs = evaluate.read_samples(tmp_path / "out" / "samples.jsonl")
    assert [r["id"] for r in recs] == ["a", "b", "c", "d"]
    boom = recs[3]
    assert boom["finish_reason"] == "error" and "context window" in boom["error"] and boom["status"] == "no_json"
    assert recs[1]["status"] == "chained_turn" and recs[1]["raw"].endswith('Canto II?"')
    assert {"input", "gold", "raw", "status", "references", "seconds", "gen_tokens", "error"} <= recs[0].keys()


def test_resume_after_a_torn_write_neither_repeats_nor_loses(suite, tmp_path):
    out = tmp_path / "out"
    run_eval(suite, Sources(), out, progress=False)
    path = out / "samples.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:2]) + lines[2][:25])  # killed in the middle of the third record
    with pytest.raises(ConfigError, match="--resume"):
        run_eval(suite, Sources(), out, progress=False)
    Scripted.calls = []
    run_eval(suite, Sources(), out, resume=True, progress=False)
    assert Scripted.calls == ["The last canto of Thrones", "BOOM"]  # only what was missing
    assert [r["id"] for r in evaluate.read_samples(path)] == ["a", "b", "c", "d"]


def test_rescore_needs_no_model_and_reproduces_the_report(suite, tmp_path):
    out = tmp_path / "out"
    run_eval(suite, Sources(), out, progress=False)
    first = report.write_reports(out)
    Scripted.calls = []
    second = report.write_reports(out)
    assert Scripted.calls == [] and first["metrics"] == second["metrics"]
    m = first["metrics"]["rows"]["merged-gguf"]
    assert m["n"] == 4 and m["exact_match"] == 0.5 and m["chained_turn"] == 0.25 and m["schema_valid"] == 0.75
    assert first["errors"] == 1
    checks = {c["metric"]: c["passed"] for c in first["checks"]}
    assert checks == {"exact_match": True, "runaway": True}


def test_rescore_of_a_copied_report_keeps_what_its_eval_recorded(suite, tmp_path):
    """A committed report (report.json and samples.jsonl, no eval.json, no runs) re-scores to
    the same report: task, runs, thresholds and the job's recorded times, not an ad hoc one."""
    out, copy = tmp_path / "out", tmp_path / "copy"
    run_eval(suite, Sources(), out, progress=False)
    first = report.write_reports(out)
    copy.mkdir()
    recorded = dict(first, timing={"install": {"venv": 250.0}, "train": {"default": 371.4}, "export": {}, "eval": {},
                                   "total_seconds": 621.4})
    (copy / "report.json").write_text(json.dumps(recorded))
    (copy / "samples.jsonl").write_text((out / "samples.jsonl").read_text())
    again = report.write_reports(copy, rescore=True)
    assert again["task"] == first["task"] and again["checks"] == first["checks"] and again["checks"]
    assert {k: again[k] for k in ("runs", "data", "variants", "settings", "verdict")} == \
        {k: first[k] for k in ("runs", "data", "variants", "settings", "verdict")}
    assert again["timing"] == recorded["timing"]  # the job's times as recorded, not this machine's


def test_report_files_and_html_sample_view(suite, tmp_path):
    out = tmp_path / "out"
    run_eval(suite, Sources(), out, progress=False)
    report.write_reports(out)
    md = (out / "report.md").read_text()
    assert "| merged-gguf |" in md and "| exact |" in md
    assert md.index("## Verdict") < md.index("## rows")  # the verdict first, as in the html
    page = (out / "report.html").read_text()
    assert "<script src" not in page and "<link" not in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "") and "https://" not in page
    data = json.loads(re.search(r'<script type="application/json" id="samples-data">(.*?)</script>', page, re.S).group(1))
    assert data["variants"] == ["merged-gguf"] and [r[1] for r in data["rows"]] == ["a", "b", "c", "d"]
    outcomes = [data["outcomes"][r[5][0][0]][0] for r in data["rows"]]
    assert outcomes == ["exact", "runs_on", "wrong", "error"]
    b = data["rows"][1][5][0]  # the chained turn: its raw output, and where the invented part starts
    raw = data["strings"][b[3]]
    assert raw[b[4]:].lstrip().startswith("### Question") and raw[:b[4]].strip() == '{"references": []}'
    c = data["rows"][2][5][0]
    assert c[2] == [["Canto 96", [], 2], ["Canto 109", [], 1]]  # prediction against gold: extra, missing
    assert data["rows"][2][4] == [["Canto 109", [], 0]] and data["marks"][1:3] == ["missing", "extra"]


def test_testing_helpers_gate_on_thresholds(suite, tmp_path):
    out = tmp_path / "out"
    run_eval(suite, Sources(), out, progress=False)
    report.write_reports(out)
    r = load_report(out)
    assert_thresholds(r, "merged-gguf", data="rows", exact_match=0.5, runaway=0.0)
    with pytest.raises(AssertionError, match="chained_turn = 0.25 \\(max 0.1\\)"):
        assert_thresholds(r, "merged-gguf", data="rows", chained_turn=0.1)
    with pytest.raises(KeyError, match="no variant 'adapter-hf'"):
        assert_thresholds(r, "adapter-hf", data="rows", exact_match=0.5)


@pytest.mark.parametrize("text,needle", [
    ('variants = []\n[data]\ntest = "nope.jsonl"\n', "nope.jsonl': file not found"),
    ('variants = ["merged"]\n[data]\nt = "datasets/cantos/test.jsonl"\n', "unknown variant 'merged'"),
    ('variants = []\n[data]\nt = "datasets/cantos/test.jsonl"\n[generation]\ntemp = 1\n', "generation.temp is unknown"),
    ('variants = []\n[data]\nt = "datasets/cantos/test.jsonl"\n[[thresholds]]\ndata = "t"\nvariants = ["rules"]\nexact = 1\n',
     "'exact' is not a metric"),
    ('variantz = []\n', "unknown key 'variantz'"),
])
def test_bad_suite_files_name_the_key(tmp_path, text, needle):
    (tmp_path / "evals").mkdir()
    f = tmp_path / "evals" / "s.toml"
    f.write_text(text)
    (tmp_path / "datasets" / "cantos").mkdir(parents=True)
    (tmp_path / "datasets" / "cantos" / "test.jsonl").write_text((ROOT / "datasets/cantos/test.jsonl").read_text())
    with pytest.raises(ConfigError) as e:
        load_suite(f).check_files()
    assert needle in str(e.value) and str(f) in str(e.value)


def test_the_default_suite_loads():
    from extractor.evaluation.suite import default_suite

    s = default_suite(CANTOS)
    assert set(s.data) == {"test"} and s.decision_label == "test"  # valid is for choosing a run: --data
    assert "merged-gguf+grammar" in s.variants and "rules" in s.variants
    assert s.thresholds[0].bounds == {"schema_valid": 0.95, "clean_stop": 0.95, "exact_match": 0.62}
    s.use_data([ROOT / "datasets" / "cantos" / "valid.jsonl"])
    assert s.decision_label == "valid" and not s.thresholds


def test_a_decision_split_that_is_not_a_data_label_is_refused(tmp_path):
    from extractor.evaluation.suite import load_suite

    f = tmp_path / "evals" / "s.toml"
    f.parent.mkdir()
    f.write_text('decision = "tset"\nvariants = ["rules"]\n[data]\ntest = "x.jsonl"\n')
    with pytest.raises(ConfigError, match=r"decision = 'tset' is not one of the \[data\] labels \['test'\]"):
        load_suite(f, CANTOS)


def test_rescore_without_samples_is_one_clear_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "extractor", "report", "rescore", str(tmp_path)], capture_output=True,
                       text=True, cwd=ROOT)
    assert r.returncode == 1 and "Traceback" not in r.stderr and r.stderr.strip().count("\n") == 0
    assert f"{tmp_path / 'samples.jsonl'}: no samples to score" in r.stderr


def test_the_time_line_is_this_evaluations_and_the_job_summary_is_labelled(tmp_path, monkeypatch):
    """An eval's time line counts its own generation; the runs' recorded install, training and export
    times appear only in `make report`'s job summary (eval --job-summary), labelled as recorded."""
    run = tmp_path / "run"
    (run / "export").mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"train_seconds": 400.0, "wall_seconds": 450.5}))
    (run / "export" / "export.json").write_text(json.dumps({"wall_seconds": 12.0}))
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / "install.json").write_text(json.dumps({"install_seconds": 300}))
    monkeypatch.setattr(sys, "prefix", str(venv))
    facts = ({"merged-gguf": 60.0, "rules": 0.5}, {"default": str(run)})
    own = report.timing(*facts)
    assert own.to_json() == {"eval": {"merged-gguf": 60.0, "rules": 0.5}, "total_seconds": 60.5}
    assert timing_line(own) == "Time: 1.0 min of generation (merged-gguf 60 s, rules 0 s)."
    t = report.timing(*facts, job=True)
    job = t.job
    assert job["install"] == {"venv": 300} and job["train"] == {"default": 450.5} and job["export"] == {"default": 12.0}
    assert job["total_seconds"] == 823.0 and t.total_seconds == 60.5
    line = timing_line(t)
    assert line.startswith("Time: 13.7 min in all for the job, its install, training and export times as those "
                           "steps recorded them (install venv 300 s, train default 450 s, export default 12 s, "
                           "merged-gguf 60 s")