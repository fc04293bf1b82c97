"""`extractor extract` for a task other than Cantos, through a scripted variant (no model): records
carry the task's `answer`, --resume reads them back, the task is recorded and checked, a --task
that contradicts the run is refused, --resolve-lines needs a task that resolves lines; and the
Cantos API gives references. The real model runs in tests/test_citations_e2e.py."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from extractor.extract import extractor as extraction
from extractor.cli import cli
from extractor.extract.corpus import meta_path, run_extract
from extractor.core.errors import ConfigError, ExtractionError
from extractor.extract.extractor import Extractor
from extractor.core.generation import Generation
from extractor.tasks.cantos.schema import Reference
from extractor.tasks.registry import get_task
from extractor.runtimes.run_card import RunCard
from extractor.runtimes.variant import BaseVariant, Settings

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
          "additionalProperties": False, "required": ["number", "total"],
          "properties": {"number": {"type": "string"}, "total": {"type": "number"}}}
# Passage text -> what the scripted model writes for it.
SCRIPT = {
    "Invoice 7, total 12.50": '{"number": "7", "total": 12.5}',
    "Invoice X9, total 9.99": '{"number": "X9", "total": 9.99}\n### Question: next?',
    "Invoice 12, total twenty": '{"number": "12", "total": "twenty"}',
    "Nothing to see here": "There is no invoice.",
}
ANSWERS = [{"number": "7", "total": 12.5}, {"number": "X9", "total": 9.99}, None, None]
TEXTS = list(SCRIPT)


class Scripted(BaseVariant):
    """A variant answering from SCRIPT; counts the passages it ran on."""

    def __init__(self, name="base-gguf"):
        self.name, self.seen = name, []

    def execute(self, inputs):
        self.seen.extend(inputs)
        for i, t in enumerate(inputs):
            yield i, Generation(SCRIPT[t], "stop", 10, 8, 0.01)


@pytest.fixture
def task_dir(tmp_path):
    d = tmp_path / "tasks" / "invoices"
    d.mkdir(parents=True)
    (d / "task.toml").write_text('name = "invoices"\nsystem = "Extract the invoice number and total as JSON."\n')
    (d / "schema.json").write_text(json.dumps(SCHEMA))
    return d


@pytest.fixture
def scripted(monkeypatch):
    """Extractor.load builds a Scripted variant; the tasks build() was given are in ``.tasks``."""
    variant = Scripted()
    variant.tasks = []

    def fake_build(name, sources, settings, task):
        variant.tasks.append(task)
        variant.name = str(name)
        return variant

    monkeypatch.setattr(extraction, "build", fake_build)
    return variant


def invoke(*args):
    return CliRunner().invoke(cli, ["extract", *map(str, args)], catch_exceptions=False)


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_records_of_a_file_task_carry_its_answer_and_resume_reads_them_back(tmp_path, task_dir, scripted):
    src = tmp_path / "invoices.txt"
    src.write_text("\n\n".join(TEXTS + TEXTS[:1]) + "\n")  # the last passage repeats the first
    out = tmp_path / "out.jsonl"
    r = invoke("--variant", "base-gguf", "--task", task_dir, src, "--out", out, "--quiet")
    assert r.exit_code == 0, r.output
    assert [t.name for t in scripted.tasks] == ["invoices"]  # prompts, grammar and rules are the task's
    assert scripted.seen == TEXTS  # the repeated passage is answered from the first
    recs = records(out)
    assert [rec["answer"] for rec in recs] == ANSWERS + ANSWERS[:1]
    assert [rec["status"] for rec in recs] == ["ok", "ok", "invalid", "no_json", "ok"]
    assert all("references" not in rec for rec in recs)
    assert list(recs[0]) == ["seq", "source", "line", "passage", "start", "end", "text", "status", "answer"]
    assert recs[1]["continuation"] == "chained_turn"
    assert recs[2]["raw"] == SCRIPT[TEXTS[2]] and recs[3]["raw"] == SCRIPT[TEXTS[3]]
    meta = json.loads(meta_path(out).read_text())
    assert meta["task"] == "invoices" and meta["finished"] is True
    full = out.read_text()

    # Cut after two records, as a kill would: --resume writes the rest, reusing the answers read back.
    out.write_text("".join(line + "\n" for line in full.splitlines()[:2]))
    scripted.seen.clear()
    r = invoke("--variant", "base-gguf", "--task", task_dir, src, "--out", out, "--resume", "--quiet")
    assert r.exit_code == 0, r.output
    assert out.read_text() == full
    assert scripted.seen == TEXTS[2:]
    # ...but the last one, whose text equals a record read back: it is reused, not run.
    out.write_text("".join(line + "\n" for line in full.splitlines()[:4]))
    scripted.seen.clear()
    assert invoke("--variant", "base-gguf", "--task", task_dir, src, "--out", out, "--resume", "--quiet").exit_code == 0
    assert out.read_text() == full and scripted.seen == []

    # Resuming with another task (here the default, cantos) is refused, naming the fix.
    r = invoke("--variant", "base-gguf", src, "--out", out, "--resume", "--quiet")
    assert r.exit_code == 1
    assert "holds answers of the task 'invoices', not 'cantos'" in r.output and "--task invoices" in r.output
    assert out.read_text() == full


def test_resolve_lines_is_refused_for_another_task_before_anything_runs(tmp_path, task_dir, scripted):
    src = tmp_path / "a.txt"
    src.write_text(TEXTS[0] + "\n")
    out = tmp_path / "out.jsonl"
    r = invoke("--variant", "base-gguf", "--task", task_dir, "--resolve-lines", src, "--out", out)
    assert r.exit_code == 1 and "--resolve-lines" in r.output and "'invoices'" in r.output
    assert "Drop --resolve-lines" in r.output
    assert scripted.seen == [] and not out.exists() and not meta_path(out).exists()


def test_a_task_without_rules_cannot_extract_with_the_rules(tmp_path):
    with pytest.raises(ConfigError, match="the task 'citations' defines no rules baseline"):
        Extractor.load(variant="rules", task="citations")
    r = invoke("--variant", "rules", "--task", "nosuchtask", tmp_path / "x.txt")
    assert r.exit_code == 1 and "unknown task 'nosuchtask'" in r.output


def test_the_api_gives_one_answer_per_passage_for_other_tasks(task_dir):
    task = get_task(str(task_dir))
    ex = Extractor(Scripted(), Settings(), task)
    assert not ex.task.resolves
    assert ex.extract(TEXTS[0]) == [ANSWERS[0]]
    results = ex.extract_batch(TEXTS)
    assert [r.answer for r in results] == ANSWERS
    with pytest.raises(ExtractionError, match="invalid"):
        ex.extract(TEXTS[2])
    with pytest.raises(ConfigError, match="--resolve-lines"):
        run_extract(ex, ["-"], None, resolve=True, progress=False)


def test_the_cantos_api_gives_references():
    with Extractor.load(variant="rules") as ex:
        assert ex.task.name == "cantos" and ex.task.resolves
        assert ex.extract("See Canto IX, ll. 15-16, and Canto XLV.") == [Reference(9, (15, 16)), Reference(45, ())]
        [r] = ex.extract_batch(["Canto XLV"])
        assert r.answer == {"references": [{"canto": 45, "lines": []}]}


def fake_run(root: Path, task: str) -> Path:
    """A directory RunArtefacts.load accepts (a card and an adapter file), trained for ``task``."""
    run = root / f"run-{task}"
    (run / "adapter").mkdir(parents=True)
    RunCard("smollm2-135m", task, task, "chat", "Extract.").write(run)
    (run / "adapter" / "adapter_model.safetensors").write_bytes(b"")
    return run


def test_the_task_is_the_runs_own_and_a_contradicting_task_is_refused(tmp_path, scripted):
    run = fake_run(tmp_path, "citations")
    with Extractor.load(run, "merged-gguf") as ex:
        assert ex.task.name == "citations" and not ex.task.resolves
    with Extractor.load(run, "merged-gguf", task="citations") as ex:
        assert ex.task.name == "citations"
    assert [t.name for t in scripted.tasks] == ["citations", "citations"]
    with pytest.raises(ConfigError) as e:
        Extractor.load(run, "merged-gguf", task="cantos")
    msg = str(e.value)
    assert "--task cantos contradicts the run" in msg and "'citations'" in msg and "Drop --task" in msg
    assert "\n" not in msg
    r = invoke("--run", run, "--task", "cantos", tmp_path / "x.txt")
    assert r.exit_code == 1 and "contradicts the run" in r.output


def test_merge_refuses_shards_of_different_tasks(tmp_path, task_dir, scripted):
    src = tmp_path / "a.txt"
    src.write_text("\n\n".join(TEXTS) + "\n")
    parts = [tmp_path / "p1.jsonl", tmp_path / "p2.jsonl"]
    for k, part in enumerate(parts, 1):
        assert invoke("--variant", "base-gguf", "--task", task_dir, src, "--shard", f"{k}/2", "--out", part,
                      "--quiet").exit_code == 0
    merged = tmp_path / "m.jsonl"
    assert invoke("merge", *parts, "--out", merged).exit_code == 0
    assert [rec["answer"] for rec in records(merged)] == ANSWERS
    meta = json.loads(meta_path(parts[1]).read_text())
    meta_path(parts[1]).write_text(json.dumps({**meta, "task": "cantos"}))
    r = invoke("merge", *parts, "--out", tmp_path / "m2.jsonl")
    assert r.exit_code == 1 and "different task" in r.output
