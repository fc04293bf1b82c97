"""extractor: structured-output extraction evaluator for fine-tuned LLMs.

    from extractor import Extractor
    refs = Extractor.load("runs/cantos-smollm2", variant="merged-gguf").extract("See IX:ll.15-28.")

The package is layered: ``core`` (the task protocol, parsing, metrics, records, journal, files)
under ``tasks`` and ``runtimes``, under ``train``, ``evaluation`` and ``extract``, under ``cli``
(pyproject.toml's import-linter contracts hold it so).
"""

__version__ = "0.1.0"

__all__ = ["Extractor", "Result"]


def __getattr__(name: str):
    # Imported on first use, so `import extractor` (and the CLI's start) stays light.
    if name in ("Extractor", "Result"):
        from .extract import extractor

        return getattr(extractor, name)
    raise AttributeError(f"module 'extractor' has no attribute {name!r}")
