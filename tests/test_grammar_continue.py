"""A +grammar row continues its free row (``generation.Prior``, ``BatchedLlama.stream``): greedy
decoding under a grammar picks the free row's token wherever the grammar allows it, so the
constrained output is the free one up to the first token the grammar rejects. Checked against
full constrained decoding, on the real embedded model and a real trained adapter."""

from pathlib import Path

import pytest

from extractor.core.sample_record import SAMPLES
from extractor.evaluation.evaluate import read_samples, run_eval
from extractor.evaluation.suite import Suite
from extractor.runtimes.run_card import RunArtefacts
from extractor.runtimes.variant import Settings
from extractor.runtimes.variants import Sources
from helpers import CANTOS

ROOT = Path(__file__).resolve().parents[1]
VALID = ROOT / "datasets" / "cantos" / "valid.jsonl"
ROWS = 40  # of valid's 180; `bench/grammar_continue.py` runs them all
pytestmark = pytest.mark.slow


def evaluate(run: Path, variants: list[str], out: Path, resume: bool = False, rows: int = ROWS) -> dict:
    suite = Suite("continue", CANTOS, {"valid": VALID}, variants, Settings(max_new_tokens=128, batch_size=8),
                  limit=rows)
    run_eval(suite, Sources(runs={None: RunArtefacts.load(run)}), out, resume=resume, progress=False,
             log=lambda m: None, likelihood=False)  # outputs only: the likelihood view has its own tests
    return {(r.variant, r.id): r for r in read_samples(out / SAMPLES)}


@pytest.mark.parametrize("kind", ["merged-gguf", "adapter-gguf", "base-gguf"])
def test_a_grammar_row_continued_from_its_free_row_equals_full_constrained_decoding(exported, tmp_path, kind):
    run, _ = exported
    constrained = f"{kind}+grammar"
    rows = ROWS if kind != "base-gguf" else 16  # the base model's long few-shot prompt is the slow one
    full = evaluate(run, [constrained], tmp_path / "full", rows=rows)
    # Listed before its free row on purpose: the free row runs first all the same.
    both = evaluate(run, [constrained, kind], tmp_path / "continued", rows=rows)
    ids = sorted({i for v, i in full})
    assert len(ids) == rows
    for i in ids:
        a, b = full[(constrained, i)], both[(constrained, i)]
        assert (b.raw, b.finish_reason, b.gen_tokens, b.prompt_tokens) == (a.raw, a.finish_reason, a.gen_tokens,
                                                                            a.prompt_tokens), i
        assert a.inherited == 0 and b.inherited <= b.gen_tokens
        assert both[(kind, i)].tokens is not None  # the free row kept its tokens for the +grammar row
    taken = [both[(constrained, i)] for i in ids]
    whole = [r for r in taken if r.seconds is None]
    # A trained artefact's JSON is the grammar's: most outputs are taken whole. The base model's
    # free outputs (prose, few-shot echoes) may be rejected at their first token: decoded in full.
    if kind != "base-gguf":
        assert len(whole) > ROWS // 2, f"{len(whole)}/{ROWS} taken whole"
    assert all(r.inherited == r.gen_tokens for r in whole)


def test_resume_continues_from_the_free_rows_of_the_earlier_run(exported, tmp_path):
    """The free row's token ids are in samples.jsonl, so a +grammar row run after --resume
    continues from them as it would have in one go."""
    run, _ = exported
    alone = evaluate(run, ["merged-gguf"], tmp_path / "alone")
    assert all(r.tokens is None for r in alone.values())  # no +grammar row in that suite: no ids kept
    once = evaluate(run, ["merged-gguf", "merged-gguf+grammar"], tmp_path / "once")
    resumed = tmp_path / "resumed"
    resumed.mkdir()
    lines = (tmp_path / "once" / SAMPLES).read_text().splitlines(keepends=True)
    (resumed / SAMPLES).write_text("".join(x for x in lines if '"variant": "merged-gguf",' in x))  # killed there
    again = evaluate(run, ["merged-gguf", "merged-gguf+grammar"], resumed, resume=True)
    grammar = [k for k in once if k[0].endswith("+grammar")]
    assert len(grammar) == ROWS and any(once[k].inherited for k in grammar)
    for k in grammar:
        assert (again[k].raw, again[k].inherited, again[k].seconds is None) == \
            (once[k].raw, once[k].inherited, once[k].seconds is None), k
