"""What llama.cpp will see in a GGUF, read before it sees it: a base model's shapes, and whether a
LoRA GGUF fits a base.

llama.cpp answers a mismatched adapter with a bare "failed to load", or worse, so runtimes check
architecture, tensor shapes and the recorded base fingerprint here first (``check_adapter_gguf``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..core.errors import ExportError
from ..core.files import sha256_cached

FINGERPRINT_KEY = "extractor.base_gguf_sha256"
"""The GGUF metadata key under which `extractor export` records the base GGUF's sha256."""


@dataclass
class BaseGGUF:
    """What the converter needs to know about the base GGUF."""

    arch: str
    n_blocks: int
    n_head: int
    n_head_kv: int
    shapes: dict[str, tuple[int, int]]
    """GGUF tensor name -> (out, in), i.e. the torch layout."""


def base_info(reader) -> BaseGGUF:
    f = reader.fields
    arch = f["general.architecture"].contents()

    def u(key, default=None):
        return f[key].contents() if key in f else default

    n_head = u(f"{arch}.attention.head_count", 0)
    shapes = {t.name: tuple(int(x) for x in reversed(t.shape.tolist())) for t in reader.tensors}
    return BaseGGUF(arch, int(u(f"{arch}.block_count", 0)), int(n_head), int(u(f"{arch}.attention.head_count_kv", n_head)), shapes)


def check_adapter_gguf(base_path: Path, adapter_path: Path) -> None:
    """Refuse an adapter GGUF made for another base, before llama.cpp is asked to load it."""
    import gguf


    try:
        areader = gguf.GGUFReader(adapter_path)
    except Exception as e:  # noqa: BLE001 - any parse failure means "not a GGUF we can use"
        raise ExportError(f"{adapter_path}: not a readable GGUF file ({e}). Re-run `extractor export`.") from None
    f = areader.fields
    if "adapter.type" not in f or f["adapter.type"].contents() != "lora":
        raise ExportError(f"{adapter_path}: not a LoRA adapter GGUF (no adapter.type = lora).")
    base = base_info(gguf.GGUFReader(base_path))
    arch = f["general.architecture"].contents()
    if arch != base.arch:
        raise ExportError(f"{adapter_path}: adapter is for architecture {arch!r} but {base_path.name} is {base.arch!r}.")
    for t in areader.tensors:
        target, _, side = t.name.rpartition(".")
        dims = tuple(int(x) for x in reversed(t.shape.tolist()))  # (r, in) for A, (out, r) for B
        want = base.shapes.get(target)
        ok = want is not None and (dims[1] == want[1] if side == "lora_a" else dims[0] == want[0])
        if not ok:
            raise ExportError(f"{adapter_path}: tensor {t.name} {dims} does not fit {base_path.name} "
                              f"({target}: {want}). This adapter was exported for another base model.")
    if FINGERPRINT_KEY in f:
        recorded = f[FINGERPRINT_KEY].contents()
        actual = sha256_cached(base_path)
        if recorded != actual:
            raise ExportError(f"{adapter_path}: exported for a base GGUF with sha256 {recorded[:12]}..., but "
                              f"{base_path.name} is {actual[:12]}.... Use the base the run was trained on.")
