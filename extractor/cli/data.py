"""`extractor data`, `extractor models` and `extractor parse`: the inputs, the models, one output."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.table import Table

from ..core import data as data_mod
from ..core.errors import ExtractorError
from ..runtimes import models as models_mod
from .common import Group, console, resolve_task, task_option


@click.group(cls=Group)
def data():
    """Check and summarise labelled JSONL files.

    \b
    Examples:
      extractor data check datasets/cantos/*.jsonl
      extractor data summary datasets/cantos
    """


@data.command("check")
@click.argument("paths", nargs=-1, required=True)
@task_option("The task whose schema the rows follow.")
def data_check(paths, task_name):
    """Validate JSONL files against a task's schema; print every bad row as FILE:LINE: REASON.

    Exit status 1 if any row is bad, 0 otherwise.

    \b
    Examples:
      extractor data check datasets/cantos/train.jsonl datasets/cantos/valid.jsonl
      extractor data check --task citations datasets/citations/*.jsonl
      extractor data check --task path/to/my-task my-rows.jsonl
    """
    task = resolve_task(task_name)
    bad = 0
    for p in paths:
        examples, problems = data_mod.read_file(p, task)
        for problem in problems:
            click.echo(str(problem))
        bad += len(problems)
        status = "ok" if not problems else f"{len(problems)} bad"
        click.echo(f"{p}: {len(examples)} good row(s), {status}", err=True)
    sys.exit(1 if bad else 0)


@data.command("summary")
@click.argument("paths", nargs=-1, required=True)
@task_option("The task whose schema the rows follow.")
def data_summary(paths, task_name):
    """Print per-split counts: rows, rows whose answer is empty, tags.

    A directory stands for the .jsonl files inside it.

    \b
    Examples:
      extractor data summary datasets/cantos
      extractor data summary --task citations datasets/citations
    """
    task = resolve_task(task_name)
    files: list[Path] = []
    for p in map(Path, paths):
        files.extend(sorted(p.glob("*.jsonl")) if p.is_dir() else [p])
    if not files:
        raise ExtractorError(f"no .jsonl files in {', '.join(paths)}; pass files or a directory holding them")
    sums = {f.stem: data_mod.summary(data_mod.load([f], task)) for f in files}
    tags = sorted({t for s in sums.values() for t in s["tags"]})
    table = Table(title=f"dataset summary ({task.name})")
    table.add_column("")
    for name in sums:
        table.add_column(name, justify="right")
    for key in ("rows", "empty_answer"):
        table.add_row(key, *(str(s[key]) for s in sums.values()))
    table.add_row("empty_answer share", *(f"{s['empty_answer'] / max(1, s['rows']):.0%}" for s in sums.values()))
    for t in tags:
        table.add_row(f"tag: {t}", *(str(s["tags"].get(t, 0)) for s in sums.values()))
    console.print(table)


@click.group(cls=Group)
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


@click.command("parse")
@click.argument("text", required=False)
@task_option("The task whose schema the answer follows.")
def parse_cmd(text, task_name):
    """Parse raw model output (argument or stdin) and print its classification as JSON.

    Prints status (clean, trailing_text, chained_turn, cut_off, invalid, no_json), the answer
    under the task's keys (Cantos: `references`; other tasks: `answer`; null when there is
    none), what followed it (`rest`) and why there is no answer (`error`).

    \b
    Examples:
      extractor parse '{"references": [{"canto": 9, "lines": [15]}]}'
      echo '{"references": []} ### Question: and?' | extractor parse
      extractor parse --task citations '{"author": "Lind, K.", "date": "(1998)."} <|im_start|>user'
    """
    task = resolve_task(task_name)
    raw = text if text is not None else sys.stdin.read()
    p = task.parse_answer(raw)
    click.echo(json.dumps({"status": p.status, **task.answer_fields(p.value), "rest": p.rest, "error": p.error},
                          ensure_ascii=False))
