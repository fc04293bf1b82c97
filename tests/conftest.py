"""Shared fixtures: the embedded model, resolved and prepared once per machine."""

import pytest

from extractor import models


@pytest.fixture(scope="session")
def embedded():
    """(spec, gguf path, HF checkpoint dir) of the embedded SmolLM2-135M, real files."""
    spec = models.get(models.DEFAULT_MODEL)
    return spec, models.gguf_path(spec), models.hf_path(spec)
