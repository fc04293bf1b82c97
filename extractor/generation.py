"""What every runtime returns, and the one-method Protocol every variant implements."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Protocol


@dataclass
class Generation:
    """One model output for one prompt."""

    text: str
    """The generated text, up to (not including) the end-of-turn token; everything the model wrote."""
    finish_reason: str
    """`stop` (end-of-turn token), `length` (hit max_new_tokens) or `error` (see `error`)."""
    prompt_tokens: int = 0
    """Tokens in the prompt as the runtime tokenized it."""
    gen_tokens: int = 0
    """Tokens generated, the end-of-turn token included when there was one."""
    seconds: float = 0.0
    """Wall time for this prompt (for batched runtimes: its share of each batch's time, by tokens,
    so the seconds of a batch's prompts add up to the batch's wall time)."""
    error: str | None = None
    """Why the sample failed (context overflow, decode error); the run goes on."""
    tokens: tuple[int, ...] | None = field(default=None, repr=False)
    """The generated token ids, end-of-turn excluded, where the runtime exposes them (llama.cpp batched)."""

    def to_dict(self) -> dict:
        return asdict(self)


class Variant(Protocol):
    """A way to turn prompts into outputs: a model artefact in a runtime, or the rules."""

    name: str

    def generate(self, inputs: list[str]) -> list[Generation]:
        """Outputs for raw input texts (the variant builds its own prompts), in order."""
        ...
