"""The variants an evaluation compares: ``build`` makes the one a name asks for, through its kind.

A variant name is ``KIND[+grammar][@RUN]``, or ``KIND:MODEL[+grammar][@ENDPOINT]`` for a served kind:

    KIND           a kind registered under the entry-point group ``extractor.variants``
                   (``runtimes/kinds.py``): base-gguf, adapter-gguf, merged-gguf (llama.cpp,
                   runtimes/llama_variant.py), adapter-hf, merged-hf (transformers, runtimes/hf_variant.py),
                   rules (the task's baseline, runtimes/rules_variant.py), served:MODEL and
                   served-base:MODEL (an OpenAI-compatible server, runtimes/served.py)
    +grammar       constrain decoding to the task's JSON Schema: llama.cpp's grammar (-gguf), llguidance's
                   (-hf, runtimes/hf_grammar.py), the server's own (served)
    @RUN           use the run labelled RUN (``--run RUN=DIR``) instead of the default run (served: the
                   endpoint labelled so, ``--endpoint LABEL=URL``)

Each variant declares what it can do (``Capabilities``) beside its one ``execute``; callers read
the declaration and never probe an object for methods.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.errors import ConfigError
from ..core.task import Task
from . import kinds, models
from .run_card import RunArtefacts
from .served import Endpoint
from .variant import Settings, Variant, VariantName


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
    the base model's instruction and the grammar's schema. A kind that needs a run gets one that is
    there and loads (its checkpoint, its tokenizer files) before any model does."""
    kind = kinds.get(name.kind)
    if kind is None:
        raise ConfigError(f"variant {name}: no kind {name.kind!r} is registered; known: {', '.join(kinds.names())}")
    if kind.needs_run:
        if name.run not in sources.runs:
            which = f"--run {name.run}=DIR" if name.run else "--run DIR"
            raise ConfigError(f"variant {name} needs a training run: pass {which}.")
        _ = sources.runs[name.run].chat  # a missing checkpoint or a bad tokenizer file fails here
    return kind.build(name, sources, settings, task)
