"""A task defined by files alone: a directory with ``task.toml`` and ``schema.json``.

``task.toml`` keys (docs/tasks.md, "Bring your own task"):

    name = "invoices"                      # default: the directory's name
    system = "Extract the invoice fields as JSON."      # required: trained runs' system prompt
    instruction = "..."                    # base model's prompt; default: system + the examples
    [[examples]]                           # few-shot examples for the base model (optional)
    input = "Invoice 7 of 2024-01-05, total 12.50 EUR"
    output = {number = "7", date = "2024-01-05", total = 12.5}
    [metrics]                              # extractor.core.fields.FieldOptions (all optional)
    fold_case = false
    collapse_whitespace = true
    strip_punctuation = false
    abs_tol = 0.0
    rel_tol = 0.0
    keys = {"items[]" = ["sku"]}

A ``suite.toml`` beside them, when present, is the task's default evaluation suite.
Its metrics are the generic field metrics (``core.task.JsonTask``, ``core.fields``) plus what every task
shares.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from ..core import fields
from ..core.errors import ConfigError
from ..core.task import JsonTask

TASK_FILE = "task.toml"
SCHEMA_FILE = "schema.json"
SUITE_FILE = "suite.toml"
_KEYS = {"name", "system", "instruction", "examples", "metrics"}
_OPTION_KEYS = {"fold_case", "collapse_whitespace", "strip_punctuation", "abs_tol", "rel_tol", "keys"}


@dataclass(frozen=True)
class Example:
    """A few-shot example of the base model's instruction."""

    input: str
    """The text."""
    output: Any
    """Its answer (schema-valid)."""


@dataclass
class FileTask(JsonTask):
    """A task read from a directory: schema, prompts, and the field metrics' options."""

    name: str
    """The task's name (``task.toml``'s ``name``, else the directory's)."""
    schema: dict[str, Any]
    """The answer's JSON Schema (``schema.json``)."""
    system: str
    """System prompt of trained runs."""
    instruction: str = ""
    """System prompt of the base model (default: ``system``, then the examples)."""
    examples: list[Example] = field(default_factory=list)
    """Few-shot examples, appended to the default instruction."""
    options: fields.FieldOptions = field(default_factory=fields.FieldOptions)
    """How answers compare (case, whitespace, numeric tolerance, array keys)."""
    directory: Path | None = None
    """Where it was read from."""
    suite: Path | None = None
    """The directory's ``suite.toml``, when it has one: the task's default evaluation suite."""

    def __post_init__(self) -> None:
        self._validator = Draft202012Validator(self.schema)
        if not self.instruction:
            shots = "".join(f"\nText: {ex.input}\n{self.answer_text(ex.output)}" for ex in self.examples)
            self.instruction = self.system + (" Answer with the JSON object and nothing else."
                                              + ("\nExamples:" + shots if shots else ""))

    def schema_errors(self, value: Any) -> list[str]:
        errors = sorted(self._validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        return [f"{e.json_path}: {e.message if len(e.message) <= 160 else e.message[:157] + '...'}" for e in errors]


def _bad(path: Path, what: str) -> ConfigError:
    return ConfigError(f"{path}: {what}")


def load_task_dir(directory: str | Path) -> FileTask:
    """Read ``task.toml`` and ``schema.json`` of a task directory; every mistake names the file,
    the key and the fix."""
    directory = Path(directory)
    toml_path, schema_path = directory / TASK_FILE, directory / SCHEMA_FILE
    for p in (toml_path, schema_path):
        if not p.is_file():
            raise _bad(directory, f"no {p.name}; a task directory holds {TASK_FILE} and {SCHEMA_FILE} "
                                  "(docs/tasks.md, \"Bring your own task\")")
    try:
        raw = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise _bad(toml_path, f"not valid TOML ({e})") from None
    try:
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ConfigError(f"{schema_path}:{e.lineno}: not valid JSON ({e.msg})") from None
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as e:
        raise _bad(schema_path, f"not a valid JSON Schema: {e.message}") from None
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise _bad(toml_path, f"unknown key(s) {', '.join(unknown)}; known keys: {', '.join(sorted(_KEYS))}")
    for key in ("name", "system", "instruction"):
        if key in raw and not (isinstance(raw[key], str) and raw[key].strip()):
            raise _bad(toml_path, f"{key} must be a non-empty string")
    if "system" not in raw:
        raise _bad(toml_path, 'missing key `system`: the trained runs\' system prompt, e.g. system = "Extract ... as JSON."')
    validator = Draft202012Validator(schema)
    examples = []
    for i, ex in enumerate(raw.get("examples") or []):
        where = f"examples[{i}]"
        if not isinstance(ex, dict) or set(ex) != {"input", "output"} or not isinstance(ex["input"], str):
            raise _bad(toml_path, f"{where}: write input = \"text\" and output = {{...}} (nothing else)")
        errs = [e.message for e in validator.iter_errors(ex["output"])]
        if errs:
            raise _bad(toml_path, f"{where}: output violates {SCHEMA_FILE}: {errs[0]}")
        examples.append(Example(ex["input"], ex["output"]))
    suite = directory / SUITE_FILE
    return FileTask(raw.get("name", directory.name), schema, raw["system"], raw.get("instruction", ""), examples,
                    _options(raw.get("metrics") or {}, toml_path), directory, suite if suite.is_file() else None)


def _options(raw: dict, path: Path) -> fields.FieldOptions:
    unknown = sorted(set(raw) - _OPTION_KEYS)
    if unknown:
        raise _bad(path, f"metrics: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_OPTION_KEYS))}")
    for k in ("fold_case", "collapse_whitespace", "strip_punctuation"):
        if k in raw and not isinstance(raw[k], bool):
            raise _bad(path, f"metrics.{k} = {raw[k]!r} must be true or false")
    for k in ("abs_tol", "rel_tol"):
        if k in raw and (isinstance(raw[k], bool) or not isinstance(raw[k], (int, float)) or raw[k] < 0):
            raise _bad(path, f"metrics.{k} = {raw[k]!r} must be a number >= 0")
    keys = raw.get("keys", {})
    if not isinstance(keys, dict) or not all(isinstance(v, list) and all(isinstance(x, str) for x in v)
                                             for v in keys.values()):
        raise _bad(path, 'metrics.keys must map an array field to its item key fields, e.g. keys = {"items[]" = ["sku"]}')
    return fields.FieldOptions(**{k: v for k, v in raw.items() if k != "keys"},
                               keys={k: tuple(v) for k, v in keys.items()})
