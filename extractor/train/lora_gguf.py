"""A PEFT LoRA adapter as llama.cpp sees it: refusals, tensor names, the q/k row permutation.

llama.cpp's HF-to-GGUF converter reorders the rows of ``q_proj`` and ``k_proj`` of llama-family
models (it interleaves the two rotary halves of every head). The base GGUF therefore stores
``P @ W`` where the HF checkpoint stores ``W``, and a LoRA delta ``B @ A`` must become
``(P @ B) @ A``: only B's rows move. Names go through gguf-py's ``TensorNameMap`` for the base's
architecture, so ``model.layers.3.self_attn.q_proj`` becomes ``blk.3.attn_q.weight``.

Every check here runs before llama.cpp sees a file: llama.cpp answers a mismatched adapter
with a bare "failed to load", or worse, so we compare shapes and the base fingerprint first.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.errors import ExportError
from ..runtimes.gguf_info import FINGERPRINT_KEY, BaseGGUF, base_info

# A permutation is needed where the converter applied one; those are the llama-arch GGUFs.
PERMUTED_ARCHS = {"llama"}


@dataclass
class Adapter:
    """A PEFT LoRA adapter read from disk, with the scale it applies."""

    path: Path
    config: dict
    pairs: dict[str, tuple[np.ndarray, np.ndarray]]
    """HF module name (``model.layers.0.self_attn.q_proj``) -> (A [r, in], B [out, r]) in fp32."""
    rank: int
    scale: float
    """What peft multiplies B @ A by: alpha / r, or alpha / sqrt(r) with rsLoRA."""

    @property
    def gguf_alpha(self) -> float:
        """The alpha to store for llama.cpp, which always scales by alpha / r."""
        return self.scale * self.rank


def read_adapter(adapter_dir: str | Path) -> Adapter:
    """Load an adapter, refusing the kinds a llama.cpp LoRA GGUF cannot express (with the reason)."""
    from safetensors.numpy import load_file

    adapter_dir = Path(adapter_dir)
    cfg_path, weights = adapter_dir / "adapter_config.json", adapter_dir / "adapter_model.safetensors"
    if not cfg_path.is_file() or not weights.is_file():
        raise ExportError(f"{adapter_dir}: no adapter_config.json + adapter_model.safetensors here. "
                          "Point at a run directory written by `extractor train` (its adapter/ folder).")
    cfg = json.loads(cfg_path.read_text())
    where = f"{cfg_path}"
    if cfg.get("peft_type", "LORA") != "LORA":
        raise ExportError(f"{where}: peft_type {cfg.get('peft_type')!r} is not LoRA; only LoRA adapters convert.")
    if cfg.get("use_dora"):
        raise ExportError(f"{where}: DoRA adapters cannot be converted: llama.cpp LoRA has no magnitude vector. "
                          "Train with use_dora off, or ship the merged model.")
    if cfg.get("modules_to_save"):
        raise ExportError(f"{where}: modules_to_save {cfg['modules_to_save']} are full trained copies of base "
                          "layers, which a LoRA GGUF cannot carry. Train without modules_to_save, or use the merged model.")
    if cfg.get("trainable_token_indices"):
        raise ExportError(f"{where}: trainable_token_indices changes embedding rows; a LoRA GGUF cannot carry them.")
    if cfg.get("bias", "none") != "none" or cfg.get("lora_bias"):
        raise ExportError(f"{where}: trained biases (bias={cfg.get('bias')!r}, lora_bias) cannot be converted.")
    if cfg.get("rank_pattern") or cfg.get("alpha_pattern"):
        raise ExportError(f"{where}: rank_pattern / alpha_pattern give layers different scales; llama.cpp applies "
                          "one alpha per adapter. Train with a single r and lora_alpha.")
    if cfg.get("fan_in_fan_out"):
        raise ExportError(f"{where}: fan_in_fan_out (Conv1D layers) is not supported for llama-family models.")
    tensors = load_file(str(weights))
    pairs: dict[str, list] = {}
    for key, value in tensors.items():
        if "lora_embedding" in key or any(p in key for p in ("embed_tokens", "lm_head", "wte", "tok_embeddings")):
            raise ExportError(f"{weights}: {key} targets the embeddings or lm_head; llama.cpp cannot apply a LoRA "
                              "there. Train with target_modules limited to the blocks' linear layers.")
        if ".lora_A." not in key and ".lora_B." not in key:
            raise ExportError(f"{weights}: {key} is not a LoRA A/B matrix; this adapter holds other trained tensors.")
        side = 0 if ".lora_A." in key else 1
        module = key.split(".lora_")[0].removeprefix("base_model.model.")
        pairs.setdefault(module, [None, None])[side] = value.astype(np.float32)
    if not pairs:
        raise ExportError(f"{weights}: no LoRA tensors found.")
    for module, (a, b) in pairs.items():
        if a is None or b is None:
            raise ExportError(f"{weights}: {module} has only one of lora_A / lora_B; the file is incomplete.")
        if a.shape[0] != b.shape[1]:
            raise ExportError(f"{weights}: {module} lora_A {a.shape} and lora_B {b.shape} disagree on the rank.")
    ranks = {a.shape[0] for a, _ in pairs.values()}
    if len(ranks) != 1:
        raise ExportError(f"{weights}: modules have different ranks {sorted(ranks)}; llama.cpp needs one scale.")
    rank = ranks.pop()
    alpha = float(cfg.get("lora_alpha", rank))
    scale = alpha / math.sqrt(rank) if cfg.get("use_rslora") else alpha / rank
    return Adapter(adapter_dir, cfg, {k: (v[0], v[1]) for k, v in pairs.items()}, rank, scale)


def permute_rows(w: np.ndarray, n_head: int) -> np.ndarray:
    """The converter's q/k row order: per head, rotary halves interleaved (rows only)."""
    rows = w.shape[0]
    return w.reshape(n_head, 2, rows // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def gguf_pairs(adapter: Adapter, base: BaseGGUF, base_path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """GGUF base tensor name -> (A, B) with B permuted as the base's rows are; shapes checked."""
    import gguf

    arch_ids = {name: arch for arch, name in gguf.MODEL_ARCH_NAMES.items()}
    if base.arch not in arch_ids:
        raise ExportError(f"{base_path}: architecture {base.arch!r} is unknown to gguf-py {gguf.__version__ if hasattr(gguf, '__version__') else ''}.")
    names = gguf.TensorNameMap(arch_ids[base.arch], base.n_blocks)
    out = {}
    for module, (a, b) in sorted(adapter.pairs.items()):
        name = names.get_name(module + ".weight", try_suffixes=(".weight",))
        if name is None or name not in base.shapes:
            raise ExportError(f"{adapter.path}: module {module} has no tensor in the base GGUF {base_path.name} "
                              f"(mapped to {name!r}). This adapter was trained for another base model.")
        want = base.shapes[name]
        if (b.shape[0], a.shape[1]) != want:
            raise ExportError(f"{adapter.path}: {module} is {b.shape[0]}x{a.shape[1]} in the adapter but "
                              f"{name} is {want[0]}x{want[1]} in {base_path.name}: this adapter was trained for "
                              "another base model. Export with the base the run was trained on.")
        if base.arch in PERMUTED_ARCHS and name.split(".")[-2] in ("attn_q", "attn_k"):
            heads = base.n_head if name.split(".")[-2] == "attn_q" else base.n_head_kv
            b = permute_rows(b, heads)
        out[name] = (a, b)
    return out


def write_adapter_gguf(adapter: Adapter, base_path: Path, out: Path, base_sha256: str) -> int:
    """Write the llama.cpp LoRA GGUF; returns the number of adapted tensors."""
    import gguf

    reader = gguf.GGUFReader(base_path)
    base = base_info(reader)
    pairs = gguf_pairs(adapter, base, base_path)
    writer = gguf.GGUFWriter(str(out), base.arch)
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", adapter.gguf_alpha)
    writer.add_string("general.name", f"{adapter.path.parent.name} LoRA")
    writer.add_string(FINGERPRINT_KEY, base_sha256)
    for name, (a, b) in pairs.items():
        # torch layout (r, in) / (out, r); ggml sees ne = (in, r) / (r, out), as llama.cpp expects.
        writer.add_tensor(f"{name}.lora_a", np.ascontiguousarray(a, dtype=np.float32))
        writer.add_tensor(f"{name}.lora_b", np.ascontiguousarray(b, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return len(pairs)
