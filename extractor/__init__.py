"""extractor: structured-output extraction evaluator for fine-tuned LLMs.

    from extractor import Extractor
    refs = Extractor.load("runs/cantos-smollm2", variant="merged-gguf").extract("See IX:ll.15-28.")
"""

__version__ = "0.1.0"

__all__ = ["Extractor", "Reference", "Result"]


def __getattr__(name: str):
    # Imported on first use, so `import extractor` (and the CLI's start) stays light.
    if name in ("Extractor", "Result"):
        from . import extraction

        return getattr(extraction, name)
    if name == "Reference":
        from .tasks.cantos.schema import Reference

        return Reference
    raise AttributeError(f"module 'extractor' has no attribute {name!r}")
