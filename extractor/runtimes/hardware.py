"""What the machine can do fast: bf16 support, the CPU flags behind the choice, and how many cores
it has (``cpu_cores``, the one count).

`precision = "auto"` (training) and the transformers variants (evaluation) ask here whether bf16
compute pays on this device. On a CPU it does where the cores have bf16 matrix instructions:
AMX-BF16 (Intel Sapphire Rapids and later) or AVX512-BF16 (AMD Zen 4, Intel Cooper Lake). On
the 2-core AVX512-BF16 machine this project is developed on, a bf16 matmul of SmolLM2's shapes
runs 2.1x faster than fp32 (one thread, 576x1536 weights: 206 vs 98 GFLOP/s); on AMX machines the
gap measured 8x. Without those instructions bf16 is emulated and slower than fp32.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

PRECISIONS = ("fp32", "bf16", "auto")


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU feature flags of /proc/cpuinfo (empty where there is no such file)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def cpu_bf16() -> str | None:
    """The CPU's bf16 matrix instruction set ("amx_bf16" or "avx512_bf16"), or None."""
    flags = cpu_flags()
    for name in ("amx_bf16", "avx512_bf16"):
        if name in flags:
            return name
    try:  # not Linux: ask torch's own CPU probe
        import torch

        if getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)():
            return "avx512_bf16"
    except ImportError:
        pass
    return None


def resolve_precision(precision: str, device_type: str) -> tuple[str, str]:
    """``(fp32|bf16, why)`` for a configured precision on a device ("cpu" or "cuda")."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}: must be one of {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision, "set in the config"
    if device_type == "cuda":
        import torch

        if torch.cuda.is_bf16_supported():
            return "bf16", "the GPU supports bf16"
        return "fp32", "the GPU has no bf16 support"
    found = cpu_bf16()
    if found:
        return "bf16", f"the CPU has {found.upper().replace('_', '-')}"
    return "fp32", "the CPU has neither AMX-BF16 nor AVX512-BF16 (bf16 would be emulated)"


def cpu_cores() -> int:
    """The CPUs this process may run on (its affinity mask; every CPU where there is none), at least
    1: the one count of cores (llama.cpp's default threads, the warning about another heavy job)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)
