"""Greedy batched generation with transformers (left padding, KV cache, continuous batching),
returning text and why it stopped.

The loop is ours rather than `model.generate`'s. `generate` keeps every row of a batch in each
forward pass until the longest answer ends, so one answer that runs to the token limit makes the
whole batch wait; and a batch that has shrunk to one row still pays a whole forward pass per
token (on a CPU, for a small model, that pass costs nearly as much for one row as for sixteen).
Here a finished row leaves at once (its KV-cache rows, mask and next token are dropped) and its
place is taken by the next prompts, a few at a time: their prompt pass runs on its own, and their
cache is left-padded to the running batch's length and joined to it. Cache columns that no row
still needs (padding older than every running row) are cut after each step, so the cache stays as
long as the longest running row, not as long as the run.

With a ``grammar`` (``hf_grammar.Grammar``, the task's JSON Schema through llguidance) every row
has its own matcher: its token is the highest logit the grammar allows (``Grammar.pick``), and it
can end only where the JSON is complete. A row given a ``Prior`` (its free row's output) starts
from the tokens of it the grammar accepts, fed with its prompt; one accepted whole is not decoded
(``Grammar.walk``). Without a grammar no matcher exists and the loop is the plain greedy one.

Each chosen token's log-probability under the model's own distribution (a log-sum-exp of the
logits row the choice read; under a grammar, the unconstrained row) and where it starts in the
output text come back with the output (``Generation.logprobs``, ``offsets``: ``core/confidence.py``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from .decoding import Admission, next_token, share
from ..core.faults import Fault
from ..core.generation import Generation, LoopGuard, Prior
from ..core.likelihood import TOP_K
from ..core.confidence import decode_offsets
from . import kv_cache


@dataclass
class _Row:
    index: int
    """Position of the prompt in the call's list."""
    prompt_tokens: int = 0
    ids: list[int] = field(default_factory=list)
    """Generated tokens (the end-of-generation token excluded)."""
    seconds: float = 0.0
    """This row's share of the forward passes it took part in."""
    guard: LoopGuard = field(default_factory=LoopGuard)
    """Spots an output repeating itself (used when the stream stops loops)."""
    matcher: object = None
    """The row's llguidance matcher (grammar-constrained decoding only)."""
    inherited: int = 0
    """Leading tokens of ``ids`` taken from a ``Prior`` (fed with the prompt, not decoded)."""
    logprobs: list[float] | None = field(default_factory=list)
    """Log-probability of each token of ``ids`` under the model's own distribution (None: not known
    for the tokens taken from a ``Prior`` that kept none)."""
    positions: list | None = None
    """With ``stream(positions=True)``: per chosen token, (top-k, end-of-turn log-probability)."""


class _Batch:
    """The running rows: their KV cache, attention mask (left-padded) and next input tokens."""

    def __init__(self):
        self.rows: list[_Row] = []
        self.cache = None
        self.mask = None
        self.nxt = None

    def join(self, rows: list[_Row], cache, mask, nxt) -> None:
        if not self.rows:
            self.rows, self.cache, self.mask, self.nxt = rows, cache, mask, nxt
            return
        width = max(self.mask.shape[1], mask.shape[1])
        self.mask = torch.cat([_pad_left(self.mask, width), _pad_left(mask, width)])
        for mine, theirs in zip(self.cache.layers, cache.layers):
            mine.keys = torch.cat([_pad_left(mine.keys, width, dim=-2), _pad_left(theirs.keys, width, dim=-2)])
            mine.values = torch.cat([_pad_left(mine.values, width, dim=-2), _pad_left(theirs.values, width, dim=-2)])
        self.rows += rows
        self.nxt = torch.cat([self.nxt, nxt])

    def keep(self, keep: list[int]) -> None:
        """Keep only the rows at ``keep``; then cut the columns no kept row attends to."""
        if len(keep) < len(self.rows):
            self.rows = [self.rows[j] for j in keep]
            if not self.rows:
                self.cache = self.mask = self.nxt = None
                return
            index = torch.tensor(keep, device=self.mask.device)
            self.cache.batch_select_indices(index)
            self.mask, self.nxt = self.mask[index], self.nxt[index]
        first = int(self.mask.any(0).int().argmax())
        if first > 0:
            self.mask = self.mask[:, first:]
            for layer in self.cache.layers:
                layer.keys, layer.values = layer.keys[:, :, first:], layer.values[:, :, first:]


def _pad_left(t: torch.Tensor, width: int, dim: int = 1) -> torch.Tensor:
    missing = width - t.shape[dim]
    if missing <= 0:
        return t
    shape = list(t.shape)
    shape[dim] = missing
    return torch.cat([t.new_zeros(shape), t], dim=dim)


def _forward(model, ids, mask, positions, cache):
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True,
                     **{kv_cache.keyword(): cache}).logits[:, -1]


def _chosen_logprobs(logits: torch.Tensor, nxt: torch.Tensor, stop: int | None = None):
    """Each row's log-probability of the token chosen for it under the model's own distribution
    (under a grammar too: the unconstrained row): a log-sum-exp of the logits the choice read. With
    ``stop``, also each row's position record: its top-k and that token's log-probability."""
    x = logits.float()
    lse = torch.logsumexp(x, -1)
    chosen = (x.gather(1, nxt.clamp(min=0)[:, None])[:, 0] - lse).tolist()
    if stop is None:
        return chosen, [None] * len(chosen)
    vals, ids = x.topk(TOP_K, dim=-1)
    vals = (vals - lse[:, None]).tolist()
    stops = (x[:, stop] - lse).tolist()
    return chosen, [(tuple(zip(i, v)), s) for i, v, s in zip(ids.tolist(), vals, stops)]


def generate(model, tokenizer, prompts: list[str], max_new_tokens: int = 128, batch_size: int = 8,
             stop_loops: bool = False, grammar=None, priors: list[Prior | None] | None = None) -> list[Generation]:
    """One Generation per prompt, in the order given (see `stream`)."""
    out = dict(stream(model, tokenizer, prompts, max_new_tokens, batch_size, stop_loops, grammar, priors))
    return [out[i] for i in range(len(prompts))]


def stream(model, tokenizer, prompts: list[str], max_new_tokens: int = 128, batch_size: int = 8,
           stop_loops: bool = False, grammar=None, priors: list[Prior | None] | None = None, positions: bool = False):
    """``(index, Generation)`` for every prompt, as each finishes. Prompts are admitted shortest
    first (less padding); a prompt pass that fails is tried again one prompt at a time (a batch
    too big for the device's memory), and a forward pass that still fails raises ``faults.Fault``:
    a fault of the runtime, never an answer (the caller retries the prompts not yet yielded).
    ``stop_loops``: end an output caught repeating itself (finish reason `loop`,
    ``generation.LoopGuard``) instead of generating to the limit. ``grammar``: an
    ``hf_grammar.Grammar`` every output is constrained to; ``priors`` (with a grammar only): per
    prompt, its free output to continue from, or None (``Grammar.walk``). ``positions``: keep the top-k
    and the end-of-turn token's log-probability at every chosen position (``Generation.positions``)."""
    old_side, tokenizer.padding_side = tokenizer.padding_side, "left"
    try:
        yield from _Decoder(model, tokenizer, prompts, max_new_tokens, batch_size, stop_loops, grammar, priors,
                            positions).run()
    finally:
        tokenizer.padding_side = old_side


class _Decoder:
    """One call's decoding: the waiting prompts, the running batch, the finished rows not yet yielded."""

    def __init__(self, model, tokenizer, prompts: list[str], max_new_tokens: int, batch_size: int,
                 stop_loops: bool, grammar=None, priors: list[Prior | None] | None = None, positions: bool = False):
        self.model, self.tokenizer, self.prompts = model, tokenizer, prompts
        self.positions = positions and grammar is None
        self.max_new_tokens, self.stop_loops, self.grammar = max_new_tokens, stop_loops, grammar
        self.admission = Admission(batch_size)
        self.queue = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        self.batch = _Batch()
        self.done: dict[int, Generation] = {}
        self.ready: dict[int, _Row] = {}
        """Grammar only: each waiting prompt's row, its matcher made (and past its prior's tokens)."""
        if grammar is not None:
            for i in list(self.queue):
                self._prepare(i, priors[i] if priors is not None else None)
            self.queue = [i for i in self.queue if i in self.ready]

    def _prepare(self, i: int, prior: Prior | None) -> None:
        """Prompt ``i``'s row under the grammar; from ``prior`` its accepted tokens, or, when the
        prior is accepted whole, its finished output (``Grammar.walk``)."""
        if prior is None:
            self.ready[i] = _Row(i, matcher=self.grammar.matcher())
            return
        t0 = time.perf_counter()
        matcher, taken, ended = self.grammar.walk(prior, self.max_new_tokens)
        row = _Row(i, ids=list(prior.tokens[:taken]), matcher=matcher, inherited=taken,
                   logprobs=prior.taken_logprobs(taken))
        if self.stop_loops:
            row.guard.replay(row.ids)
        row.seconds = time.perf_counter() - t0
        if ended is None:
            self.ready[i] = row
            return
        row.prompt_tokens = len(self.tokenizer(self.prompts[i], add_special_tokens=True).input_ids)
        row.inherited += ended == "stop"  # its end-of-turn token is the prior's too
        self._finish(row, ended)

    def run(self):
        while self.queue or self.batch.rows:
            yield from self.done.items()  # what finished since the last step
            self.done.clear()
            n = self.admission.admit(len(self.queue), len(self.batch.rows))
            if n:
                take, self.queue = self.queue[:n], self.queue[n:]
                self._admit(take)
            else:
                self._step()
        yield from self.done.items()

    def _finish(self, row: _Row, reason: str, error: str | None = None) -> None:
        stop = reason == "stop"
        tok = self.tokenizer
        text = tok.decode(row.ids, skip_special_tokens=False)
        lps = tuple(row.logprobs) if row.logprobs is not None and len(row.logprobs) == len(row.ids) else None
        offsets = None if lps is None else decode_offsets(
            row.ids, lambda ids: tok.decode(ids, skip_special_tokens=False), text,
            batch=lambda lists: tok.batch_decode(lists, skip_special_tokens=False))
        self.done[row.index] = Generation(text, reason, row.prompt_tokens, len(row.ids) + stop, row.seconds, error,
                                          tuple(row.ids), tok.eos_token_id if stop else None, row.inherited,
                                          logprobs=lps, offsets=offsets,
                                          positions=tuple(row.positions) if row.positions is not None else None)

    def _advance(self, rows: list[_Row], nxt: torch.Tensor, logits: torch.Tensor) -> list[int]:
        """Give each row its next token (``decoding.next_token``) and its log-probability (from
        ``logits``, the rows' logits the token was chosen from); finish the rows it ends. The
        positions of the rows that go on."""
        keep = []
        eos = self.tokenizer.eos_token_id
        lps, kept = _chosen_logprobs(logits, nxt, eos if self.positions else None)
        for j, (row, tok, lp, at) in enumerate(zip(rows, nxt.tolist(), lps, kept)):
            if tok < 0:  # the grammar allowed no token (``_constrained``)
                self._finish(row, "error", self.grammar.error(row.matcher))
                continue
            if row.positions is not None:
                row.positions.append(at)
            reason = next_token(row.ids, tok, tok == eos, self.max_new_tokens, row.guard if self.stop_loops else None)
            if reason != "stop" and row.logprobs is not None:  # the token was kept
                row.logprobs.append(lp)
            if reason is None:
                keep.append(j)
            else:
                self._finish(row, reason)
        return keep

    def _admit(self, indices: list[int]) -> None:
        """Prompt pass for ``indices``; rows whose first token ends them finish, the rest join."""
        t0 = time.perf_counter()
        if self.grammar is None:
            enc = self.tokenizer([self.prompts[i] for i in indices], return_tensors="pt", padding=True,
                                 add_special_tokens=True).to(self.model.device)
        else:
            enc = self._encode(indices)
        cache = kv_cache.new()
        try:
            logits = _forward(self.model, enc.input_ids, enc.attention_mask,
                              (enc.attention_mask.cumsum(-1) - 1).clamp(min=0), cache)
        except (RuntimeError, ValueError, IndexError) as e:
            if len(indices) > 1:  # a batch too big for the device's memory may pass one prompt at a time
                for i in indices:
                    self._admit([i])
                return
            raise Fault("transformers", f"{type(e).__name__}: {str(e)[:300]}") from None
        lengths = [int(n) for n in enc.attention_mask.sum(-1)]
        seconds = share(time.perf_counter() - t0, dict(enumerate(lengths)))
        if self.grammar is None:
            rows = [_Row(i, n, seconds=seconds[j], positions=[] if self.positions else None)
                    for j, (i, n) in enumerate(zip(indices, lengths))]
            nxt = logits.argmax(-1)
        else:
            rows = [self.ready.pop(i) for i in indices]
            for row, n, sec in zip(rows, lengths, seconds.values()):
                row.prompt_tokens, row.seconds = n - row.inherited, row.seconds + sec
            nxt = self._constrained(rows, logits)
        keep = self._advance(rows, nxt, logits)
        if keep:
            index = torch.tensor(keep, device=enc.attention_mask.device)
            if len(keep) < len(rows):
                cache.batch_select_indices(index)
            self.batch.join([rows[j] for j in keep], cache, enc.attention_mask[index], nxt[index])

    def _step(self) -> None:
        """One token for every running row."""
        batch = self.batch
        t0 = time.perf_counter()
        batch.mask = torch.cat([batch.mask, batch.mask.new_ones((len(batch.rows), 1))], dim=-1)
        try:
            logits = _forward(self.model, batch.nxt[:, None], batch.mask, batch.mask.sum(-1, keepdim=True) - 1,
                              batch.cache)
        except (RuntimeError, ValueError, IndexError) as e:
            raise Fault("transformers", f"{type(e).__name__}: {str(e)[:300]}") from None
        for row, seconds in zip(batch.rows, share(time.perf_counter() - t0, {j: 1 for j in range(len(batch.rows))}).values()):
            row.seconds += seconds
        batch.nxt = logits.argmax(-1) if self.grammar is None else self._constrained(batch.rows, logits)
        batch.keep(self._advance(batch.rows, batch.nxt, logits))

    def _encode(self, indices: list[int]):
        """The prompt pass's inputs under a grammar: each prompt's tokens followed by those it
        took from its prior, left-padded (as the tokenizer pads)."""
        ids = [self.tokenizer(self.prompts[i], add_special_tokens=True).input_ids + self.ready[i].ids
               for i in indices]
        width = max(len(x) for x in ids)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        input_ids = torch.tensor([[pad] * (width - len(x)) + x for x in ids], device=self.model.device)
        mask = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in ids], device=self.model.device)
        return _Encoded(input_ids, mask)

    def _constrained(self, rows: list[_Row], logits: torch.Tensor) -> torch.Tensor:
        """Each row's token under its matcher (``Grammar.pick``); -1 where the grammar allows none."""
        greedy = logits.argmax(-1).tolist()
        picked = [self.grammar.pick(row.matcher, logits[j], greedy[j]) for j, row in enumerate(rows)]
        return torch.tensor([-1 if t is None else t for t in picked], device=logits.device)


@dataclass
class _Encoded:
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
