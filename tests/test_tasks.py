"""Tasks: the registry, a task defined by files alone (data check, evaluation through a scripted
variant, report), citations rows under their task, and Cantos figures unchanged by the Task layer."""

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from extractor.core import data
from extractor.evaluation import evaluate, report
from extractor.core.errors import ConfigError
from extractor.evaluation.suite import load_suite
from extractor.evaluation.evaluate import run_eval
from extractor.runtimes.variants import Sources
from extractor.tasks.filetask import load_task_dir
from extractor.core.generation import Generation
from extractor.core.task import Task
from extractor.evaluation.report_text import print_table
from extractor.runtimes.variant import BaseVariant
from extractor.tasks.registry import get_task, known_tasks
from helpers import install_plugin

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "extractor", *args], capture_output=True, text=True, cwd=cwd)


# ----------------------------------------------------------------------------- registry
def test_builtin_tasks_resolve_and_an_unknown_name_lists_the_known_ones():
    assert {"cantos", "citations"} <= set(known_tasks())
    for name in ("cantos", "citations"):
        t = get_task(name)
        assert isinstance(t, Task) and t.name == name
        keys = [m.key for m in t.metrics]
        assert len(keys) == len(set(keys)) and {"n", "exact_match", "clean_stop", "runaway"} <= set(keys)
    with pytest.raises(ConfigError, match=r"unknown task 'nope': known tasks are cantos, citations"):
        get_task("nope")


def test_pyproject_declares_the_builtin_tasks_as_entry_points():
    eps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["extractor.tasks"]
    assert set(eps) == {"cantos", "citations"}
    for name, value in eps.items():
        module, attr = value.split(":")
        task = getattr(__import__(module, fromlist=[attr]), attr)()
        assert task.name == name


def test_a_python_task_registers_through_the_entry_point_group(tmp_path, monkeypatch):
    """A package of your own registers its task as pyproject.toml registers the built-in ones (which
    the registry knows from the entry points alone, no copy of them)."""
    from extractor.tasks import registry

    install_plugin(tmp_path / "site", monkeypatch, registry.ENTRY_POINT_GROUP, {"dates-py": "dates_task:task"},
                   {"dates_task": "from extractor.tasks.citations import task\n"})
    registry.reset()
    try:
        assert {"cantos", "citations", "dates-py"} <= set(known_tasks()) and get_task("dates-py").name == "citations"
    finally:
        monkeypatch.undo()
        registry.reset()
    assert "dates-py" not in known_tasks()


# ----------------------------------------------------------------------------- a task from files
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object", "additionalProperties": False, "required": ["number", "total", "items"],
    "properties": {
        "number": {"type": "string"},
        "total": {"type": "number"},
        "items": {"type": "array", "items": {"type": "object", "additionalProperties": False, "required": ["sku", "qty"],
                                             "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}}}},
    },
}
TASK_TOML = '''name = "invoices"
system = "Extract the invoice number, total and items as JSON."
[[examples]]
input = "Invoice A1: 2 x P-9, total 3.00"
output = {number = "A1", total = 3.0, items = [{sku = "P-9", qty = 2}]}
[metrics]
fold_case = true
abs_tol = 0.01
keys = {"items[]" = ["sku"]}
'''
ROWS = [
    {"id": "i1", "input": "Invoice 7: 1 x AB-1, 2 x CD-2, total 12.50",
     "output": {"number": "7", "total": 12.5, "items": [{"sku": "AB-1", "qty": 1}, {"sku": "CD-2", "qty": 2}]}},
    {"id": "i2", "input": "Invoice X9: 3 x EF-3, total 9.99",
     "output": {"number": "X9", "total": 9.99, "items": [{"sku": "EF-3", "qty": 3}]}},
    {"id": "i3", "input": "Invoice 12: 5 x GH-4, total 20",
     "output": {"number": "12", "total": 20, "items": [{"sku": "GH-4", "qty": 5}]}},
    {"id": "i4", "input": "Invoice 13: nothing, total 0", "output": {"number": "13", "total": 0, "items": []}},
]
SCRIPT = {
    # exact up to case and item order (exact match takes no numeric tolerance), clean stop
    ROWS[0]["input"]: '{"number": "7", "total": 12.50, "items": [{"sku": "cd-2", "qty": 2}, {"sku": "AB-1", "qty": 1}]}',
    # total within the tolerance, a wrong quantity, then an invented turn
    ROWS[1]["input"]: '{"number": "X9", "total": 9.991, "items": [{"sku": "EF-3", "qty": 4}]}\n### Question: next?',
    # fails the schema (total is a string)
    ROWS[2]["input"]: '{"number": "12", "total": "20", "items": []}',
    # cut off
    ROWS[3]["input"]: '{"number": "13", "tot',
}


class Scripted(BaseVariant):
    """Answers from SCRIPT (the narrow fake of tests/test_report.py)."""

    def __init__(self, name):
        self.name = name

    def execute(self, inputs):
        for i, t in enumerate(inputs):
            yield i, Generation(SCRIPT[t], "length" if t == ROWS[3]["input"] else "stop", 20, 8, 0.5)


@pytest.fixture
def invoices(tmp_path):
    """A project layout: tasks/invoices/{task.toml,schema.json}, data/rows.jsonl, evals/invoices.toml."""
    task_dir = tmp_path / "tasks" / "invoices"
    task_dir.mkdir(parents=True)
    (task_dir / "task.toml").write_text(TASK_TOML)
    (task_dir / "schema.json").write_text(json.dumps(SCHEMA))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    (tmp_path / "evals").mkdir()
    (tmp_path / "evals" / "invoices.toml").write_text(
        'name = "invoices"\ntask = "tasks/invoices"\nvariants = ["merged-gguf"]\n[data]\nrows = "data/rows.jsonl"\n'
        '[[thresholds]]\ndata = "rows"\nvariants = ["merged-gguf"]\nf1 = 0.5\nmissing_per_sample = 1.0\n')
    return tmp_path


def test_a_file_task_reads_its_prompts_examples_and_options(invoices):
    t = get_task(str(invoices / "tasks" / "invoices"))
    assert t.name == "invoices" and t.system.startswith("Extract the invoice")
    assert t.instruction.startswith(t.system) and 'Text: Invoice A1: 2 x P-9, total 3.00\n{"number": "A1"' in t.instruction
    assert t.options.fold_case and t.options.abs_tol == 0.01 and t.options.keys == {"items[]": ("sku",)}
    assert t.canonical({"items": [{"qty": 1, "sku": "B"}, {"qty": 2, "sku": "a"}], "total": 1.0, "number": "N"}) == \
        t.canonical({"number": "n", "total": 1, "items": [{"sku": "A", "qty": 2}, {"sku": "b", "qty": 1}]})


def test_data_check_validates_rows_against_a_task_directory(invoices):
    rows = invoices / "data" / "rows.jsonl"
    r = cli("data", "check", "--task", str(invoices / "tasks" / "invoices"), str(rows))
    assert r.returncode == 0 and r.stdout == "" and "4 good row(s), ok" in r.stderr
    bad = invoices / "data" / "bad.jsonl"
    bad.write_text(json.dumps(ROWS[0]) + "\n" + json.dumps({"input": "x", "output": {"number": 7, "total": 1, "items": []}}) + "\n")
    r = cli("data", "check", "--task", str(invoices / "tasks" / "invoices"), str(bad))
    assert r.returncode == 1
    assert r.stdout.strip() == f"{bad}:2: output violates the schema: $.number: 7 is not of type 'string'"
    # the same rows are not Cantos rows: the default task refuses them
    assert cli("data", "check", str(rows)).returncode == 1


@pytest.mark.parametrize("toml, schema, needle", [
    ('system = "x"\nbogus = 1\n', SCHEMA, "unknown key(s) bogus"),
    ('name = "t"\n', SCHEMA, "missing key `system`"),
    ('system = "x"\n[metrics]\nabs_tol = -1\n', SCHEMA, "metrics.abs_tol = -1 must be a number >= 0"),
    ('system = "x"\n[[examples]]\ninput = "a"\noutput = {number = 1}\n', SCHEMA, "examples[0]: output violates schema.json"),
    ('system = "x"\n', {"type": "nonsense"}, "schema.json: not a valid JSON Schema"),
])
def test_bad_task_files_name_the_file_and_the_key(tmp_path, toml, schema, needle):
    (tmp_path / "task.toml").write_text(toml)
    (tmp_path / "schema.json").write_text(json.dumps(schema))
    with pytest.raises(ConfigError) as e:
        load_task_dir(tmp_path)
    assert needle in str(e.value) and str(tmp_path) in str(e.value)


def test_a_file_task_evaluates_scores_and_rescores_without_a_model(invoices, monkeypatch):
    monkeypatch.setattr(evaluate, "build", lambda name, sources, settings, task: Scripted(str(name)))
    suite = load_suite(invoices / "evals" / "invoices.toml")
    assert suite.task is get_task(str(invoices / "tasks" / "invoices"))
    out = invoices / "out"
    meta = run_eval(suite, Sources(), out, progress=False)
    assert meta["task"] == "invoices"
    recs = evaluate.read_samples(out / "samples.jsonl")
    assert [r["status"] for r in recs] == ["clean", "chained_turn", "invalid", "cut_off"]
    assert recs[0]["gold"] == ROWS[0]["output"] and recs[0]["answer"]["number"] == "7" and "references" not in recs[0]
    first = report.write_reports(out)
    assert first["task"] == "invoices"
    m = first["metrics"]["rows"]["merged-gguf"]
    # gold leaves: i1 6 (all matched: case folded), i2 4 (9.991 within 0.01; qty wrong: 1 missing, 1 extra),
    # i3 4 and i4 2 (no valid answer: all missing). tp 9 of 16 gold, 10 predicted.
    assert m["n"] == 4 and m["schema_valid"] == 0.5 and m["exact_match"] == 0.25
    assert m["clean_stop"] == 0.25 and m["chained_turn"] == 0.25 and m["runaway"] == 0.25
    assert m["recall"] == 9 / 16 and m["precision"] == 9 / 10 and m["f1"] == 18 / 26
    assert m["missing_per_sample"] == 7 / 4 and m["extra_per_sample"] == 1 / 4
    assert m["by_field"]["items[].qty"] == {"tp": 2, "missing": 2, "extra": 1, "precision": 2 / 3, "recall": 0.5,
                                           "f1": 4 / 7}
    assert {c["metric"]: c["passed"] for c in first["checks"]} == {"f1": True, "missing_per_sample": False}
    md = (out / "report.md").read_text()
    assert "| field F1 |" in md and "canto F1" not in md
    page = (out / "report.html").read_text()
    assert "field F1" in page and "canto F1" not in page and '["items[].qty"' in page  # the per-sample view
    second = report.write_reports(out)
    assert second["metrics"] == first["metrics"] and second["task"] == "invoices"
    import io

    from rich.console import Console

    from extractor.evaluation.testing import assert_thresholds

    buf = io.StringIO()
    print_table(second, suite.task, Console(file=buf, width=200))
    assert "clean stop" in buf.getvalue() and "merged-gguf" in buf.getvalue() and "line F1" not in buf.getvalue()

    assert_thresholds(second, "merged-gguf", data="rows", f1=0.6, extra_per_sample=0.25)
    with pytest.raises(AssertionError, match="missing_per_sample"):
        assert_thresholds(second, "merged-gguf", data="rows", missing_per_sample=1.0)


def test_a_suite_with_an_unknown_task_or_a_cantos_metric_fails_at_once(invoices):
    f = invoices / "evals" / "bad.toml"
    f.write_text('task = "nope"\n[data]\nrows = "data/rows.jsonl"\n')
    with pytest.raises(ConfigError, match="bad.toml: task: unknown task 'nope'"):
        load_suite(f)
    f.write_text('task = "tasks/invoices"\n[data]\nrows = "data/rows.jsonl"\n'
                 '[[thresholds]]\ndata = "rows"\nvariants = ["merged-gguf"]\nline_f1 = 0.5\n')
    with pytest.raises(ConfigError, match="'line_f1' is not a metric with a direction of task 'invoices'"):
        load_suite(f)


# ----------------------------------------------------------------------------- citations
def test_citations_rows_pass_data_check_under_their_task():
    files = [str(ROOT / "datasets" / "citations" / f"{s}.jsonl") for s in ("train", "valid", "test")]
    r = cli("data", "check", "--task", "citations", *files)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = data.load(files, get_task("citations"))
    assert len(rows) >= 300 and all(ex.output for ex in rows)
    # and not under the default (Cantos) task
    assert cli("data", "check", files[1]).returncode == 1


def test_a_citations_row_trains_without_cantos_code(tmp_path):
    """The trainer's completion is the task's answer_text of the row's output (no Reference)."""
    from extractor.train.config import load_config

    valid = ROOT / "datasets" / "citations" / "valid.jsonl"
    cfg = load_config(None, ["task=citations", f"train={valid}", f"valid={valid}"])
    assert cfg.system == ""  # the task's own, at training time
    ex = data.load([valid], get_task(cfg.task))[0]
    text = get_task(cfg.task).answer_text(ex.output)
    assert json.loads(text) == ex.output and "Szymański" in text  # kept as UTF-8, not \\u escapes
    assert "task = \"citations\"" in cfg.to_toml()
    shipped = load_config(ROOT / "configs" / "citations-smollm2.toml")
    assert shipped.task == "citations" and shipped.system == ""
    with pytest.raises(ConfigError, match="train is not set"):
        load_config(None, [])


# ----------------------------------------------------------------------------- Cantos unchanged
def test_cantos_rescore_gives_the_figures_of_the_scorer_before_tasks(tmp_path):
    """Same samples, same scores: metrics, thresholds, verdict, intervals and per-tag figures of a
    scripted Cantos report equal what commit 961431c (before the Task layer) computed from it."""
    import scripted_cantos

    out = tmp_path / "out"
    scripted_cantos.write(out)
    expected = json.loads((ROOT / "tests" / "fixtures" / "cantos_rescore.json").read_text())
    got = report.write_reports(out).to_json()
    assert got["task"] == "cantos"
    for key, value in expected.items():
        if key == "verdict":  # the same choice; its wording and rule have changed since
            assert {d: v["ship"] for d, v in got[key]["data"].items()} == {d: v["ship"] for d, v in value["data"].items()}
            continue
        assert got[key] == value, key
    assert '<script type="application/json" id="samples-data">' in (out / "report.html").read_text()
    r = cli("report", "rescore", str(out))
    assert r.returncode == 0, r.stderr
    again = json.loads((out / "report.json").read_text())
    assert all(again[k] == got[k] for k in expected)


def test_cantos_sample_records_keep_their_fields_and_order(tmp_path):
    cantos = get_task("cantos")
    ex = data.load([ROOT / "datasets" / "cantos" / "valid.jsonl"], cantos)[0]
    rec = evaluate.record("valid", "merged-gguf", ex, Generation('{"references": []} ###', "stop", 5, 3, 0.25), cantos)
    assert list(rec) == ["data", "variant", "id", "tags", "input", "gold", "raw", "finish_reason", "status", "references",
                         "rest", "parse_error", "prompt_tokens", "gen_tokens", "seconds", "error"]
    assert rec["gold"] == ex.output["references"] and rec["references"] == []
    assert rec["status"] == "chained_turn"


def test_each_builtin_task_ships_its_default_suite():
    from extractor.evaluation.suite import default_suite

    s = default_suite(get_task("citations"))
    assert s.task is get_task("citations") and set(s.data) == {"test"} and s.decision_label == "test"
    assert default_suite(get_task("cantos")).task.name == "cantos"


def test_a_suite_names_a_task_directory_relative_to_its_project(invoices):
    (invoices / "invoices").mkdir()
    for f in ("task.toml", "schema.json"):
        (invoices / "invoices" / f).write_bytes((invoices / "tasks" / "invoices" / f).read_bytes())
    f = invoices / "evals" / "by-name.toml"
    f.write_text('task = "invoices"\n[data]\nrows = "data/rows.jsonl"\n')
    assert load_suite(f).task is get_task(str(invoices / "invoices"))


def test_citations_rows_encode_for_training_with_their_answer_as_the_completion(embedded):
    """The trainer's batches for a citations row: the completion is the row's output JSON + EOS,
    the prompt carries the task's system prompt (a tokenizer only; no model is loaded)."""
    from extractor.train.batches import IGNORE, collate, encode
    from extractor.runtimes.prompts import load_tokenizer

    spec, _, hf_dir = embedded
    tok = load_tokenizer(spec, hf_dir)
    task = get_task("citations")
    examples = data.load([ROOT / "datasets" / "citations" / "valid.jsonl"], task)[:4]
    rows = encode(tok, examples, "chat", task.system, 512, task)
    batch = collate(rows, tok.pad_token_id)
    for i, (row, ex) in enumerate(zip(rows, examples)):
        labels = batch["labels"][i]
        assert tok.decode(labels[labels != IGNORE].tolist()) == json.dumps(ex.output, ensure_ascii=False) + tok.eos_token
        assert task.system in tok.decode(row.input_ids[: row.n_prompt])


def _invoice_report(out: Path, task_dir: Path, right: int, n: int = 80) -> Path:
    """A file-task report directory: eval.json naming the task and n samples, the first ``right`` exact."""
    out.mkdir(parents=True)
    (out / "eval.json").write_text(json.dumps({"task": "invoices", "task_source": str(task_dir), "variants": ["merged-gguf"]}))
    lines = []
    for i in range(n):
        gold = {"number": str(i), "total": float(i), "items": [{"sku": "AB-1", "qty": 1}]}
        answer = gold if i < right else {**gold, "total": i + 100.0, "items": [{"sku": "AB-1", "qty": 9}]}
        lines.append(json.dumps({"data": "rows", "variant": "merged-gguf", "id": f"i{i:03d}", "input": f"Invoice {i}",
                                 "gold": gold, "raw": json.dumps(answer), "finish_reason": "stop", "answer": answer,
                                 "seconds": 0.5, "gen_tokens": 20}) + "\n")
    (out / "samples.jsonl").write_text("".join(lines))
    return out


def test_report_compare_tests_a_file_tasks_flags_and_field_f1(invoices):
    from extractor.evaluation.compare import compare, load

    task_dir = invoices / "tasks" / "invoices"
    a = _invoice_report(invoices / "a", task_dir, right=70)
    b = _invoice_report(invoices / "b", task_dir, right=30)
    r = cli("report", "compare", str(a), str(b))
    assert r.returncode == 1, r.stdout + r.stderr
    reg = [x.strip() for x in r.stdout.splitlines() if x.endswith("REGRESSION")]
    assert any(x.startswith("rows / merged-gguf: exact_match 0.875 -> 0.375 (-0.500, 80 rows), McNemar") for x in reg)
    # 4 gold leaves a row; a wrong row matches 2 of them and predicts 2 extra: F1 (70*8 + 10*4) / 640 -> (30*8 + 50*4) / 640
    assert any(x.startswith("rows / merged-gguf: f1 0.938 -> 0.688 (-0.250 [") and "paired bootstrap" in x for x in reg)
    assert "canto_f1" not in r.stdout and "line_f1" not in r.stdout
    la, lb = load(a), load(b)
    rows = {x["metric"]: x for x in compare(la.samples, lb.samples, task=la.task).rows}
    assert rows["f1"]["a"] == la.task.aggregate(list(la.samples.values()))["f1"]
    assert rows["f1"]["b"] == lb.task.aggregate(list(lb.samples.values()))["f1"]
    r = cli("report", "compare", str(a), str(a))
    assert r.returncode == 0 and "0 significant regression(s)" in r.stdout, r.stdout + r.stderr


def test_report_compare_refuses_reports_of_two_tasks_in_one_line(invoices):
    a = _invoice_report(invoices / "a", invoices / "tasks" / "invoices", right=70)
    cantos = invoices / "cantos"
    cantos.mkdir()
    (cantos / "eval.json").write_text(json.dumps({"task": "cantos", "task_source": "cantos"}))
    (cantos / "samples.jsonl").write_text(json.dumps({
        "data": "rows", "variant": "merged-gguf", "id": "i000", "gold": [{"canto": 9, "lines": []}],
        "raw": '{"references": [{"canto": 9, "lines": []}]}', "finish_reason": "stop"}) + "\n")
    r = cli("report", "compare", str(a), str(cantos))
    assert r.returncode == 2 and "Traceback" not in r.stderr and r.stderr.strip().count("\n") == 0, r.stderr
    assert f"{cantos}: its samples are of task 'cantos', those of {a} of 'invoices'" in r.stderr
    assert "compare two evaluations of the same task" in r.stderr


def test_cli_task_options_fail_at_once_on_an_unknown_task(tmp_path):
    for args in (["data", "check", "--task", "nope", "datasets/cantos/valid.jsonl"],
                 ["eval", "--task", "nope", "--variants", "rules", "--out", str(tmp_path / "o")],
                 ["parse", "--task", "nope", "{}"]):
        r = cli(*args)
        assert r.returncode == 1 and "unknown task 'nope': known tasks are cantos, citations" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr


def test_one_comparator_holds_a_value_to_a_bound_in_the_metrics_direction():
    from extractor.core.metrics import meets

    assert meets(0.95, 0.95, True) and not meets(0.949, 0.95, True)   # a minimum includes its bound
    assert meets(0.05, 0.05, False) and not meets(0.051, 0.05, False)  # a maximum too
    assert not meets(None, 0.0, True) and not meets(None, 1.0, False)  # a missing figure never passes
    with pytest.raises(ValueError):
        meets(3, 1, None)  # a count has no direction


def test_parse_classifies_another_tasks_answer_and_keeps_the_cantos_output():
    r = cli("parse", "--task", "citations", '{"author": "Lind, K.", "date": "(1998)."} <|im_start|>user')
    out = json.loads(r.stdout)
    assert out["status"] == "chained_turn" and out["answer"] == {"author": "Lind, K.", "date": "(1998)."}
    assert "references" not in out
    r = cli("parse", "--task", "citations", '{"author": ""}')  # minLength 1 in the citations schema
    assert json.loads(r.stdout)["status"] == "invalid" and json.loads(r.stdout)["answer"] is None
    out = json.loads(cli("parse", '{"references": [{"canto": 9, "lines": [15]}]}').stdout)
    assert out == {"status": "clean", "references": [{"canto": 9, "lines": [15]}], "rest": "", "error": None}
