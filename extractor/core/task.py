"""A task: a JSON Schema for the answer, prompts, and metrics that compare an answer with its gold.

Core code (``data check``, the trainer, ``eval``, ``report``) goes through the ``Task`` Protocol
and never names a domain. ``get_task(name_or_path)`` resolves:

1. a built-in name (``cantos``, ``citations``),
2. a Python task registered under the entry-point group ``extractor.tasks`` (``name = "module:attr"``,
   the attribute being a Task or a callable returning one),
3. a directory holding ``task.toml`` and ``schema.json`` (a file-defined task, ``extractor.filetask``).

What every task shares lives here too: ``Sample`` (one scored row) and ``core_metrics`` (schema
validity, exact match, stopping, runaway, latency, throughput), with their directions.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .errors import ConfigError
from .generation import ran_on

if TYPE_CHECKING:
    from .sample_record import SampleRecord

ENTRY_POINT_GROUP = "extractor.tasks"
DEFAULT_TASK = "cantos"
BUILTIN_DIR = Path(__file__).resolve().parent / "tasks"


@runtime_checkable
class Task(Protocol):
    """What the core needs of a task. ``extractor.tasks.cantos.CantosTask`` and
    ``extractor.filetask.FileTask`` are the two implementations.

    Optional members the core looks for: ``has_rules = False`` (the ``rules`` variant is skipped
    with that reason), ``references(output)`` (a typed gold answer for
    ``data.Example.references``; Cantos' ``Reference`` tuple) and ``f1_counts(sample)`` (below)."""

    name: str
    """The task's name, recorded in eval.json and report.json."""
    schema: dict[str, Any]
    """JSON Schema (Draft 2020-12) of an answer; also the grammar of ``+grammar`` variants."""
    system: str
    """System prompt of trained runs (``TrainConfig.system`` defaults to it)."""
    instruction: str
    """System prompt of the base model: the convention in words plus few-shot examples."""
    metric_directions: dict[str, bool | None]
    """Every metric key of ``aggregate`` -> True (higher is better), False (lower is), None (a count)."""
    headline: tuple[str, ...]
    """The metric keys report tables show, in order."""

    def schema_errors(self, value: Any) -> list[str]:
        """Every schema violation of an answer as ``$.path: message``; empty when valid."""

    def parse_answer(self, raw: str) -> Any:
        """Raw model text -> a parsed output with ``status``, ``valid``, ``value``, ``json_text``,
        ``rest`` and ``error`` (``extractor.parsing.Answer`` or a task's richer type)."""

    def canonical(self, answer: Any) -> str:
        """Canonical JSON text of an answer: two answers are an exact match when these are equal."""

    def answer_text(self, answer: Any) -> str:
        """The completion a model is trained to emit for a gold answer (a JSON value)."""

    def record(self, example: Any, parsed: Any) -> dict[str, Any]:
        """The task's part of a samples.jsonl record for a ``data.Example`` and its parsed output:
        ``gold`` and the predicted answer under the task's own key(s) (``SampleRecord.task_fields``)."""

    def score(self, record: "SampleRecord") -> "Sample":
        """One samples.jsonl record (``extractor.sample_record.SampleRecord``, also a read-only
        Mapping of its JSON keys) -> its Sample (re-parses the raw output; runs no model)."""

    def aggregate(self, samples: list["Sample"]) -> dict[str, Any]:
        """Every metric of ``metric_directions`` for one (variant, data file)."""

    def rules(self, text: str) -> Any:
        """A deterministic baseline's answer for ``text``; raise ConfigError when the task has none."""

    # Optional (not checked by isinstance): ``f1_counts(sample) -> {metric: (tp, n_pred, n_gold)}``,
    # one Sample's counts of each micro F1 figure of ``aggregate`` (metric: its key there), so that
    # F1 = 2 * sum(tp) / (sum(n_pred) + sum(n_gold)) over rows. ``report compare`` resamples rows and
    # sums these for its paired bootstrap; a task without it is compared on the core flags only.
    # Cantos: canto_f1 and line_f1; file tasks: f1 (fields.py's leaf counts).


@dataclass(frozen=True)
class Sample:
    """What one row contributes to the metrics, whatever the task."""

    gold: Any
    """The gold answer (a JSON value, or the task's own type)."""
    parsed: Any
    """The parsed output (``status``, ``valid``, ``value``...)."""
    finish_reason: str
    """`stop`, `length` or `error`."""
    seconds: float = 0.0
    gen_tokens: int = 0
    exact: bool = False
    """The answer is valid and canonically equal to the gold."""
    result: Any = None
    """The task's per-sample field result (``fields.FieldScore`` for file tasks)."""

    @property
    def clean_stop(self) -> bool:
        """The answer is valid JSON, nothing follows it, and the model ended its turn itself."""
        return self.parsed.status == "clean" and self.finish_reason == "stop"


CORE_DIRECTIONS: dict[str, bool | None] = {
    "n": None, "schema_valid": True, "exact_match": True, "clean_stop": True, "trailing_text": False,
    "chained_turn": False, "runaway": False, "latency_p50_s": False, "latency_p95_s": False,
    "gen_tokens_per_s": True, "examples_per_s": True,
}


def meets(value: float | None, bound: float, higher: bool | None) -> bool:
    """Whether a metric's value satisfies a bound in the metric's direction (``higher``: True when
    higher is better, so the bound is a minimum; False: a maximum). A missing value never does.
    The one comparison behind suite thresholds, ``testing.assert_thresholds`` and the verdict's gates."""
    if higher is None:
        raise ValueError("a count has no direction: it cannot be held to a bound")
    return value is not None and (value >= bound if higher else value <= bound)


def rate(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def core_metrics(samples: list) -> dict[str, Any]:
    """The metrics every task shares (CORE_DIRECTIONS), from samples with ``parsed``,
    ``finish_reason``, ``seconds``, ``gen_tokens``, ``exact`` and ``clean_stop``."""
    timed = [s for s in samples if s.finish_reason != "error"]
    total_s = sum(s.seconds for s in timed)
    return {
        "n": len(samples),
        "schema_valid": rate([s.parsed.valid for s in samples]),
        "exact_match": rate([s.exact for s in samples]),
        "clean_stop": rate([s.clean_stop for s in samples]),
        "trailing_text": rate([s.parsed.status == "trailing_text" for s in samples]),
        "chained_turn": rate([s.parsed.status == "chained_turn" for s in samples]),
        "runaway": rate([ran_on(s.finish_reason) for s in samples]),
        "latency_p50_s": percentile([s.seconds for s in timed], 0.50),
        "latency_p95_s": percentile([s.seconds for s in timed], 0.95),
        "gen_tokens_per_s": sum(s.gen_tokens for s in timed) / total_s if total_s else None,
        "examples_per_s": len(timed) / total_s if total_s else None,
    }


# ----------------------------------------------------------------------------- registry
_LOADED: dict[str, Task] = {}


def _builtin_names() -> list[str]:
    return ["cantos"] + sorted(p.name for p in BUILTIN_DIR.iterdir() if (p / "task.toml").is_file())


def _entry_points() -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def known_tasks() -> list[str]:
    """Every task name ``get_task`` resolves (built-in and registered)."""
    return sorted(set(_builtin_names()) | set(_entry_points()))


def get_task(name_or_path: "str | Path | Task | None" = None) -> Task:
    """The task named (built-in or entry point) or defined in a directory; None is ``cantos``."""
    if name_or_path is None:
        name_or_path = DEFAULT_TASK
    if not isinstance(name_or_path, (str, Path)):
        return name_or_path  # already a task
    key = str(name_or_path)
    if key in _LOADED:
        return _LOADED[key]
    task = _resolve(key)
    _LOADED[key] = task
    return task


def _resolve(key: str) -> Task:
    if key == "cantos":
        from .tasks.cantos import CantosTask

        return CantosTask()
    from .filetask import load_task_dir

    if "/" not in key and "\\" not in key and (BUILTIN_DIR / key / "task.toml").is_file():
        return load_task_dir(BUILTIN_DIR / key)
    eps = _entry_points()
    if key in eps:
        obj = eps[key].load()
        task = obj() if callable(obj) and not isinstance(obj, Task) else obj
        if not isinstance(task, Task):
            raise ConfigError(f"entry point {ENTRY_POINT_GROUP}:{key} = {eps[key].value} is not a Task "
                              "(see extractor/task.py for the attributes and methods it needs)")
        return task
    path = Path(key)
    if path.is_dir():
        return load_task_dir(path)
    if path.exists():
        raise ConfigError(f"task {key!r} is a file; pass the directory holding task.toml and schema.json")
    raise ConfigError(f"unknown task {key!r}: known tasks are {', '.join(known_tasks())}, or pass a directory "
                      "holding task.toml and schema.json (docs/tasks.md, \"Bring your own task\")")
