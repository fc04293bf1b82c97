"""One line of an evaluation's ``samples.jsonl``: ``SampleRecord``, its one reader and one writer.

``extractor eval`` writes a record per (data file, variant, row) as soon as its generation ends
(``Writer``, a ``core.journal``); scoring, the verdict, report.html's per-sample view and
``report compare`` read them back (``read``). The line's JSON object keeps its keys in this
order::

    data, variant, id, tags, input, gold, raw, finish_reason, status, <the task's answer keys>,
    rest, parse_error, prompt_tokens, gen_tokens, seconds, error, [tokens, stop_token, inherited,
    retries, confidence, field_confidence, logprobs, offsets], <keys this version does not know>

The bracketed keys are written only when set: the token ids of an output a ``+grammar`` row of the
same artefact will continue from, how many of a ``+grammar`` output's tokens it took from there,
how many failed attempts (faults of a server or runtime, ``core.faults``) came before it, and the
answer's confidence, its fields', and the output tokens' log-probabilities and character offsets
they come from (``core.confidence``; a file written before them reads and scores as it did).

The task's answer keys are what ``Task.record`` returns besides ``gold`` (Cantos: ``references``;
a file-defined task: ``answer``). A key this version does not know is kept and written back where
it was found: among the task's keys when it comes before ``rest`` (or the keys after it), else at
the end; so reading and writing a file gives it back byte for byte.

A record is also a read-only Mapping of that JSON object (``record["raw"]``, ``list(record)``),
so a ``Task.score`` written for the dict records of earlier versions keeps working; code in this
package uses the attributes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from . import journal

SAMPLES = "samples.jsonl"
"""The file name of the records in an evaluation's output directory."""

_HEAD = ("data", "variant", "id", "tags", "input", "gold", "raw", "finish_reason", "status")
_TAIL = ("rest", "parse_error", "prompt_tokens", "gen_tokens", "seconds", "error")
CORE_KEYS = _HEAD + _TAIL
OPTIONAL = ("tokens", "stop_token", "inherited", "retries", "confidence", "field_confidence", "logprobs", "offsets")
"""Keys written after ``error`` only when set (None and 0 are left out)."""
"""The keys every record has, in the order they are written (the task's keys go between the two parts)."""
REQUIRED = ("data", "variant", "id", "gold", "raw", "finish_reason")
"""The keys a record read from a file must have; the others have defaults."""
HINT = "Remove that line, or start over with a new --out."


@dataclass(frozen=True, kw_only=True)
class SampleRecord(Mapping):
    """What one generation of one row by one variant left: enough to score it again without a model.
    Fields are in the order of the line's keys."""

    data: str
    """The data file's label in the suite (``valid``, ``test``)."""
    variant: str
    """The variant that generated it (``merged-gguf``, ``adapter-gguf@padbug``, ``rules``)."""
    id: str
    """The row's id in its data file (``data.Example.id``)."""
    tags: tuple[str, ...] = ()
    """The row's tags (the per-tag table of the report); a list in the file."""
    input: str = ""
    """The text the model was asked about."""
    gold: Any
    """The gold answer as the task records it (Cantos: a list of ``{"canto", "lines"}``; a
    file-defined task: the row's output, a JSON value)."""
    raw: str
    """Everything the model wrote, up to the end-of-turn token (empty when generation failed)."""
    finish_reason: str
    """``stop`` (end-of-turn token), ``length`` (the token limit), ``loop`` (stopped repeating itself,
    ``generation.LoopGuard``) or ``error`` (see ``error``)."""
    status: str | None = None
    """How the parser classified ``raw`` when the record was written (``clean``, ``trailing_text``,
    ``chained_turn``, ``cut_off``, ``invalid``, ``no_json``); scoring parses ``raw`` again."""
    task_fields: dict[str, Any] = field(default_factory=dict)
    """The task's answer key(s) as ``Task.record`` gave them, in order (Cantos: ``{"references":
    [...] or None}``; a file-defined task: ``{"answer": value}``)."""
    rest: str = ""
    """What followed the answer in ``raw`` (empty after a clean stop)."""
    parse_error: str | None = None
    """Why ``raw`` held no valid answer (None when it did)."""
    prompt_tokens: int | None = 0
    """Tokens of the prompt as the runtime tokenized it (None: not counted)."""
    gen_tokens: int | None = 0
    """Tokens generated, the end-of-turn token included when there was one (None: not counted)."""
    seconds: float | None = 0.0
    """Wall time of this generation (a batch's time shared by tokens; None: not measured)."""
    error: str | None = None
    """Why generation failed (``finish_reason == "error"``); None when it did not."""
    tokens: tuple[int, ...] | None = None
    """The output's token ids (end-of-turn excluded), kept where a ``+grammar`` row of the same
    artefact is in the suite, so that it can continue from them after ``--resume`` too."""
    stop_token: int | None = None
    """The end-of-turn token the output ended with (with ``tokens``)."""
    inherited: int = 0
    """Of ``gen_tokens``, how many were taken from the free row's output instead of decoded (a
    ``+grammar`` row, ``generation.Prior``); ``seconds`` is None when all were."""
    retries: int = 0
    """Failed attempts before this output: faults of the server or runtime (a dropped connection,
    a 503, a timeout), retried under the run's retry budget (``core.faults``), never recorded."""
    confidence: float | None = None
    """The answer's confidence when the record was written (``core.confidence``: the least likely
    of its tokens' probabilities); scoring computes it again from ``logprobs``."""
    field_confidence: dict[str, float] | None = None
    """Field path (``core.fields``) -> its confidence, for an answer with fields."""
    logprobs: tuple[float, ...] | None = None
    """Each output token's log-probability under the model's own (unconstrained) distribution, in
    the order of the output (end-of-turn excluded); None where the runtime gives none."""
    offsets: tuple[int, ...] | None = None
    """The character of ``raw`` where each of those tokens starts (with ``logprobs``)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Keys found after ``rest`` that this version does not know, written back unchanged."""

    def __post_init__(self) -> None:
        if isinstance(self.tags, list):
            object.__setattr__(self, "tags", tuple(self.tags))
        for k in ("tokens", "logprobs", "offsets"):
            if isinstance(getattr(self, k), list):
                object.__setattr__(self, k, tuple(getattr(self, k)))
        problem = _problem(self)
        if problem is not None:
            raise ValueError(problem)

    @property
    def decoded_tokens(self) -> int:
        """Tokens the runtime decoded for this output (``gen_tokens`` less ``inherited``)."""
        return max(0, (self.gen_tokens or 0) - self.inherited)

    # ------------------------------------------------------------------ JSON form
    @property
    def key(self) -> tuple[str, str, str]:
        """(data, variant, id): what ``eval --resume`` skips and ``report compare`` pairs."""
        return self.data, self.variant, self.id

    def to_json(self) -> dict[str, Any]:
        """The JSON object of this record's line, keys in the file's order."""
        out: dict[str, Any] = {
            "data": self.data, "variant": self.variant, "id": self.id, "tags": list(self.tags), "input": self.input,
            "gold": self.gold, "raw": self.raw, "finish_reason": self.finish_reason, "status": self.status,
        }
        out.update(self.task_fields)
        out.update({"rest": self.rest, "parse_error": self.parse_error, "prompt_tokens": self.prompt_tokens,
                    "gen_tokens": self.gen_tokens, "seconds": self.seconds, "error": self.error})
        out.update({k: self[k] for k in self._optional()})
        out.update(self.extra)
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "SampleRecord":
        """A record from its JSON object; ValueError naming the first problem (a missing key, a
        wrong type). Keys absent from ``obj`` other than ``REQUIRED`` take their defaults."""
        if not isinstance(obj, Mapping):
            raise ValueError(f"not a sample record: a {type(obj).__name__}, not a JSON object")
        missing = [k for k in REQUIRED if k not in obj]
        if missing:
            raise ValueError(f"not a sample record: missing key(s) {', '.join(missing)}")
        core: dict[str, Any] = {}
        task_fields: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        past_answer = False
        for k, v in obj.items():
            if k in _CORE:
                core[k] = v
                past_answer = past_answer or k in _TAIL
            elif past_answer:
                extra[k] = v
            else:
                task_fields[k] = v
        return cls(**core, task_fields=task_fields, extra=extra)

    @classmethod
    def of(cls, record: "SampleRecord | Mapping[str, Any]") -> "SampleRecord":
        """``record`` itself, or the record its JSON object describes (for callers holding dicts)."""
        return record if isinstance(record, cls) else cls.from_json(record)

    # ------------------------------------------------------------------ read-only Mapping of the JSON form
    def __getitem__(self, key: str) -> Any:
        if key in _CORE:
            value = getattr(self, key)
            return list(value) if key in ("tags", "tokens", "logprobs", "offsets") else value
        if key in self.task_fields:
            return self.task_fields[key]
        return self.extra[key]

    def __iter__(self) -> Iterator[str]:
        yield from _HEAD
        yield from self.task_fields
        yield from _TAIL
        yield from self._optional()
        yield from self.extra

    def __len__(self) -> int:
        return len(CORE_KEYS) + len(self.task_fields) + len(self._optional()) + len(self.extra)

    def _optional(self) -> list[str]:
        return [k for k in OPTIONAL if getattr(self, k) not in (None, 0)]

    __hash__ = None  # type: ignore[assignment]  # gold and the task's keys are mutable JSON


_CORE = frozenset(CORE_KEYS + OPTIONAL)
_TEXT = ("data", "variant", "id", "raw", "finish_reason", "input", "rest")
_TEXT_OR_NONE = ("status", "parse_error", "error")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _problem(r: SampleRecord) -> str | None:
    """Why ``r`` cannot be a record (a wrong type, a task key that shadows a core key), or None."""
    for k in _TEXT:
        if not isinstance(getattr(r, k), str):
            return f"not a sample record: {k} = {_short(getattr(r, k))} must be a string"
    for k in _TEXT_OR_NONE:
        v = getattr(r, k)
        if v is not None and not isinstance(v, str):
            return f"not a sample record: {k} = {_short(v)} must be a string or null"
    if not isinstance(r.tags, tuple) or not all(isinstance(t, str) for t in r.tags):
        return f"not a sample record: tags = {_short(r.tags)} must be a list of strings"
    for k in ("prompt_tokens", "gen_tokens", "stop_token"):
        v = getattr(r, k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            return f"not a sample record: {k} = {_short(v)} must be an integer or null"
    for k in ("inherited", "retries"):
        v = getattr(r, k)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            return f"not a sample record: {k} = {_short(v)} must be a count"
    if r.tokens is not None and (not isinstance(r.tokens, tuple)
                                 or not all(isinstance(t, int) and not isinstance(t, bool) for t in r.tokens)):
        return f"not a sample record: tokens = {_short(r.tokens)} must be a list of integers or null"
    if r.offsets is not None and (not isinstance(r.offsets, tuple)
                                  or not all(isinstance(t, int) and not isinstance(t, bool) for t in r.offsets)):
        return f"not a sample record: offsets = {_short(r.offsets)} must be a list of integers or null"
    if r.logprobs is not None and (not isinstance(r.logprobs, tuple) or not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in r.logprobs)):
        return f"not a sample record: logprobs = {_short(r.logprobs)} must be a list of numbers or null"
    if r.confidence is not None and (isinstance(r.confidence, bool) or not isinstance(r.confidence, (int, float))):
        return f"not a sample record: confidence = {_short(r.confidence)} must be a number or null"
    if r.field_confidence is not None and not isinstance(r.field_confidence, dict):
        return f"not a sample record: field_confidence = {_short(r.field_confidence)} must be an object or null"
    if r.seconds is not None and (isinstance(r.seconds, bool) or not isinstance(r.seconds, (int, float))):
        return f"not a sample record: seconds = {_short(r.seconds)} must be a number or null"
    for name, keys in (("task_fields", r.task_fields), ("extra", r.extra)):
        if not isinstance(keys, dict) or not all(isinstance(k, str) for k in keys):
            return f"not a sample record: {name} must be a dict with string keys"
        clash = sorted(_CORE.intersection(keys))
        if clash:
            return f"not a sample record: {name} repeats the core key(s) {', '.join(clash)}"
    both = sorted(set(r.task_fields) & set(r.extra))
    if both:
        return f"not a sample record: key(s) {', '.join(both)} both among the task's keys and the extra ones"
    return None


def records(items: Iterable["SampleRecord | Mapping[str, Any]"]) -> list[SampleRecord]:
    """``SampleRecord.of`` of each item: for the functions that take records from any caller."""
    return [SampleRecord.of(r) for r in items]


def read(path: str | Path, *, torn: Literal["error", "skip"] = "skip", hint: str = HINT) -> list[SampleRecord]:
    """Every record of a samples file, in order (none if the file does not exist).

    A line that is not a JSON object, or not a record (``SampleRecord.from_json``), raises
    ConfigError ``file:line: reason``. A torn last line (a crash mid-write) is left out by default,
    not cut: ``run_eval --resume`` repairs the file (``torn="error"`` raises instead)."""
    built: list[SampleRecord] = []

    def check(obj: dict) -> str | None:
        try:
            built.append(SampleRecord.from_json(obj))
        except (TypeError, ValueError) as e:
            return str(e)
        return None

    for _ in journal.read(path, torn=torn, hint=hint, check=check):
        pass
    return built


class Writer:
    """Appends records to a samples file, one whole fsync'd line each (a ``core.journal``:
    opening it first repairs a torn last line)."""

    def __init__(self, path: str | Path):
        self._journal = journal.Journal(path)
        self.path = self._journal.path

    @property
    def recovered(self) -> journal.Recovery:
        """What opening did to the end of the file."""
        return self._journal.recovered

    def append(self, record: SampleRecord) -> None:
        if not isinstance(record, SampleRecord):
            raise TypeError(f"a samples.jsonl record is a SampleRecord, not {type(record).__name__}")
        self._journal.append(record.to_json())

    def close(self) -> None:
        self._journal.close()

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
