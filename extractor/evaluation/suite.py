"""Evaluation suites: which data, which variants, which generation settings, which gates.

A suite is a TOML file:

    name = "cantos"
    task = "cantos"                    # a registered name or a task directory; default: the default task
    base_model = "smollm2-135m"        # what base-gguf runs when no --run is given
    limit = 0                          # only the first N rows of each data file (0: all)
    variants = ["rules", "base-gguf", "merged-gguf", ...]
    [data]                             # label -> JSONL file
    test = "pkg:extractor.tasks.cantos/test.jsonl"
    [generation]                       # runtimes.variant.Settings
    max_new_tokens = 256
    [[thresholds]]                     # gates for `extractor eval --check`
    data = "test"
    variants = ["merged-gguf"]
    exact_match = 0.62

A data path ``pkg:PACKAGE/FILE`` is a file inside an installed Python package, wherever it is
installed: the built-in tasks' test splits ship in the package that way, so their suites work from
any directory. Every task may ship a default suite (``Task.suite``); `extractor eval` uses it when
no ``--suite`` is given: there, relative data paths are read from the working directory, and
``--data`` replaces them. A suite file of your own reads them relative to the directory above its
own (``evals/x.toml`` -> the repository root).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import ConfigError
from ..core.files import PACKAGE_PREFIX, package_file
from ..core.metrics import directions
from ..core.task import Task
from ..runtimes.variant import Settings, parse_name
from ..tasks.registry import get_task, is_registered

KEYS = {"name", "task", "data", "variants", "generation", "base_model", "thresholds", "limit", "decision"}


@dataclass
class Threshold:
    """A gate: every listed variant must reach each bound on the named data file."""

    data: str
    variants: list[str]
    bounds: dict[str, float]
    """metric -> bound; a minimum for higher-is-better metrics, a maximum for the others."""


@dataclass
class Suite:
    """An evaluation definition, its task resolved."""

    name: str
    task: Task
    data: dict[str, Path]
    """Label -> JSONL file."""
    variants: list[str]
    settings: Settings = field(default_factory=Settings)
    base_model: str = "smollm2-135m"
    thresholds: list[Threshold] = field(default_factory=list)
    limit: int = 0
    """Only the first N rows of each data file (0: all)."""
    source: str = ""
    """The file it was read from (for error messages)."""
    decision: str = ""
    """The data label the verdict a user acts on is about (the report's headline); the other
    labels are for choosing a run. Empty: the last label."""

    @property
    def decision_label(self) -> str:
        return self.decision if self.decision in self.data else (list(self.data)[-1] if self.data else "")

    def check_files(self) -> None:
        """Every data file exists; else one line naming it and the fix."""
        if not self.data:
            raise ConfigError(f"{self.source or 'the suite'}: no data to evaluate; pass --data FILE.jsonl")
        for label, p in self.data.items():
            if not p.is_file():
                raise ConfigError(f"{self.source or 'the suite'}: data.{label} = {str(p)!r}: file not found; "
                                  "pass --data FILE.jsonl, or run from the directory the suite's paths are relative to")

    def use_data(self, files: list[Path]) -> None:
        """Evaluate these files instead (labelled by their stems); thresholds on other labels go."""
        self.data = {Path(f).stem: Path(f) for f in files}
        self.decision = self.decision if self.decision in self.data else ""
        self.thresholds = [t for t in self.thresholds if t.data in self.data]

    def use_variants(self, names: list[str]) -> None:
        """Evaluate these variants instead; thresholds keep only the variants still evaluated."""
        self.variants = [str(parse_name(v)) for v in names]
        for t in self.thresholds:
            t.variants = [v for v in t.variants if v in self.variants]
        self.thresholds = [t for t in self.thresholds if t.variants]


def default_suite(task: Task) -> Suite:
    """The task's own suite (``Task.suite``), or an empty one (data and variants to be given)."""
    if task.suite is not None:
        return load_suite(task.suite, task, packaged=True)
    return Suite(task.name, task, {}, [])


def load_suite(path: str | Path, task: Task | None = None, *, packaged: bool = False) -> Suite:
    """Read and validate a suite file; every mistake names the file and the key. ``task``: the
    task already resolved by the caller (a ``--task``, a run's card), which replaces the suite's
    own; the suite's thresholds then apply only if its task is the same. ``packaged``: the suite
    ships with its task, and its relative data paths are read from the working directory
    (``pkg:PACKAGE/FILE`` paths are read from the package wherever the suite is)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: suite file not found; leave --suite out to use the task's own suite") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid TOML ({e})") from None
    for key in raw:
        if key not in KEYS:
            raise ConfigError(f"{path}: unknown key {key!r}; known keys: {', '.join(sorted(KEYS))}")
    root = Path.cwd() if packaged else path.resolve().parent.parent
    own = _own_task(raw.get("task"), root, path)
    if task is None:
        task = own
    files = {}
    for label, rel in (raw.get("data") or {}).items():
        if not isinstance(rel, str):
            raise ConfigError(f"{path}: data.{label} = {rel!r} must be a path")
        if rel.startswith(PACKAGE_PREFIX):
            try:
                files[label] = package_file(rel)
            except LookupError as e:
                raise ConfigError(f"{path}: data.{label} = {rel!r}: {e}; install it, or pass --data FILE.jsonl") from None
        else:
            files[label] = Path(rel) if Path(rel).is_absolute() else root / rel
    variants = raw.get("variants") or []
    if not isinstance(variants, list):
        raise ConfigError(f"{path}: variants must be a list of names, e.g. [\"merged-gguf\", \"rules\"]")
    for v in variants:
        try:
            parse_name(v)
        except ConfigError as e:
            raise ConfigError(f"{path}: variants: {e}") from None
    settings = Settings.from_toml(raw.get("generation") or {}, f"{path}: generation")
    thresholds = _thresholds(raw.get("thresholds") or [], files, task, path) if own is task else []
    limit = raw.get("limit", 0)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ConfigError(f"{path}: limit = {limit!r} must be a number of rows (0: all)")
    decision = raw.get("decision", "")
    if decision and decision not in files:
        raise ConfigError(f"{path}: decision = {decision!r} is not one of the [data] labels {sorted(files)}")
    return Suite(raw.get("name", path.stem), task, files, list(variants), settings,
                 raw.get("base_model", "smollm2-135m"), thresholds, limit, source=str(path), decision=decision)


def _own_task(name, root: Path, path: Path) -> Task:
    if name is not None and (not isinstance(name, str) or not name):
        raise ConfigError(f"{path}: task = {name!r} must be a task name or a task directory")
    if name and not Path(name).is_absolute() and not is_registered(name) and (root / name).is_dir():
        name = str(root / name)  # a task directory, relative like the data files
    try:
        return get_task(name)
    except ConfigError as e:
        raise ConfigError(f"{path}: task: {e}") from None


def _thresholds(raw: list, files: dict[str, Path], task: Task, path: Path) -> list[Threshold]:
    ranked = directions(task.metrics)
    out = []
    for i, t in enumerate(raw):
        where = f"{path}: thresholds[{i}]"
        t = dict(t)
        label, names = t.pop("data", None), t.pop("variants", None)
        if label not in files:
            raise ConfigError(f"{where}: data = {label!r} is not one of the [data] labels {sorted(files)}")
        if not names:
            raise ConfigError(f"{where}: list the variants the bounds apply to")
        for k, v in t.items():
            if ranked.get(k) is None:
                usable = [m for m, d in ranked.items() if d is not None]
                raise ConfigError(f"{where}: {k!r} is not a metric with a direction of task {task.name!r}; "
                                  f"use one of {', '.join(usable)}")
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ConfigError(f"{where}: {k} = {v!r} must be a number")
        out.append(Threshold(label, list(names), {k: float(v) for k, v in t.items()}))
    return out
