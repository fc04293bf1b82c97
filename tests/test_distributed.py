"""Training beyond one process: data parallel on two CPU processes, one thread each so the two fit
two cores. `accelerate launch --multi_gpu --num_processes 2` on a machine without a GPU starts them
with torch's launcher, on the CPU, over gloo (accelerate 1.16's `--cpu` starts one process unless
given an MPI hostfile).

- each process's share of a step's batches (``batches.step_share``): every row of an epoch once
  across the processes, also for an uneven last step;
- the adapter after N optimizer steps equals a single-process run with the same global batch and
  data order (grad_accum 2 there), within a tolerance measured from their spread;
- only the main process writes the run directory; the validation loss is the mean over every row;
- kill -9 of the launcher mid-run, then `--resume` under the same launch: every step logged once,
  and the adapter equals an uninterrupted two-process run.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from extractor.train.batches import epoch_batches, step_share

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "datasets" / "cantos" / "train.jsonl"
VALID = ROOT / "datasets" / "cantos" / "valid.jsonl"


@pytest.mark.parametrize("rows, batch, accum, world", [(30, 2, 1, 2), (31, 2, 1, 2), (29, 4, 2, 2), (7, 2, 1, 3),
                                                       (12, 4, 1, 2), (9, 1, 3, 2)])
def test_every_row_is_trained_on_once_per_epoch_across_the_processes(rows, batch, accum, world):
    import math

    batches = epoch_batches([5 + i % 7 for i in range(rows)], batch, seed=3, epoch=0)
    per_step = accum * world
    steps = math.ceil(len(batches) / per_step)
    seen = []
    for within in range(steps):
        step = batches[within * per_step:(within + 1) * per_step]
        shares = [step_share(step, rank, world) for rank in range(world)]
        assert len({len(s) for s in shares}) == 1  # every process makes the same number of passes
        seen += [i for s in shares for b in s if b is not None for i in b]
    assert sorted(seen) == list(range(rows))  # none twice, none dropped


# ------------------------------------------------------------------ two real processes
@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    d = tmp_path_factory.mktemp("ddp")
    # 18 rows: 9 batches of 2, so the last step of each epoch holds one batch for two processes.
    (d / "train.jsonl").write_text("\n".join(TRAIN.read_text().splitlines()[:18]) + "\n")
    (d / "valid.jsonl").write_text("\n".join(VALID.read_text().splitlines()[:6]) + "\n")
    return d


def overrides(data: Path, **extra) -> list[str]:
    values = {"train": str(data / "train.jsonl"), "valid": str(data / "valid.jsonl"), "batch_size": 2, "lora_r": 4,
              "lora_alpha": 8, "lora_dropout": 0.0, "max_steps": 6, "eval_every": 3, "checkpoint_every": 1,
              "threads": 1, "precision": "fp32", "compile": False, "learning_rate": 2e-3, **extra}
    out = []
    for k, v in values.items():
        out += ["--set", f"{k}={json.dumps(v)}"]
    return out


def env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def launch(*args) -> list[str]:
    return [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
            "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "extractor", "train", "--quiet", *args]


def single(*args) -> list[str]:
    return [sys.executable, "-m", "extractor", "train", "--quiet", *args]


def adapter(run: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(run / "adapter" / "adapter_model.safetensors")


def log(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "train_log.jsonl").read_text().splitlines()]


def max_gap(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k] - b[k]).abs().max()) for k in a)


@pytest.mark.slow
def test_two_processes_train_the_adapter_one_process_trains(tiny_data, tmp_path):
    runs = tmp_path / "runs"
    r = subprocess.run(launch("--runs-dir", runs, *overrides(tiny_data, name="ddp")), cwd=ROOT, env=env(),
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-4000:]
    assert r.stdout.count("best adapter at step") == 1  # one summary: the main process's
    r = subprocess.run(single("--runs-dir", runs, *overrides(tiny_data, name="one", grad_accum=2)), cwd=ROOT, env=env(),
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-4000:]
    ddp, one = runs / "ddp", runs / "one"
    # Only the main process writes: one line per step, no temporary leftovers, the run's files once.
    assert [x["step"] for x in log(ddp)] == list(range(1, 7))
    assert sorted(p.name for p in ddp.iterdir()) == sorted(p.name for p in one.iterdir())
    assert not [p for p in ddp.rglob(".*") if p.name.startswith(".")]
    # The same global batch and order: the same losses and adapter. Measured here (fp32, one thread
    # each, gloo): bitwise equal, losses and adapter (largest difference 0.0): each process's
    # gradient is the sum over its batch, and the all-reduce adds two of them, as one process
    # accumulating two batches does. The tolerance (1e-6) allows another reduction order elsewhere;
    # a process that trained on the wrong rows, or a loss scaled per process, is off by far more.
    for a, b in zip(log(ddp), log(one)):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-6)
        if "valid_loss" in b:  # the mean over all six rows, not one process's three
            assert a["valid_loss"] == pytest.approx(b["valid_loss"], rel=1e-6)
    gap = max_gap(adapter(ddp), adapter(one))
    print("largest adapter difference, two processes vs one:", gap)
    assert gap < 1e-6
    info = json.loads((ddp / "run.json").read_text())
    assert info["status"] == "finished" and info["train_rows"] == 18


@pytest.mark.slow
def test_kill_9_of_the_launcher_then_resume_equals_an_uninterrupted_run(tiny_data, tmp_path):
    runs = tmp_path / "runs"
    args = overrides(tiny_data, name="killed", max_steps=10, eval_every=5)
    proc = subprocess.Popen(launch("--runs-dir", runs, *args), cwd=ROOT, env=env(), start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    state = runs / "killed" / "checkpoint" / "state.json"
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None:
        if state.exists() and json.loads(state.read_text())["step"] >= 3:
            break
        time.sleep(0.2)
    assert proc.poll() is None, proc.stdout.read().decode()[-3000:]
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert json.loads(state.read_text())["step"] < 10
    r = subprocess.run(launch("--resume", runs / "killed"), cwd=ROOT, env=env(), capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 0, r.stderr[-4000:]
    assert [x["step"] for x in log(runs / "killed")] == list(range(1, 11))  # every step once
    r = subprocess.run(launch("--runs-dir", runs, *overrides(tiny_data, name="straight", max_steps=10, eval_every=5)),
                       cwd=ROOT, env=env(), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-4000:]
    assert [x["loss"] for x in log(runs / "killed")] == pytest.approx([x["loss"] for x in log(runs / "straight")],
                                                                      rel=1e-6)
    assert max_gap(adapter(runs / "killed"), adapter(runs / "straight")) < 1e-6
