"""extractor.core.fields: generic field metrics on any JSON answer (pure functions, no model)."""

import json
import math
import random

import pytest

from extractor.core import fields
from extractor.core.fields import Counts, FieldOptions, aggregate, canonical_json, compare, leaves, score
from extractor.core.task import JsonTask

CANTOS = {"references": [{"canto": 9, "lines": [15, 16]}, {"canto": 45, "lines": []}]}


def counts(result: fields.FieldScore) -> dict[str, tuple[int, int, int]]:
    return {f: (c.tp, c.missing, c.extra) for f, c in result.by_field.items()}


# ----------------------------------------------------------------------------- canonical form, exact match
def test_canonical_json_sorts_keys_normalises_numbers_and_ignores_array_order():
    a = {"b": [3, 1.0, {"y": 2, "x": -0.0}], "a": "s"}
    b = {"a": "s", "b": [{"x": 0, "y": 2.0}, 1, 3]}
    assert canonical_json(a) == canonical_json(b) == '{"a":"s","b":[1,3,{"x":0,"y":2}]}'
    assert canonical_json({"t": True}) != canonical_json({"t": 1})  # a boolean is not a number
    assert canonical_json({"x": 1.5}) != canonical_json({"x": 1})
    assert canonical_json(["é"]) == '["é"]'


def test_exact_match_treats_arrays_as_multisets_but_counts_duplicates():
    assert score(CANTOS, {"references": list(reversed(CANTOS["references"]))}).exact
    assert not score({"a": [1, 1, 2]}, {"a": [1, 2, 2]}).exact
    assert not score({"a": [1, 1]}, {"a": [1]}).exact


def test_exact_match_uses_string_normalisation_but_not_numeric_tolerance():
    opts = FieldOptions(fold_case=True, collapse_whitespace=True, strip_punctuation=True, abs_tol=0.5)
    r = score({"name": "Ezra  Pound", "n": 1.0}, {"name": " ezra pound.", "n": 1.2}, opts)
    assert not r.exact and r.total == Counts(tp=2)  # every leaf matches, the JSON is not the same
    assert score({"name": "Ezra  Pound"}, {"name": "«ezra pound»"}, opts).exact


# ----------------------------------------------------------------------------- leaves and fields
def test_leaves_drop_array_indices_and_skip_empty_containers():
    assert list(leaves(CANTOS)) == [("references[].canto", 9), ("references[].lines[]", 15),
                                    ("references[].lines[]", 16), ("references[].canto", 45)]
    assert list(leaves({"a": [], "b": {}, "c": None})) == [("c", None)]
    assert list(leaves(7)) == [("$", 7)]
    assert list(leaves([[1], [2, 3]])) == [("[][]", 1), ("[][]", 2), ("[][]", 3)]


def test_keys_that_are_not_plain_names_are_quoted():
    assert [f for f, _ in leaves({"a.b": 1, "": 2, "x": {"[y]": 3}})] == ['["a.b"]', '[""]', 'x["[y]"]']


# ----------------------------------------------------------------------------- precision, recall, F1
def test_identical_answers_score_one_and_an_empty_pair_is_undefined():
    r = score(CANTOS, json.loads(json.dumps(CANTOS)))
    assert r.exact and r.valid and r.total == Counts(tp=4)
    assert (r.total.precision, r.total.recall, r.total.f1) == (1.0, 1.0, 1.0)
    empty = score({"references": []}, {"references": []})
    assert empty.exact and empty.total == Counts() and empty.total.f1 is None and empty.by_field == {}


def test_missing_and_extra_leaves_are_counted_apart():
    pred = {"references": [{"canto": 9, "lines": [15, 17, 18]}]}
    r = score(CANTOS, pred)
    assert counts(r) == {"references[].canto": (1, 1, 0), "references[].lines[]": (1, 1, 2)}
    assert r.total == Counts(tp=2, missing=2, extra=2)
    assert r.total.precision == 0.5 and r.total.recall == 0.5 and r.total.f1 == 0.5


def test_a_wrong_value_is_one_missing_and_one_extra():
    r = score({"date": "1925", "title": "XVI Cantos"}, {"date": "1930", "title": "XVI Cantos"})
    assert counts(r) == {"date": (0, 1, 1), "title": (1, 0, 0)}


def test_keys_only_on_one_side_and_type_mismatches():
    r = score({"a": 1, "b": {"c": [1, 2]}}, {"a": 1, "d": "new", "b": [1]})
    assert counts(r) == {"a": (1, 0, 0), "b.c[]": (0, 2, 0), "b[]": (0, 0, 1), "d": (0, 0, 1)}
    assert counts(score({"a": True}, {"a": 1})) == {"a": (0, 1, 1)}
    assert counts(score({"a": None}, {"a": None})) == {"a": (1, 0, 0)}
    assert counts(score({"a": None}, {"a": 0})) == {"a": (0, 1, 1)}


def test_an_invalid_output_predicts_nothing():
    r = score(CANTOS, None, valid=False)
    assert not r.valid and not r.exact and r.total == Counts(missing=4)
    assert r.total.precision is None and r.total.recall == 0.0 and r.total.f1 == 0.0


# ----------------------------------------------------------------------------- arrays as multisets
def test_scalar_arrays_are_multisets():
    assert counts(score({"a": [1, 1, 2]}, {"a": [2, 1, 3]})) == {"a[]": (2, 1, 1)}
    assert counts(score({"a": ["x", 1, True, None]}, {"a": [None, "x", 1.0, False]})) == {"a[]": (3, 1, 1)}


def test_objects_pair_whole_items_first_then_by_shared_leaves():
    gold = {"references": [{"canto": 9, "lines": [15]}, {"canto": 3, "lines": [2]}]}
    # The values are all there, but under the wrong items: only the cantos pair up.
    swapped = {"references": [{"canto": 9, "lines": [2]}, {"canto": 3, "lines": [15]}]}
    assert counts(score(gold, swapped)) == {"references[].canto": (2, 0, 0), "references[].lines[]": (0, 2, 2)}
    # An identical item is paired before any partial pairing could take it.
    pred = {"references": [{"canto": 3, "lines": [2, 15]}, {"canto": 9, "lines": [15]}]}
    assert counts(score(gold, pred)) == {"references[].canto": (2, 0, 0), "references[].lines[]": (2, 0, 1)}


def test_unpaired_items_count_every_leaf_missing_or_extra():
    gold = {"references": [{"canto": 9, "lines": [15]}]}
    pred = {"references": [{"canto": 9, "lines": [15]}, {"canto": 81, "lines": [1, 2]}]}
    assert counts(score(gold, pred)) == {"references[].canto": (1, 0, 1), "references[].lines[]": (1, 0, 2)}
    # no shared leaf: no pairing at all
    assert counts(score({"r": [{"a": 1}]}, {"r": [{"b": 1}]})) == {"r[].a": (0, 1, 0), "r[].b": (0, 0, 1)}


def test_identity_keys_restrict_pairing_to_items_with_equal_keys():
    gold = {"references": [{"canto": 9, "lines": [15, 16]}, {"canto": 3, "lines": [2]}]}
    pred = {"references": [{"canto": 9, "lines": [2]}, {"canto": 3, "lines": [15, 16]}]}
    # By shared leaves alone, gold canto 9 pairs with the item holding lines 15 and 16.
    assert counts(score(gold, pred)) == {"references[].canto": (0, 2, 2), "references[].lines[]": (3, 0, 0)}
    keyed = FieldOptions(keys={"references[]": ("canto",)})
    assert counts(score(gold, pred, keyed)) == {"references[].canto": (2, 0, 0), "references[].lines[]": (0, 3, 3)}


def test_nested_arrays_of_arrays_and_mixed_items():
    gold = {"m": [[1, 2], [3], "x"]}
    pred = {"m": [[3], [2, 1, 4], "y"]}
    assert counts(score(gold, pred)) == {"m[]": (0, 1, 1), "m[][]": (3, 0, 1)}


def test_pairing_does_not_depend_on_the_order_of_items():
    rng = random.Random(7)
    gold = {"r": [{"k": i % 3, "v": [i, i + 1], "s": f"n{i}"} for i in range(6)]}
    pred = {"r": [{"k": i % 3, "v": [i + 1, i + 2], "s": f"n{i}"} for i in range(0, 7, 2)]}
    want = counts(score(gold, pred))
    for _ in range(10):
        p = {"r": rng.sample(pred["r"], len(pred["r"]))}
        g = {"r": rng.sample(gold["r"], len(gold["r"]))}
        got = counts(score(g, p))
        assert sum(t for t, _, _ in got.values()) == sum(t for t, _, _ in want.values())


# ----------------------------------------------------------------------------- normalisation, tolerance
@pytest.mark.parametrize("options, a, b, equal", [
    (FieldOptions(), "Pound", "pound", False),
    (FieldOptions(fold_case=True), "Pound", "POUND", True),
    (FieldOptions(fold_case=True), "Straße", "STRASSE", True),
    (FieldOptions(), "a  b", "a b", False),
    (FieldOptions(collapse_whitespace=True), " a \n\t b ", "a b", True),
    (FieldOptions(strip_punctuation=True), '"Canto XLV."', "Canto XLV", True),
    (FieldOptions(strip_punctuation=True), "(a.b)", "a.b", True),
    (FieldOptions(strip_punctuation=True), "a-b", "ab", False),  # inside punctuation stays
    (FieldOptions(), 1, 1.0, True),
    (FieldOptions(), 0.1 + 0.2, 0.3, False),
    (FieldOptions(abs_tol=1e-9), 0.1 + 0.2, 0.3, True),
    (FieldOptions(abs_tol=0.5), 10, 10.5, True),
    (FieldOptions(abs_tol=0.5), 10, 10.6, False),
    (FieldOptions(rel_tol=0.01), 1000, 1009, True),
    (FieldOptions(rel_tol=0.01), 1000, 1011, False),
    (FieldOptions(abs_tol=5), True, 1, False),
    (FieldOptions(fold_case=True), "1", 1, False),
])
def test_scalar_comparison_options(options, a, b, equal):
    assert fields.scalars_equal(a, b, options) is equal
    assert fields.scalars_equal(b, a, options) is equal


def test_numeric_tolerance_matches_arrays_one_to_one():
    opts = FieldOptions(abs_tol=0.1)
    assert counts(score({"x": [1.0, 1.05, 2.0]}, {"x": [1.02, 2.08, 5.0]}, opts)) == {"x[]": (2, 1, 1)}
    # each predicted value matches one gold value at most
    assert counts(score({"x": [1.0]}, {"x": [1.01, 0.99]}, opts)) == {"x[]": (1, 0, 1)}


# ----------------------------------------------------------------------------- aggregate
def test_aggregate_is_micro_over_leaves_and_per_field():
    scores = [
        score(CANTOS, CANTOS),                                                     # 4 tp
        score(CANTOS, {"references": [{"canto": 9, "lines": [15, 16, 17]}]}),     # 3 tp, 1 missing, 1 extra
        score({"references": []}, {"references": [{"canto": 1, "lines": []}]}),  # 1 extra
        score(CANTOS, None, valid=False),                                          # 4 missing
    ]
    rep = aggregate(scores)
    assert rep.n == 4 and rep.exact_match == 0.25
    assert (rep.total.tp, rep.total.missing, rep.total.extra) == (7, 5, 2)
    assert rep.precision == 7 / 9 and rep.recall == 7 / 12 and rep.f1 == 14 / 21
    canto, lines = rep.by_field["references[].canto"], rep.by_field["references[].lines[]"]
    assert (canto.tp, canto.missing, canto.extra) == (3, 3, 1)
    assert (lines.tp, lines.missing, lines.extra) == (4, 2, 1)
    assert rep.macro_f1 == pytest.approx((canto.f1 + lines.f1) / 2)
    assert rep.missing_per_sample == 5 / 4 and rep.extra_per_sample == 2 / 4
    assert list(rep.by_field) == sorted(rep.by_field)


def test_aggregate_of_nothing_is_undefined_not_zero():
    rep = aggregate([])
    assert rep.n == 0 and rep.exact_match is None and rep.f1 is None and rep.macro_f1 is None and rep.by_field == {}


def test_every_reported_figure_declares_a_direction():
    rep = aggregate([score(CANTOS, CANTOS)])
    figures = {k for k, v in vars(rep).items() if isinstance(v, float) or v is None}
    declared = {m.key: m for m in JsonTask.metrics}
    assert figures <= set(declared)
    assert {k for k in figures if not declared[k].higher} == {"missing_per_sample", "extra_per_sample"}


def test_f1_agrees_with_the_cantos_line_f1_on_flat_answers():
    # For answers with one reference per canto, leaf F1 of lines equals metrics.py's line_f1.
    from extractor.tasks.cantos.metrics import Sample, aggregate as cantos_aggregate
    from extractor.tasks.cantos.schema import parse, references_from_json

    rows = [({"references": [{"canto": 9, "lines": [15, 16]}]}, {"references": [{"canto": 9, "lines": [16, 17]}]}),
            ({"references": [{"canto": 3, "lines": [1]}, {"canto": 4, "lines": [2]}]},
             {"references": [{"canto": 4, "lines": [2]}]})]
    keyed = FieldOptions(keys={"references[]": ("canto",)})
    rep = aggregate([score(g, p, keyed) for g, p in rows])
    samples = [Sample(tuple(references_from_json(g)), parse(json.dumps(p)), "stop") for g, p in rows]
    ref = cantos_aggregate(samples)
    assert math.isclose(rep.by_field["references[].lines[]"].f1, ref["line_f1"])
    assert math.isclose(rep.by_field["references[].canto"].f1, ref["canto_f1"])


def test_compare_is_symmetric_in_missing_and_extra():
    a = {"r": [{"c": 1, "l": [1, 2]}, {"c": 2, "l": []}], "t": "x"}
    b = {"r": [{"c": 1, "l": [2, 3, 4]}], "u": 5}
    ab, ba = compare(a, b), compare(b, a)
    assert set(ab) == set(ba)
    for f in ab:
        assert (ab[f].tp, ab[f].missing, ab[f].extra) == (ba[f].tp, ba[f].extra, ba[f].missing)
