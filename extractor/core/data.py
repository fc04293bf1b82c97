"""Loading labelled JSONL: one loader for `data check`, the trainer and the evaluator.

Accepted rows (one JSON object per line):
  {"input": str, "output": str | object, "id"?: str, "tags"?: [str]}
      output is the answer object, or that object JSON-encoded as a string (older datasets).
  {"messages": [{"role": "system"?, ...}, {"role": "user", "content": str},
                {"role": "assistant", "content": str}], "id"?: str, "tags"?: [str]}
Every bad row is reported as ``file:line: reason``; nothing is skipped silently. ``output`` is
validated against the task's schema (a ``core.task.Task``, resolved by the caller).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from . import fields
from .errors import DataError
from .task import Task


@dataclass(frozen=True)
class Problem:
    """One bad row (or file): where it is and what is wrong."""

    path: str
    line: int  # 1-based; 0 for a problem with the whole file
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}" if self.line else f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class Example:
    """One labelled row."""

    input: str
    """The text the model reads: a sentence of prose, a question or a bare citation."""
    output: Any
    """The gold answer as a JSON value (the task's ``answer_text`` of it is the training completion)."""
    id: str
    """Row id: the file's `id` field, else ``<file stem>:<line>``."""
    tags: tuple[str, ...] = ()
    """Free labels (category, numeral style...) used for per-category counts."""
    source: str = ""
    """``path:line`` the row came from."""


_ROW_KEYS = {"input", "output", "id", "tags", "messages"}


def read_file(path: str | Path, task: Task) -> tuple[list[Example], list[Problem]]:
    """Read one JSONL file; return the good examples and every problem found. Every row's output
    must follow ``task``'s schema."""
    path = Path(path)
    name = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], [Problem(name, 0, "file not found; check the path")]
    except IsADirectoryError:
        return [], [Problem(name, 0, "is a directory; pass the .jsonl files inside it")]
    except OSError as e:
        return [], [Problem(name, 0, f"cannot read: {e.strerror}")]
    if not data.strip():
        return [], [Problem(name, 0, "empty file; add one JSON object per line")]
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the final newline ends the last row; it does not start an empty one
    examples: list[Example] = []
    problems: list[Problem] = []
    seen_ids: dict[str, int] = {}
    for lineno, raw in enumerate(lines, 1):
        ex, reason = _parse_line(raw, f"{path.stem}:{lineno}", task)
        if reason:
            problems.append(Problem(name, lineno, reason))
            continue
        if ex.id in seen_ids:
            problems.append(Problem(name, lineno, f"duplicate id {ex.id!r} (first on line {seen_ids[ex.id]}); ids must be unique"))
            continue
        seen_ids[ex.id] = lineno
        examples.append(Example(ex.input, ex.output, ex.id, ex.tags, f"{name}:{lineno}"))
    return examples, problems


def _parse_line(raw: bytes, default_id: str, task: Task) -> tuple[Example | None, str | None]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return None, f"bytes that are not UTF-8 at column {e.start + 1}; re-save the file as UTF-8"
    if not text.strip():
        return None, "blank line; remove it (one JSON object per line)"
    try:
        row = json.loads(text)
    except json.JSONDecodeError as e:
        return None, f"not JSON ({e.msg} at column {e.colno}); each line must be one JSON object"
    except RecursionError:
        return None, "not JSON (nested too deeply); each line must be one JSON object"
    if not isinstance(row, dict):
        return None, f"a JSON {type(row).__name__}, not an object; write {{\"input\": ..., \"output\": ...}}"
    unknown = sorted(set(row) - _ROW_KEYS)
    if unknown:
        return None, f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_ROW_KEYS))}"
    if "messages" in row:
        if "input" in row or "output" in row:
            return None, "has both `messages` and `input`/`output`; use one row format"
        text_in, output, reason = _from_messages(row["messages"])
        if reason:
            return None, reason
    else:
        missing = [k for k in ("input", "output") if k not in row]
        if missing:
            return None, f"missing field `{missing[0]}`; rows need `input` and `output` (or `messages`)"
        text_in, output = row["input"], row["output"]
    if not isinstance(text_in, str):
        return None, f"`input` must be a string, got {type(text_in).__name__}"
    if not text_in.strip():
        return None, "empty input; every row needs some text"
    if isinstance(output, str):
        try:
            output = json.loads(output)
        except (json.JSONDecodeError, RecursionError):
            return None, "`output` is a string that is not JSON; write the answer object or its JSON text"
    problems = task.schema_errors(output)
    if problems:
        return None, "output violates the schema: " + "; ".join(problems[:3])
    row_id = row.get("id", default_id)
    if not isinstance(row_id, str) or not row_id:
        return None, "`id` must be a non-empty string"
    tags = row.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        return None, "`tags` must be a list of strings"
    return Example(text_in, output, row_id, tuple(tags)), None


def _from_messages(messages: Any) -> tuple[str, Any, str | None]:
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        return "", None, "`messages` must be a list of {role, content} objects"
    turns = [m for m in messages if m.get("role") != "system"]
    if len(turns) != 2 or [m.get("role") for m in turns] != ["user", "assistant"]:
        return "", None, "`messages` must be one user turn then one assistant turn (a system turn may lead)"
    user, assistant = (m.get("content") for m in turns)
    if not isinstance(assistant, str):
        return "", None, "assistant `content` must be a string holding the answer JSON"
    return user, assistant, None


def load(paths: Iterable[str | Path], task: Task) -> list[Example]:
    """Load files for training or evaluation; raise DataError listing every bad row."""
    examples: list[Example] = []
    problems: list[Problem] = []
    for p in paths:
        ex, pr = read_file(p, task)
        examples.extend(ex)
        problems.extend(pr)
    if problems:
        raise DataError(problems)
    return examples


def normalize(text: str) -> str:
    """Key for "the same input": case, whitespace and surrounding punctuation ignored."""
    return " ".join(text.lower().split()).strip(" .?!\"'")


def summary(examples: list[Example]) -> dict[str, Any]:
    """Counts for a dataset card: rows, rows whose answer is empty (no leaf: no field, no item),
    and per-tag counts."""
    tags = Counter(t for ex in examples for t in ex.tags)
    return {
        "rows": len(examples),
        "empty_answer": sum(1 for ex in examples if not any(True for _ in fields.leaves(ex.output))),
        "tags": dict(sorted(tags.items())),
    }
