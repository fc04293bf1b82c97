"""Resolving a task: by the name it is registered under, or from a directory of files.

``get_task(name_or_path)`` resolves, in this order:

1. a task registered under the entry-point group ``extractor.tasks`` (``name = "module:attr"``, the
   attribute a Task or a callable returning one); pyproject.toml registers the built-in ones, and
   a package of your own registers its task the same way (docs/tasks.md, "Bring your own task");
2. a directory holding ``task.toml`` and ``schema.json`` (``tasks.filetask``).

This is the one place that knows which task is the default; which tasks exist, the built-in ones
included, the entry points say (read from the installed metadata: an editable install's too, so a
checkout is used through `make install`). Everything else receives a resolved Task and never names one.
"""

from __future__ import annotations

from functools import cache
from importlib import metadata
from pathlib import Path

from ..core.errors import ConfigError
from ..core.plugins import entry_points
from ..core.task import Task
from .filetask import FileTask, load_task_dir

ENTRY_POINT_GROUP = "extractor.tasks"
DEFAULT_TASK = "cantos"
"""The task of a command, suite or config that names none."""

_LOADED: dict[str, Task] = {}


@cache
def _entry_points() -> dict[str, metadata.EntryPoint]:
    return entry_points(ENTRY_POINT_GROUP)


def reset() -> None:
    """Read the entry points again (after installing a package that registers a task)."""
    _entry_points.cache_clear()


def known_tasks() -> list[str]:
    """Every task name ``get_task`` resolves (built-in and registered)."""
    return sorted(_entry_points())


def is_registered(name: str) -> bool:
    """Whether ``name`` is a registered task's name (not a directory)."""
    return name in _entry_points()


def get_task(name_or_path: str | Path | None = None) -> Task:
    """The task registered under a name, or defined in a directory; None is ``DEFAULT_TASK``."""
    key = DEFAULT_TASK if name_or_path is None or name_or_path == "" else str(name_or_path)
    if key not in _LOADED:
        _LOADED[key] = _resolve(key)
    return _LOADED[key]


def source(task: Task) -> str:
    """How to find ``task`` again later (eval.json, a run's card): the name it is registered
    under, or the absolute path of the directory it was read from."""
    if is_registered(task.name) and get_task(task.name) is task:
        return task.name
    if isinstance(task, FileTask) and task.directory is not None:
        return str(Path(task.directory).resolve())
    return task.name


def _load(ep: metadata.EntryPoint) -> Task:
    obj = ep.load()
    task = obj() if isinstance(obj, type) or (callable(obj) and not isinstance(obj, Task)) else obj
    if not isinstance(task, Task):
        raise ConfigError(f"entry point {ENTRY_POINT_GROUP}:{ep.name} = {ep.value} is not a Task "
                          "(see extractor/core/task.py for the attributes and methods it needs)")
    return task


def _resolve(key: str) -> Task:
    eps = _entry_points()
    if key in eps:
        return _load(eps[key])
    path = Path(key)
    if path.is_dir():
        return load_task_dir(path)
    if path.exists():
        raise ConfigError(f"task {key!r} is a file; pass the directory holding task.toml and schema.json")
    raise ConfigError(f"unknown task {key!r}: known tasks are {', '.join(known_tasks())}, or pass a directory "
                      "holding task.toml and schema.json (docs/tasks.md, \"Bring your own task\")")
