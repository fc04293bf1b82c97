"""The output schema, its canonical form, and the raw-output parser (table-driven)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from extractor.tasks.cantos.schema import Reference, canonical, parse, schema_errors, to_json_text

A = '{"references": [{"canto": 1, "lines": [1]}]}'
R1 = [Reference(1, (1,))]

# (raw model output, expected status, expected references or None)
TABLE = [
    # clean answers
    (A, "clean", R1),
    ("  \n" + A + "\n\n", "clean", R1),
    ('{"references": []}', "clean", []),
    ("```json\n" + A + "\n```", "clean", R1),
    ("```\n" + A + "\n```\n", "clean", R1),
    (A + "</s>", "clean", R1),
    (A + "<|im_end|>", "clean", R1),
    ('{"references": [{"canto": 9, "lines": [15, 16, 17]}, {"canto": 9, "lines": [-1]}]}', "clean",
     [Reference(9, (15, 16, 17)), Reference(9, (-1,))]),
    ('{"references": [{"canto": 120, "lines": []}]}', "clean", [Reference(120)]),
    ('{ "references" : [ { "lines" : [ 2 ] , "canto" : 3 } ] }', "clean", [Reference(3, (2,))]),
    # the seeds' own failure: an invented next question
    (A + "\n### Question: What is the second line of Canto I?\n### Answer: ", "chained_turn", R1),
    (A + "\n<|user|>\nAnd the third line?", "chained_turn", R1),
    (A + "<|im_end|>\n<|im_start|>user\nNext one", "chained_turn", R1),
    (A + "</s>\n<|user|>\nmore", "chained_turn", R1),
    (A + " [INST] another [/INST]", "chained_turn", R1),
    (A + "\nQuestion: where is canto II?", "chained_turn", R1),
    (A + "\nAnswer: " + A, "chained_turn", R1),
    (A + "\nWhat about the last line of Canto XLV?", "chained_turn", R1),
    (A + "\n<|assistant|>\n" + A, "chained_turn", R1),
    (A + "\nUser: thanks", "chained_turn", R1),
    # prose after the answer
    (A + "\nThis refers to the first line of Canto I.", "trailing_text", R1),
    (A + " Hope this helps!", "trailing_text", R1),
    (A + "\n" + A, "trailing_text", R1),
    ("```json\n" + A + "\n```\nThe passage opens the poem.", "trailing_text", R1),
    # cut off: a JSON value that never ends
    ('{"references": [{"canto": 1, "lines": [1, 2, 3', "cut_off", None),
    ('{"references": [{"canto": 1, "lines": [1, 2,', "cut_off", None),
    ('{"references": [{"canto": 1, "li', "cut_off", None),
    ('{"references": [', "cut_off", None),
    ("```json\n{", "cut_off", None),
    # invalid: JSON that fails the schema, or text that is almost JSON
    ('{"references": [{"canto": "IX", "lines": [1]}]}', "invalid", None),
    ('{"references": [{"canto": 9, "lines": ["1"]}]}', "invalid", None),
    ("{'references': [{'canto': 1, 'lines': [1]}]}", "invalid", None),  # Python-style quotes
    ('[{"canto": 1, "lines": [1]}]', "invalid", None),  # a list instead of the object
    ('{"references": [{"canto": 0, "lines": []}]}', "invalid", None),
    ('{"references": [{"canto": 121, "lines": []}]}', "invalid", None),
    ('{"references": [{"canto": 1, "lines": [0]}]}', "invalid", None),
    ('{"references": [{"canto": 1}]}', "invalid", None),
    ('{"references": [{"canto": 1, "lines": [], "page": 3}]}', "invalid", None),
    ('{"refs": []}', "invalid", None),
    ('{"references": [{"canto": 1.5, "lines": []}]}', "invalid", None),
    ('{"references": [{"canto": true, "lines": []}]}', "invalid", None),
    ('{"references": [{"canto": 1, "lines": [1,]}]}', "invalid", None),  # trailing comma
    # no JSON at the start
    ("", "no_json", None),
    ("   \n ", "no_json", None),
    ("The reference is Canto I, line 1.", "no_json", None),
    ("Answer: " + A, "no_json", None),
]


@pytest.mark.parametrize("raw,status,refs", TABLE, ids=[f"{i:02d}-{t[1]}" for i, t in enumerate(TABLE)])
def test_parser_table(raw, status, refs):
    p = parse(raw)
    assert p.status == status, (p.status, p.error)
    assert p.references == refs
    assert p.valid == (refs is not None)
    if status in ("cut_off", "invalid", "no_json"):
        assert p.error


def test_table_is_large_and_covers_every_status():
    assert len(TABLE) >= 30
    assert {s for _, s, _ in TABLE} == {"clean", "trailing_text", "chained_turn", "cut_off", "invalid", "no_json"}


def test_rest_keeps_the_continuation():
    p = parse(A + "\n### Question: next")
    assert p.json_text == A
    assert p.rest == "\n### Question: next"


def test_schema_error_names_the_json_path():
    errs = schema_errors({"references": [{"canto": 1, "lines": []}, {"canto": "IX", "lines": []}]})
    assert len(errs) == 1 and errs[0].startswith("$.references[1].canto")


def test_canonical_merges_sorts_and_dedups():
    refs = [Reference(9, (20, 15)), Reference(2), Reference(9, (15, -1))]
    assert canonical(refs) == [Reference(2), Reference(9, (-1, 15, 20))]
    assert canonical([]) == []


def test_to_json_text_round_trips_through_parse():
    refs = [Reference(45, (1, 2)), Reference(3)]
    p = parse(to_json_text(refs))
    assert p.status == "clean" and p.references == refs


@given(st.text(max_size=300))
def test_parse_never_raises_on_any_text(raw):
    p = parse(raw)
    assert p.status in {"clean", "trailing_text", "chained_turn", "cut_off", "invalid", "no_json"}


json_like = st.recursive(
    st.none() | st.booleans() | st.integers(-200, 200) | st.text(max_size=5),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.sampled_from(["references", "canto", "lines", "x"]), kids, max_size=3),
    max_leaves=20,
)


@given(json_like, st.text(max_size=40))
def test_parse_of_arbitrary_json_values_is_consistent_with_the_schema(value, tail):
    import json

    p = parse(json.dumps(value) + tail)
    assert (p.references is not None) == (not schema_errors(value))
