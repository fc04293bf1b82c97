"""LoRA / QLoRA fine-tuning driven by a TrainConfig, resumable, keeping the best adapter.

    extractor train configs/cantos-smollm2.toml
    extractor train --resume runs/cantos-smollm2
    accelerate launch -m extractor train configs/cantos-zephyr.toml     # DDP on several GPUs

A ``Trainer`` is the recipe, one method per concern: ``setup`` (device, precision, tokenizer,
data, model, optimizer), ``resume`` (a checkpoint and the log up to it, or a fresh run directory
with its card), ``step`` (one optimizer step), ``validate`` (the validation loss, the best adapter),
``save`` (the log line, the checkpoint, run.json). What a checkpoint carries across a kill is
the typed ``TrainState``.

    runs/NAME/
      card.json          what evaluation and export read (runtimes/run_card.py)
      config.toml        the resolved training configuration
      run.json           base fingerprint, best step and validation loss, status, timings
      train_log.jsonl    one JSON object per logged step / validation
      loss.svg           loss curve (train and validation)
      adapter/           best adapter: adapter_config.json + adapter_model.safetensors only
      checkpoint/        latest resumable state (adapter, optimizer, RNG) - safetensors + JSON
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from ..core import data, journal
from ..core.errors import ConfigError
from ..core.files import atomic_write, recover_dir, replace_dir, write_json
from ..core.progress import Bar
from ..core.task import Task
from ..runtimes import models
from ..runtimes.hardware import resolve_precision
from ..runtimes.prompts import load_tokenizer
from ..runtimes.run_card import RunCard, check_fingerprint, fingerprint
from ..tasks.registry import source
from .batches import IGNORE, collate, encode, epoch_batches, step_share
from .checkpoint import load_checkpoint, save_adapter, save_checkpoint
from .config import TrainConfig, load_config
from .model import CompletionLoss, load_trainable, param_groups

LOG = "train_log.jsonl"
VALID_BATCH = 16
"""Rows per validation forward pass at least: no gradients to hold, so small training batches
(2 or 4 rows) need not make validation a hundred small calls."""


@dataclass
class TrainState:
    """What a run has done so far; saved in every checkpoint (``state.json``), so a resumed run
    continues exactly where the checkpoint was taken."""

    step: int = 0
    """Optimizer steps done."""
    best_step: int | None = None
    """The step of the adapter in adapter/ (lowest validation loss so far)."""
    best_valid_loss: float | None = None
    train_seconds: float = 0.0
    """Seconds spent in optimizer steps (validation and saving excluded)."""
    tokens: int = 0
    """Real (unpadded) tokens trained on."""
    wall_seconds: float = 0.0
    """Wall time of every earlier session of the run."""

    @classmethod
    def from_json(cls, obj: dict) -> "TrainState":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in obj.items() if k in known})


def _die_with_launcher() -> None:
    """Under a launcher (`accelerate launch`, torchrun), end with it: a launcher killed with kill -9
    cannot stop its workers, which would go on training and writing beside the run that resumes
    them. Linux's parent-death signal does it (elsewhere nothing changes)."""
    import ctypes
    import os
    import signal

    if "LOCAL_RANK" not in os.environ or not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the launcher died before the signal was set
        os.kill(os.getpid(), signal.SIGKILL)


def lr_at(step: int, total: int, cfg: TrainConfig) -> float:
    """Linear warm-up, then linear decay to zero."""
    warm = max(1, round(total * cfg.warmup_ratio)) if cfg.warmup_ratio > 0 else 0
    if step < warm:
        return cfg.learning_rate * (step + 1) / warm
    return cfg.learning_rate * max(0.0, (total - step) / max(1, total - warm))


def validation_loss(loss_module, rows, cfg: TrainConfig, pad_id: int, device, acc=None) -> float:
    """Mean loss per labelled token over every validation row. Under data parallelism (``acc``
    with several processes) each process takes every world-th batch and the sums are added across
    processes, so the figure is the mean over all rows, not one process's share."""
    total, count = 0.0, 0
    rank, world = (acc.process_index, acc.num_processes) if acc is not None else (0, 1)
    loss_module.eval()
    # Compiled blocks (compile = true) run eagerly here: a no-grad graph for batches of 16 would be
    # a second compilation (~11 s) to save a few seconds of forward passes.
    with torch.no_grad(), torch.compiler.set_stance("force_eager"):
        batches = epoch_batches([len(r.input_ids) for r in rows], max(cfg.batch_size, VALID_BATCH), 0, 0)
        for batch_idx in batches[rank::world]:
            b = {k: v.to(device) for k, v in collate([rows[i] for i in batch_idx], pad_id).items()}
            loss, n = loss_module(**b)
            total += loss.item()
            count += int(n)
    loss_module.train()
    if world > 1:
        sums = acc.reduce(torch.tensor([total, float(count)], dtype=torch.float64, device=device), reduction="sum")
        total, count = float(sums[0]), int(sums[1])
    return total / max(1, count)


def read_log(path: Path, upto_step: int | None = None) -> list[dict]:
    """Log records (optionally those at or before a step); a torn last line is left out."""
    hint = "Remove that line of the training log, then resume."
    return [r for r in journal.read(path, torn="skip", hint=hint) if upto_step is None or r["step"] <= upto_step]


class Trainer:
    """One training run, set up once, then stepped until its last step."""

    def __init__(self, cfg: TrainConfig, task: Task, runs_dir: str | Path = "runs", resume: bool = False,
                 show_progress: bool = True):
        self.cfg, self.task, self.resuming, self.show_progress = cfg, task, resume, show_progress
        self.run_dir = Path(runs_dir) / cfg.name
        self.ckpt_dir = self.run_dir / "checkpoint"
        self.state = TrainState()
        self.started = time.perf_counter()
        if not resume and (self.run_dir / "run.json").exists():
            raise ConfigError(f"{self.run_dir} already exists; resume it with `extractor train --resume {self.run_dir}` "
                              "or pick another name")

    # ------------------------------------------------------------------ set-up
    def setup(self) -> None:
        """Device and precision, the base model's files and fingerprint, tokenized data, the
        trainable model and its optimizer, and the schedule's size."""
        from accelerate import Accelerator

        _die_with_launcher()
        cfg = self.cfg
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        torch.manual_seed(cfg.seed)
        # Mixed precision is this trainer's business (the base's dtype), never accelerate's autocast.
        self.acc = Accelerator(cpu=not torch.cuda.is_available(), mixed_precision="no")
        self.precision, self.precision_why = resolve_precision(cfg.precision, self.acc.device.type)
        self._check_launch()
        self.spec = models.get(cfg.model)
        hf_dir = models.hf_path(self.spec)
        try:
            gguf = models.gguf_path(self.spec)
        except Exception:  # noqa: BLE001 - a run needs no GGUF; export will ask for it
            gguf = None
        self.fingerprint = fingerprint(hf_dir, gguf)
        self.system = cfg.system or self.task.system
        self.tok = load_tokenizer(self.spec, hf_dir)
        self.train_rows = self._encode(cfg.train)
        self.valid_rows = self._encode(cfg.valid)
        torch.manual_seed(cfg.seed)  # the adapter's initialisation depends on nothing above
        self.model = load_trainable(hf_dir, cfg, self.spec, self.acc.device, self.precision)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(param_groups(self.model, cfg), lr=cfg.learning_rate, weight_decay=0.0,
                                      fused=True)  # one kernel, ~4x faster step
        self.loss_module, self.optimizer = self.acc.prepare(
            CompletionLoss(self.model, share_prefix=not cfg.gradient_checkpointing), optimizer)
        self.base_name = self.spec.name if self.spec.name in models.PRESETS else Path(self.spec.name).name
        self.lengths = [len(r.input_ids) for r in self.train_rows]
        n_batches = math.ceil(len(self.train_rows) / cfg.batch_size)
        # Every batch of an epoch is trained on once: the last step may hold fewer than per_step.
        self.steps_per_epoch = max(1, math.ceil(n_batches / (cfg.grad_accum * self.acc.num_processes)))
        self.total_steps = cfg.max_steps or max(1, math.ceil(cfg.epochs * self.steps_per_epoch))
        self.eval_every = cfg.eval_every or self.steps_per_epoch

    @property
    def sharded(self) -> bool:
        """Whether the model is sharded across processes (FSDP, DeepSpeed): its state is gathered to be saved."""
        from accelerate.utils import DistributedType

        return self.acc.distributed_type in (DistributedType.FSDP, DistributedType.DEEPSPEED)

    def _check_launch(self) -> None:
        """What cannot work under this launch fails now, naming the key and the fix."""
        import torch

        cfg = self.cfg
        if cfg.precision == "bf16" and self.acc.device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise ConfigError("precision = \"bf16\" but this GPU has no bf16; set precision = \"fp32\" (or \"auto\")")
        if not self.sharded:
            return
        how = str(self.acc.distributed_type).split(".")[-1]
        if cfg.quantization == "4bit":
            raise ConfigError(f"quantization = \"4bit\" under {how}: sharding 4-bit weights is not supported here; "
                              "set quantization = \"none\" (precision = \"bf16\"), or launch QLoRA with "
                              "configs/accelerate/ddp.yaml")
        if cfg.compile:
            raise ConfigError(f"compile = true under {how}; set compile = false")
        if self.resuming:
            raise ConfigError(f"--resume under {how}: the optimizer's state is sharded and not checkpointed; "
                              "start the run again (or train with configs/accelerate/ddp.yaml, which resumes)")
        if how == "DEEPSPEED" and cfg.grad_accum != 1:
            raise ConfigError("grad_accum > 1 under DeepSpeed: DeepSpeed steps at every backward pass; set grad_accum = 1 "
                              "and raise batch_size or the number of processes")

    def _gathered(self) -> dict | None:
        """A sharded model's whole state dict, gathered (every process must call this); else None."""
        if not self.sharded:
            return None
        return {k.removeprefix("peft_model."): v for k, v in self.acc.get_state_dict(self.loss_module).items()}

    def _encode(self, path: str):
        cfg = self.cfg
        return encode(self.tok, data.load([path], self.task), cfg.prompt_format, self.system, cfg.max_length, self.task)

    def card(self) -> RunCard:
        """The run's card: what evaluation, extraction and export read."""
        model = self.cfg.model if self.cfg.model in models.PRESETS else str(Path(self.cfg.model).resolve())
        return RunCard(model, self.task.name, source(self.task), self.cfg.prompt_format, self.system,
                       self.fingerprint)

    # ------------------------------------------------------------------ resume
    def resume(self) -> None:
        """A resumed run: the base must be the one it started on, the checkpoint comes back, and
        whatever was logged after it is dropped (it is redone). A new run: its directory, config
        and card."""
        main = self.acc.is_main_process
        if self.resuming:
            check_fingerprint(self.run_dir, RunCard.load(self.run_dir).base_fingerprint, self.fingerprint)
            if main:
                recover_dir(self.ckpt_dir)
                recover_dir(self.run_dir / "adapter")
            self.acc.wait_for_everyone()
            if self.ckpt_dir.exists():
                self.state = TrainState.from_json(load_checkpoint(self.ckpt_dir, self.model, self.optimizer))
            if main:
                journal.rewrite(self.run_dir / LOG, read_log(self.run_dir / LOG, self.state.step))
        elif main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            atomic_write(self.run_dir / "config.toml", self.cfg.to_toml())
            (self.run_dir / LOG).unlink(missing_ok=True)
        if main and not (self.run_dir / "card.json").is_file():
            self.card().write(self.run_dir)
        self.acc.wait_for_everyone()

    # ------------------------------------------------------------------ one step
    def step(self) -> dict:
        """One optimizer step over this process's share of the step's batches; its log record.

        The loss is summed over labelled tokens and divided by the labelled tokens of the whole
        step (all processes' batches), times the number of processes, which data parallelism
        averages over: the gradient is that of one process training on the step's batches alone."""
        cfg, acc, state = self.cfg, self.acc, self.state
        step = state.step
        epoch, within = divmod(step, self.steps_per_epoch)
        batches = epoch_batches(self.lengths, cfg.batch_size, cfg.seed, epoch)
        per_step = cfg.grad_accum * acc.num_processes
        t0 = time.perf_counter()
        everyone = [self._collate(idx) for idx in batches[within * per_step:(within + 1) * per_step]]
        n_labels = sum(int((b["labels"] != IGNORE).sum()) for b in everyone)
        for g in self.optimizer.param_groups:
            g["lr"] = lr_at(step, self.total_steps, cfg) * g.get("lr_scale", 1.0)  # absent: a checkpoint from before LoRA+
        loss_sum, real_tokens = 0.0, 0
        for mine in step_share(everyone, acc.process_index, acc.num_processes):
            # None: this process has no batch left in the step; a pass that adds nothing keeps it in the sync.
            b = {k: v.to(acc.device) for k, v in (mine if mine is not None else everyone[0]).items()}
            loss, _ = self.loss_module(**b)
            if mine is None:
                acc.backward(loss * 0.0)
                continue
            acc.backward(loss / (max(1, n_labels) / acc.num_processes))
            loss_sum += loss.item()
            real_tokens += int(b["attention_mask"].sum())
        if acc.num_processes > 1:
            sums = acc.reduce(torch.tensor([loss_sum, float(real_tokens)], dtype=torch.float64, device=acc.device),
                              reduction="sum")
            loss_sum, real_tokens = float(sums[0]), int(sums[1])
        if cfg.max_grad_norm:
            acc.clip_grad_norm_(self.params, cfg.max_grad_norm)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        dt = time.perf_counter() - t0
        state.step = step + 1
        state.train_seconds += dt
        state.tokens += real_tokens
        return {"step": step + 1, "epoch": round((step + 1) / self.steps_per_epoch, 3),
                "loss": loss_sum / max(1, n_labels), "lr": self.optimizer.param_groups[0]["lr"],
                "tokens_per_s": round(real_tokens / dt, 1), "seconds": round(dt, 4)}

    def _collate(self, idx: list[int]) -> dict:
        return collate([self.train_rows[i] for i in idx], self.tok.pad_token_id, self.cfg.reproduce_pad_eos_bug)

    def due_validation(self) -> bool:
        return self.state.step % self.eval_every == 0 or self.state.step == self.total_steps

    # ------------------------------------------------------------------ validate
    def validate(self, record: dict) -> None:
        """The validation loss into ``record``; a new best adapter replaces adapter/."""
        state = self.state
        # The unwrapped module: no collective runs in these forward passes, so the processes may take
        # different numbers of validation batches.
        record["valid_loss"] = validation_loss(self.acc.unwrap_model(self.loss_module), self.valid_rows, self.cfg,
                                               self.tok.pad_token_id, self.acc.device, self.acc)
        if state.best_valid_loss is None or record["valid_loss"] < state.best_valid_loss:
            state.best_valid_loss, state.best_step = record["valid_loss"], state.step
            full = self._gathered()
            if self.acc.is_main_process:
                replace_dir(self.run_dir / "adapter", lambda d: save_adapter(self.model, d, self.base_name, full))

    # ------------------------------------------------------------------ save
    def save(self, record: dict, checkpoint: bool) -> None:
        """The log line; with ``checkpoint``, the resumable state and run.json (main process only;
        a sharded run keeps no resumable state)."""
        if not self.acc.is_main_process:
            return
        journal.append(self.run_dir / LOG, record)
        if checkpoint and self.sharded:
            self.write_run_json("running")
        elif checkpoint:
            state = {**asdict(self.state), "wall_seconds": self.wall()}
            replace_dir(self.ckpt_dir, lambda d: save_checkpoint(d, self.model, self.optimizer, state, self.base_name))
            self.write_run_json("running")

    def write_run_json(self, status: str) -> None:
        """run.json: status, the best adapter, timings (wall time of the whole job: loading,
        validation, checkpoints; every session of a resumed run)."""
        wall = self.wall()
        if not self.acc.is_main_process:
            return
        cfg, state = self.cfg, self.state
        write_json(self.run_dir / "run.json", {
            "name": cfg.name, "model": self.spec.name, "base_fingerprint": self.fingerprint, "status": status,
            "precision": {"configured": cfg.precision, "used": self.precision, "why": self.precision_why,
                          "threads": torch.get_num_threads()},
            "best": {"step": state.best_step, "valid_loss": state.best_valid_loss},
            "steps_done": state.step, "total_steps": self.total_steps, "train_seconds": round(state.train_seconds, 1),
            "wall_seconds": round(wall, 1),
            "tokens_per_s": round(state.tokens / max(1e-9, state.train_seconds), 1),
            "train_rows": len(self.train_rows), "valid_rows": len(self.valid_rows), "config": asdict(cfg),
        })

    def wall(self) -> float:
        """Wall seconds of the whole run so far: earlier sessions' and this one's."""
        return self.state.wall_seconds + time.perf_counter() - self.started

    # ------------------------------------------------------------------ the run
    def run(self) -> Path:
        from ..core import quiet

        quiet.libraries()
        self.setup()
        self.resume()
        self.write_run_json("running")
        progress = Bar("train", self.total_steps, self.state.step,
                       enabled=self.show_progress and self.acc.is_main_process)
        self.loss_module.train()
        with progress:
            while self.state.step < self.total_steps:
                record = self.step()
                due = self.due_validation()
                if due:
                    self.validate(record)
                self.save(record, due or self.state.step % self.cfg.checkpoint_every == 0)
                progress.update(completed=self.state.step, info=_progress_info(record, self.state))
        self.write_run_json("finished")
        if self.acc.is_main_process:
            from .plot import loss_curve_svg

            atomic_write(self.run_dir / "loss.svg", loss_curve_svg(read_log(self.run_dir / LOG), self.cfg.name))
        return self.run_dir


def train(cfg: TrainConfig, task: Task, runs_dir: str | Path = "runs", resume: bool = False,
          show_progress: bool = True) -> Path:
    """Run (or resume) training for ``task``; return the run directory."""
    return Trainer(cfg, task, runs_dir, resume, show_progress).run()


def _progress_info(record: dict, state: TrainState) -> str:
    info = f"loss {record['loss']:.3f}  {record['tokens_per_s']:.0f} tok/s"
    if state.best_valid_loss is not None:
        info += f"  best valid {state.best_valid_loss:.3f} @ {state.best_step}"
    return info


def resume_config(run_dir: str | Path) -> TrainConfig:
    run_dir = Path(run_dir)
    if not (run_dir / "config.toml").is_file():
        raise ConfigError(f"{run_dir}: no config.toml; --resume takes a run directory made by `extractor train`")
    return load_config(run_dir / "config.toml")
