"""A quiet log: library messages that are not about the user's run are switched off here.

Called where the heavy libraries are first used (training, export, the transformers variants,
the CLI), so a newcomer's `make report` shows our steps, progress and figures only:

- bitsandbytes, imported by peft even when no 4-bit model is used, logs at import that it could
  not fetch an optional CPU kernel from a model hub ("Failed to load CPU gemm_4bit_forward");
- peft asks transformers for `is_gradient_checkpointing`, which warns that the name is deprecated;
- transformers draws `Loading weights` / `Writing model shards` bars that interleave with ours;
- torch warns that `torch.jit.script_method` is deprecated when some modules are imported.

Warnings about the user's own run (a row too long, a config key ignored) are ours and stay.
"""

from __future__ import annotations

import logging
import os
import warnings

_DONE = False


def libraries() -> None:
    """Switch the messages above off (idempotent; cheap: imports nothing heavy)."""
    global _DONE
    if _DONE:
        return
    _DONE = True
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # read by transformers at import
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=r".*is_gradient_checkpointing.*", category=FutureWarning)
    warnings.filterwarnings("ignore", message=r".*torch\.jit\.script_method.*", category=DeprecationWarning)
    import sys

    if "transformers" in sys.modules:  # already imported: switch its bars off directly
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
