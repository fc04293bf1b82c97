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
    """Train, export and evaluate LLMs that extract structured JSON from text, and batch-extract
    with them. A task (a JSON Schema, prompts and field metrics) says what to extract: Cantos
    references by default, `--task citations` or your own task directory (docs/tasks.md).

    \b
    Examples:
      extractor data check datasets/cantos/*.jsonl
      extractor data summary datasets/cantos
      extractor models list
      extractor models prepare smollm2-135m
      extractor train configs/cantos-smollm2.toml
      extractor export runs/cantos-smollm2
      extractor eval --run runs/cantos-smollm2 --out reports/latest
      extractor report compare reports/baseline reports/latest
      extractor extract --run runs/cantos-smollm2 essays/ --out refs.jsonl
      extractor parse '{"references": []} ### Question: next?'
      extractor data check --task citations datasets/citations/*.jsonl
      extractor eval --suite evals/citations.toml --run runs/citations-smollm2 --out reports/citations
    """


def _warn_if_busy() -> None:
    """Name any other heavy job of this project already running on these cores."""
    from .contention import warn

    warn(lambda m: click.echo(m, err=True))


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
@click.option("--task", "task_name", default="cantos", show_default=True,
              help="The task whose schema the rows follow: a name (cantos, citations) or a task directory.")
def data_check(paths, task_name):
    """Validate JSONL files against a task's schema; print every bad row as FILE:LINE: REASON.

    Exit status 1 if any row is bad, 0 otherwise.

    \b
    Examples:
      extractor data check datasets/cantos/train.jsonl datasets/cantos/valid.jsonl
      extractor data check --task citations datasets/citations/*.jsonl
      extractor data check --task path/to/my-task my-rows.jsonl
    """
    from .task import get_task

    task = get_task(task_name)
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
@click.option("--task", "task_name", default="cantos", show_default=True,
              help="The task whose schema the rows follow: a name (cantos, citations) or a task directory.")
def data_summary(paths, task_name):
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
    sums = {f.stem: data_mod.summary(data_mod.load([f], task_name)) for f in files}
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
      extractor train configs/cantos-smollm2.toml --set quantization=4bit --set compile=false
      extractor train --resume runs/cantos-smollm2
      accelerate launch -m extractor train configs/cantos-zephyr.toml
    """
    from .config import load_config
    from .trainer import resume_config, train

    _warn_if_busy()
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


# ----------------------------------------------------------------------------- export
@cli.command("export")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--quant", type=click.Choice(["q8_0", "q4_k_m", "q6_k", "f16"]), default="q8_0", show_default=True,
              help="Type for the merged GGUF's re-quantized tensors (the others keep the base's).")
def export_cmd(run_dir, quant):
    """Write RUN/export/: adapter.gguf, merged-hf/, merged.gguf, Modelfile, export.json.

    \b
    Run each artefact:
      llama-cpp-python  Llama(model_path=BASE.gguf, lora_path="RUN/export/adapter.gguf")
                        Llama(model_path="RUN/export/merged.gguf")
      Ollama            cd RUN/export && ollama create cantos -f Modelfile && ollama run cantos
      transformers      AutoModelForCausalLM.from_pretrained("RUN/export/merged-hf")

    \b
    Examples:
      extractor export runs/cantos-smollm2
      extractor export runs/cantos-smollm2 --quant q4_k_m
    """
    from .export import export

    s = export(run_dir, quant, log=lambda m: click.echo(m, err=True))
    for name, size in s["files"].items():
        click.echo(f"{size / 1e6:10.1f} MB  {Path(run_dir) / 'export' / name}")
    types = ", ".join(f"{k} x{v}" for k, v in s["merged_gguf_tensor_types"].items())
    click.echo(f"merged.gguf: {types} re-quantized; base {s['base_fingerprint']['gguf_sha256'][:12]}...; "
               f"{s['wall_seconds']} s")


# ----------------------------------------------------------------------------- eval
def _parse_runs(values: tuple[str, ...]) -> dict:
    runs: dict = {}
    for v in values:
        label, sep, path = v.partition("=")
        key = label if sep else None
        if key in runs:
            raise ExtractorError(f"--run {v}: {'label ' + repr(label) if sep else 'the default run'} is given twice")
        runs[key] = path if sep else v
    return runs


@cli.command("eval")
@click.option("--suite", "suite_path", default="evals/cantos.toml", show_default=True, type=click.Path(dir_okay=False),
              help="Evaluation definition (data files, variants, generation settings, thresholds).")
@click.option("--run", "run_dirs", multiple=True, metavar="[LABEL=]DIR",
              help="Training run (after `extractor export`). Repeat as LABEL=DIR for variants KIND@LABEL.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Where samples and reports go.")
@click.option("--data", "data_files", multiple=True, type=click.Path(dir_okay=False), help="Evaluate these JSONL files instead of the suite's.")
@click.option("--variants", help="Comma-separated variants instead of the suite's, e.g. merged-gguf,rules.")
@click.option("--limit", type=int, default=0, help="Only the first N rows of each data file (a quick look).")
@click.option("--resume", is_flag=True, help="Continue OUT/samples.jsonl: skip samples already recorded.")
@click.option("--check", is_flag=True, help="Exit 1 if a threshold of the suite is breached.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--task", "task_name", default=None,
              help="The task instead of the suite's `task` (a name or a task directory); drops the suite's thresholds.")
def eval_cmd(suite_path, run_dirs, out_dir, data_files, variants, limit, resume, check, quiet, task_name):
    """Generate with every variant, score, and write OUT/report.{json,md,html}.

    Every sample is appended to OUT/samples.jsonl as it is produced; kill the run at any time
    and continue it with --resume. Variants: base-gguf, adapter-hf, adapter-gguf, merged-hf,
    merged-gguf, rules; add +grammar for JSON-Schema-constrained decoding and @LABEL to use
    the run given as --run LABEL=DIR.

    \b
    Examples:
      extractor eval --run runs/cantos-smollm2 --out reports/latest
      extractor eval --run runs/cantos-smollm2 --out reports/latest --resume --check
      extractor eval --variants rules,base-gguf --data datasets/cantos/test.jsonl --out reports/quick
      extractor eval --run runs/a --run bug=runs/b --variants adapter-gguf,adapter-gguf@bug --out reports/ab
    """
    from .evaluate import load_suite, run_eval
    from .report import print_table, write_reports

    suite = load_suite(suite_path)
    if task_name and task_name != suite.task:
        from .task import get_task

        get_task(task_name)  # an unknown task fails before anything runs
        suite.task, suite.thresholds = task_name, []
    if data_files:
        suite.data = {Path(f).stem: Path(f) for f in data_files}
        suite.thresholds = [t for t in suite.thresholds if t.data in suite.data]
    if variants:
        from .variants import parse_name

        suite.variants = [str(parse_name(v)) for v in variants.split(",") if v.strip()]
        for t in suite.thresholds:
            t.variants = [v for v in t.variants if v in suite.variants]
        suite.thresholds = [t for t in suite.thresholds if t.variants]
    if limit:
        suite.limit = limit
    _warn_if_busy()
    run_eval(suite, _parse_runs(run_dirs), Path(out_dir), resume=resume, progress=not quiet,
             log=lambda m: click.echo(m, err=True))
    report = write_reports(Path(out_dir))
    print_table(report, console)
    click.echo(f"wrote {out_dir}/report.json, report.md, report.html")
    if check and any(not c["passed"] for c in report["checks"]):
        sys.exit(1)


# ----------------------------------------------------------------------------- report
@cli.group()
def report():
    """Re-score, show and compare evaluation reports (no model is run).

    \b
    Examples:
      extractor report rescore reports/latest
      extractor report show reports/baseline
      extractor report compare reports/baseline reports/latest
    """


@report.command("rescore")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False))
def report_rescore(out_dir):
    """Score OUT/samples.jsonl again and rewrite report.json, report.md and report.html.

    \b
    Example:
      extractor report rescore reports/latest
    """
    from .report import print_table, write_reports

    print_table(write_reports(Path(out_dir)), console)


@report.command("show")
@click.argument("path", type=click.Path(exists=True))
def report_show(path):
    """Print a report's table in the terminal.

    \b
    Example:
      extractor report show reports/baseline
    """
    from .report import load_report, print_table

    print_table(load_report(path), console)


@report.command("compare")
@click.argument("a", type=click.Path())
@click.argument("b", type=click.Path())
@click.option("--all", "show_all", is_flag=True, help="Show every tested figure (unchanged ones too) and the speed figures.")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05, show_default=True,
              help="Significance level, after Holm's adjustment over all the tests.")
def report_compare(a, b, show_all, alpha):
    """Compare report B with report A on the same samples; exit 1 only on a significant regression.

    A and B are report directories holding samples.jsonl (what `extractor eval --out DIR` writes),
    both of the same task. Rows are paired by (data file, variant, id). Schema-valid, exact match,
    clean stop and runaway are tested with the exact McNemar test; the task's F1 figures (Cantos:
    canto and line F1; file tasks: field F1) with a paired bootstrap (fixed seed, so every run gives
    the same p-values). p-values are Holm-adjusted over all the tests. A figure
    is a REGRESSION only when it is worse and significant; a worse figure that is not significant
    is reported as such and does not fail. Speed is shown (--all), never gated.

    Exit status: 0 no significant regression, 1 at least one, 2 bad input (a missing samples.jsonl,
    reports of two different tasks).

    \b
    Examples:
      extractor report compare reports/baseline reports/latest
      extractor report compare reports/baseline reports/latest --all
      extractor report compare reports/baseline reports/latest --alpha 0.01 || echo "regressed"
    \b
    Output lines look like:
      test / merged-gguf: exact_match 0.730 -> 0.700 (-0.030, 89 rows), McNemar p=0.41: not significant
      test / merged-gguf: exact_match 0.730 -> 0.550 (-0.180, 89 rows), McNemar p=0.003: REGRESSION
    """
    from .report_compare import compare, load, render, same_task

    la, lb = load(a), load(b)
    result = compare(la.samples, lb.samples, alpha=alpha, task=same_task(la, lb, a, b))
    for line in render(result, a, b, show_all):
        click.echo(line)
    sys.exit(1 if result.regressions else 0)


# ----------------------------------------------------------------------------- extract
class DefaultGroup(Group):
    """`extractor extract INPUT...` runs extraction; `extractor extract merge ...` is its one subcommand."""

    def parse_args(self, ctx, args):
        if not args or args[0] not in self.commands:
            args = ["run", *args]  # also sends --help to the extraction command, whose help names merge
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx, args):
        name, cmd, rest = super().resolve_command(ctx, args)
        # Usage lines read `extractor extract [OPTIONS] INPUTS...`, not `... extract run ...`.
        return (None if name == "run" else name), cmd, rest


@cli.group("extract", cls=DefaultGroup)
def extract():
    """Extract answers (Cantos references, or any task's JSON) from text, JSONL, directories or stdin."""


class _Unnamed(click.Command):
    def format_usage(self, ctx, formatter):
        formatter.write_usage(ctx.command_path.strip(), " ".join(self.collect_usage_pieces(ctx)))


@extract.command("run", hidden=True, cls=_Unnamed)
@click.argument("inputs", nargs=-1, required=True)
@click.option("--run", "run_dir", type=click.Path(file_okay=False), help="Training run (after `extractor export`).")
@click.option("--variant", default="merged-gguf", show_default=True,
              help="merged-gguf, adapter-gguf, merged-hf, adapter-hf, base-gguf or rules.")
@click.option("--task", "task_name", metavar="NAME_OR_DIR",
              help="The task (a name or a task directory). Default: the run's own task; without a run, cantos. "
                   "With a run it must be the run's task.")
@click.option("--grammar", is_flag=True, help="Constrain decoding with the JSON Schema's grammar (llama.cpp).")
@click.option("--resolve-lines", "resolve", is_flag=True,
              help="Cantos only: add absolute numbers for lines counted from the end, and flag impossible lines "
                   "(Cantos I-XXX).")
@click.option("--out", type=click.Path(dir_okay=False), help="Output JSONL file (default: stdout).")
@click.option("--resume", is_flag=True, help="Continue --out after an interruption: no passage repeated or lost.")
@click.option("--shard", metavar="K/N", help="Process the K-th of N deterministic slices of the passages.")
@click.option("--field", "field_name", help="JSONL field holding the text (default: text, else input).")
@click.option("--stdin-format", type=click.Choice(["txt", "jsonl"]), default="txt", show_default=True,
              help="What `-` (stdin) holds.")
@click.option("--max-new-tokens", type=int, default=128, show_default=True)
@click.option("--n-ctx", type=int, default=2048, show_default=True, help="Context size; longer passages are split.")
@click.option("--batch-size", type=int, default=16, show_default=True,
              help="Passages decoded together (llama.cpp sequences per call; transformers batch).")
@click.option("--threads", type=int, default=0, help="CPU threads (0: all cores up to 8).")
@click.option("--quiet", is_flag=True, help="No progress bar or summary.")
def extract_run(inputs, run_dir, variant, task_name, grammar, resolve, out, resume, shard, field_name,
                stdin_format, max_new_tokens, n_ctx, batch_size, threads, quiet):
    """Extract the task's answers from INPUT... into JSONL, one record per passage.

    The task is the run's own (its training config's `task`): Cantos references, citation
    fields, or any task of docs/tasks.md; --task names it where there is no run (base-gguf,
    rules). INPUT is a .txt file (cut into paragraphs, long paragraphs into sentences), a
    .jsonl file (one document per row: field `text` or `input`, or --field), a directory
    (read recursively, sorted; hidden entries are not read) or `-` for stdin. Each record
    holds source, line, passage, start/end offsets, text, status (ok, no_json, invalid, or
    `skipped: reason`: binary, empty or unreadable input, bad JSONL row, passage too long for
    the context) and the answer: `references` for Cantos, else `answer` (the task's JSON
    value, or null). Exit status: 0, or 3 when anything was skipped.

    Records are written as they are produced; after a kill, --resume continues the same
    --out. For a cluster, run one process per --shard K/N and join them in input order with
    `extractor extract merge SHARD_OUT... --out FILE`.

    \b
    Examples:
      extractor extract --run runs/cantos-smollm2 essays/ --out refs.jsonl
      extractor extract --run runs/cantos-smollm2 essays/ --out refs.jsonl --resume
      extractor extract --variant rules notes.txt
      cat notes.txt | extractor extract --run runs/cantos-smollm2 --resolve-lines -
      extractor extract --run runs/cantos-smollm2 corpus.jsonl --field body --shard 2/4 --out part2.jsonl
      extractor extract merge part1.jsonl part2.jsonl part3.jsonl part4.jsonl --out all.jsonl
      extractor extract --run runs/citations-smollm2 refs.txt --out fields.jsonl
      extractor extract --variant base-gguf --task citations refs.txt --out fields.jsonl
    """
    from .corpus import EXIT_SKIPPED, Shard, run_extract
    from .extraction import Extractor
    from .variants import Settings

    settings = Settings(max_new_tokens=max_new_tokens, n_ctx=n_ctx, batch_size=batch_size, threads=threads)
    the_shard = Shard.parse(shard)
    if variant != "rules":
        _warn_if_busy()
    with Extractor.load(run_dir, variant, task=task_name, grammar=grammar, settings=settings) as ex:
        summary = run_extract(ex, list(inputs), Path(out) if out else None, shard=the_shard,
                              resume=resume, resolve=resolve, field_name=field_name, stdin_format=stdin_format,
                              batch_size=batch_size, progress=not quiet and out is not None,
                              log=lambda m: click.echo(m, err=True))
    if not quiet:
        click.echo(summary.line(), err=True)
    if summary.skipped:
        sys.exit(EXIT_SKIPPED)


@extract.command("merge")
@click.argument("shards", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(dir_okay=False), help="Merged JSONL file (default: stdout).")
def extract_merge(shards, out):
    """Join the outputs of `extractor extract --shard K/N` (all N of them) in input order.

    Refuses shards that are missing, unfinished (continue them with --resume) or from
    different runs, and checks that no passage is missing or repeated.

    \b
    Examples:
      extractor extract merge part1.jsonl part2.jsonl --out all.jsonl
      extractor extract merge parts/*.jsonl > all.jsonl
    """
    from .corpus import merge

    merge([Path(s) for s in shards], Path(out) if out else None, log=lambda m: click.echo(m, err=True))


# ----------------------------------------------------------------------------- parse
@cli.command("parse")
@click.argument("text", required=False)
@click.option("--task", "task_name", default="cantos", show_default=True,
              help="The task whose schema the answer follows: a name (cantos, citations) or a task directory.")
def parse_cmd(text, task_name):
    """Parse raw model output (argument or stdin) and print its classification as JSON.

    Prints status (clean, trailing_text, chained_turn, cut_off, invalid, no_json), the answer
    (Cantos: `references`; other tasks: `answer`, the JSON value), what followed it (`rest`) and
    why there is no answer (`error`).

    \b
    Examples:
      extractor parse '{"references": [{"canto": 9, "lines": [15]}]}'
      echo '{"references": []} ### Question: and?' | extractor parse
      extractor parse --task citations '{"author": "Lind, K.", "date": "(1998)."} <|im_start|>user'
    """
    from .task import get_task

    task = get_task(task_name)
    raw = text if text is not None else sys.stdin.read()
    p = task.parse_answer(raw)
    if hasattr(p, "references"):
        answer = {"references": None if p.references is None else [r.to_json() for r in p.references]}
    else:
        answer = {"answer": p.value}
    click.echo(json.dumps({"status": p.status, **answer, "rest": p.rest, "error": p.error}, ensure_ascii=False))


def main() -> None:
    from . import quiet

    quiet.libraries()
    cli(prog_name="extractor")
