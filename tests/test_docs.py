"""The documentation against the code: the defaults the docs quote, their links, the README's size.

Quoted defaults are checked only where the docs write them in one of these forms (the option in
backticks, a metavar after it allowed, then the default at once):

    `--batch-size` defaults to 16        `--batch-size`, default 16        `--batch-size` (default 16)
    `--task NAME|DIR` (default `cantos`)   `[generation] concurrency` (default 8)
    --quant q8_0 (default)                 (the option with its value, marked as the default)

A CLI option's real default is its click default, or a default its own help text states
("default cantos"); a `[generation]` key's is the `Settings` field's default. A quoted default that
is neither, or an option that does not exist, fails. Write a default another way (or not at all)
and it is not checked, so keep to these forms.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import click
import pytest

from extractor.cli import cli
from extractor.runtimes.variant import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_OPTION = r"`(?P<opt>--[a-z][a-z0-9-]*|\[generation\] [a-z_]+)(?: [^`]*)?`"
_PHRASE = r"\s*(?:,\s*|\(\s*)?(?:defaults? to|default(?: is|:)?)\s+`?(?P<value>[^`\s,;)]+)`?"
QUOTED = re.compile(_OPTION + _PHRASE)
"""`--opt` / `[generation] key`, then "defaults to V", ", default V", "(default V)", "(default: V)"."""
INLINE = re.compile(r"`?(?P<opt>--[a-z][a-z0-9-]*)[ =]`?(?P<value>[A-Za-z0-9_.:/+-]+)`?\s*\(default\)")
"""--opt VALUE (default): the option shown with a value, marked as the default."""
_HELP_DEFAULT = re.compile(r"default:?\s+`?([A-Za-z0-9_.:/+-]+)")


def _commands(cmd: click.Command, path: str):
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            yield from _commands(sub, f"{path} {name}")


def _shown(value) -> str | None:
    """A click default as the docs would write it; None when there is no static default."""
    if value is None or type(value).__name__ == "Sentinel" or callable(value):
        return None
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def real_defaults() -> dict[str, dict[str, set[str]]]:
    """{option: {where: the values it defaults to}} for every option of every `extractor` command
    and every `[generation]` key."""
    out: dict[str, dict[str, set[str]]] = {}
    for path, cmd in _commands(cli, "extractor"):
        for p in cmd.params:
            if not isinstance(p, click.Option):
                continue
            values = set()
            shown = _shown(False if p.is_flag and _shown(p.default) is None else p.default)
            if shown is not None:
                values.add(shown)
            values.update(m.rstrip(".") for m in _HELP_DEFAULT.findall(p.help or "") if m not in ("the", "a", "an"))
            for opt in p.opts:
                out.setdefault(opt, {})[path] = values
    for f in dataclasses.fields(Settings):
        out.setdefault(f"[generation] {f.name}", {})["Settings"] = {_shown(f.default)}
    return out


def quoted_defaults(text: str) -> list[tuple[int, str, str]]:
    """(line, option, value) for every default the text quotes in a recognised form."""
    found = []
    for pattern in (QUOTED, INLINE):
        for m in pattern.finditer(text):
            value = m.group("value").strip("`'\"").rstrip(".")
            found.append((text.count("\n", 0, m.start()) + 1, m.group("opt"), value))
    return sorted(set(found))


def _same(quoted: str, real: str) -> bool:
    if quoted.lower() == real.lower():
        return True
    try:
        return float(quoted) == float(real)
    except ValueError:
        return False


def check_defaults(text: str, defaults: dict[str, dict[str, set[str]]], name: str = "<text>") -> list[str]:
    """One message per quoted default that is not the real one (or whose option does not exist)."""
    errors = []
    for line, opt, value in quoted_defaults(text):
        where = defaults.get(opt)
        if not where:
            errors.append(f"{name}:{line}: `{opt}` is quoted with default {value!r}, but no command has {opt}")
            continue
        if not any(_same(value, real) for values in where.values() for real in values):
            real = "; ".join(f"{w}: {', '.join(sorted(v)) or 'none'}" for w, v in sorted(where.items()))
            errors.append(f"{name}:{line}: `{opt}` quoted with default {value!r}; the real default is {real}")
    return errors


@pytest.fixture(scope="module")
def defaults():
    return real_defaults()


def test_quoted_cli_defaults_match_the_code(defaults):
    errors, seen = [], []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        seen += [(path.name, opt) for _, opt, _ in quoted_defaults(text)]
        errors += check_defaults(text, defaults, str(path.relative_to(ROOT)))
    assert not errors, "\n".join(errors)
    # the check is not vacuous: the defaults the docs are known to quote are found
    assert ("extraction.md", "--batch-size") in seen
    assert ("README.md", "--batch-size") in seen
    assert ("README.md", "--variant") in seen
    assert ("training.md", "--quant") in seen
    assert ("serving.md", "[generation] concurrency") in seen


@pytest.mark.parametrize("text, bad", [
    ("records are written per batch (`--batch-size`, default 16).", False),
    ("`--batch-size` defaults to 16", False),
    ("`--batch-size` (default: 16)", False),
    ("`--task NAME|DIR` (default `cantos`) names it", False),
    ("extractor export RUN   # --quant q8_0 (default) | f16", False),
    ("`--alpha` defaults to 0.050", False),
    ("`[generation] batch_size` (default 16)", False),
    ("records are written per batch (`--batch-size`, default 8).", True),
    ("`--batch-size` defaults to 8", True),
    ("`--variant` defaults to `adapter-gguf`", True),
    ("extractor export RUN   # --quant f16 (default) | q8_0", True),
    ("`[generation] concurrency` (default 4)", True),
    ("`--no-such-option` (default 3)", True),
])
def test_the_checker_catches_a_wrong_default(defaults, text, bad):
    assert quoted_defaults(text), f"the pattern does not recognise {text!r}"
    assert bool(check_defaults(text, defaults)) == bad


def test_readme_is_short_and_stays_in_the_repository():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) < 260
    assert "../shared" not in text
    for path in [*DOCS, *sorted((ROOT / "datasets").glob("*/README.md"))]:
        assert "../shared" not in path.read_text(encoding="utf-8"), path


_FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    out, counts = set(), {}
    for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", _FENCE.sub("", path.read_text(encoding="utf-8")), re.M):
        slug = _slug(m.group(1))
        n = counts.get(slug, 0)
        counts[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def links(path: Path) -> list[str]:
    return _LINK.findall(_FENCE.sub("", path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_relative_links_point_at_files_in_the_repository(doc):
    broken = []
    for target in links(doc):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        dest = (doc.parent / file).resolve() if file else doc
        if ROOT not in dest.parents and dest != ROOT:
            broken.append(f"{target}: outside the repository")
        elif not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading #{anchor} in {dest.relative_to(ROOT)}")
    assert not broken, f"{doc.relative_to(ROOT)}: " + "; ".join(broken)


_REPO_PATH = re.compile(r"`((?:extractor|docs|configs|evals|datasets|bench|tests)/[A-Za-z0-9_./-]*)`")
EXAMPLES = {"evals/invoices.toml"}
"""Paths the docs name as examples of a user's own files (docs/tasks.md, "Bring your own task")."""


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_repository_paths_in_backticks_exist(doc):
    """`extractor/...`, `configs/...` and the like name files of this repository (placeholders in
    capitals, such as `datasets/NAME/`, and the user-file examples aside): a renamed or removed file
    shows here."""
    missing = [p for p in _REPO_PATH.findall(doc.read_text(encoding="utf-8"))
               if p not in EXAMPLES and not re.search(r"[A-Z]{3,}", p) and not (ROOT / p).exists()]
    assert not missing, f"{doc.relative_to(ROOT)} names files that do not exist: {missing}"


def test_the_link_check_sees_links():
    readme = links(ROOT / "README.md")
    assert "docs/experiments.md" in readme and "docs/performance.md" in readme
    assert "what-to-expect" in anchors(ROOT / "README.md")
