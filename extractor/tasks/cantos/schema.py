"""The output format: its JSON Schema, its canonical form, and the parser for raw model text.

A model's answer is ``{"references": [{"canto": 9, "lines": [15, 16]}]}``. ``parse`` finds the
first JSON value in raw text, validates it, and says what came after it, because what a model
writes *after* its answer (prose, an invented next question) is one of the failures we measure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from ...core.parsing import Answer, find_answer
from .sections import FIRST_CANTO, LAST_CANTO

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://extractor.invalid/schemas/cantos-references.json",
    "title": "References to Ezra Pound's The Cantos",
    "type": "object",
    "properties": {
        "references": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "canto": {"type": "integer", "minimum": FIRST_CANTO, "maximum": LAST_CANTO},
                    "lines": {"type": "array", "items": {"type": "integer", "not": {"const": 0}}},
                },
                "required": ["canto", "lines"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["references"],
    "additionalProperties": False,
}

_VALIDATOR = Draft202012Validator(SCHEMA)


@dataclass(frozen=True, order=True)
class Reference:
    """One reference: a canto (1..120) and its line numbers (empty when none is given)."""

    canto: int
    lines: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"canto": self.canto, "lines": list(self.lines)}


def schema_errors(value: Any) -> list[str]:
    """Every schema violation of ``value`` as ``$.json.path: message``; empty when valid."""
    errors = sorted(_VALIDATOR.iter_errors(value), key=lambda e: list(e.absolute_path))
    return [f"{e.json_path}: {_short(e)}" for e in errors]


def _short(error) -> str:
    # jsonschema's messages repeat the whole instance; keep them to one readable line.
    if error.validator == "not":
        return f"{error.instance!r} is not allowed (line numbers are non-zero)"
    msg = error.message
    return msg if len(msg) <= 160 else msg[:157] + "..."


def references_from_json(value: Any) -> list[Reference]:
    """Schema-valid JSON value -> references, in the order given. Raises ValueError if invalid."""
    problems = schema_errors(value)
    if problems:
        raise ValueError("; ".join(problems))
    # bool is an int subclass in Python but not a JSON integer; the schema already refused it.
    return [Reference(r["canto"], tuple(r["lines"])) for r in value["references"]]


def canonical(refs: list[Reference]) -> list[Reference]:
    """One entry per canto, cantos ascending, lines sorted and unique.

    Scoring compares sets of cantos and of (canto, line) pairs, so two answers with the same
    canonical form are equally right whatever their grouping and order.
    """
    merged: dict[int, set[int]] = {}
    for r in refs:
        merged.setdefault(r.canto, set()).update(r.lines)
    return [Reference(c, tuple(sorted(merged[c]))) for c in sorted(merged)]


def to_json_text(refs: list[Reference]) -> str:
    """The JSON text a model is trained to emit for ``refs`` (order kept as given)."""
    return json.dumps({"references": [r.to_json() for r in refs]})


@dataclass(frozen=True)
class CantosAnswer(Answer):
    """What ``parse`` made of one raw model output: the core's ``Answer``, with the answer's
    references typed."""

    @property
    def references(self) -> list[Reference] | None:
        """The answer when it is schema-valid (also for trailing_text / chained_turn), else None."""
        if self.value is None:
            return None
        return [Reference(r["canto"], tuple(r["lines"])) for r in self.value["references"]]


def parse(raw: str) -> CantosAnswer:
    """Parse raw model text: first JSON value, schema validation, and what followed it."""
    a = find_answer(raw, schema_errors)
    return CantosAnswer(a.status, a.value, a.json_text, a.rest, a.error)
