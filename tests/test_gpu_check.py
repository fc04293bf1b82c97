"""bench/gpu_check.py, the GPU check, kept from rotting while no GPU is lent: its dry run (every step
on a handful of rows and steps, on the CPU) and the pieces that carry the model there and the runs back."""

import base64
import hashlib
import json
import lzma
import os
import random
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import gpu_carry  # noqa: E402
import gpu_results  # noqa: E402

MiB = 2**20


# ------------------------------------------------------------------ what travels there
def test_the_model_goes_in_one_call_when_it_fits_else_in_two_balanced_ones():
    assert gpu_carry.split_plan(tree=10 * MiB, model=20 * MiB, extras=5 * MiB) == (20 * MiB,)
    first, second = gpu_carry.split_plan(tree=11 * MiB, model=87 * MiB, extras=8 * MiB)
    assert first + second == 87 * MiB
    calls = [11 * MiB + first, 11 * MiB + second + 8 * MiB]
    assert all(c <= gpu_carry.LIMIT - gpu_carry.MARGIN for c in calls)
    assert abs(calls[0] - calls[1]) <= 1
    with pytest.raises(gpu_carry.CarryError, match="do not fit two calls"):
        gpu_carry.split_plan(tree=30 * MiB, model=60 * MiB, extras=8 * MiB)


def carried_model(tmp_path, payload: bytes, sizes):
    """A carry folder holding ``payload`` xz-compressed in parts of ``sizes`` (fractions), and its manifest."""
    packed = lzma.compress(payload)
    cut = int(len(packed) * sizes[0])
    parts = []
    for name, chunk in zip(gpu_carry.PARTS, (packed[:cut], packed[cut:])):
        (tmp_path / name).write_bytes(chunk)
        parts.append({"file": name, "bytes": len(chunk), "sha256": hashlib.sha256(chunk).hexdigest()})
    manifest = {"model": {"gguf": "m.gguf", "gguf_sha256": hashlib.sha256(payload).hexdigest(), "parts": parts},
                "wheels": []}
    (tmp_path / gpu_carry.MANIFEST).write_text(json.dumps(manifest))
    return manifest


def test_the_parts_join_back_into_the_same_file(tmp_path):
    payload = bytes(range(256)) * 4000 + b"tail"
    manifest = carried_model(tmp_path, payload, (0.4,))
    gguf = tmp_path / "joined.gguf"
    gpu_carry._join(tmp_path, manifest, gguf)
    assert gguf.read_bytes() == payload


def test_a_part_lost_between_the_calls_stops_the_check_with_the_fix(tmp_path):
    carried_model(tmp_path, b"x" * 10000, (0.5,))
    (tmp_path / gpu_carry.PARTS[0]).unlink()  # the machine went cold: call 1's files are gone
    with pytest.raises(gpu_carry.CarryError, match="call 1, then call 2 at once"):
        gpu_carry.bootstrap(tmp_path)
    with pytest.raises(gpu_carry.CarryError, match="make gpu-carry"):
        gpu_carry.bootstrap(tmp_path / "nothing")


def test_a_slim_wheel_keeps_the_named_libraries_and_a_matching_record(tmp_path):
    wheel = tmp_path / "bnb-1.0-py3-none-any.whl"
    files = {"bnb/__init__.py": b"x = 1\n", "bnb/libbitsandbytes_cpu.so": b"cpu", "bnb/libbitsandbytes_cuda130.so": b"13",
             "bnb/libbitsandbytes_cuda118.so": b"11" * 1000, "bnb/libbitsandbytes_rocm64.so": b"rocm"}
    with zipfile.ZipFile(wheel, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
        z.writestr("bnb-1.0.dist-info/RECORD", "stale\n")
    (tmp_path / "slim").mkdir()
    slim = gpu_carry.slim_wheel(wheel, tmp_path / "slim" / wheel.name)
    with zipfile.ZipFile(slim) as z:
        names = set(z.namelist())
        record = z.read("bnb-1.0.dist-info/RECORD").decode().splitlines()
        assert names == {"bnb/__init__.py", "bnb/libbitsandbytes_cpu.so", "bnb/libbitsandbytes_cuda130.so",
                         "bnb-1.0.dist-info/RECORD"}
        for line in record[:-1]:
            name, digest, size = line.split(",")
            data = z.read(name)
            assert digest == "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert int(size) == len(data)


# ------------------------------------------------------------------ what comes back
def test_a_run_packs_into_parts_and_unpacks_whole(tmp_path):
    run = tmp_path / "runs" / "r"
    (run / "adapter").mkdir(parents=True)
    weights = random.Random(0).randbytes(20000)  # as incompressible as trained fp32 weights
    (run / "adapter" / "adapter_model.safetensors").write_bytes(weights)
    (run / "card.json").write_text("{}")
    (run / "checkpoint").mkdir()  # optimizer state: not sent back
    (run / "checkpoint" / "optimizer.safetensors").write_bytes(b"0" * 100)
    out = tmp_path / "out"
    out.mkdir()
    names = gpu_results.pack(run, out, part=4000)
    assert len(names) > 1 and all((out / n).stat().st_size <= 4000 for n in names)
    back = gpu_results.unpack(out, "r", tmp_path / "back")
    assert (back / "adapter" / "adapter_model.safetensors").read_bytes() == weights
    assert (back / "card.json").is_file() and not (back / "checkpoint").exists()


def test_step_times_come_from_the_training_log(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({
        "status": "finished", "steps_done": 4, "total_steps": 4, "train_seconds": 3.5, "tokens_per_s": 90.0,
        "config": {"quantization": "none", "compile": True, "batch_size": 1, "max_steps": 4, "epochs": 3.0}}))
    log = [{"step": 1, "tokens_per_s": 40.0, "seconds": 2.0}, {"step": 2, "tokens_per_s": 200.0, "seconds": 0.5},
           {"step": 3, "tokens_per_s": 100.0, "seconds": 0.4}, {"step": 4, "tokens_per_s": 150.0, "seconds": 0.6,
                                                                "valid_loss": 0.25}]
    (tmp_path / "train_log.jsonl").write_text("\n".join(json.dumps(r) for r in log) + "\n")
    f = gpu_results.train_figures(tmp_path)
    assert f["first_step_s"] == 2.0 and f["median_step_s"] == 0.5
    assert f["tokens_per_s_after_first_step"] == pytest.approx((100 + 40 + 90) / 1.5, rel=1e-3)
    assert f["valid_losses"] == [[4, 0.25]]


def test_parity_outcomes_are_read_from_junit(tmp_path):
    (tmp_path / "j.xml").write_text(
        '<testsuites><testsuite><testcase classname="t" name="test_a"/>'
        '<testcase classname="t" name="test_b[x]"><failure message="assert 0.8 &gt;= 0.85">tb</failure></testcase>'
        '<testcase classname="t" name="test_c"><error message="fixture broke">tb</error></testcase>'
        '</testsuite></testsuites>')
    assert gpu_results.junit_outcomes(tmp_path / "j.xml") == {
        "test_a": {"outcome": "passed"}, "test_b[x]": {"outcome": "failed", "message": "assert 0.8 >= 0.85"},
        "test_c": {"outcome": "error", "message": "fixture broke"}}


def test_finish_without_a_check_result_is_one_line_error(tmp_path):
    r = subprocess.run([sys.executable, "bench/gpu_check.py", "finish", "--from", str(tmp_path), "--out",
                        str(tmp_path / "o")], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and "gpu-check.json not found" in r.stderr and "Traceback" not in r.stderr


# ------------------------------------------------------------------ the dry run: every step
STRUCTURAL = ("test_export_writes_every_artefact", "test_merged_gguf_keeps_untouched_tensors_and_metadata",
              "test_adapter_hf_and_merged_hf_logits_agree", "test_modelfile_uses_the_training_template",
              "test_greedy_trace_is_what_create_completion_returns")
"""Parity checks that hold for any adapter; the agreement ones need a decisive model, which a few
steps do not make, so the dry run checks that they ran, not that they passed."""


@pytest.mark.slow
def test_the_dry_run_runs_every_step_of_the_gpu_check(tmp_path):
    external = tmp_path / "poundtech101.jsonl"  # an external file's form: output as a JSON string
    rows = [json.loads(x) for x in (ROOT / "datasets" / "cantos" / "valid.jsonl").read_text().splitlines()[:3]]
    external.write_text("".join(json.dumps({"input": r["input"], "output": json.dumps(r["output"])}) + "\n"
                                for r in rows))
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "bench/gpu_check.py", "--dry-run", "--out", str(out), "--work",
                             str(tmp_path / "work"), "--external", str(external), "--external",
                             str(tmp_path / "absent.jsonl")],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=900)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # its training and pytest children with it
        raise
    assert proc.returncode == 0, err[-3000:]
    result = json.loads((out / "gpu-check.json").read_text())
    steps = result["steps"]
    assert result["status"] == "finished" and result["device"]["type"] == "cpu"
    for name in ("setup", "train-default", "eval-default", "pack-default", "train-passes", "eval-passes",
                 "pack-passes", "export-parity"):
        assert steps[name]["status"] == "ok", (name, steps[name])
    assert steps["qlora"]["status"] == "skipped" and "CUDA-only" in steps["qlora"]["why"]
    assert steps["setup"]["compile"].startswith("off")
    assert steps["train-default"]["steps_done"] == 4 and steps["train-default"]["median_step_s"] > 0
    assert steps["train-passes"]["passes"] == 1 and steps["train-passes"]["steps_done"] == 8
    rows = steps["eval-default"]["rows"]
    assert set(rows) == {f"test/{v}" for v in ("adapter-hf", "merged-hf", "adapter-hf+grammar", "merged-hf+grammar")}
    assert all(row["n"] == 3 for row in rows.values())
    assert set(steps["eval-passes"]["rows"]) == {"valid/merged-hf", "poundtech101/merged-hf", "test/merged-hf"}
    assert "absent.jsonl: not found" in steps["eval-passes"]["absent"][0]
    export = steps["export-parity"]
    assert {"adapter.gguf", "merged.gguf", "Modelfile"} <= set(export["export"]["files"])
    tests = export["parity"]["tests"]
    assert len(tests) == 11 and not [t for t, o in tests.items() if o["outcome"] in ("error", "skipped")]
    assert all(tests[t]["outcome"] == "passed" for t in STRUCTURAL), tests
    back = sorted(p.name for p in out.iterdir())  # what a lent machine sends back: at most 8 files of 16 MiB
    assert len(back) <= 8 and all((out / n).stat().st_size <= 16 * MiB for n in back), back
    assert "cantos-smollm2-gpu.tar.gz.1" in back and "gpu-check.log" in back
