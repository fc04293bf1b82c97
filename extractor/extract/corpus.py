"""`extractor extract`: a corpus through one Extractor - streamed, resumable, shardable.

The output is JSONL, one record per passage in input order (``seq`` ascending); see
docs/extraction.md for the fields. The output is a ``core.journal``: each record is one
``write`` of a whole line to a file opened for appending, synced after every window, so a kill
leaves whole lines (at worst a torn last line after a crash of the machine, which ``--resume``
cuts off). ``OUT.meta.json`` beside the output holds the options that
must not change on ``--resume`` and, once the run ends, ``finished: true`` - what ``extract
merge`` checks before joining shards.

Passages are numbered over the whole input (``seq``); shard K of N keeps the passages with
``seq % N == K - 1``, so every shard reads all inputs but runs the model on 1/N of them, and
``merge`` interleaves the shards back by ``seq``. Identical passages are run once: answers are
kept by a hash of the passage text (the last CACHE_SIZE distinct passages, so memory stays
bounded).

The answer's keys are the task's (``Task.answer_fields``: Cantos records hold ``references``, a
list of ``{"canto", "lines"}`` with ``--resolve-lines`` also resolved lines; a JSON task's hold
``answer``), null when there is no answer. The meta file records the task, so ``--resume`` and
``merge`` refuse to mix tasks.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from ..core import journal
from ..core.errors import ConfigError
from ..core.faults import Outage
from ..core.generation import transient
from ..core.files import atomic_write
from ..core.task import Task
from .extractor import Extractor, Result
from .passages import Passage, Reader

CACHE_SIZE = 50_000
EXIT_SKIPPED = 3
"""Exit status of a finished run in which some input or passage was skipped."""
REVIEW = "review"
"""The status of an answer kept but below ``--min-confidence`` (or of unknown confidence under it)."""


@dataclass(frozen=True)
class Shard:
    k: int = 1
    n: int = 1

    @classmethod
    def parse(cls, text: str | None) -> "Shard":
        if not text:
            return cls()
        try:
            k, n = (int(x) for x in text.split("/"))
        except ValueError:
            k = n = 0
        if not 1 <= k <= n:
            raise ConfigError(f"--shard {text!r}: write K/N with 1 <= K <= N, e.g. --shard 2/8")
        return cls(k, n)

    def owns(self, seq: int) -> bool:
        return seq % self.n == self.k - 1

    def __str__(self) -> str:
        return f"{self.k}/{self.n}"


@dataclass
class Summary:
    """What one `extractor extract` did; printed at the end and stored in OUT.meta.json."""

    written: int = 0
    """Records written by this invocation."""
    resumed: int = 0
    """Records already in the output when --resume started."""
    resumed_skipped: int = 0
    """Of those, records whose status is ``skipped: ...`` (they count for the exit status too)."""
    computed: int = 0
    """Passages the variant ran on."""
    reused: int = 0
    """Passages answered from an identical earlier passage."""
    statuses: Counter = field(default_factory=Counter)
    replaced_bytes: int = 0
    hidden: int = 0
    seconds: float = 0.0
    retried: int = 0
    """Attempts that met a fault of the server or runtime and were made again (never recorded)."""

    @property
    def skipped(self) -> int:
        """Skipped records in the whole output, those of an earlier interrupted run included."""
        return self.resumed_skipped + sum(n for s, n in self.statuses.items() if s.startswith("skipped"))

    def line(self) -> str:
        by = {}
        for s, n in self.statuses.items():
            key = "skipped" if s.startswith("skipped") else s
            by[key] = by.get(key, 0) + n
        parts = ", ".join(f"{k} {v}" for k, v in sorted(by.items()))
        rate = self.computed / self.seconds if self.seconds else 0.0
        text = (f"{self.written} passages ({parts or 'none'}); {self.computed} run, {self.reused} identical reused; "
                f"{self.seconds:.1f} s, {rate:.2f} passages/s")
        if self.resumed:
            text += f"; {self.resumed} already done (resumed)"
        if self.replaced_bytes:
            text += f"; {self.replaced_bytes} undecodable bytes replaced"
        if self.hidden:
            text += f"; {self.hidden} hidden files/directories not read"
        if self.retried:
            text += f"; {self.retried} failed attempts retried"
        return text


# ----------------------------------------------------------------------------- output
class StdoutSink:
    """Records to stdout as JSONL, flushed after every window (a pipe cannot be resumed)."""

    def extend(self, records: list[dict]) -> None:
        try:
            sys.stdout.buffer.write(b"".join(journal.encode(r) for r in records))
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            # The reader went away (`| head`): stop cleanly instead of a traceback at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise ConfigError("stdout was closed before the run ended; use --out FILE to keep every record.") from None

    def sync(self) -> None:
        pass

    def close(self) -> None:
        pass


def sink_for(path: Path | None) -> journal.Journal | StdoutSink:
    return journal.Journal(path, sync_every_record=False) if path is not None else StdoutSink()


def meta_path(out: Path) -> Path:
    return out.with_name(out.name + ".meta.json")


def _check_record(rec: dict) -> str | None:
    if not isinstance(rec.get("seq"), int):
        return "not an extraction record (no 'seq'); was the file edited?"
    return None


def read_records(path: Path) -> Iterator[dict]:
    """The records of an output file; a line that is not a record is an error naming it."""
    hint = f"Finish the run with `extractor extract ... --out {path} --resume`."
    return journal.read(path, hint=hint, check=_check_record)


# ----------------------------------------------------------------------------- run
def _key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


POSITION = ("seq", "source", "line", "passage", "start", "end", "text", "replaced")
"""A record's keys that say where its passage is; the others are its answer."""


class _Answers:
    """The answer part of the last CACHE_SIZE distinct passages' records, by a hash of their text."""

    def __init__(self, size: int = CACHE_SIZE):
        self.size, self.items = size, OrderedDict()

    def get(self, text: str) -> dict | None:
        k = _key(text)
        if k in self.items:
            self.items.move_to_end(k)
            return self.items[k]
        return None

    def put(self, text: str, answer: dict) -> None:
        self.items[_key(text)] = answer
        if len(self.items) > self.size:
            self.items.popitem(last=False)


def answer_part(r: Result, task: Task, resolve: bool, min_confidence: float | None = None) -> dict:
    """The keys of a record that say what the model answered: status, the task's answer keys
    (``Task.answer_fields``), the raw output when it is not an answer, what followed one, the
    answer's confidence and its fields'. ``min_confidence``: an answer below it (or whose confidence
    is unknown) has status ``review``, its answer kept."""
    ok = r.status == "ok"
    status = r.status
    if ok and min_confidence is not None and (r.confidence is None or r.confidence < min_confidence):
        status = REVIEW
    rec = {"status": status, **task.answer_fields(r.answer if ok else None, resolve)}
    if not ok:
        rec["raw"] = r.raw
    if r.continuation:
        rec["continuation"] = r.continuation
    if r.confidence is not None:
        rec["confidence"] = r.confidence
    if r.field_confidence:
        rec["field_confidence"] = r.field_confidence
    return rec


def record(p: Passage, answer: dict | None, task: Task) -> dict:
    """One output record: where the passage is, then its answer part (None: skipped)."""
    rec = {"seq": p.seq, "source": p.source, "line": p.line, "passage": p.index, "start": p.start, "end": p.end,
           "text": p.text}
    if p.skip or answer is None:
        rec.update({"status": f"skipped: {p.skip}", **task.answer_fields(None)})
    else:
        rec.update(answer)
    if p.replaced:
        rec["replaced"] = p.replaced
    return rec


def _meta(ex: Extractor, inputs: list[str], shard: Shard, field_name: str | None, resolve: bool,
          min_confidence: float | None = None) -> dict:
    run = ex.run
    return {"variant": ex.name, "run": str(run.dir) if run else None,
            "adapter_sha256": run.adapter_sha256 if run else None, "inputs": inputs,
            "shard": str(shard), "field": field_name, "resolve_lines": resolve,
            "max_new_tokens": ex.settings.max_new_tokens, "n_ctx": ex.settings.n_ctx, "task": ex.task.name,
            "min_confidence": min_confidence}


def _resume(out: Path, meta: dict, answers: _Answers, summary: Summary) -> dict | None:
    """The output's last record after cutting a torn tail; its answers go to ``answers`` and its
    counts to ``summary``. Refuses when the task or the options changed."""
    mp = meta_path(out)
    if not out.exists():
        return None
    if mp.exists():
        old = json.loads(mp.read_text())
        if old.get("task") != meta["task"]:
            raise ConfigError(f"--resume {out}: it holds answers of the task {old.get('task')!r}, not {meta['task']!r}. "
                              f"Resume with that task (--task {old.get('task')} or its directory, or a run trained for it), "
                              "or write to a new --out.")
        changed = [k for k in meta if old.get(k) != meta[k]]
        if changed:
            diff = "; ".join(f"{k}: {old.get(k)!r} -> {meta[k]!r}" for k in changed)
            raise ConfigError(f"--resume {out}: it was written with other options ({diff}). "
                              f"Resume with the same options, or write to a new --out.")
    journal.recover(out)
    _drop_legacy_outage(out)
    last = None
    for last in read_records(out):
        summary.resumed += 1
        if last["status"].startswith("skipped"):
            summary.resumed_skipped += 1
        else:
            answers.put(last["text"], {k: v for k, v in last.items() if k not in POSITION})
    return last


def _drop_legacy_outage(out: Path) -> None:
    """Earlier versions wrote a passage a server failed on as ``skipped: server unavailable: ...``;
    such a passage was never answered. The output is cut back (atomically) to the record before
    the first of them, so ``--resume`` runs it and everything after it again: lost nothing."""
    records = list(read_records(out))
    first = next((i for i, r in enumerate(records) if transient(str(r["status"]).removeprefix("skipped: "))), None)
    if first is not None:
        journal.rewrite(out, records[:first])


def run_extract(ex: Extractor, inputs: list[str], out: Path | None, *, shard: Shard = Shard(), resume: bool = False,
                resolve: bool = False, field_name: str | None = None, stdin_format: str = "txt",
                batch_size: int = 16, progress: bool = True, log: Callable[[str], None] = print,
                min_confidence: float | None = None) -> Summary:
    """Extract every passage of ``inputs`` into ``out`` (stdout when None); see the module doc.
    ``min_confidence``: answers below it get status ``review`` (``answer_part``)."""
    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        raise ConfigError(f"--min-confidence {min_confidence}: a confidence is between 0 and 1, e.g. 0.9")
    from ..core.progress import Bar

    if resolve and not ex.task.resolves:
        raise ConfigError(f"--resolve-lines: the task {ex.task.name!r} resolves no line numbers. "
                          "Drop --resolve-lines.")
    if resume and out is None:
        raise ConfigError("--resume needs --out FILE: stdout cannot be continued.")
    if resume and "-" in inputs:
        raise ConfigError("--resume cannot re-read stdin; save it to a file and pass the file.")
    meta = _meta(ex, inputs, shard, field_name, resolve, min_confidence)
    summary, answers, last = Summary(), _Answers(), None
    if out is not None:
        if resume:
            last = _resume(out, meta, answers, summary)
        elif out.exists() and out.stat().st_size:
            raise ConfigError(f"{out} already holds records: pass --resume to continue it, or remove it.")
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(meta_path(out), json.dumps({**meta, "finished": False}, indent=2))
    reader = Reader(ex.fits, field_name, stdin_format)
    # Sizing the bar walks the inputs once more; a quiet run does not need it.
    sizes = {p: (Path(p).stat().st_size if p != "-" and Path(p).is_file() else 0)
             for p in (reader.files(inputs) if progress else ())}
    total = None if "-" in inputs else sum(sizes.values())
    done_seq = last["seq"] if last else -1
    t0, writer = time.perf_counter(), sink_for(out)
    passages = (p for p in reader.read(inputs) if shard.owns(p.seq))
    position = _Position(sizes)
    ex.log = log
    try:
        with Bar(f"extract {ex.name}", total, enabled=progress, unit="bytes") as bar:
            # Windows of several batches: llama.cpp refills a finished sequence's slot with the
            # next passage of the window; records are written in input order after each window.
            while window := list(islice(passages, max(batch_size, ex.settings.concurrency) * 4)):
                todo = []
                for p in window:
                    if p.seq == done_seq:
                        _same_passage(out, last, p)
                    if p.seq > done_seq:
                        todo.append(p)
                records = _extract_window(ex, todo, answers, resolve, summary, min_confidence)
                writer.extend(records)
                writer.sync()
                summary.written += len(records)
                for rec in records:
                    summary.statuses[rec["status"]] += 1
                elapsed = time.perf_counter() - t0
                rate = summary.computed / elapsed if elapsed else 0.0
                bar.update(completed=position.at(window[-1]), info=f"{summary.written + summary.resumed} passages, "
                                                                   f"{rate:.2f}/s")
        if done_seq >= 0 and reader.seq <= done_seq:
            raise ConfigError(f"--resume {out}: the inputs now hold fewer passages ({reader.seq}) than were already "
                              f"written (up to seq {done_seq}); did the inputs change? Write to a new --out.")
    except Outage as e:
        kept = summary.written + summary.resumed
        how = (f"run the same command with --resume once it is back ({out} holds the {kept} passages done)"
               if out is not None else "run it again with --out FILE, which --resume can continue")
        raise e.with_left(f"stopped after {kept} passages, nothing written for the rest: {how}") from None
    finally:
        writer.close()
    summary.replaced_bytes, summary.hidden = reader.replaced_bytes, len(reader.hidden)
    summary.retried = ex.faults.retried
    summary.seconds = time.perf_counter() - t0
    if out is not None:
        done = {"finished": True, "passages_total": reader.seq, "records": summary.written + summary.resumed}
        atomic_write(meta_path(out), json.dumps({**meta, **done}, indent=2))
    return summary


class _Position:
    """Approximate bytes read so far: the files before the current one, plus the offset in it."""

    def __init__(self, sizes: dict[str, int]):
        self.sizes, self.before, self.current = sizes, 0, None

    def at(self, p: Passage) -> int:
        if p.source != self.current:
            if self.current is not None:
                self.before += self.sizes.get(self.current, 0)
            self.current = p.source
        return self.before + min(p.end, self.sizes.get(p.source, 0))


def _same_passage(out: Path | None, last: dict, p: Passage) -> None:
    if (last["source"], last["passage"], last["text"]) != (p.source, p.index, p.text):
        raise ConfigError(f"--resume {out}: its last record (seq {last['seq']}, {last['source']} passage "
                          f"{last['passage']}) is not what the inputs give now ({p.source} passage {p.index}); "
                          "did the inputs change? Write to a new --out.")


def _extract_window(ex: Extractor, window: list[Passage], answers: _Answers, resolve: bool,
                    summary: Summary, min_confidence: float | None = None) -> list[dict]:
    results: dict[int, dict | None] = {}
    pending: dict[bytes, list[Passage]] = {}
    for p in window:
        if p.skip:
            results[p.seq] = None
        elif (cached := answers.get(p.text)) is not None:
            results[p.seq] = cached
            summary.reused += 1
        else:
            group = pending.setdefault(_key(p.text), [])
            if group:
                summary.reused += 1
            group.append(p)
    firsts = [group[0] for group in pending.values()]
    for group, r in zip(pending.values(), ex.extract_batch([p.text for p in firsts])):
        summary.computed += 1
        if r.status.startswith("skipped"):
            for p in group:
                p.skip = r.status.removeprefix("skipped: ")
                results[p.seq] = None
            continue
        part = answer_part(r, ex.task, resolve, min_confidence)
        answers.put(group[0].text, part)
        for p in group:
            results[p.seq] = part
    return [record(p, results[p.seq], ex.task) for p in window]
