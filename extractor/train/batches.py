"""Turning examples into training batches: prompt + completion ids, and labels by position.

The completion is the answer JSON followed by the end-of-turn token. Its positions are the only
ones with labels, decided by *position* (where the completion starts), never by token id: with
pad == eos (SmolLM2, and Zephyr as the seeds set it up), masking by id would also mask the EOS
the model must learn to emit - the seeds' bug, kept behind `reproduce_pad_eos_bug`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch

from ..core.data import Example
from ..core.errors import ConfigError
from ..core.task import Task
from ..runtimes.prompts import answer_ids, prompt_text

IGNORE = -100


@dataclass(frozen=True)
class Encoded:
    """One tokenized row."""

    input_ids: list[int]
    n_prompt: int
    """Positions [0, n_prompt) are prompt; the rest is the completion (answer + EOS)."""
    source: str


def encode(tokenizer, examples: list[Example], prompt_format: str, system: str, max_length: int,
           task: Task) -> list[Encoded]:
    """Tokenize prompt and completion separately, exactly as generation will see them. The
    completion is the task's ``answer_text`` of the row's output."""
    eos = tokenizer.eos_token_id
    if eos is None:
        raise ConfigError("the tokenizer has no EOS token; the model could not learn to stop")
    out, too_long = [], []
    for ex in examples:
        prompt_ids = tokenizer(prompt_text(tokenizer, ex.input, prompt_format, system), add_special_tokens=True).input_ids
        answer = task.answer_text(ex.output)
        ids = prompt_ids + answer_ids(tokenizer, answer) + [eos]
        if len(ids) > max_length:
            too_long.append(f"{ex.source}: {len(ids)} tokens")
        out.append(Encoded(ids, len(prompt_ids), ex.source))
    if too_long:
        shown = "; ".join(too_long[:5])
        raise ConfigError(f"{len(too_long)} row(s) longer than max_length = {max_length} ({shown}); "
                          "raise max_length or shorten those rows - rows are never cut silently")
    return out


def collate(rows: list[Encoded], pad_id: int, reproduce_pad_eos_bug: bool = False) -> dict[str, torch.Tensor]:
    """Right-padded batch with labels on completion positions only."""
    width = max(len(r.input_ids) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attn = torch.zeros((len(rows), width), dtype=torch.long)
    labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    for i, r in enumerate(rows):
        n = len(r.input_ids)
        ids[i, :n] = torch.tensor(r.input_ids)
        attn[i, :n] = 1
        labels[i, r.n_prompt:n] = ids[i, r.n_prompt:n]
    if reproduce_pad_eos_bug:
        # What a collator that masks pad ids does when pad == eos: the EOS label disappears.
        labels[ids == pad_id] = IGNORE
    return {"input_ids": ids, "attention_mask": attn, "labels": labels}


def step_share(step: list, rank: int, world: int) -> list:
    """One process's part of one optimizer step's batches under data parallelism.

    Process ``rank`` of ``world`` takes every ``world``-th batch of the step from its own index, so
    across the processes every batch of the epoch is trained on exactly once (the last step of an
    epoch may hold fewer batches than the others). Every process makes the same number of passes,
    since a gradient sync waits for all of them: one with fewer batches gets ``None`` for a pass
    that contributes nothing."""
    mine = list(step[rank::world])
    passes = -(-len(step) // world)
    return mine + [None] * (passes - len(mine))


def epoch_batches(lengths: list[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Length-grouped batches in a deterministic order for (seed, epoch).

    Rows are shuffled, cut into windows of 8 batches, sorted by length inside each chunk and
    batched, so a batch holds rows of similar length (little padding) while the order of
    batches stays random. The same (seed, epoch) always gives the same batches: resume relies on it.
    """
    rng = random.Random(seed * 1_000_003 + epoch)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * 8
    batches = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start:start + chunk], key=lambda i: lengths[i])
        batches.extend(part[j:j + batch_size] for j in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches
