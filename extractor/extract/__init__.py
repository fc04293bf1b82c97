"""Batch extraction: the ``Extractor`` API (``extractor``), the corpus runner (``corpus``) and the
passage splitter (``passages``)."""
