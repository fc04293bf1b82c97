"""The `extractor` command line. Each command's docstring is its --help text; each module holds
one group of commands (``data``: data, models, parse; ``train``: train, export; ``evaluate``: eval,
report; ``extract``: extract)."""

from __future__ import annotations

import click

from .common import Group
from .data import data, models, parse_cmd
from .evaluate import eval_cmd, report
from .extract import extract
from .train import export_cmd, import_cmd, train_cmd


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
      extractor import ~/trl-out/checkpoint-500 --base smollm2-135m --out runs/from-trl
      extractor export runs/cantos-smollm2
      extractor eval --run runs/cantos-smollm2 --out reports/latest
      extractor report compare reports/baseline reports/latest
      extractor extract --run runs/cantos-smollm2 essays/ --out refs.jsonl
      extractor parse '{"references": []} ### Question: next?'
      extractor data check --task citations datasets/citations/*.jsonl
      extractor eval --run runs/citations-smollm2 --out reports/citations
    """


for command in (data, models, train_cmd, import_cmd, export_cmd, eval_cmd, report, extract, parse_cmd):
    cli.add_command(command)


def main() -> None:
    from ..core import quiet

    quiet.libraries()
    cli(prog_name="extractor")
