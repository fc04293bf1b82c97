"""Training configuration: a typed record loaded from TOML, with `--set key=value` overrides.

Every key is checked when the file is read (unknown key, wrong type, out-of-range value), so a
typo fails in the first second with the key's name, never an hour into a run.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import ConfigError
from ..runtimes.hardware import PRECISIONS


@dataclass
class TrainConfig:
    """What `extractor train` does. Field docstrings are the reference for config files."""

    name: str = ""
    """Run name: the run directory is runs/NAME. Default: the config file's stem."""
    task: str = ""
    """The task: a registered name (`extractor --help` lists them; empty: the default task) or a
    task directory. Its schema checks the data; `system` defaults to its prompt."""
    model: str = "smollm2-135m"
    """Model preset (`extractor models list`) or a local HF checkpoint directory."""
    train: str = ""
    """Training JSONL (see `extractor data check`). Required."""
    valid: str = ""
    """Validation JSONL: validation loss and the choice of the best adapter. Required."""
    prompt_format: str = "chat"
    """`chat`: the model's chat template with a short system instruction. `plain`: the seeds'
    `### Question: "..."\\n ### Answer: ` format, kept for comparison."""
    system: str = ""
    """System instruction used with prompt_format = chat. Empty: the task's own (``Task.system``)."""
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: list[str] = field(default_factory=list)
    """LoRA targets; empty means the preset's default (every linear layer of the blocks)."""
    use_rslora: bool = False
    """rsLoRA scaling alpha/sqrt(r) instead of alpha/r."""
    learning_rate: float = 1e-3
    lora_plus_ratio: float = 1.0
    """LoRA+ (Hayou et al., 2024): the LoRA B matrices learn at learning_rate x this ratio, the A
    matrices at learning_rate. 1 is plain LoRA; the paper's default is 16."""
    epochs: float = 3.0
    """Passes over the training data (fractions allowed). Ignored when max_steps > 0."""
    max_steps: int = 0
    warmup_ratio: float = 0.05
    max_grad_norm: float = 1.0
    """Clip the gradient norm to this value (0 disables clipping)."""
    batch_size: int = 8
    grad_accum: int = 1
    max_length: int = 384
    """Longest prompt + answer in tokens; longer rows are an error, never silently cut."""
    seed: int = 0
    quantization: str = "none"
    """`none` (LoRA on the fp32/bf16 base) or `4bit` (NF4 through bitsandbytes: QLoRA)."""
    eval_every: int = 0
    """Validation every N optimizer steps; 0 means once per epoch (and at the end)."""
    checkpoint_every: int = 25
    """Save a resumable checkpoint every N optimizer steps (and at every validation)."""
    reproduce_pad_eos_bug: bool = False
    """Reproduce the seeds' bug: with pad == eos, mask every EOS id out of the labels, so the
    model never learns to stop. For evaluation comparisons only."""
    gradient_checkpointing: bool = False
    """Trade compute for memory (useful for 7B on a GPU; slower on CPU)."""
    threads: int = 0
    """torch CPU threads; 0 keeps torch's default."""
    compile: bool = False
    """Compile each decoder block with torch.compile (inductor, dynamic sequence lengths), in
    place, so the saved adapter's names do not change. The first steps pay the compilation (about
    45 s on a 2-core CPU; seconds when torch's cache in /tmp/torchinductor_$USER has it), every
    later step is faster (SmolLM2 on a 2-core CPU, steps of 1 row: 0.30 s against 0.46 s). Needs a
    C++ compiler on a CPU. Not with `4bit` or gradient checkpointing."""
    precision: str = "auto"
    """`fp32`, `bf16` or `auto`. bf16 keeps the frozen base weights in bf16, so the base's forward
    and backward run in bf16; the LoRA path, LoRA weights, optimizer state and the loss stay fp32,
    and the saved adapter is fp32 (no autocast: it trained worse for no real gain). `auto`: bf16 on
    a GPU with bf16 or a CPU with AMX-BF16 / AVX512-BF16 (where it is faster), else fp32. QLoRA
    (`4bit`) computes in the same dtype. run.json records the precision used and why."""

    def validate(self) -> None:
        choices = {"prompt_format": ("chat", "plain"), "quantization": ("none", "4bit"), "precision": PRECISIONS}
        for key, allowed in choices.items():
            if getattr(self, key) not in allowed:
                raise ConfigError(f"{key} = {getattr(self, key)!r}: must be one of {', '.join(allowed)}")
        positive = ("lora_r", "lora_alpha", "batch_size", "grad_accum", "max_length", "learning_rate", "lora_plus_ratio",
                    "checkpoint_every")
        for key in positive:
            if getattr(self, key) <= 0:
                raise ConfigError(f"{key} = {getattr(self, key)!r}: must be > 0")
        for key in ("max_steps", "eval_every", "threads", "max_grad_norm"):
            if getattr(self, key) < 0:
                raise ConfigError(f"{key} = {getattr(self, key)!r}: must be >= 0")
        if self.compile and (self.quantization == "4bit" or self.gradient_checkpointing):
            raise ConfigError("compile = true works with quantization = \"none\" and without gradient_checkpointing; "
                              "set compile = false for this run")
        if self.max_steps == 0 and self.epochs <= 0:
            raise ConfigError("epochs must be > 0 when max_steps is 0")
        if not 0 <= self.lora_dropout < 1 or not 0 <= self.warmup_ratio < 1:
            raise ConfigError("lora_dropout and warmup_ratio must be in [0, 1)")
        forbidden = {"lm_head", "embed_tokens", "wte", "embed_out"} & set(self.target_modules)
        if forbidden:
            raise ConfigError(
                f"target_modules includes {', '.join(sorted(forbidden))}: the adapter would not convert to a "
                "llama.cpp LoRA. Target the blocks' linear layers only (leave target_modules empty for the default)."
            )
        for key in ("train", "valid"):
            if not getattr(self, key):
                raise ConfigError(f"{key} is not set: name a JSONL file, e.g. {key} = \"data/{key}.jsonl\"")
            if not Path(getattr(self, key)).is_file():
                raise ConfigError(f"{key} = {getattr(self, key)!r}: file not found")

    def to_toml(self) -> str:
        lines = []
        for f in dataclasses.fields(self):
            lines.append(f"{f.name} = {_toml_value(getattr(self, f.name))}")
        return "\n".join(lines) + "\n"


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


_FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}


def _coerce(key: str, value: Any, where: str) -> Any:
    if key not in _FIELDS:
        raise ConfigError(f"{where}: unknown key {key!r}; known keys: {', '.join(_FIELDS)}")
    expected = _FIELDS[key].type
    ok = {
        "str": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "list[str]": isinstance(value, list) and all(isinstance(x, str) for x in value),
    }[expected]
    if not ok:
        raise ConfigError(f"{where}: {key} = {value!r} is not a valid {expected}")
    return float(value) if expected == "float" else value


def parse_override(text: str) -> tuple[str, Any]:
    """`key=value` with value as a TOML value (`lr=1e-4`, `target_modules=["q_proj"]`), else a string."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {text!r}: write KEY=VALUE, e.g. --set max_steps=10")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key, value


def load_config(path: str | Path | None, overrides: list[str] = ()) -> TrainConfig:
    """Read a TOML config (or defaults when path is None), apply overrides, validate."""
    values: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"{path}: not valid TOML ({e})") from None
        for key, value in raw.items():
            values[key] = _coerce(key, value, str(path))
        values.setdefault("name", path.stem)
    for text in overrides:
        key, value = parse_override(text)
        values[key] = _coerce(key, value, f"--set {text}")
    cfg = TrainConfig(**values)
    if not cfg.name:
        cfg.name = "run"
    cfg.validate()
    return cfg
