"""What an artefact's files say about it, read for the likelihood view's causes
(``evaluation/causes.py``): the GGUF's quantization, chat template and special tokens, the HF
tokenizer's, the base an adapter GGUF was exported for, and how the run was trained and exported.

Every value is plain JSON (it is recorded in eval.json, so a report scored again elsewhere, without
the files, still names its causes). A template is recorded as a short hash and its length: enough
to tell two apart.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ..core.files import sha256_cached
from .gguf_info import FINGERPRINT_KEY


def _short(text: str | None) -> str | None:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12] if text else None


def gguf_facts(path: Path, lora: Path | None = None) -> dict[str, Any]:
    """A GGUF's file type, chat template and special tokens; with ``lora``, whether the adapter GGUF
    was exported for this very base file (its recorded sha256)."""
    import gguf

    reader = gguf.GGUFReader(path)
    f = reader.fields

    def get(key):
        return f[key].contents() if key in f else None

    file_type = get("general.file_type")
    try:
        type_name = gguf.LlamaFileType(int(file_type)).name.removeprefix("MOSTLY_") if file_type is not None else None
    except ValueError:
        type_name = str(file_type)
    types: dict[str, int] = {}
    for t in reader.tensors:
        if len(t.shape) > 1:  # the weight matrices (norms and biases stay F32 in every type)
            name = t.tensor_type.name
            types[name] = types.get(name, 0) + 1
    out = {"file": Path(path).name, "file_type": type_name, "tensor_types": types,
           "chat_template": _short(get("tokenizer.chat_template")),
           "eos": get("tokenizer.ggml.eos_token_id"), "eot": get("tokenizer.ggml.eot_token_id"),
           "bos": get("tokenizer.ggml.bos_token_id")}
    if lora is not None:
        recorded = gguf.GGUFReader(lora).fields.get(FINGERPRINT_KEY)
        out["adapter_base_sha256"] = recorded.contents()[:12] if recorded is not None else None
        out["base_sha256"] = sha256_cached(Path(path))[:12]
    return out


def tokenizer_facts(tokenizer) -> dict[str, Any]:
    """The HF tokenizer's chat template and special tokens: what training used."""
    return {"chat_template": _short(tokenizer.chat_template), "eos": tokenizer.eos_token_id,
            "bos": tokenizer.bos_token_id, "pad": tokenizer.pad_token_id}


def run_facts(run_dir: Path) -> dict[str, Any]:
    """How a run was trained (quantization, precision) and exported (the merged GGUF's quant)."""
    out: dict[str, Any] = {}
    for name, keys in (("run.json", ("config", "precision")), ("export/export.json", ("quant", "merged_gguf_tensor_types"))):
        try:
            found = json.loads((Path(run_dir) / name).read_text())
        except (OSError, ValueError):
            continue
        for k in keys:
            if k == "config":
                out["quantization"] = (found.get("config") or {}).get("quantization")
            elif k == "precision":
                out["precision"] = (found.get("precision") or {}).get("used")
            elif k == "quant":
                out["export_quant"] = found.get("quant")
            else:
                out[k] = found.get(k)
    return out
