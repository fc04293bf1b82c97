"""What comes back from a GPU check, and what is done with it: the figures read from a run directory
and an evaluation report, the runs packed into parts small enough to travel back, and the export +
parity checks on a packed run (in the check itself where llama-cpp-python is installed, else here
afterwards: `make gpu-finish GPU_FROM=DIR`, which calls ``finish``).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
import traceback
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT, LOG = "gpu-check.json", "gpu-check.log"
PART = 15 * 2**20
"""A lent machine sends back at most 8 files of at most 16 MiB each."""
RUN_FILES = ("card.json", "config.toml", "run.json", "train_log.jsonl", "loss.svg", "adapter")
RUNS = ("cantos-smollm2-gpu", "cantos-smollm2-gpu-passes")
"""The runs a check packs: the default run (exported and checked for parity) and the longest one."""


# ------------------------------------------------------------------ figures
def train_figures(run: Path) -> dict:
    """run.json's totals, and step times from train_log.jsonl (the first step holds the compilation)."""
    info = json.loads((run / "run.json").read_text())
    log = [json.loads(x) for x in (run / "train_log.jsonl").read_text().splitlines() if x.strip()]
    secs = [r["seconds"] for r in log if "seconds" in r]
    f = {k: info.get(k) for k in ("status", "steps_done", "total_steps", "train_seconds", "wall_seconds", "tokens_per_s",
                                  "precision", "best", "train_rows")}
    f["valid_losses"] = [[r["step"], round(r["valid_loss"], 5)] for r in log if "valid_loss" in r]
    f["config"] = {k: info["config"][k] for k in ("quantization", "compile", "batch_size", "max_steps", "epochs")}
    if secs:
        later = secs[1:] or secs
        f.update(first_step_s=round(secs[0], 3), median_step_s=round(statistics.median(later), 4),
                 p90_step_s=round(sorted(later)[int(0.9 * (len(later) - 1))], 4))
        toks = [r["tokens_per_s"] * r["seconds"] for r in log[1:] if "seconds" in r]
        if toks and sum(later) > 0:
            f["tokens_per_s_after_first_step"] = round(sum(toks) / sum(later), 1)
    return f


def eval_figures(report: dict) -> dict:
    keys = ("n", "schema_valid", "exact_match", "clean_stop", "runaway", "latency_p50_s", "examples_per_s",
            "gen_tokens_per_s")
    rows = {}
    for split, variants in report["metrics"].items():
        for variant, m in variants.items():
            row = {k: m.get(k) for k in keys}
            row["exact_ci"] = report.get("intervals", {}).get(split, {}).get(variant, {}).get("exact_match")
            row["wall_s"] = report.get("wall_seconds", {}).get(variant)
            rows[f"{split}/{variant}"] = row
    out = {"rows": rows, "skipped": report.get("skipped", {})}
    merged = [r for k, r in rows.items() if k.endswith("/merged-hf") and r["wall_s"] and r["n"]]
    if merged:
        out["merged_hf_s_per_row"] = round(merged[0]["wall_s"] / merged[0]["n"], 4)
    return out


# ------------------------------------------------------------------ pack, unpack, export + parity
def pack(run: Path, out: Path, part: int = PART) -> list[str]:
    """The run's adapter, card and logs as NAME.tar.gz.1, .2, ... in ``out`` (each at most ``part`` bytes)."""
    tmp = out / f".{run.name}.tar.gz"
    with tarfile.open(tmp, "w:gz") as tar:
        for name in RUN_FILES:
            if (run / name).exists():
                tar.add(run / name, arcname=f"{run.name}/{name}")
    for old in out.glob(f"{run.name}.tar.gz.*"):
        old.unlink()
    names = []
    with open(tmp, "rb") as src:
        for i, block in enumerate(iter(lambda: src.read(part), b""), 1):
            (out / f"{run.name}.tar.gz.{i}").write_bytes(block)
            names.append(f"{run.name}.tar.gz.{i}")
    tmp.unlink()
    return names


def unpack(src: Path, name: str, dest: Path) -> Path:
    """The run ``name`` packed in ``src``, extracted into ``dest/name`` (replacing it)."""
    parts = sorted(src.glob(f"{name}.tar.gz.*"), key=lambda p: int(p.suffix[1:]))
    if not parts:
        raise FileNotFoundError(f"{src}: no {name}.tar.gz.N parts (was pack-{name} skipped?)")
    dest.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(dest / name, ignore_errors=True)
    joined = dest / f".{name}.tar.gz"
    with open(joined, "wb") as f:
        for p in parts:
            f.write(p.read_bytes())
    with tarfile.open(joined) as tar:
        tar.extractall(dest, filter="data")
    joined.unlink()
    return dest / name


def export_and_parity(run: Path, prompts: int, env: dict, log) -> dict:
    """`extractor export RUN` (q8_0), then `pytest -m parity tests/test_export.py` on that run."""
    from extractor.train.export import export

    summary = export(run, "q8_0", log=log)
    junit = run / "parity.xml"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "parity", "tests/test_export.py",
           f"--junitxml={junit}"]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                       env={**env, "EXTRACTOR_PARITY_RUN": str(run), "EXTRACTOR_PARITY_PROMPTS": str(prompts)})
    log(r.stdout[-6000:] + r.stderr[-2000:])
    tests = junit_outcomes(junit) if junit.is_file() else {}
    if not tests:
        raise RuntimeError(f"the parity checks did not run (pytest exit {r.returncode}): {r.stdout[-600:]}")
    return {"export": {"seconds": summary["seconds"], "wall_seconds": summary["wall_seconds"],
                       "files": {k: v for k, v in summary["files"].items() if "/" not in k}},
            "parity": {"seconds": round(time.perf_counter() - t0, 1), "prompts": prompts or "all valid",
                       "passed": all(t["outcome"] == "passed" for t in tests.values()), "tests": tests}}


def junit_outcomes(path: Path) -> dict:
    out = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome, message = "passed", ""
        for kind in ("failure", "error", "skipped"):
            el = case.find(kind)
            if el is not None:
                outcome, message = {"failure": "failed"}.get(kind, kind), (el.get("message") or "")[:300]
                break
        out[case.get("name")] = {"outcome": outcome, **({"message": message} if message else {})}
    return out


def finish(src: Path, out: Path, runs: Path, prompts: int) -> int:
    """Here, after a lent machine: its packed runs into ``runs``, then export + parity of the default run."""
    data = json.loads((src / RESULT).read_text())
    out.mkdir(parents=True, exist_ok=True)
    log = lambda m: open(out / LOG, "a", encoding="utf-8").write(m + "\n")  # noqa: E731
    os.chdir(ROOT)
    t0 = time.perf_counter()
    entry = {"unpacked": []}
    try:
        for name in RUNS:
            if any(src.glob(f"{name}.tar.gz.*")):
                entry["unpacked"].append(str(unpack(src, name, runs)))
        entry.update(export_and_parity(runs / "cantos-smollm2-gpu", prompts, dict(os.environ), log), status="ok")
    except Exception as e:  # noqa: BLE001 - recorded, like every step
        entry.update(status="failed", error=f"{type(e).__name__}: {e}"[:2000])
        log(traceback.format_exc())
    entry["seconds"] = round(time.perf_counter() - t0, 1)
    data["steps"]["export-parity"] = {**entry, "where": "the CPU machine, afterwards (make gpu-finish)"}
    (out / RESULT).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    print(f"export-parity: {entry['status']}; wrote {out / RESULT}", file=sys.stderr)
    return 0 if entry["status"] == "ok" else 1
