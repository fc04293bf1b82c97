"""Merge a LoRA adapter into a GGUF: dequantize the touched tensors, add the delta, re-quantize.

Only the tensors the adapter touches change; every other tensor is copied byte for byte, and the
metadata (tokenizer, chat template, hyper-parameters) is copied field by field. Quantization is
llama.cpp's own: ``ggml_quantize_chunk`` from the ``libggml-base`` that llama-cpp-python ships,
called through ctypes, so a Q4_K block here is bit-identical to what ``llama-quantize`` writes.

``--quant`` names a llama.cpp file type. As ``llama-quantize`` does, a tensor whose row length is
not a multiple of the type's block (k-quants need 256; SmolLM2's 576-wide rows are not) falls
back to a legacy type of similar size, and ``q4_k_m`` keeps ``attn_v`` / ``ffn_down`` at Q6_K.
"""

from __future__ import annotations

import ctypes
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..core.errors import ExportError
from ..runtimes.gguf_info import FINGERPRINT_KEY, base_info
from .lora_gguf import Adapter, gguf_pairs

QUANTS = ("q8_0", "q4_k_m", "q6_k", "f16")
_FALLBACK = {"Q4_K": "Q5_0", "Q5_K": "Q5_1", "Q6_K": "Q8_0", "Q2_K": "Q4_0", "Q3_K": "Q4_0"}


def check_quant(quant: str) -> None:
    if quant not in QUANTS:
        raise ExportError(f"--quant {quant!r}: choose one of {', '.join(QUANTS)}.")


def target_type(quant: str, tensor_name: str, n_per_row: int):
    """The ggml type one touched tensor is written in, for a ``--quant`` choice."""
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType as T

    check_quant(quant)
    if quant == "f16":
        return T.F16
    if quant == "q8_0":
        name = "Q8_0"
    elif quant == "q6_k":
        name = "Q6_K"
    else:  # q4_k_m: the more sensitive projections keep more bits, as llama.cpp's Q4_K_M does
        name = "Q6_K" if tensor_name.split(".")[-2] in ("attn_v", "ffn_down") else "Q4_K"
    while n_per_row % GGML_QUANT_SIZES[T[name]][0]:
        if name not in _FALLBACK:
            return T.F16
        name = _FALLBACK[name]
    return T[name]


@lru_cache(maxsize=1)
def _ggml():
    import llama_cpp

    lib_dir = Path(llama_cpp.__file__).parent / "lib"
    candidates = sorted(lib_dir.glob("libggml-base.*")) + sorted(lib_dir.glob("libggml.*"))
    for path in candidates:
        try:
            lib = ctypes.CDLL(str(path))
            lib.ggml_quantize_chunk  # noqa: B018 - raises AttributeError if absent
            break
        except (OSError, AttributeError):
            continue
    else:
        raise ExportError(f"llama-cpp-python's ggml library with ggml_quantize_chunk was not found in {lib_dir}. "
                          "Reinstall it with `make install`.")
    lib.ggml_quantize_chunk.restype = ctypes.c_size_t
    lib.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                                        ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
    lib.ggml_row_size.restype = ctypes.c_size_t
    lib.ggml_row_size.argtypes = [ctypes.c_int, ctypes.c_int64]
    lib.ggml_quantize_init.argtypes = [ctypes.c_int]
    return lib


def quantize(w: np.ndarray, qtype) -> np.ndarray:
    """Quantize a float32 [rows, n_per_row] matrix with llama.cpp's kernels; returns raw bytes [rows, row_bytes]."""
    from gguf import GGMLQuantizationType as T

    w = np.ascontiguousarray(w, dtype=np.float32)
    if qtype == T.F32:
        return w
    if qtype == T.F16:
        return w.astype(np.float16)
    lib = _ggml()
    rows, n_per_row = w.shape
    row_bytes = lib.ggml_row_size(int(qtype), n_per_row)
    out = np.empty((rows, row_bytes), dtype=np.uint8)
    lib.ggml_quantize_init(int(qtype))
    written = lib.ggml_quantize_chunk(int(qtype), w.ctypes.data, out.ctypes.data, 0, rows, n_per_row, None)
    if written != out.nbytes:
        raise ExportError(f"ggml_quantize_chunk wrote {written} bytes for a {rows}x{n_per_row} {qtype.name} tensor, "
                          f"expected {out.nbytes}.")
    return out


def dequantize(tensor) -> np.ndarray:
    """A GGUF tensor (from GGUFReader) as float32 in torch layout [out, in]."""
    from gguf import quants

    return quants.dequantize(tensor.data, tensor.tensor_type).astype(np.float32).reshape(
        tuple(int(x) for x in reversed(tensor.shape.tolist())))


def _copy_metadata(reader, writer) -> None:
    from gguf import GGUFValueType

    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key in ("general.architecture", "general.file_type"):
            continue  # the writer writes these itself; the file type is the export's, not the base's
        if key == "general.alignment":
            writer.data_alignment = int(field.contents())
        vtype = field.types[0]
        sub = field.types[-1] if vtype == GGUFValueType.ARRAY else None
        writer.add_key_value(key, field.contents(), vtype, sub_type=sub)


def write_merged_gguf(adapter: Adapter, base_path: Path, out: Path, quant: str, base_sha256: str) -> dict:
    """Write base + adapter as one GGUF; returns {tensor name: type written} for the touched tensors."""
    import gguf

    reader = gguf.GGUFReader(base_path)
    base = base_info(reader)
    pairs = gguf_pairs(adapter, base, base_path)
    writer = gguf.GGUFWriter(str(out), base.arch)
    _copy_metadata(reader, writer)
    # What tools show as the file's quantization (Ollama, llama-server): the export's, not the base's.
    writer.add_file_type({"q8_0": gguf.LlamaFileType.MOSTLY_Q8_0, "q4_k_m": gguf.LlamaFileType.MOSTLY_Q4_K_M,
                          "q6_k": gguf.LlamaFileType.MOSTLY_Q6_K, "f16": gguf.LlamaFileType.MOSTLY_F16}[quant])
    writer.add_string("extractor.merged_adapter", adapter.path.parent.name)
    writer.add_string(FINGERPRINT_KEY, base_sha256)
    written = {}
    for t in reader.tensors:
        if t.name not in pairs:
            writer.add_tensor(t.name, t.data, raw_shape=t.data.shape, raw_dtype=t.tensor_type)
            continue
        a, b = pairs[t.name]
        w = dequantize(t) + adapter.scale * (b @ a)
        qtype = target_type(quant, t.name, w.shape[1])
        data = quantize(w, qtype)
        if qtype in (gguf.GGMLQuantizationType.F16, gguf.GGMLQuantizationType.F32):
            writer.add_tensor(t.name, data)
        else:
            writer.add_tensor(t.name, data, raw_shape=data.shape, raw_dtype=qtype)
        written[t.name] = qtype.name
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return written
