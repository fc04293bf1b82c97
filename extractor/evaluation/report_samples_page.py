"""The stylesheet and script of report.html's per-sample view (``report_samples`` builds its data),
read from the package's data files ``assets/samples.css``, ``assets/badges.css`` and
``assets/samples.js`` and inlined into the page, which stays one self-contained file.

The script reads the JSON payload of ``report_samples.payload``: rows in pages of 100, the
filters, the search, the sort, the state in the URL hash, and an opened row. An opened row shows
the gold and each prediction as the task's display rows (``core.display``): one line per field path
of a JSON answer, per canto of a Cantos answer, its pieces marked missing, extra, different or near
(equal only within the task's tolerance), with the gold value beside a different one.

Hash keys: ``q`` (search: every word, case-insensitive, in the id, input or an output), ``data``
(absent: the decision split; ``*``: all), ``tag``, ``outcome``, ``of``, ``disagree=1``,
``pair=A,B`` (rows where A and B differ), ``sort`` (``id``, ``input`` or ``v:VARIANT``; a leading
``-`` reverses), ``side=A,B`` (both raw outputs under each row, a word-level diff marked), ``open``.
The download buttons build the matching rows (all of them, in the shown order) as JSONL or CSV in
the page; ``window.__lastDownload`` keeps the last one built ({name, type, text}) for tests. Every
text from the data goes through ``esc`` (or ``textContent``) before it reaches the DOM.
"""

from __future__ import annotations

from importlib import resources


def _asset(name: str) -> str:
    """The text of ``assets/NAME``, as it is inlined."""
    return (resources.files(__package__) / "assets" / name).read_text(encoding="utf-8")


BADGES = _asset("badges.css").removesuffix("\n")
"""The outcome badges (``report_samples.OUTCOMES``, in its order): the view's cells and legend, and
``compare_html``'s page."""
CSS = _asset("samples.css").replace("/* badges.css */", BADGES)
"""The view's stylesheet, the badges in their place."""
JS = _asset("samples.js")
"""The view's script."""
