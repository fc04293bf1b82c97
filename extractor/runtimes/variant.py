"""What a variant is: its name, its capabilities beside its one ``execute``, and the generation
settings every variant of an evaluation shares (``runtimes/variants.py`` builds one through its
kind, ``runtimes/kinds.py``).

A variant name is ``KIND[+grammar][@RUN]`` (``merged-gguf+grammar@padbug``), or
``KIND:MODEL[+grammar][@ENDPOINT]`` for a served kind (``served:MODEL``: a model behind an
OpenAI-compatible server); the registered kinds say which KIND is which.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any, Protocol

from ..core.errors import ConfigError
from ..core.faults import Fault
from ..core.likelihood import TokenScores
from ..core.generation import Generation
from . import kinds
from .hardware import PRECISIONS

SCHEMA_VIA = ("auto", "response_format", "structured_outputs", "guided_json", "json_schema", "grammar")
"""How a served +grammar row hands the server the task's JSON Schema (runtimes/served.py)."""
APIS = ("completions", "chat")
"""Which endpoint a served row calls."""


@dataclass(frozen=True)
class VariantName:
    kind: str
    grammar: bool = False
    run: str | None = None
    """The run's label (``--run LABEL=DIR``); for ``served``, the endpoint's (``--endpoint LABEL=URL``)."""
    model: str | None = None
    """A served kind's only: the model name the server knows."""

    @property
    def served(self) -> bool:
        """A served kind's name (``KIND:MODEL``): only those carry a model."""
        return self.model is not None

    def __str__(self) -> str:
        head = f"{self.kind}:{self.model}" if self.served else self.kind
        return head + ("+grammar" if self.grammar else "") + (f"@{self.run}" if self.run else "")


_LABEL = re.compile(r"[A-Za-z0-9_.-]+")


def parse_name(text: str) -> VariantName:
    """A variant name as its kind (``runtimes/kinds.py``) allows it; a ConfigError naming the kinds."""
    text = text.strip()
    head, colon, rest = text.partition(":")
    served = kinds.get(head) if colon else None
    if served is not None and served.served:
        body, at, label = rest.rpartition("@")
        if not at or not _LABEL.fullmatch(label):
            body, label = rest, ""
        grammar = body.endswith("+grammar")
        model = body.removesuffix("+grammar")
        if not model:
            raise ConfigError(f"variant {text!r}: write {head}:MODEL[+grammar][@ENDPOINT], MODEL the name the server knows")
        if grammar and not served.grammar:
            raise ConfigError(f"variant {text!r}: {head} ({served.help}) takes no +grammar")
        return VariantName(head, grammar, label or None, model)
    body, _, run = text.partition("@")
    head, plus, suffix = body.partition("+")
    kind = kinds.get(head)
    if kind is None or kind.served or (plus and suffix != "grammar"):
        every = kinds.every()
        local = ", ".join(k.name for k in every if not k.served)
        remote = " or ".join(f"{k.name}:MODEL" for k in every if k.served)
        raise ConfigError(f"unknown variant {text!r}: write KIND[+grammar][@RUN] with KIND one of {local}"
                          + (f", or {remote} ([+grammar][@ENDPOINT])" if remote else ""))
    if plus and not kind.grammar:
        raise ConfigError(f"variant {text!r}: {head} ({kind.help}) takes no +grammar")
    return VariantName(head, bool(plus), run or None)


class Skip(Exception):
    """A variant that cannot run here, with the reason shown in the report."""


@dataclass
class Settings:
    """Generation settings shared by every variant of an evaluation."""

    max_new_tokens: int = 128
    """Generation budget per prompt (greedy; a prompt that reaches it is a `length` finish)."""
    n_ctx: int = 2048
    """Context window: prompt plus budget must fit."""
    batch_size: int = 16
    """Prompts decoded together (llama.cpp sequences per call, transformers batch rows), and the
    number of records written per flush."""
    threads: int = 0
    """CPU threads; 0 = every core, up to 8."""
    stop_loops: bool = True
    """Stop an output caught repeating itself (a block of up to 64 tokens, over 64 tokens and 3
    repeats: ``generation.LoopGuard``) with finish reason `loop`, counted as runaway like
    `length`; false: every runaway generates to ``max_new_tokens``."""
    precision: str = "auto"
    """transformers variants: `fp32`, `bf16`, or `auto` (bf16 where the device computes it fast:
    a GPU with bf16, a CPU with AMX-BF16 or AVX512-BF16; see `runtimes/hardware.py`). llama.cpp
    variants run their GGUF's own types and ignore it."""
    concurrency: int = 8
    """served variants: requests in flight at once."""
    served_api: str = "completions"
    """served variants: `completions` (the exact prompt the local runtimes render) or `chat` (the
    server applies its own chat template to the system prompt and the text)."""
    schema_via: str = "auto"
    """served +grammar variants: how the server takes the JSON Schema (`auto`, `response_format`,
    `structured_outputs`, `guided_json`, `json_schema`, `grammar`; runtimes/served.py)."""
    timeout: int = 120
    """served variants: seconds a request may take; a request past it is a fault, retried."""
    served_logprobs: bool = True
    """served variants: ask for the generated tokens' log-probabilities (each answer's confidence,
    ``core/confidence.py``); false where the server computes them slowly (llama-cpp-python's server
    took 6 times as long per request with them)."""
    retry_budget: int = 120
    """Seconds a failing call (a request to a server, a runtime's decode) goes on being retried,
    with capped exponential backoff, before the run stops (exit 4; ``core/faults.py``): a fault of
    the infrastructure is never recorded as an answer."""
    positions: bool = False
    """Keep, at every generated position, the top-5 tokens and the end-of-turn token's
    log-probability (``Generation.positions``): the likelihood view reuses them where an output is
    the gold answer, instead of a teacher-forced pass. Set by ``extractor eval``, not in a suite."""

    @classmethod
    def from_toml(cls, table: Any, where: str) -> "Settings":
        """Settings from a TOML table (a suite's ``[generation]``); every mistake is one line naming
        ``where``, the key and what it must be."""
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: must be a table of settings, e.g. [generation] max_new_tokens = 256")
        known = {f.name: f for f in fields(cls) if f.name != "positions"}  # not a suite's to set
        out = cls()
        for key, value in table.items():
            if key not in known:
                raise ConfigError(f"{where}.{key} is unknown; known: {', '.join(known)}")
            kind = known[key].type
            choices = {"precision": PRECISIONS, "served_api": APIS, "schema_via": SCHEMA_VIA}
            if key in choices:
                if value not in choices[key]:
                    raise ConfigError(f"{where}.{key} = {value!r} must be one of {', '.join(choices[key])}")
            elif kind == "bool":
                if not isinstance(value, bool):
                    raise ConfigError(f"{where}.{key} = {value!r} must be true or false")
            elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{where}.{key} = {value!r} must be a non-negative integer")
            setattr(out, key, value)
        return out


@dataclass(frozen=True)
class Capabilities:
    """What a variant can do, declared beside its ``execute``."""

    streams: bool = False
    """``execute`` yields each output as it finishes and refills freed slots: give it many inputs."""
    grammar: bool = False
    """Decodes under a grammar built from the task's JSON Schema."""
    counts_tokens: bool = False
    """``count_tokens`` gives a prompt's tokens: a context window applies."""
    needs_closing: bool = False
    """Holds a model until ``close``."""
    continues: bool = False
    """A grammar-constrained variant whose ``execute`` takes ``priors``: each input's output from
    the same artefact without the grammar (``generation.Prior``), of which it keeps the tokens the
    grammar accepts instead of decoding them again."""
    scores: bool = False
    """``score`` feeds a gold answer after the prompt and gives its tokens' log-probabilities
    (teacher forcing, ``core/likelihood.py``); ``answer_ids`` and ``stop_token`` say what it feeds."""
    scores_gold: bool = False
    """``execute`` also takes ``golds=`` (each input's gold answer ids, or None) and scores each
    gold answer in the row's own context as the row finishes (``Generation.gold``): the prompt is
    not fed a second time. The rows it does not score that way go through ``score``."""


class Variant(Protocol):
    """A way to turn inputs into outputs: a model artefact in a runtime, or the rules."""

    name: str
    capabilities: Capabilities

    def execute(self, inputs: list[str]) -> Iterator[tuple[int, "Generation | Fault"]]:
        """``(index into inputs, Generation)`` for every input (the variant builds its own prompts);
        in order unless ``capabilities.streams``. With ``capabilities.continues`` it also takes
        ``priors=`` (a ``Prior`` or None per input). A fault of the server or runtime is never a
        Generation: it is yielded for that input, or raised for the inputs not yielded yet
        (``core.faults.Fault``); callers go through ``runtimes.retry.execute``, which retries them."""
        ...

    def count_tokens(self, text: str) -> int:
        """Prompt tokens for one input (only with ``capabilities.counts_tokens``)."""
        ...

    def facts(self) -> dict[str, Any]:
        """What its files say of it (quantization, template, special tokens, how it was trained):
        plain JSON, for the likelihood view's causes (``runtimes/artefact_facts.py``); {} when nothing."""
        ...

    def answer_ids(self, text: str) -> list[int]:
        """An answer's token ids as training tokenized the completion (only with ``capabilities.scores``)."""
        ...

    stop_token: int
    """The end-of-turn token a completion ends with (only with ``capabilities.scores``)."""

    def score(self, inputs: list[str], answers: list[list[int]], stops: list[int]) -> Iterator[tuple[int, "TokenScores | Fault"]]:
        """``(index, TokenScores)`` for every input: its prompt, then ``answers[i]`` and ``stops[i]``
        fed (teacher forcing), with each fed answer token's log-probability and the top-k at its
        position (only with ``capabilities.scores``). Faults as for ``execute``."""
        ...

    def close(self) -> None:
        """Free the model (a no-op unless ``capabilities.needs_closing``)."""
        ...


class BaseVariant:
    """Defaults for a variant: no context window, nothing to close, ``generate`` in order."""

    name: str = ""
    capabilities = Capabilities()

    def execute(self, inputs: list[str]) -> Iterator[tuple[int, Generation]]:
        raise NotImplementedError

    def generate(self, inputs: list[str]) -> list[Generation]:
        """Every output, in the order of ``inputs``."""
        out: dict[int, Generation] = dict(self.execute(inputs))
        return [out[i] for i in range(len(inputs))]

    def count_tokens(self, text: str) -> int:
        raise ConfigError(f"variant {self.name} has no context window; it counts no tokens")

    def facts(self) -> dict[str, Any]:
        return {}

    def answer_ids(self, text: str) -> list[int]:
        raise ConfigError(f"variant {self.name} scores no answers (its Capabilities.scores is false)")

    def score(self, inputs: list[str], answers: list[list[int]], stops: list[int]) -> Iterator[tuple[int, TokenScores]]:
        raise ConfigError(f"variant {self.name} scores no answers (its Capabilities.scores is false)")

    def close(self) -> None:
        pass
