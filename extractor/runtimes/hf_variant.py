"""The transformers variant kinds: ``adapter-hf`` (the run's peft adapter, unmerged, on the base)
and ``merged-hf`` (the run's export/merged-hf), each optionally ``+grammar`` (llguidance's mask of
the task's JSON Schema, runtimes/hf_grammar.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..core.faults import Fault
from ..core.generation import Generation, Prior, context_error
from ..core.likelihood import TokenScores
from ..core.task import Task
from . import models
from .kinds import Kind
from .prompts import TokenizerAnswers, load_tokenizer
from .variant import BaseVariant, Capabilities, Settings, Skip, Variant, VariantName


def hf_dtype(precision: str):
    """The torch dtype the transformers variants load in, for a configured precision."""
    import torch

    from .hardware import resolve_precision

    used, _ = resolve_precision(precision, "cuda" if torch.cuda.is_available() else "cpu")
    return torch.bfloat16 if used == "bf16" else torch.float32


class HFVariant(TokenizerAnswers, BaseVariant):
    """transformers: continuously batched greedy generation with left padding (runtimes/hf_generate.py);
    with a ``schema``, constrained to it by llguidance (runtimes/hf_grammar.py), continuing the free
    row's outputs as the llama.cpp +grammar rows do."""

    capabilities = Capabilities(streams=True, counts_tokens=True, needs_closing=True, scores=True)

    def __init__(self, name: str, load, tokenizer, prompt, settings: Settings, schema: dict[str, Any] | None = None,
                 run_dir=None):
        self.name, self._load, self.tokenizer, self.prompt, self.settings = name, load, tokenizer, prompt, settings
        self.run_dir = run_dir
        self._model = None
        self.schema, self._grammar = schema, None
        if schema is not None:
            self.capabilities = Capabilities(streams=True, grammar=True, counts_tokens=True, needs_closing=True,
                                             continues=True, scores=True)

    def _open(self):
        if self._model is None:
            from ..core import quiet

            quiet.libraries()
            import torch

            if self.settings.threads:
                torch.set_num_threads(self.settings.threads)
            self._model = self._load(hf_dtype(self.settings.precision)).eval()
        return self._model

    def execute(self, inputs: list[str], priors: list[Prior | None] | None = None) -> Iterator[tuple[int, Generation]]:
        """``(index, Generation)`` as each prompt finishes: a finished row's place in the batch is
        taken by the next prompts at once. ``priors`` (+grammar only): the free outputs to continue
        from (``hf_generate.stream``)."""
        from .hf_generate import stream

        model = self._open()
        if self.schema is not None and self._grammar is None:
            from .hf_grammar import Grammar

            self._grammar = Grammar(self.tokenizer, self.schema)
        prompts = [self.prompt(t) for t in inputs]
        fit = []
        for i, p in enumerate(prompts):  # the context window, as llama.cpp applies it
            n = len(self.tokenizer(p, add_special_tokens=True).input_ids)
            if n >= self.settings.n_ctx:
                yield i, Generation("", "error", prompt_tokens=n, error=context_error(n, self.settings.n_ctx))
            else:
                fit.append(i)
        priors = [priors[i] for i in fit] if priors is not None and self._grammar is not None else None
        try:
            for j, g in stream(model, self.tokenizer, [prompts[i] for i in fit], self.settings.max_new_tokens,
                               self.settings.batch_size, self.settings.stop_loops, self._grammar, priors,
                               positions=self.settings.positions):
                yield fit[j], g
        except Fault:
            self.close()
            raise

    def count_tokens(self, text: str) -> int:
        """Prompt tokens for one input."""
        return len(self.tokenizer(self.prompt(text), add_special_tokens=False).input_ids)

    def facts(self) -> dict[str, Any]:
        """The tokenizer's template and special tokens and how the run was trained, for the causes."""
        from .artefact_facts import run_facts, tokenizer_facts

        dtype = str(hf_dtype(self.settings.precision)).removeprefix("torch.").replace("bfloat16", "bf16")
        return {"runtime": "transformers", "dtype": dtype.replace("float32", "fp32"),
                "tokenizer": tokenizer_facts(self.tokenizer),
                **({"run": run_facts(self.run_dir)} if self.run_dir is not None else {})}

    def score(self, inputs: list[str], answers: list[list[int]], stops: list[int]) -> Iterator[tuple[int, TokenScores]]:
        """Teacher-forced scores, a batch of rows per forward pass (``runtimes/hf_score.py``)."""
        from .hf_score import score

        old_side, self.tokenizer.padding_side = self.tokenizer.padding_side, "left"
        try:
            yield from score(self._open(), self.tokenizer, [self.prompt(t) for t in inputs], answers, stops,
                             self.settings.batch_size, self.settings.n_ctx)
        except Fault:
            self.close()
            raise
        finally:
            self.tokenizer.padding_side = old_side

    def close(self) -> None:
        self._model = self._grammar = None


def _adapter(name: VariantName, sources, settings: Settings, task: Task) -> Variant:
    run = sources.runs[name.run]
    if not run.has_adapter:
        raise Skip(f"{run.dir} holds GGUFs only (imported), no peft adapter")

    def load(dtype):
        from peft import PeftModel
        from transformers import AutoModelForCausalLM

        base = AutoModelForCausalLM.from_pretrained(models.hf_path(run.spec), dtype=dtype)
        # The adapter's weights run in the base's dtype too (peft would otherwise keep them fp32).
        return PeftModel.from_pretrained(base, str(run.adapter_dir), autocast_adapter_dtype=False).to(dtype)

    return _variant(name, run, load, settings, task)


def _merged(name: VariantName, sources, settings: Settings, task: Task) -> Variant:
    run = sources.runs[name.run]

    def load(dtype):
        from transformers import AutoModelForCausalLM

        return AutoModelForCausalLM.from_pretrained(run.artefact(name.kind), dtype=dtype)

    return _variant(name, run, load, settings, task)


def _variant(name: VariantName, run, load, settings: Settings, task: Task) -> HFVariant:
    tok = load_tokenizer(run.spec, models.hf_path(run.spec))
    return HFVariant(str(name), load, tok, run.prompt, settings, task.schema if name.grammar else None, run.dir)


ADAPTER_HF = Kind("adapter-hf", _adapter, "transformers + peft: the run's adapter, unmerged", needs_run=True)
MERGED_HF = Kind("merged-hf", _merged, "transformers: the run's merged-hf", needs_run=True)
