"""Other heavy jobs of this project on the same machine, found before a long job starts.

Training, evaluation and extraction each spin a thread per core. Two of them on a small machine do
not share it, they collapse: on the 2-core development machine a llama.cpp evaluation beside a
training run made both about 20x slower. `extractor train`, `eval` and `extract` call `warn()`
first, which names any other such process it sees (Linux /proc; elsewhere it finds nothing).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..runtimes.hardware import cpu_cores

HEAVY = ("train", "eval", "extract")
"""`extractor` subcommands that keep every core busy."""


def _argv(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]


def is_heavy(argv: list[str]) -> bool:
    """Whether a command line is one of this project's heavy jobs: `extractor train|eval|extract`
    (the script, or `python -m extractor`), or a benchmark under bench/. Only the program itself
    counts: a wrapper that names it (``flock LOCK extractor eval``, a shell) is waiting, not working."""
    if not argv:
        return False
    prog, args = os.path.basename(argv[0]), argv[1:]
    if prog.startswith("python"):
        while args and args[0].startswith("-") and args[0] != "-m":
            args = args[1:]  # interpreter options such as -u, -X importtime (their values are rare here)
        if args[:2] == ["-m", "extractor"]:
            args = args[2:]
        elif args and os.path.basename(args[0]) == "extractor":
            args = args[1:]
        elif args and args[0].endswith(".py") and os.path.basename(os.path.dirname(os.path.abspath(args[0]))) == "bench":
            return True
        else:
            return False
    elif prog != "extractor":
        return False
    return bool(args) and args[0] in HEAVY


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def others() -> list[tuple[int, str]]:
    """(pid, command line) of every other heavy job of this project running now, oldest first. The
    other processes of one `accelerate launch` (same parent, WORLD_SIZE set) are this job, not another."""
    me = {os.getpid(), os.getppid()}
    launched = "WORLD_SIZE" in os.environ
    found = []
    try:
        pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    except OSError:
        return []
    for pid in pids:
        if pid in me or (launched and _parent(pid) == os.getppid()):
            continue
        argv = _argv(pid)
        if argv and is_heavy(argv):
            found.append((pid, " ".join(argv)[:120]))
    return found


def warn(echo) -> None:
    """Print one warning through ``echo`` per other heavy job found (nothing where none runs)."""
    for pid, cmd in others():
        echo(f"warning: another heavy job is running on these {cpu_cores()} cores (pid {pid}: {cmd}); both spin a "
             f"thread per core and slow each other down many times over. Let it finish first, or give each "
             f"job fewer threads.")
