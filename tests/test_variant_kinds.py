"""Variant kinds are registered as tasks are (entry-point group ``extractor.variants``,
``runtimes/kinds.py``): the built-in kinds come from pyproject.toml's entry points, and a runtime of
your own is one new module and one entry point, with no edit to any module of extractor."""

import json
import tomllib
from pathlib import Path

import pytest

from extractor.core.errors import ConfigError
from extractor.evaluation.evaluate import run_eval
from extractor.evaluation.suite import Suite
from extractor.runtimes import kinds
from extractor.runtimes.variant import Settings, parse_name
from extractor.runtimes.variants import Sources, build
from helpers import CANTOS, install_plugin

ROOT = Path(__file__).resolve().parents[1]
BUILTIN = ("base-gguf", "adapter-hf", "adapter-gguf", "merged-hf", "merged-gguf", "rules", "served", "served-base")

# The whole of a new runtime: its Variant and its Kind, in a module of its own.
ECHO = '''
import json

from extractor.core.generation import Generation
from extractor.runtimes.kinds import Kind
from extractor.runtimes.variant import BaseVariant, Capabilities, Skip


class EchoVariant(BaseVariant):
    """Answers every text with no reference, prefixed (a runtime with nothing to load)."""

    def __init__(self, name, prefix):
        self.name, self.prefix = name, prefix
        self.capabilities = Capabilities(grammar=name.endswith("+grammar"))

    def execute(self, inputs):
        for i, _ in enumerate(inputs):
            yield i, Generation(self.prefix + json.dumps({"references": []}), "stop", 3, 4, 0.01)


def build(name, sources, settings, task):
    if task.name == "nothing":
        raise Skip("not for this task")
    return EchoVariant(str(name), "" if name.grammar else " ")


ECHO = Kind("echo", build, "answers every text with no reference")
'''


@pytest.fixture
def echo(tmp_path, monkeypatch):
    install_plugin(tmp_path / "site", monkeypatch, kinds.ENTRY_POINT_GROUP, {"echo": "echo_runtime:ECHO"},
                   {"echo_runtime": ECHO})
    kinds.reset()
    yield
    monkeypatch.undo()
    kinds.reset()


def test_the_builtin_kinds_are_pyprojects_entry_points():
    eps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"][kinds.ENTRY_POINT_GROUP]
    assert set(eps) == set(BUILTIN) and set(kinds.names()) >= set(BUILTIN)
    for name in BUILTIN:
        kind = kinds.get(name)
        assert kind.name == name and kind.help
    assert {k.name for k in kinds.every() if k.served} == {"served", "served-base"}
    assert {k.name for k in kinds.every() if k.needs_run} == {"adapter-hf", "adapter-gguf", "merged-hf", "merged-gguf"}
    assert [k.name for k in kinds.every() if not k.grammar] == ["rules"]


def test_names_are_read_through_the_kinds():
    assert str(parse_name(" merged-gguf+grammar@padbug ")) == "merged-gguf+grammar@padbug"
    served = parse_name("served-base:llama3:8b+grammar@gpu")
    assert (served.kind, served.model, served.grammar, served.run, served.served) == ("served-base", "llama3:8b",
                                                                                     True, "gpu", True)
    assert not parse_name("rules").served
    with pytest.raises(ConfigError, match=r"unknown variant 'merged': write KIND.*merged-gguf.*served:MODEL"):
        parse_name("merged")
    with pytest.raises(ConfigError, match=r"rules .* takes no \+grammar"):
        parse_name("rules+grammar")
    with pytest.raises(ConfigError, match="unknown variant"):
        parse_name("merged-gguf+fast")
    with pytest.raises(ConfigError, match="needs a training run"):
        build(parse_name("merged-hf"), Sources(), Settings(), CANTOS)


def test_a_new_kind_registers_without_editing_any_module(echo, tmp_path):
    assert "echo" in kinds.names() and "echo" not in BUILTIN
    name = parse_name("echo+grammar@other")
    assert (name.kind, name.grammar, name.run) == ("echo", True, "other")
    variant = build(parse_name("echo"), Sources(), Settings(), CANTOS)
    assert variant.generate(["See IX."])[0].text == ' {"references": []}'
    with pytest.raises(ConfigError, match="echo"):  # it is among the kinds an unknown name is told about
        parse_name("ech")
    # ... and an evaluation runs it beside a built-in kind, through the same code.
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"id": f"r{i}", "input": f"text {i}", "output": {"references": []}}) + "\n"
                            for i in range(3)))
    meta = run_eval(Suite("echo", CANTOS, {"rows": rows}, ["echo", "echo+grammar", "rules"]), Sources(),
                    tmp_path / "out", progress=False, log=lambda m: None)
    assert meta["variants"] == ["echo", "echo+grammar", "rules"] and not meta["skipped"]
    records = [json.loads(line) for line in (tmp_path / "out" / "samples.jsonl").read_text().splitlines()]
    assert sorted({r["variant"] for r in records}) == ["echo", "echo+grammar", "rules"] and len(records) == 9


def test_a_kind_that_is_not_a_kind_is_refused(tmp_path, monkeypatch):
    install_plugin(tmp_path / "site", monkeypatch, kinds.ENTRY_POINT_GROUP, {"odd": "odd_runtime:ODD"},
                   {"odd_runtime": "ODD = object()\n"})
    kinds.reset()
    try:
        with pytest.raises(ConfigError, match="odd_runtime:ODD is not a Kind named 'odd'"):
            parse_name("odd")
    finally:
        monkeypatch.undo()
        kinds.reset()
