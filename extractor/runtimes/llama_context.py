"""A GGUF (and an optional LoRA GGUF) in one llama.cpp context made for batches of sequences: one
KV-cache stream per slot plus one for the prefix every sequence of a call shares, evaluated once
and copied into each slot's stream. ``llama_batch.BatchedLlama`` generates on it,
``llama_score.score`` scores gold answers on it (teacher forcing).

A token attends to its own sequence's cells only, where a unified cache made every token span (and
mask) the cells of all sequences, which cost this 135M model as much as its weights once answers
ran long. Each stream holds the longest sequence of a call (rounded up to 256 cells; the context is
rebuilt larger when a later call needs more).
"""

from __future__ import annotations

import ctypes
import functools
from pathlib import Path

import numpy as np

from ..core.errors import ExportError


class LlamaStreams:
    """A GGUF (plus an optional LoRA GGUF) in one llama.cpp context built for batched decoding."""

    def __init__(self, model: Path, lora: Path | None = None, *, slots: int = 16, n_ctx: int = 2048,
                 threads: int = 1, n_batch: int = 512, flash_attn: bool = True):
        import llama_cpp
        from llama_cpp import _internals, _logger

        _logger.set_verbose(False)  # llama.cpp's own log lines are not about the user's run
        from .llama import check_files

        self._lib = llama_cpp
        model = Path(model)
        self.model_name = model.name + (f" + {Path(lora).name}" if lora is not None else "")
        check_files(model, lora)  # missing files, or an adapter made for another base: our message, not an abort
        self.slots, self.n_ctx, self.n_batch, self.threads = max(1, slots), n_ctx, n_batch, threads
        self.flash_attn, self.lora = flash_attn, lora
        mparams = llama_cpp.llama_model_default_params()
        try:
            self._model = _internals.LlamaModel(path_model=str(model), params=mparams, verbose=False)
        except ValueError as e:
            raise ExportError(f"llama.cpp could not load {model}: {e}") from None
        self._adapter = None
        if lora is not None:
            self._adapter = llama_cpp.llama_adapter_lora_init(self._model.model, str(lora).encode("utf-8"))
            if not self._adapter:
                raise ExportError(f"llama.cpp could not load the LoRA adapter {lora}")
        self._ctx = None
        self.cells = 0
        """KV cells of each sequence's stream in the current context (0: none built yet)."""
        self._vocab = self._model.vocab
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self._vocab)
        self._batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
        self._prefix: list[int] = []

    def ensure_cells(self, cells: int) -> None:
        """A context whose every stream holds at least ``cells`` tokens (built, or rebuilt larger)."""
        if self._ctx is not None and self.cells >= cells:
            return
        from llama_cpp import _internals

        lib = self._lib
        if self._ctx is not None:
            self._ctx.close()
            self._ctx = None
        cells = -(-cells // 256) * 256
        cparams = lib.llama_context_default_params()
        cparams.n_seq_max = self.slots + 1  # one sequence (and stream) per slot, one for the shared prefix
        cparams.n_ctx = cells * cparams.n_seq_max
        cparams.kv_unified = False
        cparams.n_batch = cparams.n_ubatch = self.n_batch
        cparams.n_threads = cparams.n_threads_batch = self.threads
        cparams.no_perf = True
        cparams.flash_attn_type = lib.LLAMA_FLASH_ATTN_TYPE_ENABLED if self.flash_attn else lib.LLAMA_FLASH_ATTN_TYPE_DISABLED
        self._ctx = _internals.LlamaContext(model=self._model, params=cparams, verbose=False)
        self.cells = lib.llama_n_ctx_seq(self._ctx.ctx)
        if self._adapter is not None:
            adapters = (lib.llama_adapter_lora_p_ctypes * 1)(self._adapter)
            if lib.llama_set_adapters_lora(self._ctx.ctx, adapters, 1, (ctypes.c_float * 1)(1.0)):
                raise ExportError(f"llama.cpp could not apply the LoRA adapter {self.lora}")
        self._mem = self._ctx.memory
        self._prefix = []

    def tokenize(self, text: str) -> list[int]:
        """Prompt tokens as create_completion makes them (BOS where the model wants one, special tokens parsed)."""
        return self._model.tokenize(text.encode("utf-8"), add_bos=True, special=True)

    def tokenize_text(self, text: str) -> list[int]:
        """Plain text's tokens: no BOS, special tokens not parsed (an answer, as training tokenized it)."""
        return self._model.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    @functools.cached_property
    def stop_token(self) -> int:
        """The token that ends a turn, as training appended it: the GGUF's EOS where it ends
        generation (SmolLM2: ``<|im_end|>``, though its GGUF names ``<|endoftext|>`` EOT), else its EOT."""
        lib, vocab = self._lib, self._vocab
        eos = int(lib.llama_vocab_eos(vocab))
        return eos if eos >= 0 and lib.llama_vocab_is_eog(vocab, eos) else int(lib.llama_vocab_eot(vocab))

    def close(self) -> None:
        if self._batch is not None:
            self._lib.llama_batch_free(self._batch)
            self._batch = None
        if self._ctx is not None:
            self._ctx.close()
            self._ctx = None
        if self._adapter is not None:
            self._lib.llama_adapter_lora_free(self._adapter)
            self._adapter = None
        self._model.close()

    def set_prefix(self, seqs) -> None:
        """Evaluate the tokens every sequence shares (but its last) once, into sequence ``slots``
        (each of ``seqs`` has its ``tokens``)."""
        first = seqs[0].tokens
        n = min(len(s.tokens) for s in seqs) - 1
        for s in seqs[1:]:
            n = next((i for i in range(n) if s.tokens[i] != first[i]), n)
        prefix = first[:n]
        keep = next((i for i, (a, b) in enumerate(zip(prefix, self._prefix)) if a != b), min(len(prefix), len(self._prefix)))
        if keep < len(self._prefix):
            self._lib.llama_memory_seq_rm(self._mem, self.slots, keep, -1)
            self._prefix = self._prefix[:keep]
        for chunk in range(keep, len(prefix), self.n_batch):
            part = prefix[chunk:chunk + self.n_batch]
            self.fill([(t, chunk + j, self.slots, False) for j, t in enumerate(part)])
            self.decode()
        self._prefix = prefix

    def fill(self, entries: list[tuple[int, int, int, bool]]) -> None:
        """The next decode's batch: (token, position, slot, whether its logits are wanted) each."""
        b = self._batch
        for i, (token, pos, seq, logits) in enumerate(entries):
            b.token[i] = token
            b.pos[i] = pos
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = seq
            b.logits[i] = logits
        b.n_tokens = len(entries)

    def decode(self) -> None:
        """Decode the batch ``fill`` set; RuntimeError when llama.cpp fails."""
        rc = self._lib.llama_decode(self._ctx.ctx, self._batch)
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")

    @property
    def prefix_length(self) -> int:
        """Tokens of the shared prefix now in its stream (every slot starts from them)."""
        return len(self._prefix)

    def copy_prefix(self, slot: int) -> None:
        """Start ``slot``'s stream from the shared prefix (a copy of the prefix's whole stream)."""
        if self._prefix:
            self._lib.llama_memory_seq_cp(self._mem, self.slots, slot, -1, -1)

    def clear(self, slot: int, at: int = -1) -> None:
        """Empty ``slot``'s stream (from position ``at`` on, when given)."""
        self._lib.llama_memory_seq_rm(self._mem, slot, at, -1)

    def logits(self, at: int) -> np.ndarray:
        """The logits row of the batch entry ``at`` of the last decode (a view, valid until the next)."""
        ptr = self._lib.llama_get_logits_ith(self._ctx.ctx, at)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,))
