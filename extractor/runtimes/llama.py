"""llama.cpp through llama-cpp-python: open a GGUF (optionally with a LoRA GGUF), generate greedily.

Prompts that share a prefix (the system instruction, few-shot examples) reuse the KV cache:
llama-cpp-python keeps the previous prompt's tokens and only evaluates the part after the longest
common prefix, so the instruction is evaluated once per variant, not once per sample.
Generation stops only at the end-of-turn token or the token limit - never at a stop string -
so what a model writes after its answer is kept and can be classified.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..core.errors import ExportError, ModelNotFoundError
from ..core.generation import Generation
from .hardware import cpu_cores


def default_threads() -> int:
    """CPU threads when none are asked for: every core, up to 8 (more rarely helps llama.cpp)."""
    return min(cpu_cores(), 8)


def check_files(model: Path, lora: Path | None = None) -> None:
    """The GGUF exists, and the LoRA GGUF (if any) exists and was made for this base, before
    llama.cpp sees them (its own failures are an abort or a bare message)."""
    model = Path(model)
    if not model.is_file():
        raise ModelNotFoundError(f"GGUF file {model} does not exist; run `extractor export RUN` first.")
    if lora is not None:
        from .gguf_info import check_adapter_gguf

        if not Path(lora).is_file():
            raise ModelNotFoundError(f"LoRA GGUF {lora} does not exist; run `extractor export RUN` first.")
        check_adapter_gguf(model, Path(lora))


def open_llama(model: Path, lora: Path | None = None, n_ctx: int = 2048, threads: int | None = None):
    """A llama_cpp.Llama, with the adapter checked against the base before llama.cpp loads it."""
    from llama_cpp import Llama

    model = Path(model)
    check_files(model, lora)
    threads = threads or default_threads()
    try:
        # flash attention as the batched runtime (extractor.runtimes.llama_batch) uses it: the two then give the
        # same greedy outputs; llama-cpp-python's default (off) rounds ~2% of them the other way.
        return Llama(model_path=str(model), lora_path=str(lora) if lora else None, n_ctx=n_ctx, n_threads=threads,
                     n_threads_batch=threads, n_batch=512, flash_attn=True, verbose=False, seed=0)
    except (ValueError, RuntimeError) as e:
        raise ExportError(f"llama.cpp could not load {model}{' with ' + str(lora) if lora else ''}: {e}") from None


def complete(llm, prompt: str, max_tokens: int = 128, grammar=None) -> Generation:
    """Greedy completion; a failure (context overflow, decode error) becomes an `error` Generation."""
    t0 = time.perf_counter()
    try:
        out = llm.create_completion(prompt, max_tokens=max_tokens, temperature=0.0, top_k=1, top_p=1.0, min_p=0.0,
                                    repeat_penalty=1.0, grammar=grammar, stop=[])
    except (ValueError, RuntimeError) as e:
        return Generation("", "error", seconds=time.perf_counter() - t0, error=f"{type(e).__name__}: {e}")
    choice, usage = out["choices"][0], out["usage"]
    reason = choice.get("finish_reason") or "stop"
    gen = usage["completion_tokens"] + (1 if reason == "stop" else 0)  # the EOG token is not counted by llama.cpp
    return Generation(choice["text"], "stop" if reason == "stop" else "length", usage["prompt_tokens"], gen,
                      time.perf_counter() - t0)
