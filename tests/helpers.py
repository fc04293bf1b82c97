"""Small helpers the tests share: the built-in tasks, a Cantos record's Sample, a scripted variant, a
package installed for one test."""

from pathlib import Path

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


def install_plugin(where: Path, monkeypatch, group: str, entries: dict[str, str], modules: dict[str, str]) -> None:
    """A package installed for one test, as pip would install a plugin of your own: its modules
    (name -> source) and a dist-info whose entry points register ``entries`` (name -> "module:ATTR")
    under ``group``, on sys.path until the test ends. The registries read entry points once: reset them."""
    where.mkdir(parents=True, exist_ok=True)
    info = where / "extractor_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: extractor-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items()))
    for name, source in modules.items():
        (where / f"{name}.py").write_text(source)
    monkeypatch.syspath_prepend(str(where))
