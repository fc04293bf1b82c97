"""Confidences on the real embedded model, trained for a few steps (the conftest's ``exported`` run):
each runtime's per-token log-probability is the one teacher forcing gives for the same tokens (so
it is the model's own probability, computed from the logits row generation already had), a
+grammar row taking its free row's output takes its probabilities too, and exact answers are more
confident than wrong ones on average over the test split."""

import math
from pathlib import Path

import pytest

from extractor.core import confidence as conf
from extractor.core.data import load
from extractor.core.generation import Prior
from extractor.evaluation import calibration
from extractor.runtimes.run_card import RunArtefacts
from extractor.runtimes.variant import Settings, parse_name
from extractor.runtimes.variants import Sources, build
from extractor.tasks.registry import get_task

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
SPLIT = ROOT / "datasets" / "cantos" / "test.jsonl"
"""The rows the separation test reads, all 291 (~20 s in llama.cpp on 2 cores). The 48-step run
answers nearly every row `{"references": []}`; its confidence there is how sure it is that the
text names no canto, which it is more often when that is right (AUROC about 0.73)."""


@pytest.fixture(scope="module")
def task():
    return get_task("cantos")


@pytest.fixture(scope="module")
def rows(task):
    return load([SPLIT], task)


def variant(exported, name: str, task, **settings):
    run, _ = exported
    sources = Sources({None: RunArtefacts.load(run)})
    return build(parse_name(name), sources, Settings(max_new_tokens=64, n_ctx=512, batch_size=8, **settings), task)


def scored(task, rows, gens):
    from extractor.evaluation.evaluate import record

    return [conf.scored(task, record("test", "v", ex, g, task)) for ex, g in zip(rows, gens)]


def test_llama_logprobs_are_the_teacher_forced_ones_and_exact_answers_are_more_confident(exported, task, rows):
    v = variant(exported, "merged-gguf", task)
    try:
        gens = v.generate([ex.input for ex in rows])
        some = [i for i, g in enumerate(gens) if g.tokens][:8]
        forced = dict(v.score([rows[i].input for i in some], [list(gens[i].tokens) for i in some],
                              [v.stop_token] * len(some)))
        grammar = variant(exported, "merged-gguf+grammar", task)
        try:
            priors = [Prior(g.tokens, g.finish_reason, g.stop_token, g.logprobs) for g in gens[:16]]
            constrained = dict(grammar.execute([ex.input for ex in rows[:16]], priors=priors))
        finally:
            grammar.close()
    finally:
        v.close()
    for j, i in enumerate(some):
        g = gens[i]
        assert len(g.logprobs) == len(g.tokens) == len(g.offsets)
        assert g.offsets[0] == 0 and list(g.offsets) == sorted(g.offsets) and g.offsets[-1] < len(g.text)
        # the same tokens fed (teacher forcing, one pass) give the same log-probabilities, up to the
        # rounding of batched matmuls
        assert max(abs(a - b) for a, b in zip(g.logprobs, forced[j].logprobs[:-1])) < 2e-3
    assert any(c.inherited for c in constrained.values())
    for i, c in constrained.items():  # the tokens taken from the free row come with its probabilities
        k = min(c.inherited, len(c.tokens))
        assert len(c.logprobs) == len(c.tokens) and list(c.logprobs[:k]) == list(gens[i].logprobs[:k])

    samples = scored(task, rows, gens)
    right = [s.confidence for s in samples if s.exact]
    wrong = [s.confidence for s in samples if not s.exact and s.confidence is not None]
    assert len(right) >= 30 and len(wrong) >= 30, (len(right), len(wrong))
    assert all(0 < c <= 1 for c in right + wrong)
    assert sum(right) / len(right) > sum(wrong) / len(wrong)
    assert calibration.figures(samples).auroc > 0.6  # not a coin toss: measured 0.735 on this split


def test_transformers_logprobs_are_the_teacher_forced_ones(exported, task, rows):
    v = variant(exported, "adapter-hf", task, precision="fp32")
    few = rows[:16]
    try:
        gens = v.generate([ex.input for ex in few])
        some = [i for i, g in enumerate(gens) if g.tokens][:6]
        forced = dict(v.score([few[i].input for i in some], [list(gens[i].tokens) for i in some],
                              [v.stop_token] * len(some)))
    finally:
        v.close()
    for j, i in enumerate(some):
        g = gens[i]
        assert len(g.logprobs) == len(g.tokens) == len(g.offsets) and g.offsets[0] == 0
        assert max(abs(a - b) for a, b in zip(g.logprobs, forced[j].logprobs[:-1])) < 2e-3
        assert all(x <= 0 and math.isfinite(x) for x in g.logprobs)
    assert all(s.confidence is not None for s in scored(task, few, gens) if s.parsed.valid)
