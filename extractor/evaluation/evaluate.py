"""Running an evaluation: a generation loop that survives interruption.

Generating, scoring and rendering are separate steps with files between them. This module only
generates: every sample's record (``core.sample_record.SampleRecord``) is appended to
``OUT/samples.jsonl`` as soon as it exists (``sample_record.Writer``, a ``core.journal``: one
whole line per write, fsync'd), so a killed run loses at most the sequences in flight, and
``--resume`` skips every (data, variant, id) already recorded. Scoring reads that file
(``evaluation.report``), so re-scoring never re-runs a model.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from ..core import data as data_mod
from ..core import confidence, journal, sample_record
from ..core.errors import ConfigError
from ..core.progress import Bar
from ..core.sample_record import SAMPLES, SampleRecord
from ..core.task import Task
from ..core.faults import Backoff, Outage
from ..core.generation import Generation, Prior, transient
from ..runtimes.run_card import RunArtefacts
from ..runtimes.variant import Settings, Skip, VariantName, parse_name
from ..runtimes import retry
from . import likelihood as lk
from ..runtimes.variants import Sources, build
from ..tasks.registry import source
from .records import FORMAT, EvalLog, ThresholdRecord, read_eval, write_eval
from .suite import Suite

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


def record(label: str, variant: str, ex: data_mod.Example, gen: Generation, task: Task,
           keep_tokens: bool = False) -> SampleRecord:
    """One samples.jsonl record; ``gold`` and the answer's keys are the task's (``Task.record``).
    ``keep_tokens``: record the output's token ids, for a ``+grammar`` row to continue from."""
    p = task.parse_answer(gen.text)
    own = dict(task.record(ex, p))
    gold = own.pop("gold")
    whole = gen.inherited > 0 and gen.inherited >= gen.gen_tokens  # nothing decoded: no time to report
    try:
        return SampleRecord(data=label, variant=variant, id=ex.id, tags=tuple(ex.tags), input=ex.input, gold=gold,
                            raw=gen.text, finish_reason=gen.finish_reason, status=p.status, task_fields=own,
                            rest=p.rest, parse_error=p.error, prompt_tokens=gen.prompt_tokens,
                            gen_tokens=gen.gen_tokens, seconds=None if whole else round(gen.seconds, 4),
                            error=gen.error, tokens=gen.tokens if keep_tokens else None,
                            stop_token=gen.stop_token if keep_tokens else None, inherited=gen.inherited,
                            retries=gen.retries, **confidence.recorded(gen.text, gen.logprobs, gen.offsets, p))
    except ValueError as e:  # a task whose record() returns a key of the core (say "raw")
        raise ConfigError(f"task {task.name!r}: record() gave {sorted(own)}: {e}") from None


def check_runs(task: Task, runs: dict[str | None, RunArtefacts]) -> None:
    """Every run was trained for ``task``; else one line naming the run and its task."""
    for label, run in runs.items():
        if run.card.task and run.card.task != task.name:
            which = f"--run {label}={run.dir}" if label else f"--run {run.dir}"
            raise ConfigError(f"{which} was trained for the task {run.card.task!r}, but this evaluation is of "
                              f"{task.name!r}; evaluate runs of one task together (or pass --task {run.card.task})")


def _drop_transient(path: Path, log) -> None:
    """Before a resume: records an earlier version wrote of samples a server failed on go, so those
    samples run again (``generation.LEGACY_TRANSIENT``); the file is rewritten whole, atomically."""
    records = read_samples(path)
    keep = [r for r in records if not transient(r.error)]
    if len(keep) < len(records):
        journal.rewrite(path, [r.to_json() for r in keep])
        log(f"{len(records) - len(keep)} sample(s) a server failed on will run again")


def _free(name: VariantName) -> str:
    """The label of the same artefact without the grammar."""
    return str(replace(name, grammar=False))


def _order(names: list[VariantName]) -> list[VariantName]:
    """The suite's order, but a ``+grammar`` row after its free row (which it continues from)."""
    at = {str(n): i for i, n in enumerate(names)}

    def place(i: int) -> float:
        n = names[i]
        return max(i, at[_free(n)] + 0.5) if n.grammar and _free(n) in at else i

    return [names[i] for i in sorted(range(len(names)), key=place)]


def run_eval(suite: Suite, sources: Sources, out: Path, resume: bool = False, progress: bool = True,
             log=print, job_summary: bool = False, likelihood: bool = True,
             reference: str = lk.REFERENCE) -> EvalLog:
    """Generate every missing sample into out/samples.jsonl; return eval.json's record. A fault of
    a server or runtime is retried (``runtimes/retry.py``) and never recorded; when the retry budget
    is spent, ``core.faults.Outage`` saying how many rows are not done. ``job_summary``: the report
    adds the runs' recorded install, training and export times (``make report``). ``likelihood``:
    each artefact also scores the gold answers while it is loaded, and ``reference`` (a variant of
    the suite) says where the others' outputs part from its own (``evaluation/likelihood.py``)."""
    task = suite.task
    runs = sources.runs
    suite.check_files()
    check_runs(task, runs)
    out.mkdir(parents=True, exist_ok=True)
    samples_path = out / SAMPLES
    if samples_path.exists() and not resume:
        raise ConfigError(f"{samples_path} exists: add --resume to continue it, or pick another --out")
    journal.recover(samples_path)
    _drop_transient(samples_path, log)
    existing = read_samples(samples_path)
    done = {r.key for r in existing}
    # The free outputs a +grammar row continues from (generation.Prior): kept from earlier runs'
    # records, and from this run's generations as they come.
    priors = {r.key: Prior(r.tokens, r.finish_reason, r.stop_token, r.logprobs) for r in existing if r.tokens is not None}
    names = _order([parse_name(v) for v in suite.variants])
    twins = {_free(n) for n in names if n.grammar}
    datasets = {label: data_mod.load([p], task)[: suite.limit or None] for label, p in suite.data.items()}
    log_file = read_eval(out) if resume else EvalLog()
    adapters = {str(k or "default"): a.adapter_sha256 for k, a in runs.items()}
    for label, sha in log_file.adapters.items():
        if label in adapters and adapters[label] != sha:
            raise ConfigError(f"{out}: its samples came from another adapter for run {label!r} (retrained since?). "
                              f"Evaluate into a new --out, or delete {samples_path} to start over.")
    if (log_file.task or task.name) != task.name:
        raise ConfigError(f"{out}: its samples are of task {log_file.task!r}, not {task.name!r}; evaluate into a new "
                          "--out")
    log_file.adapters = {**log_file.adapters, **adapters}
    log_file.suite, log_file.task, log_file.task_source = suite.name, task.name, source(task)
    log_file.variants = [str(n) for n in names]
    log_file.data = {k: _shown(v) for k, v in suite.data.items()}
    log_file.decision = suite.decision_label
    log_file.runs = {str(k or "default"): str(v.dir) for k, v in runs.items()}
    log_file.settings = vars(suite.settings)
    log_file.thresholds = [ThresholdRecord(t.data, list(t.variants), dict(t.bounds)) for t in suite.thresholds]
    if sources.endpoints:
        log_file.endpoints = {str(k or "default"): e.describe() for k, e in sources.endpoints.items()}
    log_file.rows = {label: len(rows) for label, rows in datasets.items()}
    log_file.job_summary, log_file.format = job_summary, FORMAT
    total = sum(len(rows) for rows in datasets.values()) * len(names)
    todo = {str(n): [(d, ex) for d, rows in datasets.items() for ex in rows if (d, str(n), ex.id) not in done]
            for n in names}
    lk.recover(out)
    scored = {s.key for s in lk.read(out)} if likelihood else set()
    to_score = {str(n): [(d, ex) for d, rows in datasets.items() for ex in rows if (d, str(n), ex.id) not in scored]
                if likelihood and lk.scored_by(n) else [] for n in names}
    log_file.reference = reference if likelihood else None
    settings = replace(suite.settings, positions=True) if likelihood else suite.settings
    served = _served_first(names, todo, sources, suite, task)  # a server that is not there stops us now
    backoff = Backoff(budget=suite.settings.retry_budget)
    bar = Bar("eval", total, len(done), progress)
    with bar, sample_record.Writer(samples_path) as sink:
        for name in names:
            label = str(name)
            if not todo[label] and not to_score[label]:
                continue
            try:
                variant = served.get(label) or build(name, sources, settings, task)
            except Skip as s:
                log_file.skipped[label] = str(s)
                bar.update(advance=len(todo[label]))
                log(f"{label}: skipped ({s})")
                continue
            if name.served:
                log_file.served[label] = variant.describe()
            if likelihood and lk.scored_by(name):
                log_file.artefacts[label] = variant.facts()
            faults = retry.Faults()
            t0 = time.perf_counter()
            try:
                wanted = to_score[label] if variant.capabilities.scores else []
                reuse = lk.Reuse(variant, wanted, task)
                _generate(variant, name, todo[label], priors, label in twins and not name.grammar, sink, bar,
                          task, suite.settings, backoff, faults, log, reuse)
                t1 = time.perf_counter() - reuse.seconds  # scoring done while generating counts as scoring
                if wanted:
                    lk.score_variant(variant, label, wanted, task, out, backoff, faults, log, reuse)
                    log_file.likelihood_seconds[label] = round(log_file.likelihood_seconds.get(label, 0)
                                                               + time.perf_counter() - t1, 2)
                elif to_score[label]:
                    log_file.not_scored[label] = "its runtime cannot score the gold answers"
                t0 += time.perf_counter() - t1  # the generation's own time
            except Outage as e:
                recorded = {r.key for r in read_samples(samples_path)}
                left = sum(1 for n in names if str(n) not in log_file.skipped for d, ex in todo[str(n)]
                           if (d, str(n), ex.id) not in recorded)
                raise e.with_left(f"{left} of {total} rows not done, nothing recorded for them: run the same "
                                  "command with --resume once it is back") from None
            finally:
                variant.close()
                seconds = log_file.wall_seconds.get(label, 0) + time.perf_counter() - t0
                log_file.wall_seconds[label] = round(seconds, 2)
                if faults.retried:
                    log_file.retries[label] = log_file.retries.get(label, 0) + faults.retried
                    log(faults.line(label))
                write_eval(out, log_file)
    if likelihood and reference in log_file.variants and reference not in log_file.skipped:
        t0 = time.perf_counter()
        n = _margins(names, reference, datasets, out, sources, suite, task, backoff, log)
        if n:
            log_file.likelihood_seconds["margins"] = round(log_file.likelihood_seconds.get("margins", 0)
                                                           + time.perf_counter() - t0, 2)
    write_eval(out, log_file)
    return log_file


def _margins(names: list[VariantName], reference: str, datasets: dict, out: Path, sources: Sources, suite: Suite,
             task: Task, backoff: Backoff, log) -> int:
    """Where each artefact of the reference's own run greedily parts from the reference: the
    reference (loaded once more) gives its margin at the first parting token of every such row not
    yet measured. Other runs and the base model differ by their training, not by a conversion:
    their parting is no near-tie to look for, and is not measured."""
    records = read_samples(out / SAMPLES)
    by: dict[tuple[str, str], dict[str, SampleRecord]] = {}
    for r in records:
        by.setdefault((r.data, r.variant), {})[r.id] = r
    measured = {x.key for x in lk.read_divergences(out)}
    ref_name = next(n for n in names if str(n) == reference)
    others = [str(n) for n in names if lk.scored_by(n) and str(n) != reference and lk.same_run(n, ref_name)]
    if not any((d, v) in by and by[(d, v)].keys() - {i for dd, vv, i in measured if (dd, vv) == (d, v)}
               for d in datasets for v in others):
        return 0
    variant = build(ref_name, sources, suite.settings, task)
    try:
        if not variant.capabilities.scores:
            return 0
        rows = []
        for d in datasets:
            ref = by.get((d, reference), {})
            for v in others:
                for i, prefix, a, b in lk.diverging(ref, by.get((d, v), {}), variant.answer_ids):
                    if (d, v, i) not in measured:
                        rows.append((d, v, i, prefix, a, b))
        inputs = {(d, ex.id): ex.input for d, exs in datasets.items() for ex in exs}
        return lk.margins(variant, reference, rows, inputs, out, backoff, log)
    finally:
        variant.close()


def _served_first(names: list[VariantName], todo: dict, sources: Sources, suite: Suite, task: Task) -> dict:
    """The served variants with rows to run, built (each checks its server and model) before any
    variant runs: a server that is not there stops the evaluation in seconds, not after an hour."""
    out = {}
    for name in names:
        if name.served and todo[str(name)]:
            try:
                out[str(name)] = build(name, sources, suite.settings, task)
            except Skip:
                continue  # recorded when its turn comes
    return out


def _generate(variant, name: VariantName, todo: list, priors: dict, keep: bool, sink, bar, task: Task,
              settings: Settings, backoff: Backoff, faults: retry.Faults, log, reuse: "lk.Reuse") -> None:
    """Every row of ``todo`` through ``variant``, each record appended as it is produced; a fault
    of the server or runtime is retried (``runtimes/retry.py``) and never recorded. ``keep``: record
    the output's tokens, for the ``+grammar`` row of the same artefact that follows."""
    label = str(name)
    continues = variant.capabilities.continues
    # A streaming variant (continuous batching, a server's requests in flight) gets many prompts at
    # once and each record is written as its sequence finishes; the others go batch by batch.
    step = max(1, settings.batch_size, settings.concurrency) * 8 if variant.capabilities.streams else \
        max(1, settings.batch_size)
    for i in range(0, len(todo), step):
        chunk = todo[i:i + step]
        bar.update(label=label)
        inputs = [ex.input for _, ex in chunk]
        before = [priors.get((d, _free(name), ex.id)) for d, ex in chunk] if continues else None
        golds = [reuse.gold.get((d, ex.id)) for d, ex in chunk] if reuse.gold and variant.capabilities.scores_gold \
            else None
        for j, g in retry.execute(variant, inputs, backoff, priors=before, faults=faults, log=log, golds=golds):
            d, ex = chunk[j]
            if keep and g.tokens is not None:
                priors[(d, label, ex.id)] = Prior(g.tokens, g.finish_reason, g.stop_token, confidence.rounded(g.logprobs))
            sink.append(record(d, label, ex, g, task, keep_tokens=keep))
            reuse.take(d, ex, g)
            bar.update(advance=1)
