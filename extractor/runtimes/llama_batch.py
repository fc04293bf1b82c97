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
- each chosen token's log-probability under the model's own distribution (a log-sum-exp of the
  logits row the choice already reads; under a grammar, the unconstrained row) and where it starts
  in the output text: what an answer's confidence is made of (``core/confidence.py``).

The outputs are what `create_completion(temperature=0)` returns for the same prompts with the same
attention kernel (flash attention, on here and in extractor.runtimes.llama.open_llama), token for token,
except where batched matmuls round differently at a near-tie (measured by tests/test_export.py). A prompt whose tokens plus budget exceed ``n_ctx`` is an error record, as
create_completion's context error. Each stream holds the longest prompt plus budget of the call
(rounded up to 256 cells; the context is rebuilt larger when a later call needs more), so a
sequence never overflows mid-generation.
"""

from __future__ import annotations

import ctypes
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .decoding import Admission, next_token, share
from ..core.faults import Fault
from ..core.generation import Generation, LoopGuard, Prior, context_error
from ..core.likelihood import TOP_K, TokenScores, from_generation
from ..core.confidence import piece_offsets
from .llama_context import LlamaStreams
from .llama_score import continue_gold

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
    positions: list | None = None
    """With ``stream(positions=True)``: per chosen token, (top-k, end-of-turn log-probability)."""
    logprobs: list[float] | None = field(default_factory=list)
    """Log-probability of each token of ``out`` under the model's own distribution (None: not
    known for the tokens taken from a ``Prior`` that kept none)."""
    gold: list[int] | None = None
    """The gold answer's tokens, scored in this stream as the sequence finishes (``stream(golds=)``)."""
    scored: TokenScores | None = None

    def tracking(self) -> bool:
        """Whether this step's top-k is kept: with ``positions``, at every step; with a gold answer
        too, only while the output is a prefix of it (the gold tokens after are fed at the end)."""
        g = self.gold
        return self.positions is not None and (
            g is None or (len(self.out) <= len(g) and self.out == g[:len(self.out)]))


class BatchedLlama(LlamaStreams):
    """Batched greedy generation on a ``LlamaStreams`` context."""

    def __init__(self, model: Path, lora: Path | None = None, *, slots: int = 16, n_ctx: int = 2048,
                 threads: int = 1, n_batch: int = 512, flash_attn: bool = True):
        super().__init__(model, lora, slots=slots, n_ctx=n_ctx, threads=threads, n_batch=n_batch, flash_attn=flash_attn)
        self._candidates = np.zeros(self.n_vocab, dtype=_TOKEN_DATA)
        self._candidates["id"] = np.arange(self.n_vocab, dtype=np.int32)
        self._one = np.zeros(1, dtype=_TOKEN_DATA)
        self._scratch = np.zeros(self.n_vocab, dtype=np.float32)
        self._piece = (ctypes.c_char * 256)()

    # ------------------------------------------------------------------ public
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
               priors: list[Prior | None] | None = None, positions: bool = False,
               golds: list[list[int] | None] | None = None):
        """``(index, Generation)`` for every prompt, as each finishes (not in order). With a
        ``grammar``, a prompt's ``Prior`` (its free output) is walked under the grammar first: the
        tokens it accepts are the constrained output's too, taken without decoding, and decoding
        starts at the first token it rejects (or is not needed at all). ``positions``: keep the
        top-k and the end-of-turn token's log-probability at every chosen position
        (``Generation.positions``, for the likelihood view); with ``golds`` too (each prompt's gold
        answer ids, or None), each gold answer is scored in its sequence's stream as it finishes
        (``Generation.gold``), and the top-k is kept only while the output follows the gold answer."""
        seqs: list[_Seq] = []
        for i, p in enumerate(prompts):
            tokens = self.tokenize(p)
            budget = min(max_new_tokens, self.n_ctx - len(tokens))
            if not tokens:
                yield i, Generation("", "error", error="ValueError: empty prompt")
            elif budget <= 0:
                yield i, Generation("", "error", prompt_tokens=len(tokens), error=context_error(len(tokens), self.n_ctx))
            else:
                s = _Seq(i, tokens, budget, guard=LoopGuard() if stop_loops else None,
                         positions=[] if positions and grammar is None else None)
                if s.positions is not None and golds is not None:
                    s.gold = golds[i]
                prior = priors[i] if priors is not None and grammar is not None else None
                done = self._inherit(s, prior, grammar) if prior is not None else None
                if done is not None:
                    yield i, done
                else:
                    seqs.append(s)
        if seqs:
            self.ensure_cells(max(len(s.tokens) - s.head + s.budget for s in seqs))
            t0 = time.perf_counter()
            self.set_prefix(seqs)
            share = (time.perf_counter() - t0) / len(seqs)
            for s in seqs:
                s.seconds += share   # after the time a Prior's walk took
            for s, g in self._run(seqs, grammar):
                yield s.index, g

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
            text, offsets = self._text(kept)
            n = len(kept) + (ended == "stop")
            lps = prior.taken_logprobs(taken)
            return Generation(text, ended, len(s.tokens), n, time.perf_counter() - t0, None, kept,
                              prior.stop_token if ended == "stop" else None, inherited=n,
                              logprobs=tuple(lps) if lps is not None else None, offsets=offsets)
        s.grammar, s.head, s.out = sampler, taken, list(kept)
        s.logprobs = prior.taken_logprobs(taken)
        s.tokens = s.tokens + list(kept)
        if s.guard is not None:
            s.guard.replay(s.out)
        s.seconds = time.perf_counter() - t0
        return None

    def _allows(self, sampler, token: int) -> bool:
        self._one[0] = (token, 0.0, 0.0)
        return self._apply(sampler, self._one)[0]["logit"] != -np.inf

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
                s.slot, s.fed = len(running), self.prefix_length
                self.copy_prefix(s.slot)
                if grammar is not None and s.grammar is None:
                    s.grammar = lib.llama_sampler_init_grammar(
                        self._vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8"))
                running.append(s)
            entries, wants = self._entries(running)
            self.fill(entries)
            t0 = time.perf_counter()
            try:
                self.decode()
            except RuntimeError as e:
                self._abort(running + queue, e)
            seconds = share(time.perf_counter() - t0, Counter(e[2] for e in entries))
            for s in running:
                s.seconds += seconds.get(s.slot, 0.0)
            done = []
            for s, pos in wants:
                token, logprob = self._choose(pos, s.grammar, s.positions if s.tracking() else None)
                reason = next_token(s.out, token, lib.llama_vocab_is_eog(self._vocab, token), s.budget, s.guard)
                if reason != "stop" and s.logprobs is not None:  # the token was kept
                    s.logprobs.append(logprob)
                s.pending = token if reason is None else None
                s.stop_token = token if reason == "stop" else None
                if reason is not None:
                    done.append((s, reason))
            for s, reason in done:
                if s.gold is not None:
                    try:
                        s.scored = self._score_gold(s)
                    except RuntimeError as e:
                        self._abort(running + queue, e)
                running = self._release(running, s)
                yield s, self._finish(s, reason)

    def _abort(self, seqs: list[_Seq], e: RuntimeError):
        """A fault of the runtime, not an answer of the model (core/faults.py): the sequences not
        finished are dropped, and the caller retries them."""
        for s in seqs:
            if s.slot >= 0:
                self.clear(s.slot)
            if s.grammar is not None:
                self._lib.llama_sampler_free(s.grammar)
                s.grammar = None
        raise Fault(f"llama.cpp ({self.model_name})", f"RuntimeError: {e}") from None

    def _score_gold(self, s: _Seq) -> TokenScores | None:
        """``s``'s gold answer scored in its own stream before the slot is freed: the tokens the
        output shares with it read off the generation (``positions``, ``logprobs``), the rest fed
        after them (``llama_score.continue_gold``), so the prompt is not fed again. None where
        the stream has no room for the gold answer (the separate pass scores it)."""
        gold, stop, prompt = s.gold, self.stop_token, len(s.tokens)
        n = next((k for k, (a, b) in enumerate(zip(s.out, gold)) if a != b), min(len(s.out), len(gold)))
        if n == len(gold) and len(s.positions) > n:  # the output is the gold answer and more
            return from_generation(s.out, s.logprobs, s.positions, gold, stop, prompt)
        if prompt + len(gold) > self.cells or s.logprobs is None or len(s.positions) < n:
            return None
        t0 = time.perf_counter()
        got = continue_gold(self, s.slot, prompt + n - 1, [s.out[n - 1] if n else s.tokens[-1]] + gold[n:],
                            gold[n:] + [stop])
        top = [[[int(t), float(lp)] for t, lp in s.positions[p][0]] for p in range(n)]
        return TokenScores(list(gold) + [stop], [float(x) for x in s.logprobs[:n]] + [lp for lp, _ in got],
                           top + [t for _, t in got], prompt, seconds=time.perf_counter() - t0)

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
        self.clear(s.slot)
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
        text, offsets = self._text(s.out)
        gen = len(s.out) + (1 if reason == "stop" else 0)  # the end-of-generation token counts
        lps = s.logprobs if s.logprobs is not None and len(s.logprobs) == len(s.out) else None
        kept = tuple(s.positions) if s.positions is not None else None
        return Generation(text, reason, len(s.tokens) - s.head, gen, s.seconds, error, tuple(s.out),
                          s.stop_token if reason == "stop" else None, inherited=s.head,
                          logprobs=tuple(lps) if lps is not None else None, offsets=offsets, positions=kept,
                          gold=s.scored)

    def _text(self, tokens) -> tuple[str, tuple[int, ...] | None]:
        """The output text of ``tokens`` (as ``detokenize``: their pieces, special tokens not
        rendered) and the character where each token starts in it."""
        lib, buf = self._lib, self._piece
        pieces = []
        for t in tokens:
            n = lib.llama_token_to_piece(self._vocab, t, buf, len(buf), 0, False)
            pieces.append(bytes(buf[:n]) if n >= 0 else self._model.detokenize([t], special=False))
        text = b"".join(pieces).decode("utf-8", errors="ignore")
        return text, piece_offsets(pieces, text)

    def _choose(self, pos: int, grammar, positions: list | None = None) -> tuple[int, float]:
        """Greedy token from the logits of batch position ``pos``, within the grammar if any, and
        its log-probability under the model's own distribution: under a grammar too, the
        unconstrained one (a log-sum-exp of the row already read; no second pass)."""
        lib = self._lib
        ptr = lib.llama_get_logits_ith(self._ctx.ctx, pos)
        logits = np.ctypeslib.as_array(ptr, shape=(self.n_vocab,))
        token = int(logits.argmax())
        top = logits[token]
        np.subtract(logits, top, out=self._scratch)
        np.exp(self._scratch, out=self._scratch)
        log_z = float(top) + math.log(float(self._scratch.sum()))  # numpy's pairwise float32 sum: ~1e-7 relative
        if positions is not None:  # the top-k and the end-of-turn token's log-probability here
            idx = np.argpartition(logits, -TOP_K)[-TOP_K:]
            idx = idx[np.argsort(-logits[idx], kind="stable")]
            positions.append((tuple((int(t), float(logits[t]) - log_z) for t in idx),
                              float(logits[self.stop_token]) - log_z))
        if grammar is None:
            return token, float(logits[token]) - log_z
        # The greedy token is usually allowed: check it alone before masking the whole vocabulary.
        self._one[0] = (token, logits[token], 0.0)
        if self._apply(grammar, self._one)[0]["logit"] != -np.inf:
            lib.llama_sampler_accept(grammar, token)
            return token, float(logits[token]) - log_z
        self._candidates["logit"] = logits
        self._candidates["p"] = 0.0
        masked = self._apply(grammar, self._candidates)
        token = int(masked["logit"].argmax())
        lib.llama_sampler_accept(grammar, token)
        return token, float(logits[token]) - log_z

    def _apply(self, grammar, arr: np.ndarray) -> np.ndarray:
        lib = self._lib
        data = lib.llama_token_data_array(
            data=arr.ctypes.data_as(lib.llama_token_data_p), size=len(arr), selected=-1, sorted=False)
        lib.llama_sampler_apply(grammar, ctypes.byref(data))
        return arr
