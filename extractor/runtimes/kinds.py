"""The kinds of variant, registered as tasks are: the one place that knows which kinds exist.

A variant name is ``KIND[+grammar][@RUN]`` or, for a served kind, ``KIND:MODEL[+grammar][@ENDPOINT]``
(``runtimes/variant.py``, ``parse_name``). Each KIND is a ``Kind``: what its names may say, whether
it needs a training run, and ``build``, which makes the variant. Every kind, the built-in ones too,
is registered under the entry-point group ``extractor.variants`` (``NAME = "module:ATTR"``, ATTR a
``Kind`` named NAME); pyproject.toml registers the built-in ones, each beside its runtime:

    base-gguf, adapter-gguf, merged-gguf   runtimes/llama_variant.py (llama.cpp)
    adapter-hf, merged-hf                  runtimes/hf_variant.py (transformers)
    rules                                  runtimes/rules_variant.py (the task's baseline, no model)
    served, served-base                    runtimes/served.py (an OpenAI-compatible server)

A runtime of your own is one module that declares its ``Kind`` (and its ``Variant``) and one entry
point in its package's pyproject.toml; nothing here changes (docs/serving.md, "A runtime of your own").
Entry points are read from the installed metadata: after adding one, reinstall (``pip install -e .``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from typing import Any

from ..core.errors import ConfigError
from ..core.plugins import entry_points

ENTRY_POINT_GROUP = "extractor.variants"


@dataclass(frozen=True)
class Kind:
    """One kind of variant, as registered under ``extractor.variants``."""

    name: str
    """The KIND of its variant names."""
    build: Callable[..., Any]
    """``build(name, sources, settings, task)`` -> a ready-to-call ``Variant`` for a ``VariantName``
    of this kind (``runtimes/variant.py``), given ``runtimes.variants.Sources``, the ``Settings`` and
    the ``Task``; or raise ``Skip`` with the reason it cannot run here. A run it needs is checked
    before (``needs_run``)."""
    help: str
    """What it runs, in a phrase."""
    grammar: bool = True
    """Its names take ``+grammar``: decoding constrained to the task's JSON Schema."""
    needs_run: bool = False
    """It runs a training run's artefacts: ``--run DIR`` (``@LABEL``: ``--run LABEL=DIR``)."""
    served: bool = False
    """Named ``KIND:MODEL``: a model behind a server (``--endpoint URL``; ``@LABEL``: ``--endpoint LABEL=URL``)."""


@cache
def _entry_points() -> dict[str, metadata.EntryPoint]:
    return entry_points(ENTRY_POINT_GROUP)


@cache
def _load(name: str) -> Kind:
    ep = _entry_points()[name]
    kind = ep.load()
    if not isinstance(kind, Kind) or kind.name != name:
        raise ConfigError(f"entry point {ENTRY_POINT_GROUP}:{name} = {ep.value} is not a Kind named {name!r} "
                          "(extractor/runtimes/kinds.py)")
    return kind


def names() -> list[str]:
    """Every registered kind's name, in registration order (nothing is imported)."""
    return list(_entry_points())


def get(name: str) -> Kind | None:
    """The kind registered as ``name`` (its module imported then), or None."""
    return _load(name) if name in _entry_points() else None


def every() -> list[Kind]:
    """Every registered kind (each module imported)."""
    return [_load(n) for n in names()]


def reset() -> None:
    """Read the entry points again (after installing a package that registers a kind)."""
    _entry_points.cache_clear()
    _load.cache_clear()
