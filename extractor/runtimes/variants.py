"""The variants an evaluation compares, each a small class behind the ``Variant`` Protocol
(``runtimes/variant.py``), and ``build``, which makes the one a name asks for.

A variant name is ``KIND[+grammar][@RUN]``:

    base-gguf      the base GGUF in llama.cpp, with the task's instruction for a base model
    adapter-hf     transformers + peft, adapter unmerged
    adapter-gguf   llama.cpp, base GGUF + export/adapter.gguf
    merged-hf      transformers, export/merged-hf
    merged-gguf    llama.cpp, export/merged.gguf
    rules          the task's deterministic baseline (``Task.rules``), no model
    served:MODEL   a model behind an OpenAI-compatible server (``--endpoint URL``; runtimes/served.py),
                   prompted as the run was trained; served-base:MODEL with the base-model prompt
    +grammar       constrain decoding to the task's JSON Schema: llama.cpp's grammar (-gguf), llguidance's
                   (-hf, runtimes/hf_grammar.py)
    @RUN           use the run labelled RUN (``--run RUN=DIR``) instead of the default run (served: the
                   endpoint labelled so, ``--endpoint LABEL=URL``)

Each variant declares what it can do (``Capabilities``) beside its one ``execute``; callers read
the declaration and never probe an object for methods.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import ConfigError
from ..core.faults import Fault
from ..core.generation import Generation, Prior, context_error
from ..core.task import Task
from . import models
from .prompts import chat_format, load_tokenizer, prompt_text
from .run_card import RunArtefacts
from .served import Endpoint, ServedVariant
from .variant import SERVED, BaseVariant, Capabilities, Settings, Skip, Variant, VariantName

class RulesVariant(BaseVariant):
    """The task's deterministic baseline: no model, no context window."""

    def __init__(self, name: str, task: Task):
        self.name, self.task = name, task

    def execute(self, inputs: list[str]) -> Iterator[tuple[int, Generation]]:
        for i, text in enumerate(inputs):
            t0 = time.perf_counter()
            answer = json.dumps(self.task.rules(text))
            yield i, Generation(answer, "stop", seconds=time.perf_counter() - t0)


class LlamaVariant(BaseVariant):
    """llama.cpp: a GGUF, optionally with a LoRA GGUF, optionally grammar-constrained.

    Prompts are decoded together, up to ``settings.batch_size`` sequences per llama.cpp call, with
    the shared prompt prefix evaluated once (see runtimes/llama_batch.py)."""

    def __init__(self, name: str, model: Path, prompt, settings: Settings, schema: dict[str, Any],
                 lora: Path | None = None, grammar: bool = False):
        self.name, self.model, self.lora, self.prompt, self.settings = name, model, lora, prompt, settings
        self.schema, self.grammar, self._llm, self._grammar = schema, grammar, None, None
        self.capabilities = Capabilities(streams=True, grammar=grammar, counts_tokens=True, needs_closing=True,
                                         continues=grammar)

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

    def execute(self, inputs: list[str], priors: list[Prior | None] | None = None) -> Iterator[tuple[int, Generation]]:
        """``(index, Generation)`` as each prompt finishes: a finished sequence's slot takes the
        next prompt at once. ``priors`` (+grammar only): the free outputs to continue from
        (``BatchedLlama.stream``)."""
        llm = self._open()
        try:
            yield from llm.stream([self.prompt(text) for text in inputs], self.settings.max_new_tokens, self._grammar,
                                  self.settings.stop_loops, priors)
        except Fault:
            self.close()  # the next attempt starts from a fresh context
            raise

    def count_tokens(self, text: str) -> int:
        """Prompt tokens for one input, as llama.cpp tokenizes it (BOS counted)."""
        return len(self._open().tokenize(self.prompt(text)))

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None


def hf_dtype(precision: str):
    """The torch dtype the transformers variants load in, for a configured precision."""
    import torch

    from .hardware import resolve_precision

    used, _ = resolve_precision(precision, "cuda" if torch.cuda.is_available() else "cpu")
    return torch.bfloat16 if used == "bf16" else torch.float32


class HFVariant(BaseVariant):
    """transformers: continuously batched greedy generation with left padding (runtimes/hf_generate.py);
    with a ``schema``, constrained to it by llguidance (runtimes/hf_grammar.py), continuing the free
    row's outputs as the llama.cpp +grammar rows do."""

    capabilities = Capabilities(streams=True, counts_tokens=True, needs_closing=True)

    def __init__(self, name: str, load, tokenizer, prompt, settings: Settings, schema: dict[str, Any] | None = None):
        self.name, self._load, self.tokenizer, self.prompt, self.settings = name, load, tokenizer, prompt, settings
        self._model = None
        self.schema, self._grammar = schema, None
        if schema is not None:
            self.capabilities = Capabilities(streams=True, grammar=True, counts_tokens=True, needs_closing=True,
                                             continues=True)

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
                               self.settings.batch_size, self.settings.stop_loops, self._grammar, priors):
                yield fit[j], g
        except Fault:
            self.close()
            raise

    def count_tokens(self, text: str) -> int:
        """Prompt tokens for one input."""
        return len(self.tokenizer(self.prompt(text), add_special_tokens=False).input_ids)

    def close(self) -> None:
        self._model = self._grammar = None


@dataclass
class Sources:
    """Where the variants of an evaluation come from."""

    runs: dict[str | None, RunArtefacts] = field(default_factory=dict)
    """``--run [LABEL=]DIR``: label (None: the default run) -> its run directory."""
    endpoints: dict[str | None, Endpoint] = field(default_factory=dict)
    """``--endpoint [LABEL=]URL``: label (None: the default) -> an OpenAI-compatible server."""
    base_model: str = models.DEFAULT_MODEL
    """What base-gguf runs, and whose chat template a served row's prompt uses, without a run."""

    def base_spec(self) -> models.ModelSpec:
        return self.runs[None].spec if None in self.runs else models.get(self.base_model)


def build(name: VariantName, sources: Sources, settings: Settings, task: Task) -> Variant:
    """A ready-to-call variant, or Skip with the reason it cannot run. ``task`` gives the rules,
    the base model's instruction and the grammar's schema."""
    label = str(name)
    runs = sources.runs
    if name.kind == "rules":
        if not task.has_rules:
            raise Skip(f"the task {task.name!r} defines no rules baseline")
        return RulesVariant(label, task)
    if name.kind in SERVED:
        return _served(name, sources, settings, task)
    if name.kind == "base-gguf":
        spec = sources.base_spec()
        fmt = chat_format(spec)
        instruction = task.instruction
        return LlamaVariant(label, models.gguf_path(spec), lambda t: prompt_text(fmt, t, "chat", instruction),
                            settings, task.schema, grammar=name.grammar)
    if name.run not in runs:
        which = f"--run {name.run}=DIR" if name.run else "--run DIR"
        raise ConfigError(f"variant {label} needs a training run: pass {which}.")
    run = runs[name.run]
    prompt = run.prompt
    _ = run.chat  # a missing checkpoint or a bad tokenizer file fails here, before any model loads
    if name.kind == "adapter-hf" and not run.has_adapter:
        raise Skip(f"{run.dir} holds GGUFs only (imported), no peft adapter")
    if name.kind == "adapter-gguf":
        return LlamaVariant(label, models.gguf_path(run.spec), prompt, settings, task.schema,
                            lora=run.artefact(name.kind), grammar=name.grammar)
    if name.kind == "merged-gguf":
        return LlamaVariant(label, run.artefact(name.kind), prompt, settings, task.schema, grammar=name.grammar)

    def load_adapter(dtype):
        from peft import PeftModel
        from transformers import AutoModelForCausalLM

        base = AutoModelForCausalLM.from_pretrained(models.hf_path(run.spec), dtype=dtype)
        # The adapter's weights run in the base's dtype too (peft would otherwise keep them fp32).
        return PeftModel.from_pretrained(base, str(run.adapter_dir), autocast_adapter_dtype=False).to(dtype)

    def load_merged(dtype):
        from transformers import AutoModelForCausalLM

        return AutoModelForCausalLM.from_pretrained(run.artefact(name.kind), dtype=dtype)

    tok = load_tokenizer(run.spec, models.hf_path(run.spec))
    return HFVariant(label, load_adapter if name.kind == "adapter-hf" else load_merged, tok, prompt, settings,
                     task.schema if name.grammar else None)


def _served(name: VariantName, sources: Sources, settings: Settings, task: Task) -> Variant:
    """A served row: the prompt is the default run's (``served``), or the task's base-model prompt
    (``served-base``, or ``served`` without a run)."""
    if name.run not in sources.endpoints:
        which = f"--endpoint {name.run}=URL" if name.run else "--endpoint URL"
        raise ConfigError(f"variant {name} needs a server: pass {which} (an OpenAI-compatible base URL, "
                          "e.g. http://127.0.0.1:8000/v1)")
    run = sources.runs.get(None) if name.kind == "served" else None
    if run is not None:
        prompt, system = run.prompt, run.card.system
    else:
        fmt = chat_format(sources.base_spec())
        system = task.instruction
        prompt = lambda t: prompt_text(fmt, t, "chat", system)  # noqa: E731
    return ServedVariant(str(name), name.model, sources.endpoints[name.run], prompt, system, settings,
                         task.schema if name.grammar else None, task.name)
