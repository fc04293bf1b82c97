"""The project's typed errors. Each message says what is wrong and how to fix it.

The CLI prints these as one short message and exits non-zero; anything else escaping is a bug.
"""

from __future__ import annotations


class ExtractorError(Exception):
    """Base class: a problem the user can fix, with a message that says how."""

    exit_code = 1


class DataError(ExtractorError):
    """A data file has bad rows. ``problems`` holds every ``file:line: reason``."""

    def __init__(self, problems: list["Problem"]):  # noqa: F821 - defined in data.py
        self.problems = problems
        shown = "\n".join(str(p) for p in problems[:20])
        more = f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(
            f"{len(problems)} bad row(s):\n{shown}{more}\n"
            "Fix these rows (run `extractor data check FILE` to list them all)."
        )


class ModelNotFoundError(ExtractorError):
    """A model (preset, GGUF file or HF checkpoint) is not available locally."""


class ConfigError(ExtractorError):
    """A configuration file or option is invalid."""


class ExportError(ExtractorError):
    """An adapter cannot be exported, or an exported file does not fit its base model."""


class ExtractionError(ExtractorError):
    """A passage could not be extracted (the model's output was not a valid answer, or it did not fit)."""
