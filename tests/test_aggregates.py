"""One implementation of every aggregate (``core.metrics``: ``rate``, ``Tally``): the report's figures,
the verdict's and ``report compare``'s are the same numbers. Property tests (hypothesis) that the
paired bootstrap's point estimates, and ``compare``'s figures, equal the report's for the same samples,
and the one convention for an empty side."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractor.core.fields import Counts
from extractor.core.metrics import Tally, rate
from extractor.core.sample_record import SampleRecord
from extractor.evaluation.compare import BINARY, compare, paired_bootstrap
from extractor.tasks.filetask import FileTask
from helpers import CANTOS

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_the_convention_for_an_empty_side():
    """A figure whose denominator is empty is None: precision without predictions, recall without
    gold, F1 only when neither side has anything (one empty side is an F1 of 0.0)."""
    assert Tally(0, 0, 0) == (0, 0, 0) and (Tally(0, 0, 0).precision, Tally(0, 0, 0).recall, Tally(0, 0, 0).f1) == (
        None, None, None)
    nothing_predicted, nothing_gold = Tally(0, 0, 3), Tally(0, 2, 0)
    assert (nothing_predicted.precision, nothing_predicted.recall, nothing_predicted.f1) == (None, 0.0, 0.0)
    assert (nothing_gold.precision, nothing_gold.recall, nothing_gold.f1) == (0.0, None, 0.0)
    assert Tally(2, 3, 4).f1 == 4 / 7 and Tally.total([(1, 2, 3), Tally(1, 1, 1)]) == (2, 3, 4)
    assert rate([]) is None and rate([True, False, False, True]) == 0.5
    c = Counts(tp=2, missing=1, extra=3)  # the field metrics' counts are a Tally too
    assert c.tally() == (2, 5, 3) and (c.precision, c.recall, c.f1) == (2 / 5, 2 / 3, 4 / 8)


# ----------------------------------------------------------------------------- Cantos samples
REFS = st.lists(st.fixed_dictionaries({"canto": st.integers(1, 6), "lines": st.lists(st.integers(1, 5), max_size=3,
                                                                                     unique=True)}), max_size=3)
OUTPUT = st.one_of(REFS.map(lambda refs: json.dumps({"references": refs})), st.just("no answer"),
                   REFS.map(lambda refs: json.dumps({"references": refs}) + " ### Question: more?"))


def cantos_record(variant: str, i: int, gold, raw: str) -> SampleRecord:
    return SampleRecord.of({"data": "test", "variant": variant, "id": f"r{i:03d}", "tags": [], "input": f"row {i}",
                            "gold": gold, "raw": raw, "finish_reason": "stop", "seconds": 0.1, "gen_tokens": 5})


@st.composite
def paired_cantos(draw):
    """Gold per row and two variants' outputs on the same rows."""
    golds = draw(st.lists(REFS, min_size=1, max_size=12))
    a = [draw(OUTPUT) for _ in golds]
    b = [draw(OUTPUT) for _ in golds]
    return golds, a, b


def scored(task, variant, golds, raws, make):
    return {("test", variant, f"r{i:03d}"): task.score(make(variant, i, g, r)) for i, (g, r) in
            enumerate(zip(golds, raws))}


def check_compare_equals_report(task, a, b):
    """Every figure ``compare`` reports for A and B is A's and B's report figure for those rows."""
    report_a, report_b = task.aggregate(list(a.values())), task.aggregate(list(b.values()))
    result = compare(a, b, task)
    rows = {r["metric"]: r for r in result.rows}
    for key in BINARY:
        assert (rows[key]["a"], rows[key]["b"]) == (report_a[key], report_b[key])
    keys = list(task.f1_counts(next(iter(a.values()))))
    for key in keys:
        ca = [task.f1_counts(s)[key] for s in a.values()]
        cb = [task.f1_counts(s)[key] for s in b.values()]
        boot = paired_bootstrap(ca, cb)
        if report_a[key] is None or report_b[key] is None:
            assert boot is None and key not in rows  # undefined: not tested, and said so
            assert any(key in line for line in result.unpaired)
        else:  # the bootstrap's point estimates are the report's own figures, exactly
            assert (boot.a, boot.b, boot.delta) == (report_a[key], report_b[key], report_b[key] - report_a[key])
            assert (rows[key]["a"], rows[key]["b"]) == (report_a[key], report_b[key])


@SETTINGS
@given(paired_cantos())
def test_compare_and_the_bootstrap_give_the_cantos_report_figures(case):
    golds, raws_a, raws_b = case
    a = scored(CANTOS, "merged-gguf", golds, raws_a, cantos_record)
    b = scored(CANTOS, "merged-gguf", golds, raws_b, cantos_record)
    check_compare_equals_report(CANTOS, a, b)


# ----------------------------------------------------------------------------- a task from files (field F1)
SCHEMA = {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}}, "n": {"type": "integer"}}}
FILE_TASK = FileTask("tagging", SCHEMA, "Tag it.")
ANSWER = st.fixed_dictionaries({}, optional={"tags": st.lists(st.sampled_from("abcd"), max_size=4),
                                             "n": st.integers(0, 3)})
FILE_OUTPUT = st.one_of(ANSWER.map(json.dumps), st.just("none"))


def file_record(variant: str, i: int, gold, raw: str) -> SampleRecord:
    return SampleRecord.of({"data": "test", "variant": variant, "id": f"r{i:03d}", "tags": [], "input": f"row {i}",
                            "gold": gold, "answer": None, "raw": raw, "finish_reason": "stop", "seconds": 0.1,
                            "gen_tokens": 5})


@SETTINGS
@given(st.lists(st.tuples(ANSWER, FILE_OUTPUT, FILE_OUTPUT), min_size=1, max_size=12))
def test_compare_and_the_bootstrap_give_the_field_report_figures(rows):
    golds = [g for g, _, _ in rows]
    a = scored(FILE_TASK, "merged-gguf", golds, [x for _, x, _ in rows], file_record)
    b = scored(FILE_TASK, "merged-gguf", golds, [y for _, _, y in rows], file_record)
    check_compare_equals_report(FILE_TASK, a, b)
