"""extractor.runtimes.grammar_gaps against llama-cpp-python's own JSON-Schema-to-grammar converter: a keyword
reported as unenforced leaves the grammar unchanged when removed; a keyword the converter enforces
changes it. Pure Python (the converter needs no model)."""

import copy
import json

import pytest

from extractor.evaluation import report, report_text
from extractor.runtimes import grammar_gaps
from helpers import CANTOS
from extractor.tasks.registry import get_task

llama_grammar = pytest.importorskip("llama_cpp.llama_grammar")


def gbnf(schema) -> str:
    return llama_grammar.json_schema_to_gbnf(json.dumps(schema))


def node_at(schema, path: str):
    node = schema
    for part in path.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def without(schema, path: str, keyword: str):
    s = copy.deepcopy(schema)
    del node_at(s, path)[keyword]
    return s


OBJ = {"type": "object", "additionalProperties": False, "required": ["tags", "n"]}
SMALL = {
    "uniqueItems": ({**OBJ, "properties": {"tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                                           "n": {"type": "integer"}}}, "/properties/tags"),
    "multipleOf": ({**OBJ, "properties": {"tags": {"type": "string"}, "n": {"type": "number", "multipleOf": 0.5}}},
                   "/properties/n"),
    "minimum": ({**OBJ, "properties": {"tags": {"type": "string"}, "n": {"type": "integer", "minimum": 1}}}, "/properties/n"),
    "not": ({**OBJ, "properties": {"tags": {"type": "string"}, "n": {"type": "integer", "not": {"const": 0}}}},
            "/properties/n"),
    "dependentRequired": ({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                           "dependentRequired": {"a": ["b"]}}, ""),
    "maxLength": ({"type": "object", "properties": {"a": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 3}}},
                  "/properties/a"),
    "contains": ({"type": "array", "items": {"type": "integer"}, "contains": {"const": 1}}, ""),
    "patternProperties": ({"type": "object", "properties": {"a": {"type": "string"}},
                           "patternProperties": {"^x": {"type": "integer"}}}, ""),
    "minProperties": ({"type": "object", "properties": {"a": {"type": "string"}}, "minProperties": 1}, ""),
    "if": ({"type": "object", "properties": {"a": {"type": "string"}}, "if": {"required": ["a"]},
            "then": {"required": ["a"]}}, ""),
    "format": ({"type": "object", "properties": {"e": {"type": "string", "format": "email"}}}, "/properties/e"),
    "properties": ({"type": ["object", "null"], "properties": {"a": {"type": "string", "minLength": 2}}}, ""),
}


@pytest.mark.parametrize("keyword", sorted(SMALL))
def test_each_unenforced_keyword_is_found_at_its_path(keyword):
    schema, path = SMALL[keyword]
    found = grammar_gaps.gaps(schema)
    assert {"path": path, "keyword": keyword} in [{k: i[k] for k in ("path", "keyword")} for i in found], found
    for item in found:  # removing what is reported changes nothing in the grammar
        assert gbnf(without(schema, item["path"], item["keyword"])) == gbnf(schema), item


ENFORCED = [
    ({"type": "object", "properties": {"a": {"type": "string", "minLength": 1, "maxLength": 4}}}, "/properties/a", "minLength"),
    ({"type": "object", "properties": {"a": {"type": "string", "pattern": "^[0-9]+$"}}}, "/properties/a", "pattern"),
    ({"type": "object", "properties": {"a": {"enum": ["x", "y"]}}}, "/properties/a", "enum"),
    ({"type": "object", "properties": {"a": {"type": "array", "items": {"type": "integer"}, "minItems": 1}}},
     "/properties/a", "minItems"),
    ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}, "", "required"),
    ({"type": "object", "properties": {"a": {"type": "string", "format": "date"}}}, "/properties/a", "format"),
]


@pytest.mark.parametrize("schema,path,keyword", ENFORCED)
def test_enforced_keywords_are_not_reported_and_do_change_the_grammar(schema, path, keyword):
    assert grammar_gaps.gaps(schema) == []
    assert gbnf(without(schema, path, keyword)) != gbnf(schema)


def test_ref_siblings_and_one_of():
    schema = {"$defs": {"n": {"type": "integer", "maximum": 3}},
              "type": "object", "properties": {"a": {"$ref": "#/$defs/n", "minimum": 1},
                                               "b": {"oneOf": [{"type": "string"}, {"type": "integer"}]}}}
    got = [(i["path"], i["keyword"]) for i in grammar_gaps.gaps(schema)]
    assert got == [("/$defs/n", "maximum"), ("/properties/a", "minimum"), ("/properties/b", "oneOf")]


def test_cantos_schema_gaps():
    schema = get_task("cantos").schema
    got = [(i["path"], i["keyword"]) for i in grammar_gaps.gaps(schema)]
    canto, lines = "/properties/references/items/properties/canto", "/properties/references/items/properties/lines/items"
    assert got == [(canto, "minimum"), (canto, "maximum"), (lines, "not")]
    for path, keyword in got:
        assert gbnf(without(schema, path, keyword)) == gbnf(schema)
    line = grammar_gaps.summary(grammar_gaps.gaps(schema), grammar_gaps.stricter(schema))
    assert line.startswith(f"+grammar rows: the grammar does not enforce: minimum at {canto}; maximum at {canto}; not at {lines}.")


def test_citations_schema_is_enforced_but_its_key_order_is_fixed():
    schema = get_task("citations").schema
    assert grammar_gaps.gaps(schema) == []
    strict = grammar_gaps.stricter(schema)
    assert [(i["path"], i["keyword"]) for i in strict] == [("", "properties")]
    line = grammar_gaps.summary([], strict)
    assert line.startswith("+grammar rows: the grammar enforces every keyword of the schema. It also fixes the key "
                           "order: at /: author, citation_number, ")
    # the order claim, against the converter: the root rule starts with author's key, then the rest in order
    text = gbnf(schema)
    assert 'author-kv' in text and text.index('"\\"author\\""') < text.index('"\\"citation_number\\""')


def test_conversion_failures_are_named():
    assert grammar_gaps.gaps({"type": "object", "properties": {"a": {"description": "anything"}}}) == [
        {"path": "/properties/a", "keyword": "type", "note": "no type the converter can use here: building the grammar fails"}]
    with pytest.raises(AssertionError):
        gbnf({"type": "object", "properties": {"a": {"description": "anything"}}})


def test_report_lists_the_gaps_only_with_a_grammar_row(tmp_path):
    import scripted_cantos

    out = tmp_path / "out"
    scripted_cantos.write(out)  # its variants include merged-gguf+grammar
    rep = report.write_reports(out)
    assert [i["keyword"] for i in rep["grammar_unenforced"]] == ["minimum", "maximum", "not"]
    line = report_text.grammar_line(rep)
    assert line in (out / "report.md").read_text()
    assert 'id="grammar"' in (out / "report.html").read_text()
    rep.grammar_unenforced = None
    assert report_text.grammar_line(rep) is None and "+grammar rows" not in report_text.render_md(rep, CANTOS)


def test_all_of_members_and_tuples():
    schema = {"allOf": [{"properties": {"a": {"type": "string"}}, "required": ["a"]},
                        {"anyOf": [{"properties": {"b": {"type": "integer", "maximum": 2}}, "required": ["b"]}]}]}
    got = [(i["path"], i["keyword"]) for i in grammar_gaps.gaps(schema)]
    assert got == [("/allOf/1/anyOf/0/properties/b", "maximum"), ("/allOf/1/anyOf/0", "required")]
    assert [i["keyword"] for i in grammar_gaps.stricter(schema)] == ["required"]
    for path, keyword in got:
        assert gbnf(without(schema, path, keyword)) == gbnf(schema)
    tup = {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}], "items": False, "minItems": 1}
    assert [(i["path"], i["keyword"]) for i in grammar_gaps.gaps(tup)] == [("", "minItems")]
    assert grammar_gaps.stricter(tup) == []
    assert grammar_gaps.gaps({"type": "string", "const": "x"}) == []
