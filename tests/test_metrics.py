"""Metrics on hand-made cases: each number below is worked out by hand in the comment beside it."""

import pytest

from extractor.core.task import Sample
from extractor.tasks.cantos.metrics import METRIC_KEYS, aggregate, is_exact_answer
from extractor.tasks.cantos.schema import Reference, parse

R = Reference


def s(gold, raw, finish="stop", seconds=1.0, tokens=10):
    parsed = parse(raw)
    return Sample(tuple(gold), parsed, finish, seconds, tokens, exact=is_exact_answer(tuple(gold), parsed))


def test_every_key_is_reported_and_rates_are_fractions():
    m = aggregate([s([R(9, (15, 16))], '{"references": [{"canto": 9, "lines": [15, 16]}]}')])
    assert list(m) == list(METRIC_KEYS)
    for k, v in m.items():
        if k not in ("n", "latency_p50_s", "latency_p95_s", "gen_tokens_per_s", "examples_per_s") and v is not None:
            assert 0.0 <= v <= 1.0, k


def test_exact_match_is_set_equality_of_cantos_and_pairs():
    samples = [
        s([R(9, (15, 16))], '{"references": [{"canto": 9, "lines": [16, 15]}]}'),            # order: exact
        s([R(9, (15,)), R(9, (16,))], '{"references": [{"canto": 9, "lines": [15, 16]}]}'),  # grouping: exact
        s([R(9, (15, 16))], '{"references": [{"canto": 9, "lines": [15]}]}'),                # missing line
        s([R(45)], '{"references": [{"canto": 45, "lines": []}, {"canto": 46, "lines": []}]}'),  # extra canto
    ]
    assert aggregate(samples)["exact_match"] == 0.5


def test_micro_precision_recall_f1():
    samples = [
        s([R(9, (1, 2)), R(10)], '{"references": [{"canto": 9, "lines": [2, 3]}]}'),
        s([], '{"references": [{"canto": 4, "lines": []}]}'),
    ]
    m = aggregate(samples)
    # cantos: predicted {9}, {4}; gold {9, 10}, {} -> tp 1, pred 2, gold 2
    assert m["canto_precision"] == 0.5 and m["canto_recall"] == 0.5 and m["canto_f1"] == 0.5
    # pairs: predicted (9,2), (9,3); gold (9,1), (9,2) -> tp 1, pred 2, gold 2
    assert m["line_precision"] == 0.5 and m["line_recall"] == 0.5
    assert m["no_ref_accuracy"] == 0.0  # the one no-reference row predicted canto 4


def test_invalid_output_predicts_nothing_and_is_not_schema_valid():
    samples = [s([], "Sure! Here it is."), s([], '{"references": []}'), s([R(3)], '{"references": [{"canto": 3')]
    m = aggregate(samples)
    assert m["schema_valid"] == pytest.approx(1 / 3)
    assert m["no_ref_accuracy"] == 0.5  # prose is not a valid empty answer; '{"references": []}' is
    assert m["canto_recall"] == 0.0 and m["canto_precision"] is None  # nothing predicted: undefined, not 0 or 1


def test_stopping_and_continuations():
    ok = '{"references": []}'
    samples = [
        s([], ok),                                                     # clean stop
        s([], ok, finish="length"),                                    # clean text but hit the limit: runaway
        s([], ok + " This sentence has no canto."),                    # trailing_text
        s([], ok + '\n### Question: "What about Canto II?"'),          # chained_turn
        s([], ok + "<|im_end|>"),                                      # an end marker alone is still clean
    ]
    m = aggregate(samples)
    assert m["clean_stop"] == pytest.approx(2 / 5)
    assert m["runaway"] == pytest.approx(1 / 5)
    assert m["trailing_text"] == pytest.approx(1 / 5)
    assert m["chained_turn"] == pytest.approx(1 / 5)


def test_impossible_lines_only_counts_cantos_of_known_length():
    raw = '{"references": [{"canto": 3, "lines": [43, 44, -50]}, {"canto": 90, "lines": [900]}]}'
    # canto III has 43 lines: 44 and -50 are impossible, 43 is fine; canto 90's length is unknown
    assert aggregate([s([R(3, (43,))], raw)])["impossible_lines"] == pytest.approx(2 / 3)


def test_speed_figures_and_errors():
    samples = [s([], '{"references": []}', seconds=1.0, tokens=6), s([], '{"references": []}', seconds=3.0, tokens=6),
               s([], "", finish="error", seconds=9.0, tokens=0)]
    m = aggregate(samples)
    assert m["n"] == 3 and m["examples_per_s"] == 0.5  # errors are excluded from speed, not from quality
    assert m["gen_tokens_per_s"] == 3.0
    assert m["latency_p50_s"] == 2.0
    assert m["schema_valid"] == pytest.approx(2 / 3)


def test_empty_denominators_are_none():
    m = aggregate([s([R(1)], '{"references": [{"canto": 1, "lines": []}]}')])
    assert m["no_ref_accuracy"] is None and m["line_f1"] is None and m["impossible_lines"] is None
