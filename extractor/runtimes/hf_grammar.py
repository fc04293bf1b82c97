"""Grammar-constrained greedy decoding for the transformers rows (``-hf+grammar``): the task's JSON
Schema compiled by llguidance (``llguidance.LLMatcher``), one matcher per output row.

``hf_generate`` asks ``Grammar.pick`` for each constrained row's token: the highest logit among
the tokens the grammar allows next (the model's end-of-turn token among them once the JSON is
complete, and only it once nothing can follow), the matcher then consuming it. The greedy token is
checked alone first (``validate_tokens``: microseconds); only when the grammar rejects it is the
whole vocabulary's mask computed. Both give the same token: the first highest logit of the
allowed ones.

``Grammar.walk`` starts a row from its free row's output (``generation.Prior``), as
``BatchedLlama._inherit`` does for llama.cpp: the tokens the grammar accepts are kept, and an
output accepted whole, its ending included, is the constrained output without any decoding.

The schema is compiled ``lenient``: a keyword llguidance does not implement is left out of the
grammar rather than failing it (``runtimes/grammar_gaps.py``, ``llguidance_gaps``, says which);
``warnings`` holds llguidance's own words about it. The text it allows: no whitespace before the
first ``{`` or after the last ``}``, at most one space between tokens inside (``OPTIONS``), object
keys in the order of ``properties``.
"""

from __future__ import annotations

import numpy as np

from ..core.errors import ConfigError
from ..core.generation import Prior

OPTIONS = {"lenient": True, "whitespace_pattern": " "}
"""llguidance's JSON-compiler options: a keyword it does not implement is left out, not an error;
at most one space wherever JSON allows whitespace, as llama.cpp's grammar (``space ::= " "?``), so
the -hf and -gguf +grammar rows constrain the same text (llguidance's default, any whitespace,
lets a model that has not learned the format write newlines and spaces to its token limit)."""


class Grammar:
    """The task's JSON Schema as an llguidance grammar over one transformers tokenizer (a fast
    one). Building it costs ~0.3 s (the tokenizer's trie); a row's matcher is a copy of a
    template (microseconds)."""

    def __init__(self, tokenizer, schema: dict):
        import llguidance
        import llguidance.hf

        self.eos = tokenizer.eos_token_id
        try:
            self.lltokenizer = llguidance.hf.from_tokenizer(tokenizer, eos_token=self.eos)
        except ValueError as e:
            raise ConfigError(f"+grammar for transformers needs a fast tokenizer (tokenizer.json): {e}") from None
        self.source = llguidance.LLMatcher.grammar_from_json_schema(schema, overrides=OPTIONS)
        failed, messages = llguidance.LLMatcher.validate_grammar_with_warnings(self.source, self.lltokenizer)
        if failed:
            raise ConfigError(f"llguidance cannot compile the task's JSON Schema: {messages[0]}")
        self.warnings: list[str] = messages
        """llguidance's warnings (e.g. ``Unimplemented keys: ["not"]``): what the grammar leaves out."""
        self._template = llguidance.LLMatcher(self.lltokenizer, self.source, log_level=0)
        self.n_vocab = self.lltokenizer.vocab_size
        self._bitmask = np.full((1, (self.n_vocab + 31) // 32), -1, dtype=np.int32)

    def matcher(self):
        """A fresh matcher: the grammar at its start."""
        return self._template.deep_copy()

    def allowed(self, matcher) -> np.ndarray:
        """The tokens ``matcher`` allows next, one bool per tokenizer id (a multiple of 32 long)."""
        from llguidance.numpy import fill_next_token_bitmask

        fill_next_token_bitmask(matcher, self._bitmask, 0)
        return np.unpackbits(self._bitmask.view(np.uint8), bitorder="little").astype(bool)

    def allows(self, matcher, token: int) -> bool:
        """Whether ``token`` may come next (the end-of-turn token once the JSON is complete)."""
        if token == self.eos:
            return matcher.is_accepting()
        return 0 <= token < self.n_vocab and matcher.validate_tokens([token]) == 1

    def pick(self, matcher, logits, greedy: int) -> int | None:
        """The row's next token: ``greedy`` (the unconstrained argmax of ``logits``, a 1-D
        tensor) if the grammar allows it, else the first highest logit the grammar allows; the
        matcher consumes it. None: the matcher allows nothing (it is in error; ``error``)."""
        if not self.allows(matcher, greedy):
            import torch

            mask = self.allowed(matcher)
            width = logits.shape[-1]
            if len(mask) < width:
                mask = np.concatenate([mask, np.zeros(width - len(mask), dtype=bool)])
            allow = torch.from_numpy(mask[:width]).to(logits.device)
            if not bool(allow.any()):
                return None
            greedy = int(logits.masked_fill(~allow, float("-inf")).argmax())
        if not matcher.consume_token(greedy):
            return None
        return greedy

    @staticmethod
    def error(matcher) -> str:
        return "grammar: " + (matcher.get_error() or f"no token allowed ({matcher.stop_reason()})")[:300]

    def walk(self, prior: Prior, budget: int):
        """A matcher fed ``prior``'s tokens while the grammar accepts them, at most ``budget``:
        (matcher, tokens taken, how the constrained output ends if it needs no decoding: ``stop``
        when the whole prior and its end-of-turn token are accepted, ``length`` / ``loop`` when
        the whole prior is accepted and ended so, ``length`` when ``budget`` tokens are; None:
        decoding goes on from the first token rejected)."""
        matcher = self.matcher()
        if not prior.continuable:
            return matcher, 0, None
        tokens = list(prior.tokens[:budget])
        taken = matcher.validate_tokens(tokens) if tokens else 0
        if taken and not matcher.consume_tokens(tokens[:taken]):
            return self.matcher(), 0, None  # not expected: validate_tokens said they were accepted
        ended = prior.ending(taken, lambda token: token == self.eos and matcher.is_accepting())
        if ended is not None:
            return matcher, taken, ended
        if taken >= budget:
            return matcher, taken, "length"
        return matcher, taken, None
