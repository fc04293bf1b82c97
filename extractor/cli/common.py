"""What the commands share: the console, typed errors as one line, the task and run options."""

from __future__ import annotations

import click
from rich.console import Console

from ..core.errors import ExtractorError
from ..core.task import Task
from ..runtimes.run_card import RunArtefacts
from ..tasks.registry import DEFAULT_TASK, get_task, known_tasks

console = Console()


class Group(click.Group):
    """A click group that turns the project's typed errors into one clear line and its exit code."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ExtractorError as e:
            click.echo(f"error: {e}", err=True)
            ctx.exit(e.exit_code)


def task_option(help_text: str = "The task: a registered name or a task directory."):
    """``--task NAME|DIR`` (default: the default task, or the run's own where there is a run)."""
    return click.option("--task", "task_name", metavar="NAME|DIR", default=None,
                        help=f"{help_text} Registered: {', '.join(known_tasks())}; default {DEFAULT_TASK}.")


def resolve_task(name: str | None) -> Task:
    """The task a command runs for, resolved once here and passed on."""
    return get_task(name)


def warn_if_busy() -> None:
    """Name any other heavy job of this project already running on these cores."""
    from .contention import warn

    warn(lambda m: click.echo(m, err=True))


def parse_runs(values: tuple[str, ...]) -> dict[str | None, RunArtefacts]:
    """``--run DIR`` and ``--run LABEL=DIR``, each loaded from its card (refused before anything runs)."""
    runs: dict[str | None, RunArtefacts] = {}
    for v in values:
        label, sep, path = v.partition("=")
        key = label if sep else None
        if key in runs:
            raise ExtractorError(f"--run {v}: {'label ' + repr(label) if sep else 'the default run'} is given twice")
        runs[key] = RunArtefacts.load(path if sep else v)
    return runs


def parse_endpoints(values: tuple[str, ...]) -> dict:
    """``--endpoint URL`` and ``--endpoint LABEL=URL`` (for variants served:MODEL@LABEL)."""
    from ..runtimes.served import Endpoint

    out: dict = {}
    for v in values:
        label, sep, url = v.partition("=")
        if not sep or "://" in label:
            label, url = None, v
        if label in out:
            raise ExtractorError(f"--endpoint {v}: {'label ' + repr(label) if label else 'the default endpoint'} "
                                 "is given twice")
        if not url.startswith(("http://", "https://")):
            raise ExtractorError(f"--endpoint {v}: give the server's base URL, e.g. http://127.0.0.1:8000/v1")
        out[label] = Endpoint(url, label)
    return out


def task_of_runs(runs: dict[str | None, RunArtefacts], name: str | None) -> Task:
    """The task of an evaluation: ``--task`` when given, else the runs' own (they must agree), else
    the default task."""
    if name is not None:
        return resolve_task(name)
    sources = {run.card.task_source or DEFAULT_TASK for run in runs.values()}
    if len(sources) > 1:
        raise ExtractorError(f"the runs were trained for different tasks ({', '.join(sorted(sources))}); "
                             "evaluate runs of one task together")
    return resolve_task(sources.pop() if sources else None)
