"""One progress bar for long jobs (training, evaluation, extraction): bar, done/total, a status text, ETA."""

from __future__ import annotations


class Bar:
    """A rich progress bar that does nothing when disabled (--quiet, non-main processes)."""

    def __init__(self, label: str, total: int | None, done: int = 0, enabled: bool = True, unit: str = "items"):
        self.enabled = enabled
        if enabled:
            from rich.progress import (BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn,
                                       TimeRemainingColumn)

            count = DownloadColumn() if unit == "bytes" else MofNCompleteColumn()
            self.bar = Progress(TextColumn("{task.description:<24}"), BarColumn(), count,
                                TextColumn("{task.fields[info]}"), TimeRemainingColumn())
            self.task = self.bar.add_task(label, total=total, completed=done, info="")

    def __enter__(self):
        if self.enabled:
            self.bar.start()
        return self

    def __exit__(self, *exc):
        if self.enabled:
            self.bar.stop()

    def update(self, *, completed: int | None = None, advance: int = 0, label: str | None = None,
               info: str | None = None) -> None:
        if not self.enabled:
            return
        fields = {"info": info} if info is not None else {}
        self.bar.update(self.task, completed=completed, advance=advance or None, description=label, **fields)
