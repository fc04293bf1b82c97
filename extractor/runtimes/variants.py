"""The variants an evaluation compares, each a small class behind the ``Variant`` Protocol.

A variant name is ``KIND[+grammar][@RUN]``:

    base-gguf      the base GGUF in llama.cpp, with an instruction that states the convention
    adapter-hf     transformers + peft, adapter unmerged (fp32 base)
    adapter-gguf   llama.cpp, base GGUF + export/adapter.gguf
    merged-hf      transformers, export/merged-hf
    merged-gguf    llama.cpp, export/merged.gguf
    rules          extractor.tasks.cantos.rules: regular expressions and the section table, no model
    +grammar       constrain decoding with llama.cpp's grammar built from the JSON Schema
    @RUN           use the run labelled RUN (``--run RUN=DIR``) instead of the default run
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from . import models
from .errors import ConfigError
from .generation import Generation
from .prompts import ChatFormat, chat_format, load_tokenizer, prompt_text
from .runs import run_info
from .task import get_task
from .tasks.cantos import BASE_SYSTEM as _CANTOS_BASE_SYSTEM

KINDS = ("base-gguf", "adapter-hf", "adapter-gguf", "merged-hf", "merged-gguf", "rules")
NEEDS_EXPORT = {"adapter-gguf": "adapter.gguf", "merged-hf": "merged-hf", "merged-gguf": "merged.gguf"}

# The base model's instruction is the task's (``Task.instruction``); Cantos' stays importable here.
BASE_SYSTEM = _CANTOS_BASE_SYSTEM


@dataclass(frozen=True)
class VariantName:
    kind: str
    grammar: bool = False
    run: str | None = None

    def __str__(self) -> str:
        return self.kind + ("+grammar" if self.grammar else "") + (f"@{self.run}" if self.run else "")


def parse_name(text: str) -> VariantName:
    body, _, run = text.strip().partition("@")
    kind, plus, suffix = body.partition("+")
    if kind not in KINDS or (plus and suffix != "grammar"):
        raise ConfigError(f"unknown variant {text!r}: write KIND[+grammar][@RUN] with KIND one of {', '.join(KINDS)}")
    if kind == "rules" and plus:
        raise ConfigError(f"variant {text!r}: rules are deterministic; +grammar applies to model variants only")
    return VariantName(kind, bool(plus), run or None)


class Skip(Exception):
    """A variant that cannot run here, with the reason shown in the report."""


@dataclass
class RunArtefacts:
    """A training run and what `extractor export` wrote for it."""

    dir: Path
    cfg: object = field(repr=False)
    spec: models.ModelSpec = field(repr=False)

    @classmethod
    def load(cls, run_dir: str | Path) -> "RunArtefacts":
        run_dir = Path(run_dir)
        _, cfg = run_info(run_dir)
        return cls(run_dir, cfg, models.get(cfg.model))

    def artefact(self, kind: str) -> Path:
        path = self.dir / "export" / NEEDS_EXPORT[kind]
        if not path.exists():
            raise ConfigError(f"{path} does not exist: variant {kind} needs `extractor export {self.dir}` first.")
        return path

    @cached_property
    def chat(self) -> ChatFormat:
        """The base model's chat format (read from its files; no transformers import)."""
        return chat_format(self.spec)

    def prompt(self, text: str) -> str:
        """The prompt this run was trained on, for one input (every runtime renders this)."""
        return prompt_text(self.chat, text, self.cfg.prompt_format, self.cfg.system)

    @cached_property
    def adapter_sha256(self) -> str:
        return models.sha256_file(self.dir / "adapter" / "adapter_model.safetensors")


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
    a GPU with bf16, a CPU with AMX-BF16 or AVX512-BF16; see `extractor.hardware`). llama.cpp
    variants run their GGUF's own types and ignore it."""

class RulesVariant:
    def __init__(self, name: str, task=None):
        self.name, self.task = name, get_task(task)

    def generate(self, inputs: list[str]) -> list[Generation]:
        out = []
        for text in inputs:
            t0 = time.perf_counter()
            answer = json.dumps(self.task.rules(text))
            out.append(Generation(answer, "stop", seconds=time.perf_counter() - t0))
        return out

    def close(self) -> None:
        pass

class LlamaVariant:
    """llama.cpp: a GGUF, optionally with a LoRA GGUF, optionally grammar-constrained.

    Prompts are decoded together, up to ``settings.batch_size`` sequences per llama.cpp call, with
    the shared prompt prefix evaluated once (see extractor.llama_batch)."""

    def __init__(self, name: str, model: Path, prompt, settings: Settings, lora: Path | None = None,
                 grammar: bool = False, schema: dict | None = None):
        self.name, self.model, self.lora, self.prompt, self.settings = name, model, lora, prompt, settings
        self.grammar, self._llm, self._grammar = grammar, None, None
        self.schema = get_task(None).schema if schema is None else schema

    def _open(self):
        from .llama_batch import BatchedLlama
        from .llama_runtime import default_threads

        if self._llm is None:
            self._llm = BatchedLlama(self.model, self.lora, slots=self.settings.batch_size, n_ctx=self.settings.n_ctx,
                                     threads=self.settings.threads or default_threads())
            if self.grammar:
                from llama_cpp import LlamaGrammar

                self._grammar = LlamaGrammar.from_json_schema(json.dumps(self.schema), verbose=False)
        return self._llm

    def generate(self, inputs: list[str]) -> list[Generation]:
        llm = self._open()
        return llm.generate([self.prompt(text) for text in inputs], self.settings.max_new_tokens, self._grammar,
                            self.settings.stop_loops)

    def stream(self, inputs: list[str]):
        """``(index, Generation)`` as each prompt finishes: a finished sequence's slot takes the
        next prompt at once, so callers pass many inputs and write each result when it comes."""
        llm = self._open()
        yield from llm.stream([self.prompt(text) for text in inputs], self.settings.max_new_tokens, self._grammar,
                              self.settings.stop_loops)

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


class HFVariant:
    """transformers: continuously batched greedy generation with left padding (extractor.hf_generate)."""

    def __init__(self, name: str, load, tokenizer, prompt, settings: Settings):
        self.name, self._load, self.tokenizer, self.prompt, self.settings = name, load, tokenizer, prompt, settings
        self._model = None

    def _open(self):
        if self._model is None:
            from . import quiet

            quiet.libraries()
            import torch

            if self.settings.threads:
                torch.set_num_threads(self.settings.threads)
            self._model = self._load(hf_dtype(self.settings.precision)).eval()
        return self._model

    def generate(self, inputs: list[str]) -> list[Generation]:
        from .hf_generate import generate

        return generate(self._open(), self.tokenizer, [self.prompt(t) for t in inputs],
                        self.settings.max_new_tokens, self.settings.batch_size, self.settings.stop_loops)

    def stream(self, inputs: list[str]):
        """``(index, Generation)`` as each prompt finishes: a finished row's place in the batch is
        taken by the next prompts at once, so callers pass many inputs and write each result when it comes."""
        from .hf_generate import stream

        yield from stream(self._open(), self.tokenizer, [self.prompt(t) for t in inputs],
                          self.settings.max_new_tokens, self.settings.batch_size, self.settings.stop_loops)

    def count_tokens(self, text: str) -> int:
        """Prompt tokens for one input."""
        return len(self.tokenizer(self.prompt(text), add_special_tokens=False).input_ids)

    def close(self) -> None:
        self._model = None

def build(name: VariantName, runs: dict[str | None, RunArtefacts], settings: Settings, base_model: str, task=None):
    """A ready-to-call variant, or Skip with the reason it cannot run. ``task``: a Task or its
    name (None: cantos) - its rules, base-model instruction and grammar schema."""
    label = str(name)
    task = get_task(task)
    if name.kind == "rules":
        if getattr(task, "has_rules", True) is False:
            raise Skip(f"the task {task.name!r} defines no rules baseline")
        return RulesVariant(label, task)
    if name.kind == "base-gguf":
        spec = runs[None].spec if None in runs else models.get(base_model)
        fmt = chat_format(spec)
        instruction = task.instruction
        return LlamaVariant(label, models.gguf_path(spec), lambda t: prompt_text(fmt, t, "chat", instruction),
                            settings, grammar=name.grammar, schema=task.schema)
    if name.run not in runs:
        which = f"--run {name.run}=DIR" if name.run else "--run DIR"
        raise ConfigError(f"variant {label} needs a training run: pass {which}.")
    run = runs[name.run]
    prompt = run.prompt
    _ = run.chat  # a missing checkpoint or a bad tokenizer file fails here, before any model loads
    if name.kind.endswith("-hf") and name.grammar:
        raise Skip("grammar-constrained decoding is only wired to llama.cpp; see the matching -gguf+grammar row")
    if name.kind == "adapter-gguf":
        return LlamaVariant(label, models.gguf_path(run.spec), prompt, settings, lora=run.artefact(name.kind),
                            grammar=name.grammar, schema=task.schema)
    if name.kind == "merged-gguf":
        return LlamaVariant(label, run.artefact(name.kind), prompt, settings, grammar=name.grammar, schema=task.schema)

    def load_adapter(dtype):
        from peft import PeftModel
        from transformers import AutoModelForCausalLM

        base = AutoModelForCausalLM.from_pretrained(models.hf_path(run.spec), dtype=dtype)
        # The adapter's weights run in the base's dtype too (peft would otherwise keep them fp32).
        return PeftModel.from_pretrained(base, str(run.dir / "adapter"), autocast_adapter_dtype=False).to(dtype)

    def load_merged(dtype):
        from transformers import AutoModelForCausalLM

        return AutoModelForCausalLM.from_pretrained(run.artefact(name.kind), dtype=dtype)

    tok = load_tokenizer(run.spec, models.hf_path(run.spec))
    return HFVariant(label, load_adapter if name.kind == "adapter-hf" else load_merged, tok, prompt, settings)
