"""End to end on the real embedded model: a short training run, export, and an evaluation of a
few rows through every variant (free and +grammar), from the CLI, with a threshold gate."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def write_suite(tmp_path, bound: float) -> Path:
    rows = (ROOT / "datasets" / "cantos" / "valid.jsonl").read_text().splitlines()[:3]
    long = {"id": "too-long", "input": "Canto IX is long. " * 150, "output": {"references": [{"canto": 9, "lines": []}]}}
    (tmp_path / "evals").mkdir(exist_ok=True)
    (tmp_path / "rows.jsonl").write_text("\n".join(rows + [json.dumps(long)]) + "\n")
    suite = tmp_path / "evals" / f"e2e-{bound}.toml"
    suite.write_text(f"""
name = "e2e"
variants = ["rules", "base-gguf", "adapter-hf", "adapter-gguf", "merged-hf", "merged-gguf",
            "base-gguf+grammar", "adapter-gguf+grammar", "merged-gguf+grammar", "adapter-hf+grammar"]
[data]
rows = "{tmp_path / 'rows.jsonl'}"
[generation]
max_new_tokens = 48
n_ctx = 512
batch_size = 4
[[thresholds]]
data = "rows"
variants = ["merged-gguf", "adapter-gguf"]
schema_valid = {bound}
""")
    return suite


def eval_cli(*args):
    return subprocess.run([sys.executable, "-m", "extractor", "eval", "--quiet", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT)


def test_every_variant_end_to_end_with_a_gate(exported, tmp_path):
    run, _ = exported
    out = tmp_path / "out"
    r = eval_cli("--suite", write_suite(tmp_path, 0.5), "--run", run, "--out", out, "--check")
    assert r.returncode == 0, r.stderr[-3000:]
    rep = json.loads((out / "report.json").read_text())
    m = rep["metrics"]["rows"]
    assert set(m) == {"rules", "base-gguf", "adapter-hf", "adapter-gguf", "merged-hf", "merged-gguf",
                      "base-gguf+grammar", "adapter-gguf+grammar", "merged-gguf+grammar", "adapter-hf+grammar"}
    assert not rep["skipped"]
    assert all(v["n"] == 4 for v in m.values())
    recs = [json.loads(x) for x in (out / "samples.jsonl").read_text().splitlines()]
    overflow = [x for x in recs if x["id"] == "too-long" and x["variant"].endswith("gguf")]
    assert overflow and all(x["finish_reason"] == "error" and x["error"] for x in overflow)  # recorded, run went on
    # Constrained rows are always a prefix of schema-valid JSON: complete and clean, or cut off by the
    # token limit (a base model may list lines for ever) - never prose, never invalid JSON.
    grammar = [x for x in recs if x["variant"].endswith("+grammar") and x["id"] != "too-long"]
    assert grammar and all(x["status"] == "clean" or (x["status"] == "cut_off" and x["finish_reason"] == "length")
                           for x in grammar), [(x["variant"], x["status"], x["raw"][:80]) for x in grammar]
    for name in ("report.md", "report.html"):
        assert (out / name).stat().st_size > 0

    # The gate: an unreachable bound fails --check with exit 1; resume generates nothing new.
    r = eval_cli("--suite", write_suite(tmp_path, 1.0), "--run", run, "--out", out, "--check", "--resume")
    assert r.returncode == 1 and "threshold failed" in r.stdout
    assert len((out / "samples.jsonl").read_text().splitlines()) == len(recs)


def test_a_run_directory_copied_anywhere_evaluates_from_there(exported, tmp_path):
    """A run directory is evaluated from its card alone: copied outside the repository with no
    datasets beside it, and evaluated from that directory with --data, and with the task's own suite."""
    import shutil

    run, _ = exported
    elsewhere = tmp_path / "elsewhere"
    copy = elsewhere / "my-run"
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns("checkpoint", "merged-hf"))
    (copy / "config.toml").unlink()  # the training config is the trainer's alone
    rows = (ROOT / "datasets" / "cantos" / "valid.jsonl").read_text().splitlines()[:3]
    (elsewhere / "rows.jsonl").write_text("\n".join(rows) + "\n")
    assert not (elsewhere / "datasets").exists() and ROOT not in elsewhere.parents
    r = subprocess.run([sys.executable, "-m", "extractor", "eval", "--quiet", "--run", "my-run", "--variants",
                        "merged-gguf", "--data", "rows.jsonl", "--out", "out"], capture_output=True, text=True,
                       cwd=elsewhere)
    assert r.returncode == 0, r.stderr[-3000:]
    rep = json.loads((elsewhere / "out" / "report.json").read_text())
    assert rep["task"] == "cantos" and rep["metrics"]["rows"]["merged-gguf"]["n"] == 3
    # Without --data, the task's own suite evaluates the test split the package ships (291 rows).
    r = subprocess.run([sys.executable, "-m", "extractor", "eval", "--quiet", "--run", "my-run", "--variants",
                        "rules", "--out", "out2"], capture_output=True, text=True, cwd=elsewhere)
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads((elsewhere / "out2" / "report.json").read_text())["metrics"]["test"]["rules"]["n"] == 291
