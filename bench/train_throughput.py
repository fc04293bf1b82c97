"""Training throughput: this project's trainer vs a fair trl SFTTrainer baseline, in one run.

    make bench                                   # installs trl (bench extra) and runs this
    .venv/bin/python bench/train_throughput.py --steps 20 --batch-size 4

Both train the embedded SmolLM2-135M with the same LoRA config (r=16, every linear layer of the
blocks), batch size, max length, learning-rate schedule and prompt-completion data with loss on
the completion only, for the same number of optimizer steps. trl runs at its best on a CPU, not
its defaults: fp32 (bf16=False) and no gradient checkpointing. Throughput counts real
(non-padding) tokens per second of training steps. Both adapters are then scored with the same
validation-loss function on valid.jsonl.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractor import data, models  # noqa: E402
from extractor.batches import encode, prompt_text  # noqa: E402
from extractor.config import load_config  # noqa: E402
from extractor.runs import read_log  # noqa: E402
from extractor.schema import to_json_text  # noqa: E402
from extractor.trainer import CompletionLoss, load_tokenizer, train, validation_loss  # noqa: E402


def run_ours(cfg, workdir: Path):
    run = train(cfg, workdir, show_progress=False)
    info = json.loads((run / "run.json").read_text())
    final = [r for r in read_log(run / "train_log.jsonl") if "valid_loss" in r][-1]
    return info["tokens_per_s"], final["valid_loss"]


def run_trl(cfg, workdir: Path):
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    spec = models.get(cfg.model)
    hf_dir = models.hf_path(spec)
    tok = load_tokenizer(spec, hf_dir)
    rows = data.load([cfg.train])
    ds = Dataset.from_list([{"prompt": prompt_text(tok, ex.input, cfg.prompt_format, cfg.system),
                             "completion": to_json_text(list(ex.references)) + tok.eos_token} for ex in rows])

    class Clock(TrainerCallback):
        start = end = None

        def on_step_begin(self, args, state, control, **kw):
            if self.start is None:
                self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            self.end = time.perf_counter()

    clock = Clock()
    args = SFTConfig(
        output_dir=str(workdir / "trl"), max_steps=cfg.max_steps, per_device_train_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum, learning_rate=cfg.learning_rate, lr_scheduler_type="linear",
        warmup_steps=max(1, round(cfg.max_steps * cfg.warmup_ratio)), weight_decay=0.0, bf16=False, fp16=False,
        gradient_checkpointing=False, max_length=cfg.max_length, completion_only_loss=True, packing=False,
        logging_steps=1, save_strategy="no", report_to=[], seed=cfg.seed, use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0,
    )
    lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=list(spec.lora_targets), bias="none", task_type="CAUSAL_LM")
    model = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32)
    trainer = SFTTrainer(model=model, args=args, train_dataset=ds, processing_class=tok, peft_config=lora, callbacks=[clock])
    trainer.train()
    tokens = trainer.state.num_input_tokens_seen or next(
        (h["num_tokens"] for h in reversed(trainer.state.log_history) if "num_tokens" in h), 0)
    seconds = clock.end - clock.start
    valid_rows = encode(tok, data.load([cfg.valid]), cfg.prompt_format, cfg.system, cfg.max_length)
    vloss = validation_loss(CompletionLoss(trainer.model), valid_rows, cfg, tok.pad_token_id, torch.device("cpu"))
    return tokens / seconds, vloss, tokens, seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--config", default=str(ROOT / "configs" / "cantos-smollm2.toml"))
    args = ap.parse_args()
    overrides = [f"max_steps={args.steps}", f"batch_size={args.batch_size}", "eval_every=0",
                 f"checkpoint_every={args.steps}", "name=bench", "lora_r=16", "lora_alpha=32"]
    cfg = load_config(args.config, overrides)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        trl_tps, trl_vloss, trl_tokens, trl_seconds = run_trl(cfg, tmp)
        ours_tps, ours_vloss = run_ours(cfg, tmp / "runs")
    print(f"setup: SmolLM2-135M, LoRA r={cfg.lora_r} alpha={cfg.lora_alpha} dropout={cfg.lora_dropout} all-linear, "
          f"batch {cfg.batch_size}, {cfg.max_steps} steps, max_length {cfg.max_length}, threads {torch.get_num_threads()}")
    print(f"trl SFTTrainer (fp32, no checkpointing): {trl_tps:8.1f} tokens/s   valid loss {trl_vloss:.4f}   "
          f"({trl_tokens} tokens in {trl_seconds:.1f} s)")
    print(f"extractor trainer:                       {ours_tps:8.1f} tokens/s   valid loss {ours_vloss:.4f}")
    print(f"speed ratio (extractor / trl): {ours_tps / trl_tps:.2f}x   "
          f"valid loss {'<=' if ours_vloss <= trl_vloss else '>'} trl ({ours_vloss - trl_vloss:+.4f})")


if __name__ == "__main__":
    main()
