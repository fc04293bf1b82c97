"""The likelihood view (core/likelihood.py, runtimes/llama_score.py, runtimes/hf_score.py,
evaluation/likelihood.py, parity.py): teacher-forced scores of the gold answers in every runtime,
on the real embedded model and short real training runs (tests/conftest.py)."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from extractor.core import data
from extractor.core.likelihood import TokenScores, kl, log_softmax_top
from extractor.evaluation.parity import compare_rows
from extractor.runtimes.run_card import RunArtefacts
from extractor.runtimes.variant import Settings, parse_name
from extractor.runtimes.variants import Sources, build
from helpers import CANTOS

ROOT = Path(__file__).resolve().parents[1]
ROWS = 12


def test_kl_of_identical_lists_is_zero_and_grows_with_the_difference():
    a = [[5, math.log(0.9)], [7, math.log(0.05)], [1, math.log(0.03)]]
    assert kl(a, a) == 0.0
    b = [[5, math.log(0.6)], [7, math.log(0.3)], [1, math.log(0.05)]]
    c = [[5, math.log(0.3)], [7, math.log(0.6)], [1, math.log(0.05)]]
    assert 0 < kl(a, b) < kl(a, c)
    assert kl(a, [[9, math.log(0.99)]]) > 1.0  # nothing shared: all the mass moved to the rest


def test_log_softmax_top_is_normalised_and_sorted():
    import numpy as np

    lp, top = log_softmax_top(np.array([1.0, 3.0, 2.0, -1.0, 0.5, 2.5]), k=3)
    assert abs(np.exp(lp).sum() - 1) < 1e-9 and list(top) == [1, 5, 2]


def test_a_token_scores_line_round_trips_and_reads_its_figures():
    s = TokenScores([10, 11, 2], [math.log(0.5), math.log(0.25), math.log(0.9)], [[[10, -0.6]], [[12, -0.2]], [[2, -0.1]]])
    again = TokenScores.from_json(json.loads(json.dumps(s.to_json())))
    assert again.tokens == s.tokens and abs(again.nll - (math.log(2) + math.log(4))) < 1e-4
    assert abs(again.p_stop - 0.9) < 1e-4 and again.first_miss == 1  # position 1's best token is 12, not 11


@pytest.fixture(scope="module")
def rows():
    return data.load([ROOT / "datasets" / "cantos" / "valid.jsonl"], CANTOS)[:ROWS]


def scores(variant_name: str, run: Path, rows, settings: Settings | None = None, lora_scale=None) -> list[TokenScores]:
    v = build(parse_name(variant_name), Sources({None: RunArtefacts.load(run)}), settings or Settings(), CANTOS)
    try:
        answers = [v.answer_ids(CANTOS.answer_text(r.output)) for r in rows]
        got = dict(v.score([r.input for r in rows], answers, [v.stop_token] * len(rows)))
    finally:
        v.close()
    return [got[i] for i in range(len(rows))]


@pytest.mark.slow
def test_identical_artefacts_give_kl_0_and_no_nll_difference(exported, rows):
    run, _ = exported
    a, b = scores("merged-gguf", run, rows), scores("merged-gguf", run, rows)
    p = compare_rows(a, b, "merged-gguf", {}, "merged-gguf", [])
    assert p.kl_per_token < 1e-6 and abs(p.nll_change) < 1e-6 and p.worse_rows == p.better_rows == 0
    assert p.verdict == "the same model"


@pytest.mark.slow
def test_hf_and_llama_cpp_agree_on_the_gold_nll_of_the_same_merged_weights(exported, rows, tmp_path, embedded):
    """merged-hf (fp32) and the same merged weights as an F16 GGUF in llama.cpp: per-row gold NLL within
    0.01 nats per token (f16 rounding and two kernels), the same gold tokens, the same stop token."""
    from extractor.core.files import sha256_file
    from extractor.runtimes.llama_variant import LlamaVariant
    from extractor.train.lora_gguf import read_adapter
    from extractor.train.quantize import write_merged_gguf

    run, _ = exported
    f16 = tmp_path / "merged-f16.gguf"
    write_merged_gguf(read_adapter(run / "adapter"), embedded[1], f16, "f16", sha256_file(embedded[1]))
    hf = scores("merged-hf", run, rows, Settings(precision="fp32"))
    art = RunArtefacts.load(run)
    v = LlamaVariant("merged-f16", f16, art.prompt, Settings(), CANTOS.schema)
    try:
        answers = [v.answer_ids(CANTOS.answer_text(r.output)) for r in rows]
        got = dict(v.score([r.input for r in rows], answers, [v.stop_token] * len(rows)))
    finally:
        v.close()
    for i, h in enumerate(hf):
        g = got[i]
        assert g.tokens == h.tokens  # the same gold ids and end-of-turn token in both tokenizers
        assert abs(g.nll_per_token - h.nll_per_token) < 0.01, (i, g.nll_per_token, h.nll_per_token)
        assert abs(g.p_stop - h.p_stop) < 0.02


def mean_p_stop(variant_name: str, run: Path, rows) -> float:
    got = scores(variant_name, run, rows)
    return sum(s.p_stop for s in got) / len(got)


@pytest.mark.slow
def test_the_default_run_learnt_to_stop_and_the_pad_bug_run_did_not(exported, padbug_run, rows):
    """The tests' short runs (48 steps): the default run stops, the pad-bug run is already under
    the threshold the report names "never learnt to stop" (evaluation/parity.STOP_THRESHOLD)."""
    from extractor.evaluation.parity import STOP_THRESHOLD

    run, _ = exported
    p_good, p_bad = mean_p_stop("merged-gguf", run, rows), mean_p_stop("adapter-gguf", padbug_run, rows)
    print(f"P(end-of-turn | gold): default {p_good:.4f}, pad-bug {p_bad:.4f}")
    assert p_good > 0.95 and p_bad < STOP_THRESHOLD


REAL_RUNS = ROOT / "runs" / "cantos-smollm2", ROOT / "runs" / "cantos-smollm2-padbug"


@pytest.mark.slow
@pytest.mark.skipif(not all((r / "export" / "merged.gguf").is_file() for r in REAL_RUNS),
                    reason="the real runs come from `make report` (runs/cantos-smollm2, runs/cantos-smollm2-padbug)")
def test_the_real_runs_stop_probabilities(rows):
    """After `make report`: the 1,500-step default run and the 160-step pad-bug run, whose gold
    answers the report scores on the test split (docs/experiments.md): above 0.95 and below 0.01."""
    good, bad = REAL_RUNS
    p_good, p_bad = mean_p_stop("merged-gguf", good, rows), mean_p_stop("adapter-gguf", bad, rows)
    print(f"P(end-of-turn | gold), real runs: default {p_good:.4f}, pad-bug {p_bad:.4f}")
    assert p_good > 0.95 and p_bad < 0.01


@pytest.mark.slow
def test_eval_writes_the_likelihood_view_and_resume_scores_nothing_twice(exported, padbug_run, tmp_path):
    run, _ = exported
    f = tmp_path / "rows.jsonl"
    f.write_text("\n".join((ROOT / "datasets" / "cantos" / "valid.jsonl").read_text().splitlines()[:ROWS]) + "\n")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "extractor", "eval", "--quiet", "--run", str(run), "--run", f"bug={padbug_run}",
           "--variants", "adapter-hf,merged-gguf,merged-gguf+grammar,adapter-gguf@bug,rules", "--data", str(f),
           "--out", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = (out / "likelihood.jsonl").read_text().splitlines()
    keys = [(x["variant"], x["id"]) for x in map(json.loads, lines)]
    assert len(keys) == len(set(keys)) == 3 * ROWS  # artefacts only: not +grammar, not the rules
    report = json.loads((out / "report.json").read_text())
    view = report["likelihood"]
    assert view["reference"] == "adapter-hf" and set(view["parity"]["rows"]) == {"merged-gguf", "adapter-gguf@bug"}
    assert view["artefacts"]["rows"]["adapter-gguf@bug"]["never_stops"]
    assert view["parity"]["rows"]["merged-gguf"]["verdict"] in ("the same model", "no measurable cost")
    md = (out / "report.md").read_text()
    assert "merged-gguf vs adapter-hf: KL" in md and "adapter-gguf@bug never learnt to stop" in md
    quant = [c for c in view["causes"] if c.startswith("Quantization: merged.gguf holds Q8_0")]
    assert quant and "merged-hf was not scored to measure its cost" in quant[0]  # no merged-hf in this eval
    assert "likelihood view" in r.stdout  # the time line counts its steps
    r = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert r.returncode == 0 and (out / "likelihood.jsonl").read_text().splitlines() == lines


def test_causes_name_each_check_with_its_evidence():
    from extractor.evaluation import causes
    from extractor.evaluation.view_records import LikelihoodView, Parity

    tok = {"chat_template": "aaa", "eos": 2, "bos": 1, "pad": 2}
    run = {"quantization": "4bit", "precision": "bf16", "export_quant": "q4_k_m"}
    facts = {"adapter-hf": {"runtime": "transformers", "dtype": "bf16", "tokenizer": tok, "run": run},
             "merged-gguf": {"gguf": {"file": "merged.gguf", "file_type": "Q4_K_M", "tensor_types": {"Q4_K": 150},
                                      "chat_template": "bbb", "eos": 2, "eot": 0, "bos": 1}, "run": run},
             "adapter-gguf": {"gguf": {"file": "base.gguf", "file_type": "Q4_1", "tensor_types": {"Q4_1": 210},
                                       "chat_template": "aaa", "eos": 2, "eot": None, "bos": 1,
                                       "adapter_base_sha256": "111111", "base_sha256": "222222"}, "run": run}}
    merge = Parity("adapter-hf", 291, 0.002, 0.1, 0.031, [0.01, 0.05], 180, 90, 1e-6, "measurable cost", 20, 5, 15)
    view = LikelihoodView("adapter-hf", {}, {"test": {"merged-hf": merge}})
    found = causes.lines(facts, view, [], "test")
    assert any(x.startswith("Chat template (merged.gguf): bbb in the GGUF, aaa in the HF tokenizer") for x in found)
    assert any(x.startswith("Chat template (base.gguf): the same") for x in found)
    assert any(x.startswith("End-of-turn (merged.gguf): the GGUF names token 0 its EOT") for x in found)
    assert any("ANOTHER BASE" in x for x in found)
    qlora = next(x for x in found if x.startswith("QLoRA"))
    assert "trained on 4bit weights and merged into bf16" in qlora and "NLL +3.1%" in qlora
    assert any(x.startswith("Quantization: merged.gguf holds Q4_K 150") and "merged-hf was not scored" in x
               for x in found)


def test_a_server_without_prompt_logprobs_is_named_not_scored(tmp_path):
    from openai_stub import Stub

    from extractor.evaluation.evaluate import run_eval
    from extractor.evaluation.report import write_reports
    from extractor.evaluation.suite import Suite
    from extractor.runtimes.served import Endpoint

    f = tmp_path / "rows.jsonl"
    f.write_text("\n".join((ROOT / "datasets" / "cantos" / "valid.jsonl").read_text().splitlines()[:4]) + "\n")
    s = Suite("stub", CANTOS, {"rows": f}, ["served:stub"])
    with Stub() as stub:
        run_eval(s, Sources(endpoints={None: Endpoint(stub.url)}), tmp_path / "out", progress=False, log=lambda m: None)
    view = write_reports(tmp_path / "out", CANTOS).likelihood
    assert "no prompt log-probabilities" in view.not_scored["served:stub"]
    assert "Not scored: `served:stub`" in (tmp_path / "out" / "report.md").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["merged-gguf", "merged-hf"])
def test_an_output_that_is_the_gold_answer_scores_as_teacher_forcing_does(exported, rows, kind):
    """Read off the generation (core.likelihood.from_generation) or teacher-forced: the same scores,
    within the rounding of two batch compositions."""
    from extractor.core.likelihood import from_generation

    run, _ = exported
    v = build(parse_name(kind), Sources({None: RunArtefacts.load(run)}), Settings(positions=True), CANTOS)
    try:
        gens = dict(v.execute([r.input for r in rows]))
        answers = [v.answer_ids(CANTOS.answer_text(r.output)) for r in rows]
        forced = dict(v.score([r.input for r in rows], answers, [v.stop_token] * len(rows)))
    finally:
        v.close()
    reused = 0
    for i in range(len(rows)):
        g = gens[i]
        s = from_generation(g.tokens, g.logprobs, g.positions, answers[i], v.stop_token)
        if s is None:
            continue
        reused += 1
        f = forced[i]
        assert s.tokens == f.tokens and [t for t, _ in s.top[0]][:2] == [t for t, _ in f.top[0]][:2]
        assert max(abs(a - b) for a, b in zip(s.logprobs, f.logprobs)) < 0.05, (i, s.logprobs, f.logprobs)
        assert abs(s.p_stop - f.p_stop) < 0.01
    assert reused >= len(rows) // 3  # the small run reproduces the gold answer on many rows


@pytest.mark.slow
def test_gold_answers_scored_as_rows_finish_agree_with_a_teacher_forced_pass(exported, rows):
    """llama.cpp scores a gold answer in the row's own stream as the row finishes (the shared
    tokens read off the generation, the rest fed after them): the scores of the separate
    teacher-forced pass, within the rounding of two batch compositions."""
    run, _ = exported
    v = build(parse_name("merged-gguf"), Sources({None: RunArtefacts.load(run)}), Settings(positions=True), CANTOS)
    try:
        answers = [v.answer_ids(CANTOS.answer_text(r.output)) for r in rows]
        gens = dict(v.execute([r.input for r in rows], golds=answers))
        forced = dict(v.score([r.input for r in rows], answers, [v.stop_token] * len(rows)))
    finally:
        v.close()
    got = [(gens[i].gold, forced[i]) for i in range(len(rows))]
    assert all(g is not None for g, _ in got)
    assert any(g.seconds > 0 for g, _ in got)  # some rows parted from the gold answer: fed in their stream
    for g, f in got:
        assert g.tokens == f.tokens and len(g.logprobs) == len(f.logprobs) == len(g.top)
        assert abs(g.nll_per_token - f.nll_per_token) < 0.02 and abs(g.p_stop - f.p_stop) < 0.05
