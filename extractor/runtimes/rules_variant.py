"""The ``rules`` variant kind: the task's deterministic baseline (``Task.rules``), no model."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from ..core.generation import Generation
from ..core.task import Task
from .kinds import Kind
from .variant import BaseVariant, Settings, Skip, Variant, VariantName


class RulesVariant(BaseVariant):
    """The task's deterministic baseline: no model, no context window."""

    def __init__(self, name: str, task: Task):
        self.name, self.task = name, task

    def execute(self, inputs: list[str]) -> Iterator[tuple[int, Generation]]:
        for i, text in enumerate(inputs):
            t0 = time.perf_counter()
            answer = json.dumps(self.task.rules(text))
            yield i, Generation(answer, "stop", seconds=time.perf_counter() - t0)


def _build(name: VariantName, sources, settings: Settings, task: Task) -> Variant:
    if not task.has_rules:
        raise Skip(f"the task {task.name!r} defines no rules baseline")
    return RulesVariant(str(name), task)


RULES = Kind("rules", _build, "the task's deterministic baseline, no model", grammar=False)
