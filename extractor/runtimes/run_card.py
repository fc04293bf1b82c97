"""The run card: what evaluation, extraction and export need to know about a run directory.

``runs/NAME/card.json`` says which base model the adapter was trained on (and that model's
fingerprint), for which task, and with which prompt (format and system prompt). It is all a run
directory needs to be evaluated, anywhere: the training config (``config.toml``, the trainer's
alone) and the training data are not read. ``extractor train`` writes it when a run starts.

    runs/NAME/
      card.json      base_model, task, task_source, prompt_format, system, base_fingerprint
      adapter/       the adapter (peft: adapter_config.json + adapter_model.safetensors)
      export/        what `extractor export` wrote (adapter.gguf, merged-hf/, merged.gguf, ...)

A run written before cards existed is read from its ``config.toml`` and ``run.json`` (the same
facts, as plain TOML and JSON: nothing in them is validated against this machine).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ..core.errors import ConfigError
from ..core.files import sha256_file, write_json
from . import models
from .prompts import ChatFormat, chat_format, prompt_text

CARD = "card.json"
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
EXPORTS = {"adapter-gguf": "adapter.gguf", "merged-hf": "merged-hf", "merged-gguf": "merged.gguf"}
"""What `extractor export` writes into RUN/export/, by the variant kind that loads it."""


@dataclass(frozen=True)
class RunCard:
    """The facts of a run that everything after training reads."""

    base_model: str
    """The base model: a preset name (``extractor models list``) or a local path."""
    task: str
    """The task's name."""
    task_source: str
    """How to resolve the task again: its registered name, or its directory's absolute path."""
    prompt_format: str
    """``chat`` (the model's chat template with ``system``) or ``plain`` (the seeds' format)."""
    system: str
    """The system prompt the adapter was trained with."""
    base_fingerprint: dict[str, str | None] = field(default_factory=dict)
    """Hashes of the base model's GGUF, HF config and tokenizer at training time (``fingerprint``)."""
    origin: str = "extractor train"
    """What made the run directory."""

    def write(self, run_dir: Path) -> None:
        write_json(Path(run_dir) / CARD, dataclasses.asdict(self))

    @classmethod
    def load(cls, run_dir: str | Path) -> "RunCard":
        """The card of ``run_dir``; ConfigError naming the fix when it is not a run directory."""
        run_dir = Path(run_dir)
        path = run_dir / CARD
        if path.is_file():
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
                return cls(**raw)
            except (ValueError, TypeError) as e:
                raise ConfigError(f"{path}: not a run card ({e}); restore it, or re-create the run") from None
        if (run_dir / "config.toml").is_file() and (run_dir / "run.json").is_file():
            return cls._from_config(run_dir)
        raise ConfigError(f"{run_dir}: not a run directory (no {CARD}). Pass a directory written by "
                          "`extractor train` or `extractor import` (runs/NAME/).")

    @classmethod
    def _from_config(cls, run_dir: Path) -> "RunCard":
        """A run from before cards: the same facts from config.toml and run.json."""
        try:
            cfg = tomllib.loads((run_dir / "config.toml").read_text(encoding="utf-8"))
            info = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise ConfigError(f"{run_dir}: config.toml or run.json is unreadable ({e})") from None
        task = cfg.get("task", "")
        return cls(cfg.get("model", models.DEFAULT_MODEL), Path(task).name if task else "", task,
                   cfg.get("prompt_format", "chat"), cfg.get("system", ""), info.get("base_fingerprint") or {})


@dataclass
class RunArtefacts:
    """A run directory: its card, its adapter and what `extractor export` wrote for it."""

    dir: Path
    card: RunCard
    spec: models.ModelSpec = field(repr=False)

    @classmethod
    def load(cls, run_dir: str | Path) -> "RunArtefacts":
        """A run with an adapter (or, imported, only GGUFs); refuses a directory that is not a run,
        or a run with nothing to evaluate yet."""
        run_dir = Path(run_dir)
        card = RunCard.load(run_dir)
        exported = any((run_dir / "export" / name).exists() for name in EXPORTS.values())
        if not (run_dir / "adapter" / "adapter_model.safetensors").is_file() and not exported:
            status = _json_key(run_dir / "run.json", "status")
            raise ConfigError(f"{run_dir}: no adapter yet (status {status!r}). Finish or resume training first.")
        return cls(run_dir, card, models.get(card.base_model))

    @property
    def has_adapter(self) -> bool:
        """Whether the run holds a peft adapter (an import of GGUFs alone does not)."""
        return (self.adapter_dir / "adapter_model.safetensors").is_file()

    @property
    def adapter_dir(self) -> Path:
        return self.dir / "adapter"

    def artefact(self, kind: str) -> Path:
        """The exported file (or directory) a variant kind loads; ConfigError naming the command."""
        path = self.dir / "export" / EXPORTS[kind]
        if not path.exists():
            raise ConfigError(f"{path} does not exist: variant {kind} needs `extractor export {self.dir}` first.")
        return path

    @cached_property
    def chat(self) -> ChatFormat:
        """The base model's chat format (read from its files; no transformers import)."""
        return chat_format(self.spec)

    def prompt(self, text: str) -> str:
        """The prompt this run was trained on, for one input (every runtime renders this)."""
        return prompt_text(self.chat, text, self.card.prompt_format, self.card.system)

    @cached_property
    def adapter_sha256(self) -> str:
        """What identifies the run's weights: its adapter's sha256, or (GGUFs alone) its first GGUF's."""
        if self.has_adapter:
            return sha256_file(self.adapter_dir / "adapter_model.safetensors")
        first = next(p for p in (self.dir / "export" / n for n in ("merged.gguf", "adapter.gguf")) if p.is_file())
        return sha256_file(first)


def _json_key(path: Path, key: str) -> Any:
    try:
        return json.loads(path.read_text()).get(key)
    except (OSError, ValueError, AttributeError):
        return None


def _hash_json_file(path: Path) -> str | None:
    if not path.is_file():
        return None
    obj = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(obj, dict):
        # Not the model: who saved it and how. `architectures` too (the class name, model_type
        # decides it): prepared checkpoints older than models.CHECKPOINT_FORMAT 2 lack it, and the
        # runs trained on them must still match.
        for volatile in ("_name_or_path", "_model_name_or_path", "transformers_version", "dtype", "torch_dtype",
                         "architectures"):
            obj.pop(volatile, None)
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


def fingerprint(hf_dir: str | Path, gguf: Path | None) -> dict[str, str | None]:
    """What identifies a base model: its GGUF's sha256, and hashes of its HF config and tokenizer."""
    hf_dir = Path(hf_dir)
    tok = hf_dir / "tokenizer.json"
    return {
        "gguf_sha256": sha256_file(gguf) if gguf else None,
        "hf_config_sha256": _hash_json_file(hf_dir / "config.json"),
        "tokenizer_sha256": sha256_file(tok) if tok.is_file() else None,
    }


def check_fingerprint(run_dir: Path, expected: dict[str, str | None], actual: dict[str, str | None]) -> None:
    """Refuse a base model that is not the one the run was trained on."""
    for key, value in expected.items():
        if value and actual.get(key) and value != actual[key]:
            raise ConfigError(
                f"{run_dir}: the base model differs from the one this run was trained on ({key} "
                f"{actual[key][:12]}... != {value[:12]}...). Use the same base model (see {run_dir / CARD})."
            )
