"""`extractor train`, `extractor import` and `extractor export`: an adapter (trained here or elsewhere),
then every artefact of it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from ..core.errors import ExtractorError
from .common import resolve_task, task_option, warn_if_busy


@click.command("train")
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override any config key (repeatable).")
@click.option("--resume", "resume_dir", type=click.Path(file_okay=False), help="Continue an interrupted run directory.")
@click.option("--runs-dir", default="runs", show_default=True, help="Where run directories are created.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def train_cmd(config, overrides, resume_dir, runs_dir, quiet):
    """Fine-tune a LoRA / QLoRA adapter from a TOML config into runs/NAME/.

    Loss is on the answer JSON and the end-of-turn token only; the adapter with the lowest
    validation loss is kept in runs/NAME/adapter/. Ctrl-C or kill at any time, then --resume.

    \b
    Examples:
      extractor train configs/cantos-smollm2.toml
      extractor train configs/cantos-smollm2.toml --set max_steps=20 --set name=quick
      extractor train configs/cantos-smollm2.toml --set quantization=4bit --set compile=false
      extractor train --resume runs/cantos-smollm2
      accelerate launch -m extractor train configs/cantos-zephyr.toml
    """
    from ..runtimes.run_card import CARD, RunCard
    from ..train.config import load_config
    from ..train.trainer import resume_config, train

    if "LOCAL_RANK" not in os.environ or os.environ.get("LOCAL_RANK") == "0":
        warn_if_busy()
    if resume_dir:
        if config or overrides:
            raise ExtractorError("--resume continues a run as it was configured; drop CONFIG and --set")
        cfg = resume_config(resume_dir)
        own = RunCard.load(resume_dir).task_source if (Path(resume_dir) / CARD).is_file() else cfg.task
        run = train(cfg, resolve_task(own or None), Path(resume_dir).parent, resume=True, show_progress=not quiet)
    else:
        cfg = load_config(config, list(overrides))
        run = train(cfg, resolve_task(cfg.task or None), runs_dir, show_progress=not quiet)
    from accelerate import PartialState

    if not PartialState().is_main_process:  # under `accelerate launch`: one summary, from the main process
        return
    info = json.loads((run / "run.json").read_text())
    click.echo(f"{run}: best adapter at step {info['best']['step']} (validation loss {info['best']['valid_loss']:.4f}), "
               f"{info['tokens_per_s']} tokens/s, {info['train_seconds']} s")


@click.command("export")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--quant", type=click.Choice(["q8_0", "q4_k_m", "q6_k", "f16"]), default="q8_0", show_default=True,
              help="Type for the merged GGUF's re-quantized tensors (the others keep the base's).")
def export_cmd(run_dir, quant):
    """Write RUN/export/: adapter.gguf, merged-hf/, merged.gguf, Modelfile, export.json.

    \b
    Run each artefact:
      llama-cpp-python  Llama(model_path=BASE.gguf, lora_path="RUN/export/adapter.gguf")
                        Llama(model_path="RUN/export/merged.gguf")
      Ollama            cd RUN/export && ollama create NAME -f Modelfile && ollama run NAME
      transformers      AutoModelForCausalLM.from_pretrained("RUN/export/merged-hf")

    \b
    Examples:
      extractor export runs/cantos-smollm2
      extractor export runs/cantos-smollm2 --quant q4_k_m
    """
    from ..train.export import export

    s = export(run_dir, quant, log=lambda m: click.echo(m, err=True))
    for name, size in s["files"].items():
        click.echo(f"{size / 1e6:10.1f} MB  {Path(run_dir) / 'export' / name}")
    types = ", ".join(f"{k} x{v}" for k, v in s["merged_gguf_tensor_types"].items())
    click.echo(f"merged.gguf: {types} re-quantized; base {s['base_fingerprint']['gguf_sha256'][:12]}...; "
               f"{s['wall_seconds']} s")


@click.command("import")
@click.argument("adapter_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--base", required=True, metavar="MODEL",
              help="The base model it was trained on: a preset (`extractor models list`), a local HF checkpoint "
                   "directory, or a .gguf file.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The run directory to write (runs/NAME).")
@task_option("The task it was trained for (its schema, metrics and base-model prompt).")
@click.option("--system", default=None, help="The system prompt it was trained with (default: the task's).")
@click.option("--prompt-format", type=click.Choice(["chat", "plain"]), default="chat", show_default=True,
              help="chat: the base model's chat template with --system; plain: `### Question: \"...\"\\n ### Answer: `.")
@click.option("--merged-gguf", type=click.Path(dir_okay=False, path_type=Path),
              help="A merged GGUF made elsewhere (unsloth's save_pretrained_gguf, llama.cpp's converter).")
@click.option("--lora-gguf", type=click.Path(dir_okay=False, path_type=Path),
              help="A llama.cpp LoRA GGUF made elsewhere (convert_lora_to_gguf.py) for the base GGUF.")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
def import_cmd(adapter_dir, base, out_dir, task_name, system, prompt_format, merged_gguf, lora_gguf, force):
    """Make a run directory from a fine-tune made elsewhere, for `export`, `eval` and `extract`.

    ADAPTER_DIR is a peft LoRA adapter (adapter_config.json + adapter_model.safetensors), as trl,
    axolotl, unsloth or LLaMA-Factory save it. Everything is checked against --base before a model
    loads: an adapter for another base (a module or shape the base lacks), DoRA, modules_to_save,
    embedding or lm_head targets, pickle weights, a missing file; GGUFs for their architecture and
    tensor shapes. The prompt is the one it was trained with: --task, --system, --prompt-format.

    \b
    Examples:
      extractor import ~/trl-out/checkpoint-500 --base smollm2-135m --out runs/from-trl
      extractor export runs/from-trl && extractor eval --run runs/from-trl --out reports/from-trl
      extractor import ./lora --base ~/models/zephyr-7b-beta --task citations --out runs/zephyr-cit
      extractor import --merged-gguf model-q8_0.gguf --base smollm2-135m --out runs/from-unsloth
      extractor import --lora-gguf lora.gguf --base smollm2-135m --system "Extract ... as JSON." --out runs/l
    """
    from ..train.import_run import import_run

    card = import_run(out_dir, base, resolve_task(task_name), adapter=adapter_dir, merged_gguf=merged_gguf,
                      lora_gguf=lora_gguf, system=system, prompt_format=prompt_format, force=force)
    what = ", ".join(w for w, given in (("adapter", adapter_dir), ("merged.gguf", merged_gguf),
                                        ("adapter.gguf", lora_gguf)) if given)
    click.echo(f"{out_dir}: {what} for {card.base_model}, task {card.task}, prompt {card.prompt_format}")
