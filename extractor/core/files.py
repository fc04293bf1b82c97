"""Files written whole or not at all, file hashes, and files shipped inside Python packages.

Every file the project writes outside a journal (``core.journal``) goes through ``atomic_write``
or ``replace_dir``: a temporary name, then a rename, so a kill never leaves half a file or half a
directory. ``pkg:PACKAGE/FILE`` names a file inside an installed package (``package_file``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write ``path`` whole or not at all (a temporary file, fsync'd, then renamed over it), with
    the permissions a plain open() would give (mkstemp's own 0600 would hide shared reports)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, obj: Any) -> None:
    atomic_write(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def replace_dir(final: Path, fill) -> None:
    """Build a directory with ``fill(tmp_dir)`` and swap it in place of ``final``."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        fill(tmp)
        old = final.with_name(f".{final.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def recover_dir(final: Path) -> None:
    """After a kill between the two renames of replace_dir, put the previous copy back."""
    old = final.with_name(f".{final.name}.old")
    if not final.exists() and old.exists():
        old.rename(final)


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_cached(path: Path) -> str:
    """sha256_file, computed once per process for a file of unchanged size and mtime."""
    st = Path(path).stat()
    return _sha256_keyed(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=16)
def _sha256_keyed(path: str, size: int, mtime_ns: int) -> str:
    return sha256_file(Path(path))


PACKAGE_PREFIX = "pkg:"


def package_file(ref: str) -> Path:
    """The file ``pkg:PACKAGE/FILE`` names: FILE inside the installed Python package PACKAGE (a
    dotted name allowed), wherever pip put it. LookupError, naming PACKAGE, when it is not
    installed; whether FILE exists is the caller's to check."""
    package, _, name = ref.removeprefix(PACKAGE_PREFIX).partition("/")
    try:
        found = importlib.util.find_spec(package) if package else None
    except ModuleNotFoundError:  # a parent package of a dotted name is missing
        found = None
    if found is None or not found.submodule_search_locations:
        raise LookupError(f"no installed Python package {package!r}")
    return Path(list(found.submodule_search_locations)[0]) / name
