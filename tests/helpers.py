"""Small helpers the tests share: the built-in tasks, a Cantos record's Sample, a scripted variant."""

from extractor.core.sample_record import SampleRecord
from extractor.runtimes.variant import BaseVariant
from extractor.tasks.registry import get_task

CANTOS = get_task("cantos")
CITATIONS = get_task("citations")


def to_sample(record):
    """A Cantos samples.jsonl record (a SampleRecord or its JSON object) -> its Sample."""
    return CANTOS.score(SampleRecord.of(record))


class Scripted(BaseVariant):
    """A variant whose outputs a function of the input gives (the narrow fake of the evaluation tests)."""

    def __init__(self, name, answer):
        self.name, self.answer = name, answer

    def execute(self, inputs):
        for i, text in enumerate(inputs):
            yield i, self.answer(text)
