"""Entry points: how the registries of tasks (``tasks/registry.py``) and variant kinds
(``runtimes/kinds.py``) find what is registered, the built-in ones included (pyproject.toml)."""

from __future__ import annotations

from importlib import metadata

from .errors import ConfigError


def entry_points(group: str) -> dict[str, metadata.EntryPoint]:
    """name -> entry point of ``group``, over every distribution on ``sys.path`` (the first found wins
    a name). Unlike ``importlib.metadata.entry_points``, a distribution's entry points are not hidden
    by an earlier copy of its metadata: the ``extractor.egg-info`` a build leaves in a checkout comes
    first for ``python -m ...`` run from there, and may predate a group. None found: the installed
    metadata predates the group, and a ConfigError says how to renew it."""
    found: dict[str, metadata.EntryPoint] = {}
    for dist in metadata.distributions():
        for ep in dist.entry_points.select(group=group):
            found.setdefault(ep.name, ep)
    if not found:
        raise ConfigError(f"nothing is registered under the entry-point group {group}: the installed package's "
                          "metadata predates it; reinstall it (`make install`, or `pip install -e .`)")
    return found

