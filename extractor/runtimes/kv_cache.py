"""The keyword under which a transformers model takes its KV cache.

transformers 5.24 renamed the forward argument ``past_key_values`` to ``cache``; the old name still
works there but warns on every call (a FutureWarning plus a logged line), which would fill a
training or evaluation log. The project supports versions on both sides of that change, so it passes the
cache under whichever name the installed version reads, and always passes a cache object it made
itself (filled in place by the model) rather than reading it back from the output, whose field was
renamed the same way.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def keyword() -> str:
    """``"cache"`` with transformers >= 5.24, else ``"past_key_values"``."""
    import transformers
    from packaging.version import Version

    return "cache" if Version(transformers.__version__).release >= (5, 24) else "past_key_values"


def new(config=None):
    """An empty dynamic KV cache, filled in place by the forward it is passed to."""
    from transformers import DynamicCache

    return DynamicCache(config=config)
