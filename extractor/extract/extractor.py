"""The Python API of batch extraction: load one artefact of a run once, then extract answers.

    from extractor import Extractor

    ex = Extractor.load("runs/cantos-smollm2", variant="merged-gguf")
    ex.extract("Sigismundo's epopte is presented in IX:ll.15-28")
    # -> what the run's task collects from the passages' answers (Cantos: [Reference(canto=9, ...)])
    ex.extract_batch(["first passage", "second passage"])   # -> [Result, Result] with statuses

    ex = Extractor.load("runs/citations-smollm2")           # the run's own task: citations
    ex.extract("Lind, K. (1998). Harbour towns of the north.")
    # -> [{"author": "Lind, K.", "date": "(1998).", "title": ...}]: one JSON answer per passage

The task is the run's own (its card's ``task``); ``task=`` names it where there is no run
(``base-gguf``, ``rules``) and must agree with the run's where there is one. Every answer is a
JSON value (``Result.answer``); ``extract`` returns what the task makes of a text's answers
(``Task.collect``). `extractor extract` (extract/corpus.py) drives the same object over files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..core.confidence import confidence
from ..core.errors import ConfigError, ExtractionError
from ..core.faults import Backoff
from ..core.generation import Generation
from ..core.task import Task
from ..runtimes import kinds, models, retry
from ..runtimes.run_card import RunArtefacts
from ..runtimes.variant import Settings, Skip, Variant, parse_name
from ..runtimes.served import Endpoint
from ..runtimes.variants import Sources, build
from ..tasks.registry import get_task
from .passages import split_text

CHARS_PER_TOKEN_CAP = 16
"""No tokenizer we know packs more characters than this into a token on average: longer texts
are known not to fit without tokenizing them."""


@dataclass
class Result:
    """What extraction made of one passage."""

    status: str
    """``ok``; ``no_json`` (no JSON at the start of the output); ``invalid`` (JSON that fails the
    schema, or that never ends); ``skipped: <reason>`` (the runtime refused the passage: longer
    than the context). A fault of a server or runtime is never a result (``core.faults``)."""
    raw: str = ""
    """The model's whole output."""
    continuation: str | None = None
    """``trailing_text`` or ``chained_turn`` when the model went on writing after a valid answer."""
    seconds: float = 0.0
    answer: Any = None
    """The answer as a JSON value (``task.parse_answer``'s ``value``) when ``status == "ok"``, else None."""
    confidence: float | None = None
    """The answer's confidence (``core/confidence.py``: the least likely of its tokens' probabilities);
    None without an answer, or where the runtime gives no token probabilities (the rules, a server
    that returns none)."""
    field_confidence: dict[str, float] | None = None
    """Field path (``core.fields``: ``author``, ``references[].canto``) -> its confidence, for an
    answer with fields."""


def result_of(gen: Generation, task: Task) -> Result:
    """Classify one generation with ``task``'s parser; pure, so re-classifying never re-runs a model."""
    if gen.error:
        return Result(f"skipped: {gen.error}", raw=gen.text, seconds=gen.seconds)
    parsed = task.parse_answer(gen.text)
    if parsed.valid:
        cont = None if parsed.status == "clean" else parsed.status
        found = confidence(gen.text, gen.logprobs, gen.offsets, parsed)
        return Result("ok", gen.text, cont, gen.seconds, parsed.value, found.answer if found else None,
                      (found.fields or None) if found else None)
    status = "no_json" if parsed.status == "no_json" else "invalid"
    return Result(status, raw=gen.text, seconds=gen.seconds)


def extraction_task(run: RunArtefacts | None, task: "Task | str | Path | None" = None) -> Task:
    """The task of an extraction: ``task`` when given (a name, a task directory or a Task), else
    the run's own (its card's), else the default task. A ``task`` other than the run's is refused:
    the run's model was trained for its own prompt and answer."""
    given = task if isinstance(task, Task) else (get_task(task) if task is not None else None)
    if run is None:
        return given or get_task(None)
    own = get_task(run.card.task_source or None)
    if given is None:
        return own
    if given.name != own.name:
        shown = task if isinstance(task, (str, Path)) else given.name
        raise ConfigError(f"--task {shown} contradicts the run: {run.dir} was trained for the task {own.name!r}. "
                          f"Drop --task, or pass a run trained for {given.name!r}.")
    return given


class Extractor:
    """One variant (an artefact in a runtime, or the rules), loaded once, used for many passages."""

    def __init__(self, variant: Variant, settings: Settings, task: Task, run: RunArtefacts | None = None):
        self.variant, self.settings, self.task, self.run = variant, settings, task, run
        self.name: str = variant.name
        self.faults = retry.Faults()
        """The faults retried so far (``runtimes/retry.py``)."""
        self.log: Callable[[str], None] | None = None
        """Where a retry is announced (None: nowhere)."""

    @classmethod
    def load(cls, run: str | Path | None = None, variant: str = "merged-gguf", *, task: "Task | str | Path | None" = None,
             grammar: bool = False, settings: Settings | None = None, base_model: str = models.DEFAULT_MODEL,
             endpoint: str | None = None) -> "Extractor":
        """Load ``variant`` of the run in ``run`` (after `extractor export`); ``rules`` and
        ``base-gguf`` need no run, ``served:MODEL`` needs an ``endpoint`` (an OpenAI-compatible base
        URL; the run, if any, gives the prompt). ``task`` (a Task, a name or a task directory) is
        the run's own by default; without a run, the default task unless given."""
        name = parse_name(variant)
        if name.run:
            raise ConfigError(f"variant {variant!r}: extraction uses one run; drop '@{name.run}' and pass that run.")
        kind = kinds.get(name.kind)
        if grammar and kind.grammar:
            name = replace(name, grammar=True)
        if run is None and kind.needs_run:
            raise ConfigError(f"variant {name} needs a training run: pass --run runs/NAME (after `extractor export`).")
        artefacts = RunArtefacts.load(run) if run is not None else None
        the_task = extraction_task(artefacts, task)
        settings = settings or Settings()
        try:
            sources = Sources({None: artefacts} if artefacts else {},
                              {None: Endpoint(endpoint)} if endpoint else {}, base_model)
            v = build(name, sources, settings, the_task)
        except Skip as e:
            raise ConfigError(f"variant {name} cannot extract: {e}") from None
        return cls(v, settings, the_task, artefacts)

    def fits(self, text: str) -> bool:
        """Whether one passage, in its prompt, leaves room for the answer in the context."""
        if not self.variant.capabilities.counts_tokens:
            return True  # no context window (the rules)
        budget = self.settings.n_ctx - self.settings.max_new_tokens
        return len(text) <= budget * CHARS_PER_TOKEN_CAP and self.variant.count_tokens(text) <= budget

    def extract_batch(self, texts: list[str]) -> list[Result]:
        """One Result per passage, in order. Passages must fit (see ``fits``); one the runtime
        refuses (longer than a server's context) comes back as a ``skipped:`` result. A fault of the
        server or runtime is retried under ``settings.retry_budget`` and never becomes a result:
        when the budget is spent, ``core.faults.Outage`` is raised and no result is returned."""
        if not texts:
            return []
        backoff = Backoff(budget=self.settings.retry_budget)
        out: dict[int, Generation] = dict(retry.execute(self.variant, list(texts), backoff, faults=self.faults,
                                                        log=self.log))
        return [result_of(out[i], self.task) for i in range(len(texts))]

    def extract(self, text: str) -> Any:
        """The answers in ``text`` (split into passages when it is long), as the task collects
        them (``Task.collect``): Cantos, one flat list of ``Reference``; any other task, one answer
        (a JSON value) per passage - a list of one for a text that fits in one passage.

        Raises ExtractionError when a passage does not fit or the model's output is not a valid
        answer; use ``extract_batch`` to get those as statuses instead.
        """
        spans = split_text(text, self.fits)
        for start, end, skip in spans:
            if skip:
                raise ExtractionError(f"characters {start}-{end}: {skip}")
        results = self.extract_batch([text[s:e] for s, e, _ in spans])
        for (start, end, _), r in zip(spans, results):
            if r.status != "ok":
                raise ExtractionError(f"characters {start}-{end}: {r.status}; the output was {r.raw[:120]!r}")
        return self.task.collect([r.answer for r in results])

    def close(self) -> None:
        self.variant.close()

    def __enter__(self) -> "Extractor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
