"""Built-in tasks. ``cantos`` is a Python task (``extractor.tasks.cantos``); every directory here
holding ``task.toml`` and ``schema.json`` (``citations``) is a file-defined task. The two
callables below are what pyproject.toml's ``[project.entry-points."extractor.tasks"]`` names."""

from __future__ import annotations

from pathlib import Path


def cantos_task():
    """The Cantos references task."""
    from .cantos import CantosTask

    return CantosTask()


def citations_task():
    """Bibliographic reference segmentation, defined by files (task.toml, schema.json)."""
    from ..filetask import load_task_dir

    return load_task_dir(Path(__file__).resolve().parent / "citations")
