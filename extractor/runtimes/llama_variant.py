"""The llama.cpp variant kinds: ``base-gguf``, ``adapter-gguf`` and ``merged-gguf``, each optionally
``+grammar`` (llama.cpp's grammar of the task's JSON Schema).

    base-gguf      the base GGUF, with the task's instruction for a base model
    adapter-gguf   the base GGUF + the run's export/adapter.gguf
    merged-gguf    the run's export/merged.gguf
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..core.faults import Fault
from ..core.generation import Generation, Prior
from ..core.likelihood import TokenScores
from ..core.task import Task
from . import models
from .kinds import Kind
from .prompts import chat_format, prompt_text
from .variant import BaseVariant, Capabilities, Settings, Variant, VariantName


class LlamaVariant(BaseVariant):
    """llama.cpp: a GGUF, optionally with a LoRA GGUF, optionally grammar-constrained.

    Prompts are decoded together, up to ``settings.batch_size`` sequences per llama.cpp call, with
    the shared prompt prefix evaluated once (see runtimes/llama_batch.py)."""

    def __init__(self, name: str, model: Path, prompt, settings: Settings, schema: dict[str, Any],
                 lora: Path | None = None, grammar: bool = False, run_dir: Path | None = None):
        self.name, self.model, self.lora, self.prompt, self.settings = name, model, lora, prompt, settings
        self.run_dir = run_dir
        self.schema, self.grammar, self._llm, self._grammar = schema, grammar, None, None
        self.capabilities = Capabilities(streams=True, grammar=grammar, counts_tokens=True, needs_closing=True,
                                         continues=grammar, scores=True, scores_gold=not grammar)

    def _open(self):
        from .llama import default_threads
        from .llama_batch import BatchedLlama

        if self._llm is None:
            self._llm = BatchedLlama(self.model, self.lora, slots=self.settings.batch_size, n_ctx=self.settings.n_ctx,
                                     threads=self.settings.threads or default_threads())
            if self.grammar:
                from llama_cpp import LlamaGrammar

                self._grammar = LlamaGrammar.from_json_schema(json.dumps(self.schema), verbose=False)
        return self._llm

    def execute(self, inputs: list[str], priors: list[Prior | None] | None = None,
                golds: list[list[int] | None] | None = None) -> Iterator[tuple[int, Generation]]:
        """``(index, Generation)`` as each prompt finishes: a finished sequence's slot takes the
        next prompt at once. ``priors`` (+grammar only): the free outputs to continue from;
        ``golds``: gold answers to score as each row finishes (``BatchedLlama.stream``)."""
        llm = self._open()
        try:
            yield from llm.stream([self.prompt(text) for text in inputs], self.settings.max_new_tokens, self._grammar,
                                  self.settings.stop_loops, priors, positions=self.settings.positions, golds=golds)
        except Fault:
            self.close()  # the next attempt starts from a fresh context
            raise

    def count_tokens(self, text: str) -> int:
        """Prompt tokens for one input, as llama.cpp tokenizes it (BOS counted)."""
        return len(self._open().tokenize(self.prompt(text)))

    def facts(self) -> dict[str, Any]:
        """The GGUF's quantization, template and special tokens (and the run's), for the causes."""
        from .artefact_facts import gguf_facts, run_facts

        return {"runtime": "llama.cpp", "gguf": gguf_facts(self.model, self.lora),
                **({"run": run_facts(self.run_dir)} if self.run_dir is not None else {})}

    def answer_ids(self, text: str) -> list[int]:
        """An answer's tokens as llama.cpp tokenizes text (no BOS, no special tokens parsed)."""
        return self._open().tokenize_text(text)

    @property
    def stop_token(self) -> int:
        """The GGUF's end-of-turn token (its EOT, else its EOS)."""
        return self._open().stop_token

    def score(self, inputs: list[str], answers: list[list[int]], stops: list[int]) -> Iterator[tuple[int, TokenScores]]:
        """Teacher-forced scores, many rows per llama.cpp call (``runtimes/llama_score.py``)."""
        from .llama_score import score

        try:
            yield from score(self._open(), [self.prompt(t) for t in inputs], answers, stops)
        except Fault:
            self.close()
            raise

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None


def _base(name: VariantName, sources, settings: Settings, task: Task) -> Variant:
    spec = sources.base_spec()
    fmt, instruction = chat_format(spec), task.instruction
    return LlamaVariant(str(name), models.gguf_path(spec), lambda t: prompt_text(fmt, t, "chat", instruction),
                        settings, task.schema, grammar=name.grammar)


def _adapter(name: VariantName, sources, settings: Settings, task: Task) -> Variant:
    run = sources.runs[name.run]
    return LlamaVariant(str(name), models.gguf_path(run.spec), run.prompt, settings, task.schema,
                        lora=run.artefact(name.kind), grammar=name.grammar, run_dir=run.dir)


def _merged(name: VariantName, sources, settings: Settings, task: Task) -> Variant:
    run = sources.runs[name.run]
    return LlamaVariant(str(name), run.artefact(name.kind), run.prompt, settings, task.schema, grammar=name.grammar,
                        run_dir=run.dir)


BASE_GGUF = Kind("base-gguf", _base, "the base GGUF in llama.cpp, instructed, with worked examples")
ADAPTER_GGUF = Kind("adapter-gguf", _adapter, "llama.cpp: the base GGUF + the run's adapter.gguf", needs_run=True)
MERGED_GGUF = Kind("merged-gguf", _merged, "llama.cpp: the run's merged.gguf", needs_run=True)
