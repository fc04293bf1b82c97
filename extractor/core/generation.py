"""What every runtime returns for one prompt (``Generation``), and the loop guard every runtime
shares."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .likelihood import TokenScores


@dataclass
class Generation:
    """One model output for one prompt."""

    text: str
    """The generated text, up to (not including) the end-of-turn token; everything the model wrote."""
    finish_reason: str
    """`stop` (end-of-turn token), `length` (hit max_new_tokens), `loop` (caught repeating itself,
    stopped before the limit: see `LoopGuard`) or `error` (see `error`)."""
    prompt_tokens: int = 0
    """Tokens in the prompt as the runtime tokenized it."""
    gen_tokens: int = 0
    """Tokens generated, the end-of-turn token included when there was one."""
    seconds: float = 0.0
    """Wall time for this prompt (for batched runtimes: its share of each batch's time, by tokens,
    so the seconds of a batch's prompts add up to the batch's wall time)."""
    error: str | None = None
    """Why the runtime refused this prompt (longer than the context window): an outcome of the row,
    the same in every runtime. A fault of the server or runtime is never an error here: it is
    raised (``core.faults.Fault``) and retried."""
    tokens: tuple[int, ...] | None = field(default=None, repr=False)
    """The generated token ids, end-of-turn excluded, where the runtime exposes them (llama.cpp batched)."""
    stop_token: int | None = None
    """The end-of-turn token the model chose, when it stopped (with ``tokens``)."""
    inherited: int = 0
    """Output tokens taken from another row's output instead of decoded (a ``+grammar`` row
    continuing its free row: ``Prior``); ``seconds`` counts only what was decoded."""
    retries: int = 0
    """Failed attempts before this output (faults of the server or runtime, retried: ``core.faults``)."""
    logprobs: tuple[float, ...] | None = field(default=None, repr=False)
    """Each output token's log-probability under the model's own distribution (end-of-turn
    excluded; under a grammar, unconstrained), where the runtime gives them (``core.confidence``)."""
    offsets: tuple[int, ...] | None = field(default=None, repr=False)
    """The character of ``text`` where each of those tokens starts (with ``logprobs``)."""
    positions: tuple[tuple[tuple[tuple[int, float], ...], float], ...] | None = field(default=None, repr=False)
    """Where the runtime was asked to keep them (``Settings.positions``): at every position it chose a
    token, the top-k (``core.likelihood.TOP_K``) ``(id, log-probability)`` and the end-of-turn
    token's log-probability, the end-of-turn's own position included. The likelihood view reuses them
    for a row whose output is the gold answer (``core.likelihood.from_generation``): the same forward
    passes, so no teacher-forced pass is needed. Not written to samples.jsonl."""
    gold: TokenScores | None = field(default=None, repr=False)
    """The gold answer's ``core.likelihood.TokenScores``, where the runtime was given it
    (``Capabilities.scores_gold``) and scored it in the row's own context as the row finished:
    the tokens the output shares with the gold answer read off the generation, the rest fed after
    them (no second pass over the prompt). None: not given, or not scored that way."""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Prior:
    """Another row's output for the same prompt, that a grammar-constrained row may start from:
    greedy decoding under a grammar picks the free row's token wherever the grammar allows it, so
    the constrained output equals the free one up to the first token the grammar rejects."""

    tokens: tuple[int, ...]
    """The free output's token ids (end-of-turn excluded)."""
    finish_reason: str
    """How the free output ended: ``stop``, ``length`` or ``loop``."""
    stop_token: int | None = None
    """The end-of-turn token it stopped with (``stop`` only)."""
    logprobs: tuple[float, ...] | None = None
    """Its tokens' log-probabilities (``Generation.logprobs``): a constrained row that takes the
    first tokens takes theirs too (None: not recorded, and the constrained row records none)."""

    def taken_logprobs(self, taken: int) -> list[float] | None:
        """The log-probabilities of the first ``taken`` tokens (None when not recorded)."""
        return None if self.logprobs is None or len(self.logprobs) < taken else list(self.logprobs[:taken])

    @property
    def continuable(self) -> bool:
        """Whether a constrained row may start from it: it ended its turn or ran on (not an error)."""
        return self.finish_reason == "stop" or self.finish_reason in RAN_ON

    def ending(self, taken: int, stop_allowed) -> str | None:
        """How a constrained row that took the first ``taken`` of these tokens ends without decoding:
        as the free output ran on (``length`` / ``loop``) when it took them all; ``stop`` when it took
        them all and the grammar allows the end-of-turn token (``stop_allowed(stop_token)``); None:
        decoding goes on from token ``taken``."""
        if taken != len(self.tokens):
            return None
        if self.finish_reason in RAN_ON:
            return self.finish_reason
        if self.finish_reason == "stop" and self.stop_token is not None and stop_allowed(self.stop_token):
            return "stop"
        return None


LEGACY_TRANSIENT = "server unavailable: "
"""How earlier versions began the error of a sample a server failed on (a fault recorded as a
sample). Such records are not the model's: scoring leaves them out and ``eval --resume`` runs
those samples again."""


def transient(error: str | None) -> bool:
    """Whether a recorded error is a fault an earlier version recorded (see ``LEGACY_TRANSIENT``)."""
    return bool(error) and error.startswith(LEGACY_TRANSIENT)


def context_error(prompt_tokens: int, n_ctx: int) -> str:
    """The error of a row whose prompt leaves no room in the context window, with the fix."""
    return (f"the prompt ({prompt_tokens} tokens) does not fit the context window of {n_ctx}: raise n_ctx "
            "(the suite's [generation], or --n-ctx) or shorten the input")


RAN_ON = frozenset({"length", "loop"})
"""Finish reasons of an output that never ended its turn (the `runaway` metric)."""


def ran_on(finish_reason: str | None) -> bool:
    """True when the model did not end its turn: it hit the token limit or was stopped in a loop."""
    return finish_reason in RAN_ON


class LoopGuard:
    """Spots greedy decoding caught in a loop, so a runtime can stop it long before its token limit.

    It fires when the last tokens generated are one block of at most ``PERIOD`` tokens repeated
    back to back, the repetition covering at least ``SPAN`` tokens and ``REPEATS`` whole blocks: a
    pad-bug model's ``]}]}]}...`` after its answer, a base model writing the same sentence again
    and again. Greedy decoding that has repeated a block that often goes on repeating it (in this
    project's baseline every output it fired on ran to the 256-token limit), so stopping there
    changes no metric (``loop`` counts as runaway, as ``length`` does) and saves the rest of the
    budget. Answers never repeat a block exactly: consecutive references differ in their numbers.
    O(PERIOD) per token: for each period p, the number of consecutive tokens equal to the token p
    before them.
    """

    PERIOD = 64
    SPAN = 64
    REPEATS = 3

    def __init__(self) -> None:
        self._run = [0] * (self.PERIOD + 1)

    def push(self, out: list[int]) -> bool:
        """Take the newest token of ``out`` (the output so far, the runtime's own list, one call per
        token appended); True when the output is now caught in a loop."""
        return self._take(out, len(out) - 1)

    def replay(self, out: list[int]) -> None:
        """Take every token of ``out`` in turn, as ``push`` after each one appended: an output that
        starts from tokens it did not decode (a +grammar row continuing its free row)."""
        for last in range(len(out)):
            self._take(out, last)

    def _take(self, out: list[int], last: int) -> bool:
        run = self._run
        token = out[last]
        for p in range(1, min(self.PERIOD, last) + 1):
            if out[last - p] == token:
                run[p] += 1
                span = run[p] + p
                if span >= self.SPAN and span >= self.REPEATS * p:
                    return True
            else:
                run[p] = 0
        return False
