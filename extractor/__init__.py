"""extractor: structured-output extraction evaluator for fine-tuned LLMs."""

__version__ = "0.1.0"
