"""The package's layers: import-linter's contracts (pyproject.toml) hold, and no code outside
extractor/tasks/ names a task - no import, name, attribute or string of its own (docstrings,
`--help` texts and comments may give examples)."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "extractor"
TASK_NAMES = ("cantos", "citations", "canto")
TASK_FIELDS = ("references",)
"""Names of a task's fields: code may not use them as names; prose may say "references"."""


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            for i, stmt in enumerate(body):
                # a docstring, or the attribute docstring after an assignment
                if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
                    if i == 0 or isinstance(body[i - 1], (ast.Assign, ast.AnnAssign)):
                        out.add(id(stmt.value))
    return out


def _help_texts(tree: ast.AST) -> set[int]:
    """ids of the string constants inside a `help=...` keyword argument (click options)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "help":
            out.update(id(n) for n in ast.walk(node.value) if isinstance(n, ast.Constant))
    return out


def task_mentions(path: Path) -> list[str]:
    """Every place in ``path``'s code (not its docstrings or help texts) that names a task."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    allowed = _docstrings(tree) | _help_texts(tree)
    found = []

    def hit(text: str, names=TASK_NAMES) -> bool:
        low = text.lower()
        return any(name in low for name in names)

    def named(text: str) -> bool:
        return hit(text, TASK_NAMES + TASK_FIELDS)

    for node in ast.walk(tree):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in allowed and hit(node.value):
            found.append(f"{where}: string {node.value[:60]!r}")
        elif isinstance(node, ast.Name) and named(node.id):
            found.append(f"{where}: name {node.id}")
        elif isinstance(node, ast.Attribute) and named(node.attr):
            found.append(f"{where}: attribute {node.attr}")
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) and named(node.name):
            found.append(f"{where}: definition {node.name}")
        elif isinstance(node, ast.arg) and named(node.arg):
            found.append(f"{where}: parameter {node.arg}")
        elif isinstance(node, ast.ImportFrom) and (hit(node.module or "") or any(hit(a.name) for a in node.names)):
            found.append(f"{where}: import from {node.module}")
        elif isinstance(node, ast.Import) and any(hit(a.name) for a in node.names):
            found.append(f"{where}: import")
    return found


def test_no_code_outside_tasks_names_a_task():
    files = [p for p in PACKAGE.rglob("*.py") if "tasks" not in p.relative_to(PACKAGE).parts]
    assert len(files) > 30
    found = [m for p in sorted(files) for m in task_mentions(p)]
    assert found == [], "\n".join(found)


def test_the_checker_sees_names_strings_and_imports(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('"""Cantos in a docstring is fine."""\nfrom x.tasks.cantos import SYSTEM\n'
                   'def f(task):\n    """and here."""\n    return task.name == "cantos" or references\n'
                   'import click\nopt = click.option("--x", help="cantos in help is fine")\n')
    found = {m.split(": ", 1)[1] for m in task_mentions_at(bad, tmp_path)}
    assert found == {"import from x.tasks.cantos", "string 'cantos'", "name references"}


def task_mentions_at(path: Path, root: Path) -> list[str]:
    global ROOT
    saved, ROOT = ROOT, root
    try:
        return task_mentions(path)
    finally:
        ROOT = saved


@pytest.mark.skipif(shutil.which("lint-imports", path=str(Path(sys.executable).parent)) is None,
                    reason="import-linter is installed by `make install`")
def test_import_contracts_hold():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    r = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "broken" not in r.stdout.lower() or "0 broken" in r.stdout
