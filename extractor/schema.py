"""The output format: its JSON Schema, its canonical form, and the parser for raw model text.

A model's answer is ``{"references": [{"canto": 9, "lines": [15, 16]}]}``. ``parse`` finds the
first JSON value in raw text, validates it, and says what came after it, because what a model
writes *after* its answer (prose, an invented next question) is one of the failures we measure.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from jsonschema import Draft202012Validator

from .cantos import FIRST_CANTO, LAST_CANTO

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


Status = Literal["clean", "trailing_text", "chained_turn", "cut_off", "invalid", "no_json"]

# Markers of an invented next turn. Any of them after the answer means the model went on
# talking as if it were the user or a new exchange (the seeds' "### Question:" chaining).
_TURN_RE = re.compile(
    r"###|<\|(?:user|assistant|system|im_start|start_header_id|eot_id)\|>|\[/?INST\]|<start_of_turn>"
    r"|<s>|^\s*(?:Question|Answer|Q|A|User|Human|Assistant|Input|Output)\s*:",
    re.IGNORECASE | re.MULTILINE,
)
# Tokens that end a turn. Text consisting only of these counts as a clean stop.
END_MARKERS = ("</s>", "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end|>", "<end_of_turn>")
_FENCE_OPEN = re.compile(r"\A\s*```(?:json|JSON)?[ \t]*\n?")


@dataclass(frozen=True)
class Parsed:
    """What ``parse`` made of one raw model output."""

    status: Status
    """clean | trailing_text | chained_turn: a valid answer, and what followed it.
    cut_off: a JSON value began but never ended. invalid: JSON (or near-JSON) that fails the
    schema or the JSON grammar. no_json: no JSON value at the start of the text."""
    references: list[Reference] | None = None
    """The answer when it is schema-valid (also for trailing_text / chained_turn), else None."""
    json_text: str = ""
    """The span of the first JSON value (empty when none was decoded)."""
    rest: str = ""
    """Everything after the JSON value (and its closing fence), unstripped."""
    error: str | None = None
    """Why the output is cut_off / invalid / no_json."""

    @property
    def valid(self) -> bool:
        """The answer is schema-valid, whatever followed it."""
        return self.references is not None


_DECODER = json.JSONDecoder()


def parse(raw: str) -> Parsed:
    """Parse raw model text: first JSON value, schema validation, and what followed it."""
    if not isinstance(raw, str):
        raise TypeError(f"parse() takes the model's text, got {type(raw).__name__}")
    fence = _FENCE_OPEN.match(raw)
    start = fence.end() if fence else 0
    while start < len(raw) and raw[start].isspace():
        start += 1
    if start >= len(raw):
        return Parsed("no_json", error="empty output" if not fence else "empty ```json block")
    if raw[start] not in "{[":
        return Parsed("no_json", rest=raw, error=f"output does not start with JSON: {raw[start:start + 40]!r}")
    try:
        value, end = _DECODER.raw_decode(raw, start)
    except json.JSONDecodeError as e:
        truncated = e.msg.startswith("Unterminated string") or e.pos >= len(raw.rstrip())
        if truncated:
            return Parsed("cut_off", error=f"JSON ends before it is complete ({e.msg})")
        return Parsed("invalid", error=f"not valid JSON: {e.msg} at char {e.pos - start}")
    json_text = raw[start:end]
    rest = raw[end:]
    if fence:
        rest = re.sub(r"\A\s*```", "", rest, count=1)
    problems = schema_errors(value)
    if problems:
        return Parsed("invalid", json_text=json_text, rest=rest, error="; ".join(problems))
    refs = [Reference(r["canto"], tuple(r["lines"])) for r in value["references"]]
    return Parsed(classify_rest(rest), references=refs, json_text=json_text, rest=rest)


def classify_rest(rest: str) -> Status:
    """What followed a valid answer: nothing, prose, or an invented new turn."""
    tail = rest.strip()
    for marker in END_MARKERS:
        if tail.startswith(marker):
            # Anything after an end-of-turn token is a turn the model invented.
            return "chained_turn" if tail[len(marker):].strip() else "clean"
    if not tail:
        return "clean"
    if _TURN_RE.search(tail) or any(line.rstrip().endswith("?") for line in tail.splitlines()):
        return "chained_turn"
    return "trailing_text"
