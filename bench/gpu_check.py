"""`make gpu-check`: the CUDA path end to end in one script; every figure into one JSON and a log.

    python bench/gpu_check.py --out DIR                      # this machine's GPU (its CPU if none), full size
    python bench/gpu_check.py --dry-run --out DIR            # a handful of rows and steps on the CPU (make test)
    python3 bench/gpu_check.py --carry .gpu --out $OUT       # a lent machine (bench/gpu_carry.py unpacks first)
    python bench/gpu_check.py finish --from DIR --out DIR    # export + parity here of what a GPU trained

Steps, most needed first (the budget skips the optional ones that no longer fit). Each is timed
and recorded as ok, skipped (why) or failed (the error); OUT/gpu-check.json is rewritten after
every step, so a kill keeps what was done:

  setup          device, packages, the model's HF checkpoint (a lent machine: gpu_carry.bootstrap)
  train-default  configs/cantos-smollm2.toml as it is: 1,500 steps of 1 row, bf16 and compiled on a GPU
  eval-default   adapter-hf, merged-hf and their +grammar rows on the test split
  pack-default   the run (adapter, card, logs) into OUT in parts of at most 15 MiB
  qlora          the same config in 4 bit (NF4, bitsandbytes; CUDA only here), a few hundred steps
  train-passes   as many whole passes over the training data as the budget left holds
  eval-passes    that run's merged-hf on valid, the --external files (poundtech101) and test
  pack-passes    that run into OUT too
  export-parity  `extractor export` of the packed default run, then tests/test_export.py's parity
                 checks (-m parity) on it; needs llama-cpp-python, so a lent machine skips it and
                 `make gpu-finish` runs it on the CPU afterwards
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's extractor, installed or not (a lent machine: not)

import gpu_carry  # noqa: E402 - beside this file
from gpu_results import LOG, RESULT, eval_figures, export_and_parity, finish, pack, train_figures, unpack

CONFIG = ROOT / "configs" / "cantos-smollm2.toml"
DATA = ROOT / "datasets" / "cantos"
MARKER = ".gpu-check-work"
H100 = {"setup": 30, "train-default": 100, "eval-default": 70, "pack-default": 3, "qlora": 45, "train-passes": 110,
        "eval-passes": 45, "pack-passes": 3}
"""Estimated seconds of each step on one H100 (docs/performance.md, "The GPU check", says how); the
budget uses measured figures instead as soon as it has them."""
RUN_START = 20.0
"""Seconds a training subprocess spends outside its steps on a GPU (imports, loading, validation)."""


@dataclass
class Plan:
    """How big each step is: the full check, or a dry run (a handful of rows and steps)."""

    dry_run: bool = False
    budget: float = 450.0
    steps: int = 0            # the default run's steps (0: the config's 1,500)
    qlora_steps: int = 300
    rows: int = 0             # training rows (0: all; valid gets half as many)
    limit: int = 0            # evaluation rows per file (0: all)
    max_new_tokens: int = 0   # 0: the suite's
    max_passes: int = 4
    parity_prompts: int = 0   # valid prompts of the parity checks (0: all 180)


DRY = {"steps": 4, "qlora_steps": 4, "rows": 8, "limit": 3, "max_new_tokens": 32, "max_passes": 1, "parity_prompts": 4}


class Skipped(Exception):
    """A step that cannot run here; the message is the reason recorded."""


class Check:
    def __init__(self, plan: Plan, out: Path, work: Path, carry: Path | None, external: list[Path], export: bool):
        self.plan, self.out, self.work, self.carry, self.external, self.export = plan, out, work, carry, external, export
        self.runs, self.started = work / "runs", time.perf_counter()
        self.env = dict(os.environ)
        self.data = {"check": "bench/gpu_check.py", "plan": asdict(plan), "status": "running", "steps": {},
                     "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "cannot_travel": gpu_carry.CANNOT_TRAVEL}
        self.device, self.figures = "cpu", {}

    # ------------------------------------------------------------------ bookkeeping
    def left(self) -> float:
        return self.plan.budget - (time.perf_counter() - self.started)

    def log(self, msg: str) -> None:
        with open(self.out / LOG, "a", encoding="utf-8") as f:
            f.write(f"[{time.perf_counter() - self.started:7.1f}s] {msg}\n")

    def save(self) -> None:
        self.data["elapsed_s"] = round(time.perf_counter() - self.started, 1)
        tmp = self.out / f".{RESULT}.tmp"
        tmp.write_text(json.dumps(self.data, indent=2, sort_keys=True) + "\n")
        tmp.replace(self.out / RESULT)

    def step(self, name: str, fn, need: float | None = None) -> bool:
        """Run one step; ``need``: an optional step's estimated seconds, skipped when the budget lacks them."""
        entry = self.data["steps"][name] = {"status": "running"}
        self.save()
        t0 = time.perf_counter()
        try:
            if need is not None and need > self.left():
                raise Skipped(f"budget: {max(0, self.left()):.0f} s left of {self.plan.budget:.0f}, needs ~{need:.0f} s")
            entry.update(fn() or {})
            entry["status"] = "ok"
        except Skipped as e:
            entry.update(status="skipped", why=str(e))
        except Exception as e:  # noqa: BLE001 - a failed step is recorded and the check goes on
            entry.update(status="failed", error=f"{type(e).__name__}: {e}"[:2000])
            self.log(traceback.format_exc())
        entry["seconds"] = round(time.perf_counter() - t0, 1)
        why = entry.get("why") or entry.get("error")
        print(f"{name}: {entry['status']} ({entry['seconds']} s){f' - {why}' if why else ''}", file=sys.stderr)
        self.log(f"{name}: {json.dumps(entry)[:600]}")
        self.save()
        return entry["status"] == "ok"

    def ok(self, name: str) -> bool:
        return self.data["steps"].get(name, {}).get("status") == "ok"

    # ------------------------------------------------------------------ the steps
    def setup(self) -> dict:
        info = {}
        if self.carry is not None:
            info["carry"] = gpu_carry.bootstrap(self.carry, self.log)
            os.environ["EXTRACTOR_CACHE"] = str(self.carry / "cache")
        self.env = dict(os.environ)  # with the carried site on PYTHONPATH (bootstrap)
        import logging

        from extractor.core import quiet

        quiet.libraries()  # the library messages the CLI switches off
        logging.getLogger("kernels").setLevel(logging.ERROR)  # bitsandbytes' kernel hub, offline here, says so
        import torch

        from extractor.runtimes import models

        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        dev = {"type": self.device, "torch": torch.__version__, "cuda": torch.version.cuda, "cpus": os.cpu_count()}
        if self.device == "cuda":
            p = torch.cuda.get_device_properties(0)
            dev.update(name=p.name, memory_gib=round(p.total_memory / 2**30, 1), bf16=torch.cuda.is_bf16_supported())
        self.data["device"] = dev
        self.data["packages"] = {m: gpu_carry._version(d) if importlib.util.find_spec(m) else None for d, m in
                                 [("transformers", "transformers"), ("peft", "peft"), ("accelerate", "accelerate"),
                                  ("triton", "triton"), ("bitsandbytes", "bitsandbytes"), ("llguidance", "llguidance"),
                                  ("llama-cpp-python", "llama_cpp"), ("gguf", "gguf")]}
        spec = models.get(models.DEFAULT_MODEL)
        hf_dir = Path(models.hf_path(spec))  # prepared from the GGUF once (on a lent machine: now)
        if self.carry is not None:
            info["checkpoint"] = gpu_carry.pin_checkpoint(self.carry, hf_dir)
        if self.plan.rows:
            (self.work / "data").mkdir(exist_ok=True)
            for split, n in (("train", self.plan.rows), ("valid", max(2, self.plan.rows // 2))):
                lines = (DATA / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()[:n]
                (self.work / "data" / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        info["compile"] = self._compile_choice()
        return info

    def _compile_choice(self) -> str:
        if self.plan.dry_run:
            return "off: a dry run (the compilation alone takes ~45 s on 2 cores)"
        if self.device == "cuda" and importlib.util.find_spec("triton") is None:
            return "off: triton is not installed (inductor needs it on a GPU)"
        return "on (the config's compile = true)"

    def overrides(self, **extra) -> list[str]:
        values = {}
        if self.plan.rows:
            values.update(train=str(self.work / "data" / "train.jsonl"), valid=str(self.work / "data" / "valid.jsonl"))
        if self.plan.steps:
            values["max_steps"] = self.plan.steps
        if self.data["steps"]["setup"].get("compile", "").startswith("off"):
            values["compile"] = False
        values.update(extra)
        return [f"{k}={json.dumps(v)}" for k, v in values.items()]

    def train(self, name: str, overrides: list[str], deadline: float | None = None) -> dict:
        """`extractor train configs/cantos-smollm2.toml --set ...` in its own process (a crash or a
        stuck step cannot take the check down); stopped at ``deadline`` seconds, keeping its best adapter."""
        cmd = [sys.executable, "-m", "extractor", "train", str(CONFIG), "--runs-dir", str(self.runs), "--quiet",
               "--set", f"name={name}"]
        for o in overrides:
            cmd += ["--set", o]
        self.log("$ " + " ".join(cmd))
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        stopped = False
        try:
            output, _ = proc.communicate(timeout=deadline)
        except subprocess.TimeoutExpired:
            stopped = True
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate()
        self.log(output[-4000:])
        run = self.runs / name
        if not (run / "run.json").is_file() or (proc.returncode != 0 and not stopped):
            raise RuntimeError(f"extractor train exited {proc.returncode}: {output.strip()[-800:]}")
        figures = train_figures(run)
        figures["process_seconds"] = round(time.perf_counter() - t0, 1)
        if stopped:
            figures["stopped"] = f"at the budget's deadline ({deadline:.0f} s): the adapter is the best validated so far"
        return figures

    def train_default(self) -> dict:
        self.figures["default"] = f = self.train("cantos-smollm2-gpu", self.overrides())
        return f

    def qlora(self) -> dict:
        if self.plan.dry_run:
            raise Skipped("dry run: bitsandbytes 4-bit is the GPU check's CUDA-only part")
        if self.device != "cuda":
            raise Skipped("no CUDA device: QLoRA is checked on a GPU only")
        if importlib.util.find_spec("bitsandbytes") is None:
            raise Skipped("bitsandbytes is not installed (make gpu-carry carries a CUDA 13 build)")
        return self.train("cantos-smollm2-gpu-qlora", self.overrides(quantization="4bit", compile=False,
                                                                     max_steps=self.plan.qlora_steps))

    def qlora_need(self) -> float:
        return RUN_START + self.plan.qlora_steps * self._step_s() * 2.5 if self.device == "cuda" else 0.0

    def _step_s(self) -> float:
        d = self.figures.get("default") or {}
        return d.get("median_step_s") or 0.06

    def passes(self) -> dict:
        rows = self.plan.rows or sum(1 for line in open(DATA / "train.jsonl", encoding="utf-8") if line.strip())
        per_pass = rows * self._step_s() * 1.05 + 3
        room = self.left() - self.eval_passes_need() - H100["pack-passes"] - RUN_START
        n = min(self.plan.max_passes, int(room // per_pass)) if not self.plan.dry_run else self.plan.max_passes
        if n < 1:
            raise Skipped(f"budget: {max(0, self.left()):.0f} s left, one pass needs ~{per_pass + RUN_START:.0f} s")
        deadline = None if self.plan.dry_run else max(30.0, self.left() - self.eval_passes_need() - 5)
        f = self.train("cantos-smollm2-gpu-passes", self.overrides(max_steps=0, epochs=float(n)), deadline)
        f.update(passes=n, seconds_per_pass_estimated=round(per_pass, 1))
        self.figures["passes"] = f
        return f

    def evaluate(self, run: Path, variants: list[str], files: list[Path], out: Path, limit: int = 0,
                 on_device: bool = True) -> dict:
        """run_eval + write_reports, as `extractor eval --run RUN --variants ... --data ...` does; the
        transformers rows loaded on the GPU (``torch.device`` context) unless ``on_device`` is false."""
        import torch

        from extractor.evaluation.evaluate import run_eval
        from extractor.evaluation.report import write_reports
        from extractor.evaluation.suite import default_suite
        from extractor.runtimes.run_card import RunArtefacts
        from extractor.runtimes.variants import Sources
        from extractor.tasks.registry import get_task

        self._merged_hf(run)
        task = get_task("cantos")
        suite = default_suite(task)
        suite.use_data(files)
        suite.use_variants(variants)
        suite.limit = limit or self.plan.limit
        if self.plan.max_new_tokens:
            suite.settings.max_new_tokens = self.plan.max_new_tokens
        cuda = self.device == "cuda"
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
        where = torch.device("cuda") if cuda and on_device else contextlib.nullcontext()
        with where:
            run_eval(suite, Sources({None: RunArtefacts.load(run)}, {}, suite.base_model), out, progress=False, log=self.log)
        report = write_reports(out, task)
        figures = eval_figures(report)
        if cuda:
            figures["cuda_peak_mib"] = round((torch.cuda.max_memory_allocated() - base) / 2**20)
        figures["settings"] = {"max_new_tokens": suite.settings.max_new_tokens, "batch_size": suite.settings.batch_size,
                               "limit": suite.limit, "precision": suite.settings.precision}
        gc.collect()
        if cuda:
            torch.cuda.empty_cache()
        return figures

    def _merged_hf(self, run: Path) -> None:
        """RUN/export/merged-hf as `extractor export` writes it (its merged-hf part: no llama.cpp needed)."""
        target = run / "export" / "merged-hf"
        if target.exists():
            return
        from extractor.core.files import replace_dir
        from extractor.runtimes import models
        from extractor.runtimes.prompts import load_tokenizer
        from extractor.train.export import write_merged_hf

        spec = models.get(models.DEFAULT_MODEL)
        hf_dir = models.hf_path(spec)
        t0 = time.perf_counter()
        replace_dir(target, lambda d: write_merged_hf(run, hf_dir, load_tokenizer(spec, hf_dir), d))
        self.figures.setdefault("merged_hf_write_s", round(time.perf_counter() - t0, 1))

    def eval_default(self) -> dict:
        run = self.runs / "cantos-smollm2-gpu"
        figures = {}
        if self.device == "cuda":  # does `extractor eval` itself put the transformers rows on the GPU?
            probe = self.evaluate(run, ["merged-hf"], [DATA / "test.jsonl"], self.work / "eval-probe", limit=1,
                                  on_device=False)
            figures["extractor_eval_on_gpu"] = probe.get("cuda_peak_mib", 0) > 64
        figures.update(self.evaluate(run, ["adapter-hf", "merged-hf", "adapter-hf+grammar", "merged-hf+grammar"],
                                     [DATA / "test.jsonl"], self.work / "eval-default"))
        figures["merged_hf_write_s"] = self.figures.get("merged_hf_write_s")
        self.figures["eval"] = figures
        return figures

    def eval_files(self) -> tuple[list[Path], list[str]]:
        present = [p for p in self.external if p.is_file()]
        absent = [f"{p}: not found (not evaluated)" for p in self.external if not p.is_file()]
        return [DATA / "valid.jsonl", *present, DATA / "test.jsonl"], absent

    def eval_passes_need(self) -> float:
        per_row = (self.figures.get("eval") or {}).get("merged_hf_s_per_row") or 0.08
        rows = sum(self.plan.limit or n for n in (180, 101, 291))
        return rows * per_row + (self.figures.get("merged_hf_write_s") or 8) + 10

    def eval_passes(self) -> dict:
        if not (self.runs / "cantos-smollm2-gpu-passes" / "adapter").is_dir():
            raise Skipped("no adapter from train-passes")
        files, absent = self.eval_files()
        figures = self.evaluate(self.runs / "cantos-smollm2-gpu-passes", ["merged-hf"], files, self.work / "eval-passes")
        figures["absent"] = absent
        return figures

    def pack(self, name: str) -> dict:
        run = self.runs / name
        if not (run / "adapter").is_dir():
            raise Skipped(f"no adapter in {run}")
        return {"files": pack(run, self.out)}

    def export_parity(self) -> dict:
        if not self.export:
            raise Skipped("--no-export given")
        if importlib.util.find_spec("llama_cpp") is None:
            raise Skipped("llama-cpp-python is not installed here (it cannot travel to a lent machine): run "
                          "`make gpu-finish GPU_FROM=<this OUT>` on the CPU machine afterwards")
        if not self.ok("pack-default"):
            raise Skipped("no packed default run")
        run = unpack(self.out, "cantos-smollm2-gpu", self.work / "returned")
        return export_and_parity(run, self.plan.parity_prompts, self.env, self.log)

    # ------------------------------------------------------------------ the run
    def run(self) -> int:
        self.step("setup", self.setup)
        if not self.ok("setup"):
            return self.finish(2)
        self.step("train-default", self.train_default)
        if self.ok("train-default"):
            self.step("eval-default", self.eval_default)
            self.step("pack-default", lambda: self.pack("cantos-smollm2-gpu"))
            self.step("qlora", self.qlora, need=self.qlora_need())
            self.step("train-passes", self.passes)
            if self.ok("train-passes"):
                self.step("eval-passes", self.eval_passes, need=None if self.plan.dry_run else self.eval_passes_need())
                self.step("pack-passes", lambda: self.pack("cantos-smollm2-gpu-passes"))
        self.step("export-parity", self.export_parity)
        required = ("setup", "train-default", "eval-default", "pack-default")
        return self.finish(0 if all(self.ok(s) for s in required) else 1)

    def finish(self, code: int) -> int:
        self.data["status"] = "finished" if code == 0 else "incomplete"
        self.data["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        self.save()
        print(f"wrote {self.out / RESULT} and {self.out / LOG} ({self.data['elapsed_s']} s)", file=sys.stderr)
        return code


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["finish"]:
        ap = argparse.ArgumentParser(prog="gpu_check.py finish", description=finish.__doc__)
        ap.add_argument("--from", dest="src", type=Path, required=True, help="the lent machine's OUT, copied back")
        ap.add_argument("--out", type=Path, required=True)
        ap.add_argument("--runs-dir", type=Path, default=ROOT / "runs")
        ap.add_argument("--parity-prompts", type=int, default=0, help="valid prompts of the parity checks (0: all)")
        a = ap.parse_args(argv[1:])
        if not (a.src / RESULT).is_file():
            print(f"error: {a.src / RESULT} not found: --from takes the folder a lent machine's OUT came back in",
                  file=sys.stderr)
            return 2
        return finish(a.src.resolve(), a.out.resolve(), a.runs_dir.resolve(), a.parity_prompts)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="where gpu-check.json, the log and the packed runs go")
    ap.add_argument("--work", type=Path, default=ROOT / ".gpu" / "work", help="scratch: runs, evaluations (wiped)")
    ap.add_argument("--dry-run", action="store_true", help="a handful of rows and steps, on the CPU")
    ap.add_argument("--budget", type=float, help="seconds for the whole check (default: 450 on a GPU, 3600 otherwise)")
    ap.add_argument("--carry", type=Path, help="a lent machine: the folder bench/gpu_carry.py prepared")
    ap.add_argument("--external", type=Path, action="append", default=[], help="more evaluation data, if present")
    ap.add_argument("--no-export", dest="export", action="store_false", help="leave export + parity to gpu-finish")
    a = ap.parse_args(argv)
    if a.dry_run:
        os.environ["CUDA_VISIBLE_DEVICES"] = ""  # before torch is imported, here and in every child
    os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")  # nothing reaches outside the machine
    out, work = a.out.resolve(), a.work.resolve()
    out.mkdir(parents=True, exist_ok=True)
    if work.exists() and any(work.iterdir()) and not (work / MARKER).exists():
        print(f"error: --work {work} is not empty and not a gpu-check scratch folder; name another", file=sys.stderr)
        return 2
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / MARKER).touch()
    for old in [out / LOG, out / RESULT, *out.glob("cantos-smollm2-gpu*.tar.gz.*")]:  # a previous check's
        old.unlink(missing_ok=True)
    os.chdir(ROOT)
    plan = Plan(dry_run=a.dry_run, **(DRY if a.dry_run else {}))
    import torch  # noqa: F401 - the image's; the budget's default depends on the device

    plan.budget = a.budget or (450.0 if torch.cuda.is_available() else 3600.0)
    carry = a.carry.resolve() if a.carry else None
    check = Check(plan, out, work, carry, [p.resolve() for p in a.external], a.export)
    try:
        return check.run()
    except gpu_carry.CarryError as e:
        check.data["error"] = str(e)
        return check.finish(2)


if __name__ == "__main__":
    sys.exit(main())
