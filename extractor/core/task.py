"""A task: a JSON Schema for the answer, prompts, and metrics that compare an answer with its gold.

The core (data loading, the trainer, evaluation, reports, extraction) goes through the ``Task``
Protocol and never names a task; ``extractor.tasks.registry`` resolves a task once, at the edge
(the command line, a suite, a config), and the object is passed down.

``JsonTask`` is what most tasks need: answers compared by the generic field metrics
(``core.fields``), shown as field paths. A task from files (``tasks.filetask``) is one; the
Cantos task extends it with its own answer type, metrics and view.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from . import display, fields
from .errors import ConfigError
from .metrics import CORE, Metric, by_key, core_metrics
from .parsing import Answer, find_answer
from .sample_record import SampleRecord


@dataclass(frozen=True)
class Sample:
    """What one row contributes to the metrics, whatever the task."""

    gold: Any
    """The gold answer (a JSON value, or the task's own type)."""
    parsed: Answer
    """The parsed output (``status``, ``valid``, ``value``...; a task may extend ``Answer``)."""
    finish_reason: str
    """`stop`, `length`, `loop` or `error`."""
    seconds: float | None = 0.0
    """Time spent decoding it; None when not measured, or nothing was decoded (an output a
    ``+grammar`` row took whole from its free row): the speed metrics leave it out."""
    gen_tokens: int = 0
    """Tokens decoded for it (those taken from a free row's output not counted)."""
    exact: bool = False
    """The answer is valid and canonically equal to the gold."""
    result: Any = None
    """The task's per-sample result (``fields.FieldScore`` for a ``JsonTask``)."""
    confidence: float | None = None
    """The answer's confidence from its tokens' probabilities (``core.confidence``); None: no valid
    answer, or no probabilities recorded. ``core.confidence.scored`` fills it for every task."""

    @property
    def clean_stop(self) -> bool:
        """The answer is valid JSON, nothing follows it, and the model ended its turn itself."""
        return self.parsed.status == "clean" and self.finish_reason == "stop"


@runtime_checkable
class Task(Protocol):
    """What the core needs of a task. ``JsonTask`` implements every method for JSON answers
    compared field by field; a task overrides what it does differently."""

    name: str
    """The task's name, recorded in eval.json, report.json and a run's card."""
    schema: dict[str, Any]
    """JSON Schema (Draft 2020-12) of an answer; also the grammar of ``+grammar`` variants."""
    system: str
    """System prompt of trained runs (a train config's ``system`` defaults to it)."""
    instruction: str
    """System prompt of the base model: the convention in words plus few-shot examples."""
    metrics: tuple[Metric, ...]
    """Every metric ``aggregate`` returns, declared once, in the order reports show them."""
    has_rules: bool
    """Whether ``rules`` gives a deterministic baseline (the ``rules`` variant)."""
    resolves: bool
    """Whether ``answer_fields(..., resolve=True)`` adds derived forms (``extract --resolve-lines``)."""
    suite: Path | None
    """The task's default evaluation suite (a TOML file shipped with it), or None."""

    def schema_errors(self, value: Any) -> list[str]:
        """Every schema violation of an answer as ``$.path: message``; empty when valid."""

    def parse_answer(self, raw: str) -> Answer:
        """Raw model text -> its ``Answer`` (status, value, what followed it)."""

    def canonical(self, answer: Any) -> str:
        """Canonical JSON text of an answer: two answers are an exact match when these are equal."""

    def answer_text(self, answer: Any) -> str:
        """The completion a model is trained to emit for a gold answer (a JSON value)."""

    def record(self, example: Any, parsed: Answer) -> dict[str, Any]:
        """A ``core.data.Example`` and its parsed output -> the task's part of a samples.jsonl
        record: ``gold`` and ``answer_fields`` of the answer."""

    def answer_fields(self, value: Any, resolve: bool = False) -> dict[str, Any]:
        """The keys an answer (a JSON value, None when there is none) is written under in records."""

    def score(self, record: SampleRecord) -> Sample:
        """One samples.jsonl record -> its Sample (re-parses the raw output; runs no model)."""

    def aggregate(self, samples: list[Sample]) -> dict[str, Any]:
        """Every metric of ``metrics`` for one (variant, data file)."""

    def f1_counts(self, sample: Sample) -> dict[str, tuple[int, int, int]]:
        """``{metric: (tp, n_pred, n_gold)}`` (a ``core.metrics.Tally``): one row's counts of each
        micro F1 of ``aggregate``, whose figure is ``Tally.total`` of the rows' counts ``.f1``; for
        ``report compare``'s paired bootstrap."""

    def rules(self, text: str) -> Any:
        """The deterministic baseline's answer for ``text``; ConfigError when the task has none."""

    def show_gold(self, gold: Any) -> list[display.Row]:
        """The gold answer (a record's ``gold``) as display rows (``core.display``)."""

    def show(self, gold: Any, answer: Any) -> list[display.Row]:
        """A valid answer (a JSON value) against the gold, as display rows with marks."""

    def collect(self, answers: Sequence[Any]) -> Any:
        """What ``Extractor.extract`` returns for the answers of a text's passages, in order."""


FIELD_METRICS = (
    Metric("f1", "field F1", "micro F1 over answer leaves (core/fields.py)", True, level=1),
    Metric("precision", "precision", "matched predicted leaves / predicted leaves", True, level=1),
    Metric("recall", "recall", "matched gold leaves / gold leaves", True, level=1),
    Metric("macro_f1", "macro F1", "mean of the per-field F1 over fields with a leaf", True, level=3),
    Metric("missing_per_sample", "missing /row", "gold leaves no prediction matched, per row", False, "number",
           level=3),
    Metric("extra_per_sample", "extra /row", "predicted leaves matching no gold leaf, per row", False, "number",
           level=3),
)
_CORE = by_key(CORE)


class JsonTask:
    """A task whose answers are JSON values compared leaf by leaf (``core.fields``).

    Subclasses set ``name``, ``schema``, ``system`` and ``instruction`` (and ``options``, how leaves
    compare); everything else has a generic default."""

    name: str
    schema: dict[str, Any]
    system: str
    instruction: str
    options: fields.FieldOptions = fields.FieldOptions()
    """How answers compare (case, whitespace, numeric tolerance, array keys)."""
    has_rules = False
    resolves = False
    suite: Path | None = None
    metrics: tuple[Metric, ...] = (
        *(_CORE[k] for k in ("n", "schema_valid", "exact_match")), *FIELD_METRICS[:3],
        *(_CORE[k] for k in ("clean_stop", "trailing_text", "chained_turn", "runaway", "latency_p50_s",
                             "gen_tokens_per_s", "latency_p95_s", "examples_per_s")),
        *FIELD_METRICS[3:],
    )

    def schema_errors(self, value: Any) -> list[str]:
        raise NotImplementedError

    def parse_answer(self, raw: str) -> Answer:
        return find_answer(raw, self.schema_errors)

    def canonical(self, answer: Any) -> str:
        return fields.canonical_json(answer, self.options)

    def answer_text(self, answer: Any) -> str:
        return json.dumps(answer, ensure_ascii=False)

    def record(self, example: Any, parsed: Answer) -> dict[str, Any]:
        return {"gold": example.output, **self.answer_fields(parsed.value)}

    def answer_fields(self, value: Any, resolve: bool = False) -> dict[str, Any]:
        if resolve:
            raise ConfigError(f"the task {self.name!r} has nothing to resolve; drop --resolve-lines")
        return {"answer": value}

    def score(self, record: SampleRecord) -> Sample:
        parsed = self.parse_answer(record.raw)
        result = fields.score(record.gold, parsed.value, self.options, valid=parsed.valid)
        return Sample(record.gold, parsed, record.finish_reason, record.seconds, record.decoded_tokens,
                      exact=result.exact, result=result)

    def aggregate(self, samples: list[Sample]) -> dict[str, Any]:
        out = core_metrics(samples)
        rep = fields.aggregate([s.result for s in samples])
        out.update({k: getattr(rep, k) for k in ("precision", "recall", "f1", "macro_f1", "missing_per_sample",
                                                 "extra_per_sample")})
        out["by_field"] = {f: vars(st) for f, st in rep.by_field.items()}
        return out

    def f1_counts(self, sample: Sample) -> dict[str, tuple[int, int, int]]:
        return {"f1": sample.result.total.tally()}

    def rules(self, text: str) -> Any:
        raise ConfigError(f"the task {self.name!r} defines no rules baseline; drop the `rules` variant")

    def show_gold(self, gold: Any) -> list[display.Row]:
        return display.gold_rows(gold)

    def show(self, gold: Any, answer: Any) -> list[display.Row]:
        return display.field_rows(gold, answer, self.options)

    def collect(self, answers: Sequence[Any]) -> Any:
        return list(answers)
