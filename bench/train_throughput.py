"""Training speed and quality: this trainer against trl's SFTTrainer, in one process, same data.

    make bench                                          # installs trl (bench extra), runs this
    .venv/bin/python bench/train_throughput.py          # one full epoch of the config's train file
    .venv/bin/python bench/train_throughput.py --rows 400 --explain

Five runs train the embedded SmolLM2-135M on the same rows, in the same batches and order (this
trainer's length-grouped epoch order, fed to trl through a sequential sampler over the rows
re-ordered), with the same LoRA initialisation (seeded), optimizer (AdamW, no weight decay),
learning-rate schedule (this trainer's warm-up and linear decay, given to trl as its scheduler),
gradient clipping and completion-only loss on identical token ids:

  trl fp32      SFTTrainer as fast as it goes on a CPU: fp32, no gradient checkpointing (the
                fair baseline)
  trl bf16      SFTTrainer with bf16=True (autocast), no gradient checkpointing
  ours fp32     `extractor train` with precision = "fp32", eager
  ours eager    `extractor train` with the config's precision (auto: bf16 where the CPU has
                AMX-BF16 or AVX512-BF16), compile = false
  ours default  `extractor train` with the config as it is (the default run: compile = true,
                each decoder block compiled by torch.compile; its compilation, ~45 s on two
                cores with a cold cache, falls in the first step and is counted)

Throughput counts real (non-padding) tokens per second of training steps (model load and
validation excluded). Every adapter's validation loss is then computed by one fp32 evaluator on
the config's valid file, so the runs are scored identically.

--explain adds the 20-step comparison that once showed this trainer 0.034 behind trl: trl with
its own random sampler, trl on this trainer's order, and this trainer, 20 steps of batch 4.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import torch
from accelerate.state import AcceleratorState

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractor.core import data
from extractor.runtimes import models  # noqa: E402
from extractor.train.batches import IGNORE, encode, epoch_batches  # noqa: E402
from extractor.train.config import TrainConfig, load_config  # noqa: E402
from extractor.runtimes.hardware import resolve_precision  # noqa: E402
from extractor.runtimes.prompts import load_tokenizer  # noqa: E402
from extractor.tasks.registry import get_task  # noqa: E402
from extractor.train.model import CompletionLoss, load_trainable  # noqa: E402
from extractor.train.trainer import lr_at, train, validation_loss  # noqa: E402


def subset_file(cfg: TrainConfig, rows: int, workdir: Path) -> str:
    """The first ``rows`` rows of the train file (all of them for 0)."""
    if not rows:
        return cfg.train
    path = workdir / "train-subset.jsonl"
    lines = Path(cfg.train).read_text(encoding="utf-8").splitlines()[:rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def fp32_validation(cfg: TrainConfig, state: dict[str, torch.Tensor]) -> float:
    """Validation loss of an adapter's weights on an fp32 base (one evaluator for every run)."""
    from peft import set_peft_model_state_dict

    spec = models.get(cfg.model)
    hf_dir = models.hf_path(spec)
    tok = load_tokenizer(spec, hf_dir)
    model = load_trainable(hf_dir, cfg, spec, torch.device("cpu"), "fp32")
    set_peft_model_state_dict(model, {k: v.float() for k, v in state.items()})
    rows = encode(tok, data.load([cfg.valid], TASK), cfg.prompt_format, cfg.system or TASK.system, cfg.max_length, TASK)
    return validation_loss(CompletionLoss(model, share_prefix=False), rows, cfg, tok.pad_token_id, torch.device("cpu"))


def run_ours(cfg: TrainConfig, workdir: Path, precision: str, compile: bool | None = None) -> dict:
    from safetensors.torch import load_file

    compile = cfg.compile if compile is None else compile
    cfg = dataclasses.replace(cfg, precision=precision, compile=compile,
                              name=f"ours-{precision}{'-compiled' if compile else ''}")
    run = train(cfg, TASK, workdir, show_progress=False)
    info = json.loads((run / "run.json").read_text())
    state = load_file(run / "adapter" / "adapter_model.safetensors")
    return {"seconds": info["train_seconds"], "tokens": info["tokens_per_s"] * info["train_seconds"],
            "valid_loss": fp32_validation(cfg, state), "precision": info["precision"]["used"]}


def run_trl(cfg: TrainConfig, workdir: Path, bf16: bool, our_order: bool = True) -> dict:
    """trl's SFTTrainer on our token ids; with our_order, in this trainer's batches and order."""
    from datasets import Dataset, disable_progress_bars
    from peft import get_peft_model_state_dict
    from transformers import PrinterCallback, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    disable_progress_bars()
    spec = models.get(cfg.model)
    hf_dir = models.hf_path(spec)
    tok = load_tokenizer(spec, hf_dir)
    rows = encode(tok, data.load([cfg.train], TASK), cfg.prompt_format, cfg.system or TASK.system, cfg.max_length, TASK)
    steps_per_epoch = math.ceil(len(rows) / cfg.batch_size)
    total = cfg.max_steps or max(1, math.ceil(cfg.epochs * steps_per_epoch))
    batches = [b for e in range(math.ceil(total / steps_per_epoch))
               for b in epoch_batches([len(r.input_ids) for r in rows], cfg.batch_size, cfg.seed, e)][:total]
    examples = [{"input_ids": r.input_ids, "completion_mask": [0] * r.n_prompt + [1] * (len(r.input_ids) - r.n_prompt)}
                for r in rows]

    class Ordered(SFTTrainer):
        """SFTTrainer whose training batches are exactly this trainer's (rows and order)."""

        def get_train_dataloader(self):
            from torch.utils.data import DataLoader

            dataset = self._remove_unused_columns(self.train_dataset, description="training")
            return self.accelerator.prepare(DataLoader(dataset, batch_sampler=batches, collate_fn=self.data_collator))

    class Clock(TrainerCallback):
        start = end = None

        def on_step_begin(self, args, state, control, **kw):
            if self.start is None:
                self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            self.end = time.perf_counter()

    torch.manual_seed(cfg.seed)  # the same LoRA initialisation as `extractor train`
    model = load_trainable(hf_dir, cfg, spec, torch.device("cpu"), "fp32")
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_at(step, total, cfg) / cfg.learning_rate)
    args = SFTConfig(
        output_dir=str(workdir / "trl"), max_steps=total, per_device_train_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum, max_grad_norm=cfg.max_grad_norm, bf16=bf16, fp16=False,
        gradient_checkpointing=False, max_length=cfg.max_length, completion_only_loss=True, packing=False,
        logging_strategy="no", save_strategy="no",
        report_to=[], seed=cfg.seed, use_cpu=not torch.cuda.is_available(), dataloader_num_workers=0,
        disable_tqdm=True,
    )
    clock = Clock()
    trainer = (Ordered if our_order else SFTTrainer)(model=model, args=args, train_dataset=Dataset.from_list(examples), processing_class=tok,
                         optimizers=(optimizer, schedule), callbacks=[clock])
    trainer.remove_callback(PrinterCallback)  # the final metrics dict; this bench prints its own line
    trainer.train()
    tokens = sum(len(rows[i].input_ids) for b in batches for i in b) if our_order else \
        trainer.state.num_input_tokens_seen or sum(len(r.input_ids) for r in rows[: total * cfg.batch_size])
    state = get_peft_model_state_dict(trainer.model)
    return {"seconds": clock.end - clock.start, "tokens": tokens, "valid_loss": fp32_validation(cfg, state)}


def line(name: str, r: dict) -> str:
    return (f"{name:<24} {r['tokens'] / r['seconds']:8.1f} tokens/s   valid loss {r['valid_loss']:.4f}   "
            f"({r['tokens']:.0f} tokens in {r['seconds']:.1f} s)")


TASK = None
"""The config's task, resolved once in main()."""


def main() -> None:
    global TASK
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(ROOT / "configs" / "cantos-smollm2.toml"))
    ap.add_argument("--rows", type=int, default=0, help="Train on the first N rows only (0: the whole file).")
    ap.add_argument("--batch-size", type=int, default=0, help="Default: the config's.")
    ap.add_argument("--skip", default="", help="Comma-separated runs to skip: trl-fp32,trl-bf16,ours-fp32,ours-eager,ours-default")
    ap.add_argument("--explain", action="store_true", help="Also the 20-step data-order comparison.")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base = load_config(args.config, ["name=bench"])
        overrides = ["name=bench", "epochs=1.0", "max_steps=0", "eval_every=0", "checkpoint_every=100000",
                     f"train={json.dumps(subset_file(base, args.rows, tmp))}"]
        if args.batch_size:
            overrides.append(f"batch_size={args.batch_size}")
        cfg = load_config(args.config, overrides)
        TASK = get_task(cfg.task or None)
        n_rows = len(data.load([cfg.train], TASK))
        default, why = resolve_precision(cfg.precision, "cuda" if torch.cuda.is_available() else "cpu")
        print(f"setup: {cfg.model}, LoRA r={cfg.lora_r} alpha={cfg.lora_alpha} dropout={cfg.lora_dropout}, batch "
              f"{cfg.batch_size}, one epoch of {n_rows} rows of {cfg.train}, threads {torch.get_num_threads()}; "
              f"default precision {cfg.precision} -> {default} ({why})", flush=True)
        results = {}
        for name, fn in (("trl-fp32", lambda: run_trl(cfg, tmp, bf16=False)),
                         ("trl-bf16", lambda: run_trl(cfg, tmp, bf16=True)),
                         ("ours-fp32", lambda: run_ours(cfg, tmp / "runs", "fp32", compile=False)),
                         ("ours-eager", lambda: run_ours(cfg, tmp / "runs", cfg.precision, compile=False)),
                         ("ours-default", lambda: run_ours(cfg, tmp / "runs", cfg.precision))):
            if name in skip or (name == "ours-eager" and not cfg.compile):  # eager is then the default row
                continue
            results[name] = fn()
            AcceleratorState._reset_state(reset_partial_state=True)  # trl's bf16 autocast must not leak into the next run
            print(line(name, results[name]), flush=True)
        tps = {k: r["tokens"] / r["seconds"] for k, r in results.items()}

        def ratio(a: str, b: str, label: str, note: str = "") -> None:
            if a in results and b in results:
                print(f"speed ratio ({label}): {tps[a] / tps[b]:.2f}x{note}   valid loss "
                      f"{results[a]['valid_loss'] - results[b]['valid_loss']:+.4f} vs {b}")

        ratio("ours-default", "trl-fp32", "ours default / trl fp32")
        ratio("ours-default", "trl-bf16", "ours default / trl bf16")
        ratio("ours-default", "ours-eager", "ours default, compiled / ours eager", " (the compilation included)")
        if args.explain:
            short = load_config(args.config, overrides + ["max_steps=20", "batch_size=4"])
            print("20 steps of batch 4 (the old comparison):")
            print(line("trl fp32, random order", run_trl(short, tmp, bf16=False, our_order=False)))
            AcceleratorState._reset_state(reset_partial_state=True)
            print(line("trl fp32, our order", run_trl(short, tmp, bf16=False)))
            print(line("ours fp32", run_ours(short, tmp / "runs-short", "fp32", compile=False)))


if __name__ == "__main__":
    main()
