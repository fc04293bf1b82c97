"""Append-only JSONL journals that survive a kill: the one reader and writer of every JSONL file
the project writes as it goes (``samples.jsonl`` of an evaluation, the records of ``extractor
extract``, a run's ``train_log.jsonl``).

Writing: each record is one JSON object on one line, handed to the kernel in one ``write`` of
the whole line (``O_APPEND``), so a killed process leaves whole lines only; ``fsync`` after every
record or at the writer's ``sync()``, so a crash of the machine loses at most the unsynced tail.
What a crash can still leave is a *torn* last line: bytes after the last newline (a line cut
short, or zeros the file system never filled in).

Reading and resuming:

- a complete line (ending in a newline) that is not a JSON object is an error naming
  ``file:line`` - never skipped, since every record after it would be lost silently;
- a last line without a newline is *torn* unless it parses as a whole JSON object (a prefix of
  an object never does: it ends before the object's closing brace). ``recover`` cuts a torn
  tail off the file and completes a whole one with its newline, so the next append starts on a
  fresh line; ``read`` raises on a torn tail by default, or skips it with ``torn="skip"``.

Opening a ``Journal`` for appending recovers the file first: a record is never glued onto a
torn one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .errors import ConfigError

_CHUNK = 1 << 16


@dataclass(frozen=True)
class Recovery:
    """What ``recover`` did to the end of a journal."""

    cut_bytes: int = 0
    """Bytes of a torn last line that were removed (0: the file ended on a whole line)."""
    completed: bool = False
    """The last line was a whole record missing only its newline, which was added."""


def encode(record: dict) -> bytes:
    """One record as one line of UTF-8 (non-ASCII kept as is; JSON escapes every newline)."""
    if not isinstance(record, dict):
        raise TypeError(f"a journal record is a dict, not {type(record).__name__}")
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")


def _parse(line: bytes) -> tuple[dict | None, str | None]:
    """(record, None) or (None, the reason the line is not a record)."""
    try:
        value = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as e:
        return None, f"not UTF-8 (byte {e.start})"
    except json.JSONDecodeError as e:
        return None, f"not JSON ({e.msg} at column {e.colno})"
    if not isinstance(value, dict):
        return None, f"a JSON {type(value).__name__}, not an object"
    return value, None


def _tail_start(f, size: int) -> int:
    """Offset just after the file's last newline (0 when it has none)."""
    pos = size
    while pos > 0:
        start = max(0, pos - _CHUNK)
        f.seek(start)
        block = f.read(pos - start)
        nl = block.rfind(b"\n")
        if nl >= 0:
            return start + nl + 1
        pos = start
    return 0


def recover(path: str | Path) -> Recovery:
    """Make ``path`` end on a whole line: cut a torn tail, or complete a whole last record with
    its newline. A missing or empty file is left as it is."""
    path = Path(path)
    if not path.is_file():
        return Recovery()
    with open(path, "rb+") as f:
        size = f.seek(0, os.SEEK_END)
        keep = _tail_start(f, size)
        if keep == size:
            return Recovery()
        f.seek(keep)
        tail = f.read()
        record, _ = _parse(tail)
        if record is not None:
            f.seek(0, os.SEEK_END)
            f.write(b"\n")
            f.flush()
            os.fsync(f.fileno())
            return Recovery(completed=True)
        f.truncate(keep)
        f.flush()
        os.fsync(f.fileno())
    return Recovery(cut_bytes=size - keep)


def read(path: str | Path, *, torn: Literal["error", "skip"] = "error", hint: str = "",
         check: Callable[[dict], str | None] | None = None) -> Iterator[dict]:
    """The records of a journal, in order, streamed (a missing file has none).

    A complete line that is not a JSON object raises ConfigError ``file:line: reason``, as does
    a record for which ``check`` returns a reason. A torn last line raises too, unless ``torn =
    "skip"`` (a reader that may run beside a writer, or after a crash that ``recover`` will
    repair). ``hint`` ends every error message: how to fix it (e.g. the command that resumes).
    """
    path = Path(path)
    if not path.is_file():
        return
    tail = f" {hint}" if hint else ""
    with open(path, "rb") as f:
        number = 0
        for number, line in enumerate(f, 1):  # noqa: B007 - number is used after the loop
            whole = line.endswith(b"\n")
            record, reason = _parse(line)
            if reason is not None:
                if whole:
                    raise ConfigError(f"{path}:{number}: {reason}; was the file edited?{tail}")
                if torn == "skip":
                    return
                raise ConfigError(f"{path}:{number}: the last line is incomplete ({len(line)} bytes, no newline): "
                                  f"a write was cut off by a kill or a crash.{tail}")
            if check is not None and (problem := check(record)) is not None:
                raise ConfigError(f"{path}:{number}: {problem}{tail}")
            yield record


def rewrite(path: str | Path, records: Iterable[dict]) -> None:
    """Replace a journal's content atomically (a temporary file renamed over it)."""
    from .files import atomic_write

    atomic_write(Path(path), b"".join(encode(r) for r in records))


class Journal:
    """Appends records to a JSONL file, one whole line per ``write``.

    ``sync_every_record``: fsync after each record (an evaluation sample, a training step);
    otherwise call ``sync()`` at points that matter (after each window of extraction records).
    ``close()`` always syncs. Opening recovers the file first (see ``recover``); what that did
    is in ``recovered``.
    """

    def __init__(self, path: str | Path, *, sync_every_record: bool = True):
        self.path = Path(path)
        self.sync_every_record = sync_every_record
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.recovered = recover(self.path)
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def append(self, record: dict) -> None:
        self._write(encode(record))
        if self.sync_every_record:
            self.sync()

    def extend(self, records: Iterable[dict]) -> None:
        """Several records, still one ``write`` per line (a kill between two leaves whole lines)."""
        for record in records:
            self._write(encode(record))
        if self.sync_every_record:
            self.sync()

    def _write(self, line: bytes) -> None:
        if self._fd is None:
            raise ValueError(f"{self.path}: journal is closed")
        view = memoryview(line)
        while view:  # a short write (rare: a signal, a full disk) continues the same line
            view = view[os.write(self._fd, view):]

    def sync(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def append(path: str | Path, record: dict) -> None:
    """Open, append one record (fsync'd), close: for a writer that adds a line now and then."""
    with Journal(path) as j:
        j.append(record)
