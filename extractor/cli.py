"""The `extractor` command line. Each command's docstring is its --help text."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from . import data as data_mod
from . import models as models_mod
from .errors import ExtractorError

console = Console()


class Group(click.Group):
    """A click group that turns the project's typed errors into one clear line and exit 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ExtractorError as e:
            click.echo(f"error: {e}", err=True)
            ctx.exit(e.exit_code)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="extractor")
def cli():
    """Train, export and evaluate LLMs that extract Cantos references as JSON.

    \b
    Examples:
      extractor data check datasets/cantos/*.jsonl
      extractor data summary datasets/cantos
      extractor models list
      extractor models prepare smollm2-135m
      extractor train configs/cantos-smollm2.toml
      extractor parse '{"references": []} ### Question: next?'
    """


# ----------------------------------------------------------------------------- data
@cli.group()
def data():
    """Check and summarise labelled JSONL files.

    \b
    Examples:
      extractor data check datasets/cantos/*.jsonl
      extractor data summary datasets/cantos
    """


@data.command("check")
@click.argument("paths", nargs=-1, required=True)
def data_check(paths):
    """Validate JSONL files; print every bad row as FILE:LINE: REASON.

    Exit status 1 if any row is bad, 0 otherwise.

    \b
    Example:
      extractor data check datasets/cantos/train.jsonl datasets/cantos/valid.jsonl
    """
    bad = 0
    for p in paths:
        examples, problems = data_mod.read_file(p)
        for problem in problems:
            click.echo(str(problem))
        bad += len(problems)
        status = "ok" if not problems else f"{len(problems)} bad"
        click.echo(f"{p}: {len(examples)} good row(s), {status}", err=True)
    sys.exit(1 if bad else 0)


@data.command("summary")
@click.argument("paths", nargs=-1, required=True)
def data_summary(paths):
    """Print per-split counts: rows, rows without a reference, rows with lines, tags.

    A directory stands for the .jsonl files inside it.

    \b
    Example:
      extractor data summary datasets/cantos
    """
    files: list[Path] = []
    for p in map(Path, paths):
        files.extend(sorted(p.glob("*.jsonl")) if p.is_dir() else [p])
    if not files:
        raise ExtractorError(f"no .jsonl files in {', '.join(paths)}; pass files or a directory holding them")
    sums = {f.stem: data_mod.summary(data_mod.load([f])) for f in files}
    tags = sorted({t for s in sums.values() for t in s["tags"]})
    table = Table(title="dataset summary")
    table.add_column("")
    for name in sums:
        table.add_column(name, justify="right")
    for key in ("rows", "no_reference", "with_lines"):
        table.add_row(key, *(str(s[key]) for s in sums.values()))
    table.add_row("no_reference share", *(f"{s['no_reference'] / max(1, s['rows']):.0%}" for s in sums.values()))
    for t in tags:
        table.add_row(f"tag: {t}", *(str(s["tags"].get(t, 0)) for s in sums.values()))
    console.print(table)


# ----------------------------------------------------------------------------- models
@cli.group()
def models():
    """List model presets and prepare the embedded model.

    \b
    Examples:
      extractor models list
      extractor models prepare smollm2-135m
    """


@models.command("list")
def models_list():
    """Show every preset and whether its files are on this machine.

    \b
    Example:
      extractor models list
    """
    table = Table(title="model presets")
    for col in ("name", "HF source", "GGUF", "stop", "LoRA targets"):
        table.add_column(col)
    for spec in models_mod.PRESETS.values():
        try:
            gguf = str(models_mod.gguf_path(spec))
        except ExtractorError as e:
            gguf = f"missing: {e}"
        hf = "prepared from the GGUF" if spec.hf_from_gguf else spec.hf
        table.add_row(spec.name, hf, gguf, " ".join(spec.stop), ",".join(spec.lora_targets))
    console.print(table)


@models.command("prepare")
@click.argument("name", default=models_mod.DEFAULT_MODEL)
def models_prepare(name):
    """Resolve a model's files; build the embedded model's HF checkpoint once (~30 s).

    \b
    Example:
      extractor models prepare smollm2-135m
    """
    spec = models_mod.get(name)
    click.echo(f"gguf: {models_mod.gguf_path(spec)}" if spec.gguf or spec.gguf_env else "gguf: (none)")
    click.echo(f"hf:   {models_mod.hf_path(spec)}")


# ----------------------------------------------------------------------------- train
@cli.command("train")
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
      extractor train configs/cantos-smollm2.toml --set quantization=4bit
      extractor train --resume runs/cantos-smollm2
      accelerate launch -m extractor train configs/cantos-zephyr.toml
    """
    from .config import load_config
    from .trainer import resume_config, train

    if resume_dir:
        if config or overrides:
            raise ExtractorError("--resume continues a run as it was configured; drop CONFIG and --set")
        cfg = resume_config(resume_dir)
        run = train(cfg, Path(resume_dir).parent, resume=True, show_progress=not quiet)
    else:
        cfg = load_config(config, list(overrides))
        run = train(cfg, runs_dir, show_progress=not quiet)
    info = json.loads((run / "run.json").read_text())
    click.echo(f"{run}: best adapter at step {info['best']['step']} (validation loss {info['best']['valid_loss']:.4f}), "
               f"{info['tokens_per_s']} tokens/s, {info['train_seconds']} s")


# ----------------------------------------------------------------------------- parse
@cli.command("parse")
@click.argument("text", required=False)
def parse_cmd(text):
    """Parse raw model output (argument or stdin) and print its classification as JSON.

    \b
    Examples:
      extractor parse '{"references": [{"canto": 9, "lines": [15]}]}'
      echo '{"references": []} ### Question: and?' | extractor parse
    """
    from .schema import parse

    raw = text if text is not None else sys.stdin.read()
    p = parse(raw)
    refs = None if p.references is None else [r.to_json() for r in p.references]
    click.echo(json.dumps({"status": p.status, "references": refs, "rest": p.rest, "error": p.error}))


def main() -> None:
    cli(prog_name="extractor")
