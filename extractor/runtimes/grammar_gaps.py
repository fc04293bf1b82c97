"""What a ``+grammar`` variant's grammar does not enforce of the task's JSON Schema.

``+grammar`` variants decode under ``llama_cpp.LlamaGrammar.from_json_schema`` (llama-cpp-python
0.3.36, ``llama_cpp/llama_grammar.py``: ``SchemaConverter.visit``). That converter handles one
keyword group per (sub)schema, the first of this chain that applies, and drops every other
keyword of that schema without a word:

1. ``$ref`` (local ``#/...`` only): the target; every sibling keyword is dropped;
2. ``oneOf`` / ``anyOf``: the alternatives, as ``anyOf`` (``oneOf``'s "exactly one" is not
   enforced; with both present ``anyOf`` is dropped); siblings dropped;
3. ``type`` as a list: a union of the bare types; every other keyword dropped (``properties``
   of ``{"type": ["object", "null"], ...}`` included);
4. ``const``; 5. ``enum``;
6. an object with ``properties`` or ``additionalProperties`` (not ``true``): ``properties``,
   ``required`` (names among ``properties``) and ``additionalProperties``;
7. an object with ``allOf``: the ``properties`` of its members (a member's other keywords dropped);
8. an array with ``items`` or ``prefixItems``: the items, ``minItems`` / ``maxItems`` (not for a tuple);
9. a string with ``pattern``; 10. ``format`` ``uuid``, ``date``, ``time``, ``date-time``;
11. ``"type": "string"`` with ``minLength`` / ``maxLength``;
12. otherwise the bare type: ``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``,
    ``multipleOf`` and any other ``format`` are dropped.

Never enforced anywhere: ``not``, ``if`` / ``then`` / ``else``, ``uniqueItems``, ``contains``,
``minContains``, ``maxContains``, ``minProperties``, ``maxProperties``, ``patternProperties``,
``propertyNames``, ``dependentRequired``, ``dependentSchemas``, ``unevaluatedProperties``,
``unevaluatedItems``.

The grammar is also stricter than the schema in places (``stricter``): an object's keys must come
in the order of ``properties``; an object without ``additionalProperties`` gets no other key; an
empty schema ``{}`` allows only an object; a ``prefixItems`` tuple without ``items`` has exactly its
length; every property of an ``allOf`` member (outside an ``anyOf``) is required.

``gaps(schema)`` and ``stricter(schema)`` mirror that chain on a schema (pure Python, no llama.cpp);
``tests/test_grammar_gaps.py`` checks the claims against the converter itself.

The -hf ``+grammar`` rows decode under llguidance's grammar instead (``runtimes/hf_grammar.py``),
which leaves out fewer keywords: ``llguidance_gaps(schema)`` and ``llguidance_summary(schema)``
(checked against llguidance's own warnings by ``tests/test_hf_grammar.py``).
"""

from __future__ import annotations

import re
from typing import Any

# Keywords that constrain nothing (annotations, identifiers, containers of subschemas that are
# reached through $ref): never reported.
NOT_CONSTRAINTS = frozenset({
    "$schema", "$id", "$anchor", "$dynamicAnchor", "$comment", "$vocabulary", "$defs", "definitions",
    "title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly",
    "contentEncoding", "contentMediaType", "contentSchema",
})
_PRIMITIVES = ("boolean", "number", "integer", "string", "null", "array", "object")


def _ptr(path: str, *parts: Any) -> str:
    for p in parts:
        path += "/" + str(p).replace("~", "~0").replace("/", "~1")
    return path


class _Walk:
    def __init__(self, schema: Any):
        self.root = schema
        self.gaps: list[dict[str, str]] = []
        self.stricter: list[dict[str, str]] = []
        self.seen_refs: set[str] = set()

    def gap(self, path: str, keyword: str, note: str = "") -> None:
        item = {"path": path, "keyword": keyword}
        if note:
            item["note"] = note
        if item not in self.gaps:
            self.gaps.append(item)

    def strict(self, path: str, keyword: str, note: str) -> None:
        item = {"path": path, "keyword": keyword, "note": note}
        if item not in self.stricter:
            self.stricter.append(item)

    def resolve(self, ref: str) -> tuple[Any, str] | None:
        if not ref.startswith("#"):
            return None
        target, path = self.root, ""
        for part in ref[1:].split("/")[1:]:
            key = part.replace("~1", "/").replace("~0", "~")
            if isinstance(target, list) and key.isdigit():
                target = target[int(key)]
            elif isinstance(target, dict) and key in target:
                target = target[key]
            else:
                return None
            path = _ptr(path, key)
        return target, path

    def visit(self, node: Any, path: str) -> None:
        if not isinstance(node, dict):
            self.gap(path, "true" if node is True else "false" if node is False else "schema",
                     "the converter cannot read a boolean schema: building the grammar fails")
            return
        typ, fmt = node.get("type"), node.get("format")
        used: set[str] = set()

        def fmt_note(k: str) -> str:
            return f'"{fmt}"' if k == "format" else ""

        if "$ref" in node:
            used = {"$ref"}
            ref = node["$ref"]
            found = self.resolve(ref) if isinstance(ref, str) else None
            if found is None:
                self.gap(path, "$ref", f"{ref!r}: only local #/... references are read; building the grammar fails")
            elif ref not in self.seen_refs:
                self.seen_refs.add(ref)
                self.visit(*found)
        elif "oneOf" in node or "anyOf" in node:
            key = "oneOf" if node.get("oneOf") else "anyOf"
            used = {key}
            if key == "oneOf":
                self.gap(path, "oneOf", "taken as anyOf: 'exactly one' is not enforced")
            for i, alt in enumerate(node[key]):
                self.visit(alt, _ptr(path, key, i))
        elif isinstance(typ, list):
            used = {"type"}
            for t in typ:
                if t not in _PRIMITIVES:
                    self.gap(path, "type", f"unknown type {t!r}: building the grammar fails")
        elif "const" in node:
            used = {"const", "type"}  # the value fixes the type (the type is not checked against it)
        elif "enum" in node:
            used = {"enum", "type"}
        elif typ in (None, "object") and ("properties" in node or (
                "additionalProperties" in node and node["additionalProperties"] is not True)):
            used = {"type", "properties", "required", "additionalProperties"}
            props = node.get("properties") or {}
            for name, sub in props.items():
                self.visit(sub, _ptr(path, "properties", name))
            missing = [r for r in node.get("required", []) if r not in props]
            if missing:
                self.gap(path, "required", "names not in properties: " + ", ".join(map(str, missing)))
            extra = node.get("additionalProperties")
            if isinstance(extra, dict):
                self.visit(extra, _ptr(path, "additionalProperties"))
            if extra is None:
                self.strict(path, "additionalProperties", "absent, yet the grammar allows no key outside properties")
            if len(props) > 1:
                self.strict(path, "properties", "keys only in the order of properties: "
                            + ", ".join(map(str, props)))
        elif typ in (None, "object") and "allOf" in node:
            used = {"type", "allOf"}
            for i, member in enumerate(node["allOf"]):
                mpath = _ptr(path, "allOf", i)
                all_required = not (isinstance(member, dict) and "anyOf" in member)
                parts = [(tt, _ptr(mpath, "anyOf", j)) for j, tt in enumerate(member["anyOf"])] \
                    if isinstance(member, dict) and "anyOf" in member else [(member, mpath)]
                if isinstance(member, dict) and "anyOf" in member:
                    for k in sorted(set(member) - {"anyOf"} - NOT_CONSTRAINTS):
                        self.gap(mpath, k)
                for comp, cpath in parts:
                    if isinstance(comp, dict) and "$ref" in comp:
                        found = self.resolve(comp["$ref"])
                        for k in sorted(set(comp) - {"$ref"} - NOT_CONSTRAINTS):
                            self.gap(cpath, k)
                        comp, cpath = found if found else ({}, cpath)
                    if not isinstance(comp, dict):
                        continue
                    for name, sub in (comp.get("properties") or {}).items():
                        self.visit(sub, _ptr(cpath, "properties", name))
                    over = {"required"} if all_required else set()  # all its properties are required anyway
                    for k in sorted(set(comp) - {"properties"} - over - NOT_CONSTRAINTS):
                        self.gap(cpath, k)
                    if all_required and comp.get("properties"):
                        self.strict(cpath, "required", "every property of this allOf member is required")
        elif typ in (None, "array") and ("items" in node or "prefixItems" in node):
            items = node.get("items") or node.get("prefixItems")
            key = "items" if node.get("items") else "prefixItems"
            if isinstance(items, list):
                used = {"type", key} | ({"items"} if node.get("items") is False else set())
                for i, sub in enumerate(items):
                    self.visit(sub, _ptr(path, key, i))
                if key == "prefixItems" and node.get("items") is not False:
                    self.strict(path, "prefixItems", f"exactly {len(items)} items, whatever items allows")
            elif isinstance(items, dict):
                used = {"type", key, "minItems", "maxItems"}
                self.visit(items, _ptr(path, key))
            else:
                used = {"type", "items", "prefixItems"}
                self.gap(path, "items", f"{items!r} as items is not read: building the grammar fails")
        elif typ in (None, "string") and "pattern" in node:
            used = {"type", "pattern"}
            pat = node["pattern"]
            if not (isinstance(pat, str) and pat.startswith("^") and pat.endswith("$")):
                self.gap(path, "pattern", "a pattern must start with ^ and end with $: building the grammar fails")
        elif typ in (None, "string") and isinstance(fmt, str) and re.match(r"^uuid[1-5]?$", fmt):
            used = {"type", "format"}
        elif typ in (None, "string") and fmt in ("date", "time", "date-time"):
            used = {"type", "format"}
        elif typ == "string" and ("minLength" in node or "maxLength" in node):
            used = {"type", "minLength", "maxLength"}
        elif typ == "object" or len(node) == 0:
            used = {"type"}
            if len(node) == 0:
                self.strict(path, "{}", "any value by the schema, only an object by the grammar")
        else:
            used = {"type"}
            if typ not in _PRIMITIVES:
                self.gap(path, "type", "no type the converter can use here: building the grammar fails")
        for k in node:
            if k not in used and k not in NOT_CONSTRAINTS:
                self.gap(path, k, fmt_note(k))


def _walk(schema: Any) -> _Walk:
    w = _Walk(schema)
    w.visit(schema, "")
    return w


def gaps(schema: Any) -> list[dict[str, str]]:
    """Every keyword of ``schema`` the llama.cpp grammar does not enforce, in schema order:
    ``{"path": JSON pointer of its (sub)schema, "keyword": ..., "note"?: ...}``. Empty: the
    grammar enforces the whole schema."""
    return _walk(schema).gaps


def stricter(schema: Any) -> list[dict[str, str]]:
    """Where the grammar forbids answers the schema allows (key order, extra keys, ...)."""
    return _walk(schema).stricter


def _where(item: dict) -> str:
    what = item["keyword"] + (f" {item['note']}" if item.get("note", "").startswith('"') else "")
    return f"{what} at {item['path'] or '/'}"


def summary(unenforced: list[dict], strict: list[dict] | None = None) -> str:
    """One line for report.md, the terminal and report.html."""
    if unenforced:
        line = "+grammar rows: the grammar does not enforce: " + "; ".join(_where(i) for i in unenforced) + "."
    else:
        line = "+grammar rows: the grammar enforces every keyword of the schema."
    order = [i for i in (strict or []) if i["keyword"] == "properties"]
    if order:
        line += " It also fixes the key order: " + "; ".join(
            f"at {i['path'] or '/'}: {i['note'].split(': ', 1)[1]}" for i in order) + "."
    return line


# -- llguidance (the -hf +grammar rows: runtimes/hf_grammar.py) ------------------------------------
#
# llguidance (docs/json_schema.md of guidance-ai/llguidance) implements Draft 2020-12 but for the
# keywords below; compiled ``lenient`` (as runtimes/hf_grammar.py does) it leaves them out of the
# grammar, naming them in a warning ("Unimplemented keys: [...]"), where llama.cpp's converter drops
# a wider set without a word. It enforces what llama.cpp's drops elsewhere: ``minimum`` /
# ``maximum`` / ``exclusiveMinimum`` / ``exclusiveMaximum`` / ``multipleOf``, ``minLength`` /
# ``maxLength`` beside a ``pattern``, sibling keywords of ``$ref`` / ``anyOf`` / ``allOf``
# (intersected). Key order is fixed to ``properties``' order, as in llama.cpp's grammar.

LLGUIDANCE_UNSUPPORTED = frozenset({
    "not", "if", "then", "else", "uniqueItems", "contains", "minContains", "maxContains", "propertyNames",
    "dependentRequired", "dependentSchemas", "dependencies", "unevaluatedProperties", "unevaluatedItems",
    "$dynamicRef", "$recursiveRef",
})
"""Keywords llguidance leaves out wherever they are (its warning "Unimplemented keys")."""
LLGUIDANCE_FORMATS = ("date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid", "uri")
_LOOKAROUND = re.compile(r"\(\?<?[=!]")


def llguidance_gaps(schema: Any) -> list[dict[str, str]]:
    """Every keyword of ``schema`` the llguidance grammar (lenient) does not enforce, in schema
    order, as ``gaps`` gives them for llama.cpp. Only subschemas the grammar reaches are read (an
    unused ``$defs`` entry is not)."""
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    walk = _Walk(schema)

    def gap(path: str, keyword: str, note: str = "") -> None:
        item = {"path": path, "keyword": keyword, **({"note": note} if note else {})}
        if item not in out:
            out.append(item)

    def visit(node: Any, path: str) -> None:
        if not isinstance(node, dict):
            return
        for k in node:
            if k in LLGUIDANCE_UNSUPPORTED:
                gap(path, k)
        fmt = node.get("format")
        if fmt is not None and fmt not in LLGUIDANCE_FORMATS:
            gap(path, "format", f'"{fmt}"')
        if "oneOf" in node:
            gap(path, "oneOf", "taken as anyOf unless llguidance proves the alternatives disjoint")
        if ("minProperties" in node or "maxProperties" in node) and \
                not set(node.get("properties") or {}) <= set(node.get("required") or []):
            for k in ("minProperties", "maxProperties"):
                if k in node:
                    gap(path, k, "only enforced when every key of properties is required")
        pat = node.get("pattern")
        if isinstance(pat, str) and _LOOKAROUND.search(pat):
            gap(path, "pattern", "a lookaround: building the grammar fails")
        ref = node.get("$ref")
        if isinstance(ref, str) and ref not in seen:
            seen.add(ref)
            found = walk.resolve(ref)
            if found is None:
                gap(path, "$ref", f"{ref!r}: only local #/... references are read; building the grammar fails")
            else:
                visit(*found)
        for key in ("properties", "patternProperties"):
            for name, sub in (node.get(key) or {}).items():
                visit(sub, _ptr(path, key, name))
        for key in ("additionalProperties", "items"):
            if isinstance(node.get(key), dict):
                visit(node[key], _ptr(path, key))
        for key in ("prefixItems", "anyOf", "oneOf", "allOf"):
            if isinstance(node.get(key), list):
                for i, sub in enumerate(node[key]):
                    visit(sub, _ptr(path, key, i))

    visit(schema, "")
    return out


def llguidance_summary(schema: Any) -> str:
    """One line on the -hf +grammar rows' grammar, as ``summary`` for the llama.cpp rows."""
    unenforced = llguidance_gaps(schema)
    if unenforced:
        return "-hf +grammar rows (llguidance): the grammar does not enforce: " + "; ".join(
            _where(i) for i in unenforced) + "."
    return "-hf +grammar rows (llguidance): the grammar enforces every keyword of the schema."
