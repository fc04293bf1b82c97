"""Bibliographic reference segmentation, defined by files alone (task.toml, schema.json, suite.toml)."""

from __future__ import annotations

from pathlib import Path

from ..filetask import FileTask, load_task_dir


def task() -> FileTask:
    """The citations task (what pyproject.toml's entry point names)."""
    return load_task_dir(Path(__file__).resolve().parent)
