"""The Cantos task behind the ``Task`` Protocol: references to Ezra Pound's *The Cantos*.

The whole domain lives in this package: ``schema`` (the JSON Schema, the ``Reference`` answer
type, canonical form, ``parse``), ``sections`` (section table, canto lengths, roman numerals),
``rules`` (the regular-expression baseline), ``metrics`` (canto and line metrics, ``Sample``,
``aggregate``) and ``resolve`` (``extract --resolve-lines``). The figures are the ones reported
before tasks existed: same samples, same scores.
"""

from __future__ import annotations

import json
from typing import Any

from ...prompts import SYSTEM as _ANSWER_FORMAT
from ...sample_record import SampleRecord
from . import metrics
from .schema import SCHEMA, canonical, parse, references_from_json, schema_errors, to_json_text

SYSTEM = "Extract references to Pound's Cantos as JSON."
"""The system prompt of trained runs (``TrainConfig.system``'s default)."""

# The base model gets the convention in words plus three worked examples (written for this
# prompt; none is a dataset row). All base-gguf prompts share this prefix, so llama.cpp
# evaluates it once and reuses the KV cache for every sample.
BASE_SYSTEM = _ANSWER_FORMAT + (
    " Rules: roman numerals become integers (Canto XLV -> 45). Line ranges expand: IX:ll.15-18 -> "
    "[15, 16, 17, 18]. No line given -> \"lines\": []. A number after a slash or p. is a page, not a line. "
    "Cantos of Dante, Byron or Spenser are not references. If there is no reference, answer "
    '{"references": []}. Answer with the JSON object and nothing else.\n'
    "Examples:\n"
    'Text: The usury canto, Canto XLV, is often anthologised.\n{"references": [{"canto": 45, "lines": []}]}\n'
    'Text: See III:ll.2-4 for the Venice memory.\n{"references": [{"canto": 3, "lines": [2, 3, 4]}]}\n'
    'Text: Dante\'s Inferno, Canto 5, tells of Paolo.\n{"references": []}'
)

HEADLINE = ("n", "schema_valid", "exact_match", "canto_f1", "line_f1", "no_ref_accuracy", "clean_stop",
            "trailing_text", "chained_turn", "runaway", "impossible_lines", "latency_p50_s", "gen_tokens_per_s")


class CantosTask:
    """References to *The Cantos*: ``{"references": [{"canto": 9, "lines": [15, 16]}]}``."""

    name = "cantos"
    schema = SCHEMA
    system = SYSTEM
    instruction = BASE_SYSTEM
    metric_directions = metrics.HIGHER_IS_BETTER
    headline = HEADLINE

    def schema_errors(self, value: Any) -> list[str]:
        return schema_errors(value)

    def parse_answer(self, raw: str):
        return parse(raw)

    def references(self, value: Any):
        """A schema-valid answer -> its ``Reference`` tuple (``data.Example.references``)."""
        return tuple(references_from_json(value))

    def canonical(self, answer: Any) -> str:
        return json.dumps([r.to_json() for r in canonical(references_from_json(answer))])

    def answer_text(self, answer: Any) -> str:
        return to_json_text(references_from_json(answer))

    def record(self, example, parsed) -> dict[str, Any]:
        return {"gold": [r.to_json() for r in example.references],
                "references": None if parsed.references is None else [r.to_json() for r in parsed.references]}

    def score(self, record: SampleRecord) -> metrics.Sample:
        gold = tuple(references_from_json({"references": record.gold}))
        return metrics.Sample(gold, parse(record.raw), record.finish_reason, record.seconds or 0.0,
                              record.gen_tokens or 0)

    def aggregate(self, samples: list[metrics.Sample]) -> dict[str, Any]:
        return metrics.aggregate(samples)

    def f1_counts(self, sample: metrics.Sample) -> dict[str, tuple[int, int, int]]:
        """(true positives, predicted, gold) of canto_f1 and line_f1 for one row (``Task.f1_counts``)."""
        out = {}
        for key, of in (("canto_f1", metrics.cantos_of), ("line_f1", metrics.lines_of)):
            pred, gold = of(metrics.predicted(sample)), of(sample.gold)
            out[key] = (len(pred & gold), len(pred), len(gold))
        return out

    def rules(self, text: str) -> Any:
        from .rules import extract

        return {"references": [r.to_json() for r in extract(text)]}


_TASK = CantosTask()


def to_sample(record: SampleRecord | dict[str, Any]) -> metrics.Sample:
    """A Cantos samples.jsonl record (a ``SampleRecord`` or its JSON object) -> its Sample."""
    return _TASK.score(SampleRecord.of(record))
