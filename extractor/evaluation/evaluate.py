"""Running an evaluation: suite files, and a generation loop that survives interruption.

Generating, scoring and rendering are separate steps with files between them. This module only
generates: every sample's record (``extractor.sample_record.SampleRecord``) is appended to
``OUT/samples.jsonl`` as soon as it exists (``sample_record.Writer``, an ``extractor.journal``:
one whole line per write, fsync'd), so a killed run loses at most the sequences in flight, and
``--resume`` skips every (data, variant, id) already recorded. Scoring reads that file
(`extractor.report`), so re-scoring never re-runs a model.
"""

from __future__ import annotations

import json
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import data as data_mod
from . import journal, sample_record
from .errors import ConfigError
from .hardware import PRECISIONS
from .progress import Bar
from .runs import write_json
from .sample_record import SAMPLES, SampleRecord
from .task import DEFAULT_TASK, get_task, known_tasks
from .variants import RunArtefacts, Settings, Skip, build, parse_name

EVAL_JSON = "eval.json"


@dataclass
class Threshold:
    """A gate: every listed variant must reach each bound on the named data file."""

    data: str
    variants: list[str]
    bounds: dict[str, float]
    """metric -> bound; a minimum for higher-is-better metrics, a maximum for the others."""


@dataclass
class Suite:
    """An evaluation definition (evals/*.toml)."""

    name: str
    data: dict[str, Path]
    """Label -> JSONL file (relative paths are relative to the suite file's directory's parent)."""
    variants: list[str]
    settings: Settings = field(default_factory=Settings)
    base_model: str = "smollm2-135m"
    thresholds: list[Threshold] = field(default_factory=list)
    limit: int = 0
    """Only the first N rows of each data file (0: all)."""
    task: str = DEFAULT_TASK
    """The task (`extractor.task.get_task`): built-in name, entry point or task directory."""


def load_suite(path: str | Path) -> Suite:
    """Read and validate a suite file; every mistake names the file and the key."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: suite file not found (the default is evals/cantos.toml)") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML ({e})") from None
    known = {"name", "task", "data", "variants", "generation", "base_model", "thresholds"}
    for key in raw:
        if key not in known:
            raise ConfigError(f"{path}: unknown key {key!r}; known keys: {', '.join(sorted(known))}")
    root = path.resolve().parent.parent
    task_name = raw.get("task", DEFAULT_TASK)
    if not isinstance(task_name, str) or not task_name:
        raise ConfigError(f"{path}: task = {task_name!r} must be a task name or a task directory")
    if not Path(task_name).is_absolute() and task_name not in known_tasks() and (root / task_name).is_dir():
        task_name = str(root / task_name)  # a task directory, relative like the data files
    try:
        task = get_task(task_name)
    except ConfigError as e:
        raise ConfigError(f"{path}: task: {e}") from None
    directions = task.metric_directions
    files = {}
    for label, rel in (raw.get("data") or {}).items():
        p = Path(rel) if Path(rel).is_absolute() else root / rel
        if not p.is_file():
            raise ConfigError(f"{path}: data.{label} = {rel!r}: file not found")
        files[label] = p
    if not files:
        raise ConfigError(f"{path}: no [data] files; add e.g. test = \"datasets/cantos/test.jsonl\"")
    variants = raw.get("variants") or []
    for v in variants:
        try:
            parse_name(v)
        except ConfigError as e:
            raise ConfigError(f"{path}: variants: {e}") from None
    gen = raw.get("generation") or {}
    settings = Settings()
    for key, value in gen.items():
        if not hasattr(settings, key):
            raise ConfigError(f"{path}: generation.{key} is unknown; known: {', '.join(vars(Settings()))}")
        if key == "precision":
            if value not in PRECISIONS:
                raise ConfigError(f"{path}: generation.precision = {value!r} must be one of {', '.join(PRECISIONS)}")
        elif key == "stop_loops":
            if not isinstance(value, bool):
                raise ConfigError(f"{path}: generation.stop_loops = {value!r} must be true or false")
        elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{path}: generation.{key} = {value!r} must be a non-negative integer")
        setattr(settings, key, value)
    thresholds = []
    for i, t in enumerate(raw.get("thresholds") or []):
        where = f"{path}: thresholds[{i}]"
        t = dict(t)
        label, names = t.pop("data", None), t.pop("variants", None)
        if label not in files:
            raise ConfigError(f"{where}: data = {label!r} is not one of the [data] labels {sorted(files)}")
        if not names:
            raise ConfigError(f"{where}: list the variants the bounds apply to")
        for k, v in t.items():
            if directions.get(k) is None:
                ranked = [m for m, d in directions.items() if d is not None]
                raise ConfigError(f"{where}: {k!r} is not a metric with a direction of task {task.name!r}; "
                                  f"use one of {', '.join(ranked)}")
            if not isinstance(v, (int, float)):
                raise ConfigError(f"{where}: {k} = {v!r} must be a number")
        thresholds.append(Threshold(label, list(names), {k: float(v) for k, v in t.items()}))
    return Suite(raw.get("name", path.stem), files, list(variants), settings, raw.get("base_model", "smollm2-135m"),
                 thresholds, task=task_name)


def read_samples(path: Path) -> list[SampleRecord]:
    """Every whole record of a samples file (none if it does not exist; ``sample_record.read``). A
    torn last line (a crash mid-write) is left out, not cut: ``run_eval --resume`` repairs the file."""
    return sample_record.read(path)


def _shown(path: Path) -> str:
    # Reports are shared: a data file under the working directory is named relative to it.
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def record(label: str, variant: str, ex: data_mod.Example, gen, task=None) -> SampleRecord:
    """One samples.jsonl record; ``gold`` and the answer (Cantos: ``references``) are the task's."""
    task = get_task(task)
    p = task.parse_answer(gen.text)
    own = dict(task.record(ex, p))
    gold = own.pop("gold")
    try:
        return SampleRecord(data=label, variant=variant, id=ex.id, tags=tuple(ex.tags), input=ex.input, gold=gold,
                            raw=gen.text, finish_reason=gen.finish_reason, status=p.status, task_fields=own,
                            rest=p.rest, parse_error=p.error, prompt_tokens=gen.prompt_tokens,
                            gen_tokens=gen.gen_tokens, seconds=round(gen.seconds, 4), error=gen.error)
    except ValueError as e:  # a task whose record() returns a key of the core (say "raw")
        raise ConfigError(f"task {task.name!r}: record() gave {sorted(own)}: {e}") from None


def run_eval(suite: Suite, runs: dict[str | None, str | Path], out: Path, resume: bool = False,
             progress: bool = True, log=print) -> dict:
    """Generate every missing sample into out/samples.jsonl; return eval.json's content."""
    out.mkdir(parents=True, exist_ok=True)
    samples_path = out / SAMPLES
    if samples_path.exists() and not resume:
        raise ConfigError(f"{samples_path} exists: add --resume to continue it, or pick another --out")
    journal.recover(samples_path)
    done = {r.key for r in read_samples(samples_path)}
    artefacts = {label: RunArtefacts.load(d) for label, d in runs.items()}
    names = [parse_name(v) for v in suite.variants]
    task = get_task(suite.task)
    datasets = {label: data_mod.load([p], task)[: suite.limit or None] for label, p in suite.data.items()}
    meta_path = out / EVAL_JSON
    meta = json.loads(meta_path.read_text()) if resume and meta_path.is_file() else {}
    adapters = {str(k or "default"): a.adapter_sha256 for k, a in artefacts.items()}
    for label, sha in (meta.get("adapters") or {}).items():
        if label in adapters and adapters[label] != sha:
            raise ConfigError(f"{out}: its samples came from another adapter for run {label!r} (retrained since?). "
                              f"Evaluate into a new --out, or delete {samples_path} to start over.")
    meta["adapters"] = {**(meta.get("adapters") or {}), **adapters}
    if meta.get("task", task.name) != task.name:
        raise ConfigError(f"{out}: its samples are of task {meta['task']!r}, not {task.name!r}; evaluate into a new --out")
    # Re-scoring finds the task again from here: a name, or a task directory's absolute path.
    source = suite.task if suite.task in known_tasks() or not Path(suite.task).is_dir() else str(Path(suite.task).resolve())
    meta.update({"suite": suite.name, "task": task.name, "task_source": source, "variants": [str(n) for n in names],
                 "data": {k: _shown(v) for k, v in suite.data.items()},
                 "runs": {str(k or "default"): str(v) for k, v in runs.items()}, "settings": vars(suite.settings),
                 "thresholds": [vars(t) for t in suite.thresholds]})
    meta.setdefault("skipped", {})
    meta.setdefault("wall_seconds", {})
    total = sum(len(rows) for rows in datasets.values()) * len(names)
    bar = Bar("eval", total, len(done), progress)
    with bar, sample_record.Writer(samples_path) as sink:
        for name in names:
            label = str(name)
            todo = [(d, ex) for d, rows in datasets.items() for ex in rows if (d, label, ex.id) not in done]
            if not todo:
                continue
            try:
                # The task goes to build() only when it is not the default, so a build() taking
                # four arguments (tests' scripted variants) still serves Cantos suites.
                extra = {} if task.name == DEFAULT_TASK else {"task": task}
                variant = build(name, artefacts, suite.settings, suite.base_model, **extra)
            except Skip as s:
                meta["skipped"][label] = str(s)
                bar.update(advance=len(todo))
                log(f"{label}: skipped ({s})")
                continue
            t0 = time.perf_counter()
            # A streaming variant (llama.cpp, continuous batching) gets many prompts at once and
            # each record is written as its sequence finishes; the others go batch by batch.
            stream = getattr(variant, "stream", None)
            step = max(1, suite.settings.batch_size) * (8 if stream else 1)
            try:
                for i in range(0, len(todo), step):
                    chunk = todo[i:i + step]
                    bar.update(label=label)
                    inputs = [ex.input for _, ex in chunk]
                    results = stream(inputs) if stream else enumerate(variant.generate(inputs))
                    for j, g in results:
                        d, ex = chunk[j]
                        sink.append(record(d, label, ex, g, task))
                        bar.update(advance=1)
            finally:
                variant.close()
            meta["wall_seconds"][label] = round(meta["wall_seconds"].get(label, 0) + time.perf_counter() - t0, 2)
            write_json(meta_path, meta)
    write_json(meta_path, meta)
    return meta

