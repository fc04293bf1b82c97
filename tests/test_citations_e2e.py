"""The citations task end to end on the real embedded model: a tiny training run of
configs/citations-smollm2.toml (a few steps on a few short rows), export, and an evaluation of four
rows of datasets/citations/valid.jsonl through adapter-gguf, merged-gguf and merged-gguf+grammar from
the CLI; the report holds the task's field metrics. Only the plumbing is checked: a model this short
trained is not expected to answer well. ``extractor extract`` then runs the merged GGUF over a few
reference strings: one record per input, each with the task's ``answer``."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "datasets" / "citations"
pytestmark = pytest.mark.slow

# A few short rows keep every batch short; 8 steps of 4 rows move the adapter off zero.
TINY_RUN = {"name": "citations-tiny", "max_steps": 8, "batch_size": 4, "max_length": 256, "eval_every": 8,
            "checkpoint_every": 100, "threads": 2, "lora_r": 8, "lora_alpha": 16, "precision": "bf16"}
VARIANTS = ["rules", "adapter-gguf", "merged-gguf", "merged-gguf+grammar"]


def short_rows(path: Path, n: int, max_chars: int = 110) -> list[str]:
    """The first n rows of a split whose reference is at most max_chars long."""
    rows = [line for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and len(json.loads(line)["input"]) <= max_chars]
    assert len(rows) >= n, f"{path}: only {len(rows)} rows of <= {max_chars} characters"
    return rows[:n]


@pytest.fixture(scope="session")
def citations_exported(tmp_path_factory, embedded):
    """A tiny citations run from the shipped config, trained and exported with the default quant."""
    from extractor.train.config import load_config
    from extractor.train.export import export
    from extractor.tasks.registry import get_task
    from extractor.train.trainer import train

    tmp = tmp_path_factory.mktemp("citations")
    (tmp / "train.jsonl").write_text("\n".join(short_rows(DATA / "train.jsonl", 32)) + "\n", encoding="utf-8")
    (tmp / "valid.jsonl").write_text("\n".join(short_rows(DATA / "valid.jsonl", 8)) + "\n", encoding="utf-8")
    values = {"train": str(tmp / "train.jsonl"), "valid": str(tmp / "valid.jsonl"), **TINY_RUN}
    cfg = load_config(ROOT / "configs" / "citations-smollm2.toml", [f"{k}={json.dumps(v)}" for k, v in values.items()])
    assert cfg.task == "citations"
    run = train(cfg, get_task("citations"), tmp / "runs", show_progress=False)
    export(run, "q8_0", log=lambda m: None)
    return run


def write_suite(tmp_path: Path) -> Path:
    rows = tmp_path / "rows.jsonl"
    rows.write_text("\n".join(short_rows(DATA / "valid.jsonl", 4)) + "\n", encoding="utf-8")
    (tmp_path / "evals").mkdir(exist_ok=True)
    suite = tmp_path / "evals" / "citations-e2e.toml"
    suite.write_text(f"""
name = "citations-e2e"
task = "citations"
variants = {json.dumps(VARIANTS)}
[data]
rows = {json.dumps(str(rows))}
[generation]
max_new_tokens = 64
n_ctx = 768
batch_size = 4
[[thresholds]]
data = "rows"
variants = ["merged-gguf"]
missing_per_sample = 1000.0
""")
    return suite


def cli(*args):
    return subprocess.run([sys.executable, "-m", "extractor", *map(str, args)], capture_output=True, text=True, cwd=ROOT)


def test_citations_train_export_eval(citations_exported, tmp_path):
    run = citations_exported
    assert json.loads((run / "run.json").read_text())["status"] == "finished"
    for name in ("adapter.gguf", "merged.gguf", "export.json"):
        assert (run / "export" / name).is_file(), name
    out = tmp_path / "out"
    r = cli("eval", "--quiet", "--suite", write_suite(tmp_path), "--run", run, "--out", out, "--check")
    assert r.returncode == 0, r.stderr[-3000:]
    rep = json.loads((out / "report.json").read_text())
    assert rep["task"] == "citations" and "f1" in rep["table"] and "line_f1" not in rep["table"]
    assert rep["skipped"] == {"rules": "the task 'citations' defines no rules baseline"}
    m = rep["metrics"]["rows"]
    assert set(m) == {"adapter-gguf", "merged-gguf", "merged-gguf+grammar"}
    for v, figures in m.items():
        assert figures["n"] == 4, v
        for key in ("schema_valid", "exact_match", "f1", "precision", "recall", "macro_f1", "missing_per_sample",
                    "extra_per_sample", "clean_stop", "runaway", "by_field"):
            assert key in figures, (v, key)
        assert isinstance(figures["recall"], float) and isinstance(figures["missing_per_sample"], float), (v, figures)
    assert rep["checks"] and all(c["passed"] for c in rep["checks"])
    # The citations schema is enforced whole by the grammar; its key order is not free.
    assert rep["grammar_unenforced"] == [] and rep["grammar_stricter"][0]["keyword"] == "properties"
    assert "+grammar rows: the grammar enforces every keyword of the schema." in (out / "report.md").read_text()
    assert "+grammar rows:" in r.stdout
    assert 'id="grammar"' in (out / "report.html").read_text()
    recs = [json.loads(x) for x in (out / "samples.jsonl").read_text().splitlines()]
    assert len(recs) == 12 and all("answer" in x and isinstance(x["gold"], dict) for x in recs)
    # Constrained rows are a prefix of schema-valid JSON: clean, or cut off by the token limit.
    grammar = [x for x in recs if x["variant"] == "merged-gguf+grammar"]
    assert all(x["status"] == "clean" or (x["status"] == "cut_off" and x["finish_reason"] == "length")
               for x in grammar), [(x["status"], x["raw"][:80]) for x in grammar]

    # Re-scoring from samples.jsonl alone gives the same figures.
    r = cli("report", "rescore", out)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads((out / "report.json").read_text())["metrics"] == rep["metrics"]


def test_extract_draws_citation_fields_with_the_runs_task(citations_exported, tmp_path):
    from extractor.extract.extractor import Extractor
    from extractor.tasks.registry import get_task
    from extractor.runtimes.variant import Settings

    run = citations_exported
    rows = short_rows(DATA / "valid.jsonl", 3)
    texts = [json.loads(x)["input"] for x in rows]
    src = tmp_path / "refs.jsonl"  # one document per row: its `input` field
    src.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "fields.jsonl"
    r = cli("extract", "--run", run, "--variant", "merged-gguf", "--n-ctx", 768, "--max-new-tokens", 64, src,
            "--out", out, "--quiet")
    assert r.returncode == 0, r.stderr[-2000:]
    recs = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(recs) == len(texts) and [x["text"] for x in recs] == texts
    task = get_task("citations")
    for rec in recs:
        assert rec["status"] in ("ok", "no_json", "invalid") and "references" not in rec, rec
        assert isinstance(rec["answer"], dict) if rec["status"] == "ok" else rec["answer"] is None, rec
        if rec["status"] == "ok":
            assert task.schema_errors(rec["answer"]) == [], rec
    assert json.loads((out.parent / (out.name + ".meta.json")).read_text())["task"] == "citations"
    # The Python API, with the run's own task, gives the same answers.
    with Extractor.load(run, "merged-gguf", settings=Settings(n_ctx=768, max_new_tokens=64)) as ex:
        assert ex.task.name == "citations"
        results = ex.extract_batch(texts)
    assert [(x.status, x.answer) for x in results] == [(rec["status"], rec["answer"]) for rec in recs]
    # Cantos-only options and a task other than the run's are refused before any model loads.
    r = cli("extract", "--run", run, "--resolve-lines", src, "--out", tmp_path / "x.jsonl")
    assert r.returncode == 1 and "Drop --resolve-lines" in r.stderr and not (tmp_path / "x.jsonl").exists()
    r = cli("extract", "--run", run, "--task", "cantos", src)
    assert r.returncode == 1 and "contradicts the run" in r.stderr
