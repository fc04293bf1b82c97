"""The run directory: atomic files, the base-model fingerprint, adapters and checkpoints.

runs/NAME/
  config.toml               resolved configuration
  run.json                  base fingerprint, best step and validation loss, status
  train_log.jsonl           one JSON object per logged step / validation
  loss.svg                  loss curve (train and validation)
  adapter/                  best adapter: adapter_config.json + adapter_model.safetensors only
  checkpoint/               latest resumable state (adapter, optimizer, RNG) - safetensors + JSON
Every file is written to a temporary name and renamed, so a kill never leaves half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from . import journal
from .errors import ConfigError

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


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


def append_log(path: Path, record: dict) -> None:
    journal.append(path, record)


def read_log(path: Path, upto_step: int | None = None) -> list[dict]:
    """Log records (optionally those at or before a step); a torn last line is left out."""
    hint = "Remove that line of the training log, then resume."
    return [r for r in journal.read(path, torn="skip", hint=hint) if upto_step is None or r["step"] <= upto_step]


def rewrite_log(path: Path, records: list[dict]) -> None:
    journal.rewrite(path, records)


def run_info(run_dir: Path) -> tuple[dict, "TrainConfig"]:  # noqa: F821
    """A finished (or resumable) run's run.json and resolved config; refuses a directory that
    is not a run, or a run with no adapter yet."""
    from .config import load_config

    run_dir = Path(run_dir)
    if not (run_dir / "run.json").is_file() or not (run_dir / "config.toml").is_file():
        raise ConfigError(f"{run_dir}: not a run directory (no run.json / config.toml). "
                          "Pass a directory written by `extractor train`, e.g. runs/cantos-smollm2.")
    info = json.loads((run_dir / "run.json").read_text())
    if not (run_dir / "adapter" / "adapter_model.safetensors").is_file():
        raise ConfigError(f"{run_dir}: no adapter yet (status {info.get('status')!r}). Finish or resume training first.")
    return info, load_config(run_dir / "config.toml")


def _hash_json_file(path: Path) -> str | None:
    if not path.is_file():
        return None
    obj = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(obj, dict):
        for volatile in ("_name_or_path", "_model_name_or_path", "transformers_version", "dtype", "torch_dtype"):
            obj.pop(volatile, None)
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


def fingerprint(hf_dir: str | Path, gguf: Path | None) -> dict[str, str | None]:
    """What identifies a base model: its GGUF's sha256, and hashes of its HF config and tokenizer."""
    from .models import sha256_file

    hf_dir = Path(hf_dir)
    tok = hf_dir / "tokenizer.json"
    return {
        "gguf_sha256": sha256_file(gguf) if gguf else None,
        "hf_config_sha256": _hash_json_file(hf_dir / "config.json"),
        "tokenizer_sha256": sha256_file(tok) if tok.is_file() else None,
    }


def check_fingerprint(run_dir: Path, actual: dict[str, str | None]) -> None:
    """Refuse a base model that is not the one the run was trained on."""
    expected = json.loads((run_dir / "run.json").read_text())["base_fingerprint"]
    for key, value in expected.items():
        if value and actual.get(key) and value != actual[key]:
            raise ConfigError(
                f"{run_dir}: the base model differs from the one this run was trained on ({key} "
                f"{actual[key][:12]}... != {value[:12]}...). Use the same base model (see {run_dir}/run.json)."
            )

