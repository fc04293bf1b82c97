"""The Cantos task behind the ``Task`` Protocol: references to Ezra Pound's *The Cantos*.

The whole domain lives in this package: ``schema`` (the JSON Schema, the ``Reference`` answer
type, canonical form, ``parse``), ``sections`` (section table, canto lengths, roman numerals),
``rules`` (the regular-expression baseline), ``metrics`` (canto and line metrics, their
declarations, ``aggregate``), ``resolve`` (``extract --resolve-lines``), ``view`` (an answer by
canto in report.html) and ``suite.toml`` (the default evaluation suite).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...core.sample_record import SampleRecord
from ...core.task import JsonTask, Sample
from . import metrics, view
from .resolve import reference_record
from .schema import SCHEMA, Reference, canonical, parse, references_from_json, schema_errors, to_json_text

ANSWER_FORMAT = (
    "Extract every reference to Ezra Pound's The Cantos from the user's text. "
    'Answer with JSON only: {"references": [{"canto": <1-120>, "lines": [<line numbers>]}]}.'
)
"""The answer format in words: the start of the base model's instruction."""

SYSTEM = "Extract references to Pound's Cantos as JSON."
"""The system prompt of trained runs (a train config's ``system`` defaults to it)."""

# The base model gets the convention in words plus three worked examples (written for this
# prompt; none is a dataset row). All base-gguf prompts share this prefix, so llama.cpp
# evaluates it once and reuses the KV cache for every sample.
BASE_SYSTEM = ANSWER_FORMAT + (
    " Rules: roman numerals become integers (Canto XLV -> 45). Line ranges expand: IX:ll.15-18 -> "
    "[15, 16, 17, 18]. No line given -> \"lines\": []. A number after a slash or p. is a page, not a line. "
    "Cantos of Dante, Byron or Spenser are not references. If there is no reference, answer "
    '{"references": []}. Answer with the JSON object and nothing else.\n'
    "Examples:\n"
    'Text: The usury canto, Canto XLV, is often anthologised.\n{"references": [{"canto": 45, "lines": []}]}\n'
    'Text: See III:ll.2-4 for the Venice memory.\n{"references": [{"canto": 3, "lines": [2, 3, 4]}]}\n'
    'Text: Dante\'s Inferno, Canto 5, tells of Paolo.\n{"references": []}'
)


class CantosTask(JsonTask):
    """References to *The Cantos*: ``{"references": [{"canto": 9, "lines": [15, 16]}]}``."""

    name = "cantos"
    schema = SCHEMA
    system = SYSTEM
    instruction = BASE_SYSTEM
    metrics = metrics.METRICS
    has_rules = True
    resolves = True
    suite = Path(__file__).resolve().parent / "suite.toml"

    def schema_errors(self, value: Any) -> list[str]:
        return schema_errors(value)

    def parse_answer(self, raw: str):
        return parse(raw)

    def references(self, value: Any) -> tuple[Reference, ...]:
        """A schema-valid answer -> its ``Reference`` tuple."""
        return tuple(references_from_json(value))

    def canonical(self, answer: Any) -> str:
        return json.dumps([r.to_json() for r in canonical(references_from_json(answer))])

    def answer_text(self, answer: Any) -> str:
        return to_json_text(references_from_json(answer))

    def record(self, example, parsed) -> dict[str, Any]:
        return {"gold": [r.to_json() for r in references_from_json(example.output)], **self.answer_fields(parsed.value)}

    def answer_fields(self, value: Any, resolve: bool = False) -> dict[str, Any]:
        refs = None if value is None else references_from_json(value)
        return {"references": None if refs is None else [reference_record(r, resolve) for r in refs]}

    def score(self, record: SampleRecord) -> Sample:
        gold = tuple(references_from_json({"references": record.gold}))
        parsed = parse(record.raw)
        return Sample(gold, parsed, record.finish_reason, record.seconds, record.decoded_tokens,
                      exact=metrics.is_exact_answer(gold, parsed))

    def aggregate(self, samples: list[Sample]) -> dict[str, Any]:
        return metrics.aggregate(samples)

    def f1_counts(self, sample: Sample) -> dict[str, tuple[int, int, int]]:
        """(true positives, predicted, gold) of canto_f1 and line_f1 for one row."""
        return metrics.row_tallies(sample)

    def rules(self, text: str) -> Any:
        from .rules import extract

        return {"references": [r.to_json() for r in extract(text)]}

    def show_gold(self, gold: Any):
        return view.rows(view.refs_of(gold), None)

    def show(self, gold: Any, answer: Any):
        return view.rows(view.refs_of(gold), references_from_json(answer))

    def collect(self, answers: Sequence[Any]) -> list[Reference]:
        """Every reference of every passage, in order: one flat ``list[Reference]``."""
        return [r for a in answers for r in references_from_json(a)]
