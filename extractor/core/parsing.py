"""What every task shares: find the first JSON value of a raw output and classify what follows.

``find_answer(raw, schema_errors)`` knows nothing of a task but its schema check: it finds the
first JSON value (leading whitespace and a ```` ```json ```` fence allowed), validates it, and
says what came after it (clean, trailing text, an invented new turn), or why there is no answer
(cut off, invalid, no JSON). ``extractor.tasks.cantos.schema.parse`` (Cantos) and every file task build on it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Literal

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
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class Answer:
    """What ``find_answer`` made of one raw model output."""

    status: Status
    """clean | trailing_text | chained_turn: a valid answer, and what followed it.
    cut_off: a JSON value began but never ended. invalid: JSON (or near-JSON) that fails the
    schema or the JSON grammar. no_json: no JSON value at the start of the text."""
    value: Any = None
    """The answer (a JSON value) when it is schema-valid, else None."""
    json_text: str = ""
    """The span of the first JSON value (empty when none was decoded)."""
    rest: str = ""
    """Everything after the JSON value (and its closing fence), unstripped."""
    error: str | None = None
    """Why the output is cut_off / invalid / no_json."""

    @property
    def valid(self) -> bool:
        """The answer is schema-valid, whatever followed it."""
        return self.status in ("clean", "trailing_text", "chained_turn")


def find_answer(raw: str, schema_errors: Callable[[Any], list[str]]) -> Answer:
    """Parse raw model text: first JSON value, schema validation, and what followed it."""
    if not isinstance(raw, str):
        raise TypeError(f"parse() takes the model's text, got {type(raw).__name__}")
    fence = _FENCE_OPEN.match(raw)
    start = fence.end() if fence else 0
    while start < len(raw) and raw[start].isspace():
        start += 1
    if start >= len(raw):
        return Answer("no_json", error="empty output" if not fence else "empty ```json block")
    if raw[start] not in "{[":
        return Answer("no_json", rest=raw, error=f"output does not start with JSON: {raw[start:start + 40]!r}")
    try:
        value, end = _DECODER.raw_decode(raw, start)
    except json.JSONDecodeError as e:
        truncated = e.msg.startswith("Unterminated string") or e.pos >= len(raw.rstrip())
        if truncated:
            return Answer("cut_off", error=f"JSON ends before it is complete ({e.msg})")
        return Answer("invalid", error=f"not valid JSON: {e.msg} at char {e.pos - start}")
    json_text = raw[start:end]
    rest = raw[end:]
    if fence:
        rest = re.sub(r"\A\s*```", "", rest, count=1)
    problems = schema_errors(value)
    if problems:
        return Answer("invalid", json_text=json_text, rest=rest, error="; ".join(problems))
    return Answer(classify_rest(rest), value=value, json_text=json_text, rest=rest)


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
