"""`extractor extract`: answers from text, JSONL, directories or stdin; `extract merge` joins shards."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import Group, task_option, warn_if_busy


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


@click.group("extract", cls=DefaultGroup)
def extract():
    """Extract answers (Cantos references, or any task's JSON) from text, JSONL, directories or stdin."""


class _Unnamed(click.Command):
    def format_usage(self, ctx, formatter):
        formatter.write_usage(ctx.command_path.strip(), " ".join(self.collect_usage_pieces(ctx)))


@extract.command("run", hidden=True, cls=_Unnamed)
@click.argument("inputs", nargs=-1, required=True)
@click.option("--run", "run_dir", type=click.Path(file_okay=False), help="Training run (after `extractor export`).")
@click.option("--variant", default="merged-gguf", show_default=True,
              help="merged-gguf, adapter-gguf, merged-hf, adapter-hf, base-gguf, rules, or served:MODEL (with --endpoint).")
@click.option("--endpoint", metavar="URL", help="An OpenAI-compatible server for --variant served:MODEL "
                                                "(e.g. http://127.0.0.1:8000/v1).")
@click.option("--concurrency", type=int, default=8, show_default=True, help="served: requests in flight at once.")
@click.option("--timeout", type=click.IntRange(1), default=120, show_default=True, metavar="SECONDS",
              help="served: seconds a request may take before it counts as a fault and is retried.")
@click.option("--retry-budget", type=click.IntRange(0), default=120, show_default=True, metavar="SECONDS",
              help="How long a failing server request or runtime call is retried before the run stops (exit 4).")
@task_option("The task (default: the run's own). With a run it must be the run's task.")
@click.option("--grammar", is_flag=True, help="Constrain decoding with the JSON Schema's grammar (llama.cpp's for GGUF variants, "
                                                   "llguidance's for HF ones).")
@click.option("--resolve-lines", "resolve", is_flag=True,
              help="Tasks that resolve line numbers (Cantos): add absolute numbers for lines counted from the end, "
                   "and flag impossible lines (Cantos I-XXX).")
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
@click.option("--min-confidence", type=click.FloatRange(0.0, 1.0), metavar="X",
              help="Mark answers whose confidence is below X (0..1), or unknown, with status `review` (the answer "
                   "kept). A record's `confidence` is its least likely token's probability (docs/extraction.md).")
@click.option("--quiet", is_flag=True, help="No progress bar or summary.")
def extract_run(inputs, run_dir, variant, endpoint, concurrency, timeout, retry_budget, task_name, grammar, resolve,
                out, resume, shard, field_name, stdin_format, max_new_tokens, n_ctx, batch_size, threads, min_confidence,
                quiet):
    """Extract the task's answers from INPUT... into JSONL, one record per passage.

    The task is the run's own (its card's `task`): Cantos references, citation
    fields, or any task of docs/tasks.md; --task names it where there is no run (base-gguf,
    rules). INPUT is a .txt file (cut into paragraphs, long paragraphs into sentences), a
    .jsonl file (one document per row: field `text` or `input`, or --field), a directory
    (read recursively, sorted; hidden entries are not read) or `-` for stdin. Each record
    holds source, line, passage, start/end offsets, text, status (ok, no_json, invalid, or
    `skipped: reason`: binary, empty or unreadable input, bad JSONL row, passage too long for
    the context; `review`: an answer under --min-confidence) and the answer under the task's
    keys: `references` for Cantos, else `answer` (the task's JSON value); null when there is
    none. A model's answer also has its `confidence` and, per field, `field_confidence`.

    Records are written as they are produced; after a kill, --resume continues the same
    --out. For a cluster, run one process per --shard K/N and join them in input order with
    `extractor extract merge SHARD_OUT... --out FILE`. A fault of a server or runtime (a
    refused or dropped connection, a timeout, a 5xx or 429, a runtime error) is never written
    as a passage's record: it is retried with backoff for up to --retry-budget seconds, then
    the run stops and --resume continues from the first passage not written.

    Exit status: 0 done; 3 done, some input or passage skipped (bad input, too long for the
    context); 4 stopped by an outage of the server or runtime (continue with --resume once it
    is back); 1 an error to fix (the message says how).

    \b
    Examples:
      extractor extract --run runs/cantos-smollm2 essays/ --out refs.jsonl
      extractor extract --run runs/cantos-smollm2 essays/ --out refs.jsonl --resume
      extractor extract --run runs/cantos-smollm2 essays/ --out refs.jsonl --min-confidence 0.9
      extractor extract --variant rules notes.txt
      cat notes.txt | extractor extract --run runs/cantos-smollm2 --resolve-lines -
      extractor extract --run runs/cantos-smollm2 corpus.jsonl --field body --shard 2/4 --out part2.jsonl
      extractor extract merge part1.jsonl part2.jsonl part3.jsonl part4.jsonl --out all.jsonl
      extractor extract --run runs/citations-smollm2 refs.txt --out fields.jsonl
      extractor extract --variant base-gguf --task citations refs.txt --out fields.jsonl
      extractor extract --run runs/cantos-smollm2 --variant served:cantos --endpoint http://127.0.0.1:8000/v1 essays/
    """
    from ..extract.corpus import EXIT_SKIPPED, Shard, run_extract
    from ..extract.extractor import Extractor
    from ..runtimes.variant import Settings

    settings = Settings(max_new_tokens=max_new_tokens, n_ctx=n_ctx, batch_size=batch_size, threads=threads,
                        concurrency=concurrency, timeout=timeout, retry_budget=retry_budget)
    the_shard = Shard.parse(shard)
    if variant != "rules":
        warn_if_busy()
    with Extractor.load(run_dir, variant, task=task_name, grammar=grammar, settings=settings, endpoint=endpoint) as ex:
        summary = run_extract(ex, list(inputs), Path(out) if out else None, shard=the_shard,
                              resume=resume, resolve=resolve, field_name=field_name, stdin_format=stdin_format,
                              batch_size=batch_size, progress=not quiet and out is not None,
                              log=lambda m: click.echo(m, err=True), min_confidence=min_confidence)
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
    from ..extract.merge import merge

    merge([Path(s) for s in shards], Path(out) if out else None, log=lambda m: click.echo(m, err=True))
