"""Batched greedy generation in llama.cpp: many sequences per `llama_decode`, continuously refilled.

llama-cpp-python's `create_completion` runs one prompt at a time, so every generated token reads
all the weights for one row; a small model on a CPU is then bound by memory traffic and call
overhead, not arithmetic. Here up to ``slots`` sequences share each decode call:

- one context with one KV-cache stream per slot (plus one for the prefix): a token attends to its
  own sequence's cells only, where a unified cache made every token span (and mask) the cells of
  all sequences, which cost this 135M model as much as its weights once answers ran long;
- the prefix every prompt of a call shares (chat template, system instruction, few-shot
  examples) is evaluated once into its own stream and copied into each slot's stream;
- a step decodes either the prompts of newly admitted sequences or one token of every running
  one (continuous batching: finished slots take the next prompts, a few at a time);
- greedy choice per sequence (the first highest logit, as llama.cpp's greedy sampler), with an
  optional grammar per sequence; generation stops at an end-of-generation token or the limit
  (or, with ``stop_loops``, once the output repeats itself: ``generation.LoopGuard``), never at a
  stop string.

The outputs are what `create_completion(temperature=0)` returns for the same prompts with the same
attention kernel (flash attention, on here and in extractor.llama_runtime), token for token,
except where batched matmuls round differently at a near-tie (measured by tests/test_export.py). A prompt whose tokens plus budget exceed ``n_ctx`` is an error record, as
create_completion's context error. Each stream holds the longest prompt plus budget of the call
(rounded up to 256 cells; the context is rebuilt larger when a later call needs more), so a
sequence never overflows mid-generation.
"""

from __future__ import annotations

import ctypes
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.errors import ExportError
from ..core.decoding import Admission, next_token, share
from ..core.faults import Fault
from ..core.generation import Generation, LoopGuard, Prior, context_error

_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])


@dataclass
class _Seq:
    index: int
    """Position of the prompt in the call's list."""
    tokens: list[int]
    """Prompt tokens."""
    budget: int
    """Tokens this sequence may generate."""
    slot: int = -1
    fed: int = 0
    """Prompt tokens already in the KV cache (the shared prefix counts)."""
    out: list[int] = field(default_factory=list)
    grammar: object = None
    seconds: float = 0.0
    """This sequence's share of the decode calls it took part in (by tokens), plus the prefix's share."""
    pending: int | None = None
    """The token chosen last step, to be decoded this step."""
    guard: LoopGuard | None = None
    """Stops the sequence with finish reason `loop` when its output repeats itself (None: never)."""
    head: int = 0
    """Output tokens taken from a ``Prior`` and fed with the prompt (they are in both ``tokens`` and ``out``)."""
    stop_token: int | None = None


class BatchedLlama:
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
        self._candidates = np.zeros(self.n_vocab, dtype=_TOKEN_DATA)
        self._candidates["id"] = np.arange(self.n_vocab, dtype=np.int32)
        self._one = np.zeros(1, dtype=_TOKEN_DATA)

    def _context(self, cells: int) -> None:
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

    # ------------------------------------------------------------------ public
    def tokenize(self, text: str) -> list[int]:
        """Prompt tokens as create_completion makes them (BOS where the model wants one, special tokens parsed)."""
        return self._model.tokenize(text.encode("utf-8"), add_bos=True, special=True)

    def generate(self, prompts: list[str], max_new_tokens: int, grammar=None, stop_loops: bool = False,
                 priors: list[Prior | None] | None = None) -> list[Generation]:
        """Greedy completions of ``prompts``, in order; a prompt that cannot run is an `error` Generation.
        ``stop_loops``: end an output caught repeating itself (finish reason `loop`, see
        ``generation.LoopGuard``) instead of generating to the limit. ``priors``: see ``stream``."""
        out: list[Generation | None] = [None] * len(prompts)
        for i, g in self.stream(prompts, max_new_tokens, grammar, stop_loops, priors):
            out[i] = g
        return out  # type: ignore[return-value]

    def stream(self, prompts: list[str], max_new_tokens: int, grammar=None, stop_loops: bool = False,
               priors: list[Prior | None] | None = None):
        """``(index, Generation)`` for every prompt, as each finishes (not in order). With a
        ``grammar``, a prompt's ``Prior`` (its free output) is walked under the grammar first: the
        tokens it accepts are the constrained output's too, taken without decoding, and decoding
        starts at the first token it rejects (or is not needed at all)."""
        seqs: list[_Seq] = []
        for i, p in enumerate(prompts):
            tokens = self.tokenize(p)
            budget = min(max_new_tokens, self.n_ctx - len(tokens))
            if not tokens:
                yield i, Generation("", "error", error="ValueError: empty prompt")
            elif budget <= 0:
                yield i, Generation("", "error", prompt_tokens=len(tokens), error=context_error(len(tokens), self.n_ctx))
            else:
                s = _Seq(i, tokens, budget, guard=LoopGuard() if stop_loops else None)
                prior = priors[i] if priors is not None and grammar is not None else None
                done = self._inherit(s, prior, grammar) if prior is not None else None
                if done is not None:
                    yield i, done
                else:
                    seqs.append(s)
        if seqs:
            self._context(max(len(s.tokens) - s.head + s.budget for s in seqs))
            t0 = time.perf_counter()
            self._set_prefix(seqs)
            share = (time.perf_counter() - t0) / len(seqs)
            for s in seqs:
                s.seconds += share   # after the time a Prior's walk took
            for s, g in self._run(seqs, grammar):
                yield s.index, g

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

    # ------------------------------------------------------------------ internals
    def _inherit(self, s: _Seq, prior: Prior, grammar) -> Generation | None:
        """Walk ``prior``'s tokens under a new grammar sampler for ``s``. A whole prior the grammar
        accepts, with how it ended, is the constrained output: returned as it is. Otherwise ``s``
        starts from the accepted tokens (fed with its prompt, the sampler past them)."""
        if not prior.continuable:
            return None
        lib = self._lib
        t0 = time.perf_counter()
        sampler = lib.llama_sampler_init_grammar(self._vocab, grammar._grammar.encode("utf-8"),
                                                 grammar._root.encode("utf-8"))
        taken = 0
        for token in prior.tokens[:s.budget]:
            if not self._allows(sampler, token):
                break
            lib.llama_sampler_accept(sampler, token)
            taken += 1
        kept = tuple(prior.tokens[:taken])
        ended = prior.ending(taken, lambda token: self._allows(sampler, token))
        if ended is not None:
            lib.llama_sampler_free(sampler)
            text = self._model.detokenize(list(kept), special=False).decode("utf-8", errors="ignore")
            n = len(kept) + (ended == "stop")
            return Generation(text, ended, len(s.tokens), n, time.perf_counter() - t0, None, kept,
                              prior.stop_token if ended == "stop" else None, inherited=n)
        s.grammar, s.head, s.out = sampler, taken, list(kept)
        s.tokens = s.tokens + list(kept)
        if s.guard is not None:
            s.guard.replay(s.out)
        s.seconds = time.perf_counter() - t0
        return None

    def _allows(self, sampler, token: int) -> bool:
        self._one[0] = (token, 0.0, 0.0)
        return self._apply(sampler, self._one)[0]["logit"] != -np.inf

    def _set_prefix(self, seqs: list[_Seq]) -> None:
        """Evaluate the tokens every prompt shares (but its last) once, into sequence ``slots``."""
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
            self._fill([(t, chunk + j, self.slots, False) for j, t in enumerate(part)])
            self._decode()
        self._prefix = prefix

    def _run(self, seqs: list[_Seq], grammar):
        # llama.cpp splits a batch over several streams into micro-batches of equal tokens per
        # sequence and consecutive sequence ids, each a pass over the weights. So: the running
        # sequences always hold slots 0..n-1 (a finished sequence's slot takes the last one's
        # stream), tokens go in slot order, and prompts are decoded in steps of their own, with
        # slots refilled a few at a time.
        lib = self._lib
        queue = list(seqs)
        running: list[_Seq] = []  # running[i].slot == i
        admission = Admission(self.slots)
        while queue or running:
            n = admission.admit(len(queue), len(running))
            admitted, queue = queue[:n], queue[n:]
            for s in admitted:
                s.slot, s.fed = len(running), len(self._prefix)
                if self._prefix:  # a copy between streams copies the whole (prefix-only) stream
                    lib.llama_memory_seq_cp(self._mem, self.slots, s.slot, -1, -1)
                if grammar is not None and s.grammar is None:
                    s.grammar = lib.llama_sampler_init_grammar(
                        self._vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8"))
                running.append(s)
            entries, wants = self._entries(running)
            self._fill(entries)
            t0 = time.perf_counter()
            try:
                self._decode()
            except RuntimeError as e:
                # A fault of the runtime, not an answer of the model (core/faults.py): the
                # sequences not finished are dropped, and the caller retries them.
                for s in running + queue:
                    if s.slot >= 0:
                        lib.llama_memory_seq_rm(self._mem, s.slot, -1, -1)
                    if s.grammar is not None:
                        lib.llama_sampler_free(s.grammar)
                        s.grammar = None
                raise Fault(f"llama.cpp ({self.model_name})", f"RuntimeError: {e}") from None
            seconds = share(time.perf_counter() - t0, Counter(e[2] for e in entries))
            for s in running:
                s.seconds += seconds.get(s.slot, 0.0)
            done = []
            for s, pos in wants:
                token = self._choose(pos, s.grammar)
                reason = next_token(s.out, token, lib.llama_vocab_is_eog(self._vocab, token), s.budget, s.guard)
                s.pending = token if reason is None else None
                s.stop_token = token if reason == "stop" else None
                if reason is not None:
                    done.append((s, reason))
            for s, reason in done:
                running = self._release(running, s)
                yield s, self._finish(s, reason)

    def _entries(self, running: list[_Seq]) -> tuple[list, list]:
        """This step's batch: prompt tokens of newly admitted sequences, as many as fit; else one
        token of every generating sequence. (entries, [(sequence, batch position of its logits)])."""
        entries, wants = [], []
        room = self.n_batch
        for s in running:
            if s.fed < len(s.tokens) and room > 0:
                take = s.tokens[s.fed:s.fed + room]
                last = s.fed + len(take) == len(s.tokens)
                for j, t in enumerate(take):
                    logits = last and j == len(take) - 1
                    if logits:
                        wants.append((s, len(entries)))
                    entries.append((t, s.fed + j, s.slot, logits))
                s.fed += len(take)
                room -= len(take)
        if not entries:
            for s in running:
                wants.append((s, len(entries)))
                entries.append((s.pending, len(s.tokens) + len(s.out) - s.head - 1, s.slot, True))
        return entries, wants

    def _release(self, running: list[_Seq], s: _Seq) -> list[_Seq]:
        """Drop ``s`` from its slot; the last running sequence moves into that slot (stream copied)."""
        lib = self._lib
        lib.llama_memory_seq_rm(self._mem, s.slot, -1, -1)
        last = running[-1]
        if last is not s:
            lib.llama_memory_seq_cp(self._mem, last.slot, s.slot, -1, -1)
            lib.llama_memory_seq_rm(self._mem, last.slot, -1, -1)
            running[s.slot], last.slot = last, s.slot
        running.pop()
        return running

    def _finish(self, s: _Seq, reason: str, error: str | None = None) -> Generation:
        if s.grammar is not None:
            self._lib.llama_sampler_free(s.grammar)
            s.grammar = None
        text = self._model.detokenize(s.out, special=False).decode("utf-8", errors="ignore")
        gen = len(s.out) + (1 if reason == "stop" else 0)  # the end-of-generation token counts
        return Generation(text, reason, len(s.tokens) - s.head, gen, s.seconds, error, tuple(s.out),
                          s.stop_token if reason == "stop" else None, inherited=s.head)

    def _choose(self, pos: int, grammar) -> int:
        """Greedy token from the logits of batch position ``pos``, within the grammar if any."""
        lib = self._lib
        ptr = lib.llama_get_logits_ith(self._ctx.ctx, pos)
        logits = np.ctypeslib.as_array(ptr, shape=(self.n_vocab,))
        token = int(logits.argmax())
        if grammar is None:
            return token
        # The greedy token is usually allowed: check it alone before masking the whole vocabulary.
        self._one[0] = (token, logits[token], 0.0)
        if self._apply(grammar, self._one)[0]["logit"] != -np.inf:
            lib.llama_sampler_accept(grammar, token)
            return token
        self._candidates["logit"] = logits
        self._candidates["p"] = 0.0
        masked = self._apply(grammar, self._candidates)
        token = int(masked["logit"].argmax())
        lib.llama_sampler_accept(grammar, token)
        return token

    def _apply(self, grammar, arr: np.ndarray) -> np.ndarray:
        lib = self._lib
        data = lib.llama_token_data_array(
            data=arr.ctypes.data_as(lib.llama_token_data_p), size=len(arr), selected=-1, sorted=False)
        lib.llama_sampler_apply(grammar, ctypes.byref(data))
        return arr

    def _fill(self, entries: list[tuple[int, int, int, bool]]) -> None:
        b = self._batch
        for i, (token, pos, seq, logits) in enumerate(entries):
            b.token[i] = token
            b.pos[i] = pos
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = seq
            b.logits[i] = logits
        b.n_tokens = len(entries)

    def _decode(self) -> None:
        rc = self._lib.llama_decode(self._ctx.ctx, self._batch)
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")
