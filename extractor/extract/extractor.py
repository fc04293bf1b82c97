"""The Python API of batch extraction: load one artefact of a run once, then extract answers.

    from extractor import Extractor

    ex = Extractor.load("runs/cantos-smollm2", variant="merged-gguf")
    ex.extract("Sigismundo's epopte is presented in IX:ll.15-28")
    # -> [Reference(canto=9, lines=(15, 16, ..., 28))]
    ex.extract_batch(["first passage", "second passage"])   # -> [Result, Result] with statuses

    ex = Extractor.load("runs/citations-smollm2")           # the run's own task: citations
    ex.extract("Lind, K. (1998). Harbour towns of the north.")
    # -> [{"author": "Lind, K.", "date": "(1998).", "title": ...}]: one JSON answer per passage

The task is the run's own (its training config's ``task``); ``task=`` names it where there is no
run (``base-gguf``, ``rules``) and must agree with the run's where there is one. Cantos answers
come back as typed ``Reference`` lists; every other task's as JSON values (``Result.answer``).
`extractor extract` (extractor/corpus.py) drives the same object over files and directories.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import models
from .errors import ConfigError, ExtractionError
from .generation import Generation
from .passages import split_text
from .task import Task, get_task
from .tasks.cantos import CantosTask
from .tasks.cantos.schema import Reference
from .variants import RunArtefacts, Settings, Skip, build, parse_name

CHARS_PER_TOKEN_CAP = 16
"""No tokenizer we know packs more characters than this into a token on average: longer texts
are known not to fit without tokenizing them."""


@dataclass
class Result:
    """What extraction made of one passage."""

    status: str
    """``ok``; ``no_json`` (no JSON at the start of the output); ``invalid`` (JSON that fails the
    schema, or that never ends); ``skipped: <reason>`` (the runtime failed on the passage)."""
    references: list[Reference] = field(default_factory=list)
    """Cantos: the answer when ``status == "ok"``, in the order the model gave it; else empty.
    Always empty for other tasks (see ``answer``)."""
    raw: str = ""
    """The model's whole output."""
    continuation: str | None = None
    """``trailing_text`` or ``chained_turn`` when the model went on writing after a valid answer."""
    seconds: float = 0.0
    answer: Any = None
    """The answer as a JSON value (``task.parse_answer``'s ``value``) when ``status == "ok"``, else
    None; for Cantos ``{"references": [...]}``."""


def draws_references(task: Task) -> bool:
    """Whether ``task``'s answers are Cantos references: typed ``Reference`` lists, records with
    ``references`` and ``--resolve-lines``. Every other task's answers are plain JSON values."""
    return isinstance(task, CantosTask)


def result_of(gen: Generation, task: "Task | str | None" = None) -> Result:
    """Classify one generation with ``task``'s parser (None: cantos); pure, so re-classifying
    never re-runs a model."""
    task = get_task(task)
    if gen.error:
        return Result(f"skipped: {gen.error}", raw=gen.text, seconds=gen.seconds)
    parsed = task.parse_answer(gen.text)
    if parsed.valid:
        cont = None if parsed.status == "clean" else parsed.status
        refs = list(parsed.references) if draws_references(task) else []
        return Result("ok", refs, gen.text, cont, gen.seconds, parsed.value)
    status = "no_json" if parsed.status == "no_json" else "invalid"
    return Result(status, raw=gen.text, seconds=gen.seconds)


def extraction_task(run: RunArtefacts | None, task: "Task | str | Path | None" = None) -> Task:
    """The task of an extraction: ``task`` when given (a name, a task directory or a Task), else
    the run's own (its training config's ``task``), else cantos. A ``task`` other than the run's
    is refused: the run's model was trained for its own prompt and answer."""
    if run is None:
        return get_task(task)
    own = get_task(run.cfg.task)
    if task is None:
        return own
    given = get_task(task)
    if given.name != own.name:
        shown = task if isinstance(task, (str, Path)) else given.name
        raise ConfigError(f"--task {shown} contradicts the run: {run.dir} was trained for the task {own.name!r}. "
                          f"Drop --task, or pass a run trained for {given.name!r}.")
    return given


class Extractor:
    """One variant (an artefact in a runtime, or the rules), loaded once, used for many passages.

    ``task``: what the variant extracts (see ``extraction_task``: None is the run's own task, or
    cantos without a run)."""

    def __init__(self, variant, settings: Settings, run: RunArtefacts | None = None,
                 task: "Task | str | Path | None" = None):
        self.variant, self.settings, self.run = variant, settings, run
        self.task: Task = extraction_task(run, task)
        self.name: str = variant.name

    @property
    def draws_references(self) -> bool:
        """Cantos: ``extract`` gives ``Reference`` lists and records hold ``references``."""
        return draws_references(self.task)

    @classmethod
    def load(cls, run: str | Path | None = None, variant: str = "merged-gguf", *, task: "Task | str | Path | None" = None,
             grammar: bool = False, settings: Settings | None = None,
             base_model: str = models.DEFAULT_MODEL) -> "Extractor":
        """Load ``variant`` of the run in ``run`` (after `extractor export`); ``rules`` and
        ``base-gguf`` need no run. ``task`` (a name or a task directory) is the run's own by
        default; without a run, cantos unless given."""
        name = parse_name(variant)
        if name.run:
            raise ConfigError(f"variant {variant!r}: extraction uses one run; drop '@{name.run}' and pass that run.")
        if grammar and name.kind != "rules":
            name = replace(name, grammar=True)
        if run is None and name.kind not in ("rules", "base-gguf"):
            raise ConfigError(f"variant {name} needs a training run: pass --run runs/NAME (after `extractor export`).")
        artefacts = RunArtefacts.load(run) if run is not None else None
        the_task = extraction_task(artefacts, task)
        settings = settings or Settings()
        try:
            v = build(name, {None: artefacts} if artefacts else {}, settings, base_model, task=the_task)
        except Skip as e:
            raise ConfigError(f"variant {name} cannot extract: {e}") from None
        return cls(v, settings, artefacts, the_task)

    def fits(self, text: str) -> bool:
        """Whether one passage, in its prompt, leaves room for the answer in the context."""
        count = getattr(self.variant, "count_tokens", None)
        if count is None:
            return True  # the rules have no context window
        budget = self.settings.n_ctx - self.settings.max_new_tokens
        return len(text) <= budget * CHARS_PER_TOKEN_CAP and count(text) <= budget

    def extract_batch(self, texts: list[str]) -> list[Result]:
        """One Result per passage, in order. Passages must fit (see ``fits``); the runtime's own
        failures (a context overflow, a decode error) come back as ``skipped:`` results."""
        if not texts:
            return []
        return [result_of(g, self.task) for g in self.variant.generate(list(texts))]

    def extract(self, text: str) -> list:
        """The answers in ``text`` (split into passages when it is long), in order.

        Cantos: all references of all passages, one flat ``list[Reference]``. Any other task: one
        answer (a JSON value, as the task's schema says) per passage - a list of one for a text
        that fits in one passage.

        Raises ExtractionError when a passage does not fit or the model's output is not a valid
        answer; use ``extract_batch`` to get those as statuses instead.
        """
        spans = split_text(text, self.fits)
        for start, end, skip in spans:
            if skip:
                raise ExtractionError(f"characters {start}-{end}: {skip}")
        results = self.extract_batch([text[s:e] for s, e, _ in spans])
        answers: list = []
        for (start, end, _), r in zip(spans, results):
            if r.status != "ok":
                raise ExtractionError(f"characters {start}-{end}: {r.status}; the output was {r.raw[:120]!r}")
            if self.draws_references:
                answers.extend(r.references)
            else:
                answers.append(r.answer)
        return answers

    def close(self) -> None:
        self.variant.close()

    def __enter__(self) -> "Extractor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
