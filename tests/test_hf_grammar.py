"""Grammar-constrained decoding for the transformers rows (runtimes/hf_grammar.py through
hf_generate's loop), on the real embedded SmolLM2-135M (fp32) and real llguidance: the base model,
which answers these prompts with prose when free, writes schema-valid JSON under the grammar and
ends its turn; a row continued from a prior (its free output, or a prefix of the constrained one)
ends with the output of full constrained decoding; the variant ``merged-hf+grammar`` is a row.
"""

import json
import time

import pytest
from jsonschema import Draft202012Validator

from extractor.core.generation import Prior
from extractor.runtimes import grammar_gaps
from helpers import CANTOS

INPUTS = [
    "Sigismundo's epopte is presented in IX:ll.15-28",
    "See Canto 45 on usura.",
    "What does Pound say in canto LXXXI, lines 10 to 12?",
    "No reference here at all.",
    "Canto 2, line 7.",
]
BUDGET = 64


@pytest.fixture(scope="module")
def setup(embedded):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from extractor.runtimes.hf_grammar import Grammar
    from extractor.runtimes.prompts import chat_format, prompt_text

    spec, _, hf_dir = embedded
    tok = AutoTokenizer.from_pretrained(hf_dir)
    model = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32).eval()
    fmt = chat_format(spec)
    prompts = [prompt_text(fmt, text, "chat", CANTOS.instruction) for text in INPUTS]  # base-gguf's prompt
    return model, tok, prompts, Grammar(tok, CANTOS.schema)


@pytest.fixture(scope="module")
def constrained(setup):
    from extractor.runtimes.hf_generate import generate

    model, tok, prompts, grammar = setup
    return generate(model, tok, prompts, BUDGET, batch_size=4, grammar=grammar)


@pytest.fixture(scope="module")
def free(setup):
    from extractor.runtimes.hf_generate import generate

    model, tok, prompts, _ = setup
    return generate(model, tok, prompts, BUDGET, batch_size=4)


def key(g):
    return g.text, g.finish_reason, g.gen_tokens, g.prompt_tokens, g.tokens, g.stop_token


def test_constrained_outputs_are_schema_valid_json_that_ends_its_turn(setup, free, constrained):
    model, tok, _, _ = setup
    validator = Draft202012Validator(CANTOS.schema)
    assert sum(CANTOS.parse_answer(g.text).status != "clean" for g in free) >= 3, "the base model writes prose"
    for g in constrained:
        assert g.error is None and g.finish_reason == "stop" and g.stop_token == tok.eos_token_id, g
        assert list(validator.iter_errors(json.loads(g.text))) == [], g.text
        assert CANTOS.parse_answer(g.text).status == "clean"
        assert tok.decode(list(g.tokens)) == g.text and g.gen_tokens == len(g.tokens) + 1 and g.inherited == 0


def test_the_greedy_check_picks_what_the_whole_mask_picks(setup, constrained):
    """``Grammar.pick`` tries the greedy token alone first; computing the mask at every step gives
    the same outputs."""
    from extractor.runtimes.hf_generate import generate
    from extractor.runtimes.hf_grammar import Grammar

    model, tok, prompts, _ = setup

    class MaskEveryStep(Grammar):
        def allows(self, matcher, token):
            return False

    masked = generate(model, tok, prompts, BUDGET, batch_size=4, grammar=MaskEveryStep(tok, CANTOS.schema))
    assert [key(g) for g in masked] == [key(g) for g in constrained]


def test_continuing_a_prior_gives_the_output_of_full_constrained_decoding(setup, free, constrained):
    """Priors of every kind, decoded together: each free output (prose, rejected at once; or JSON
    the grammar accepts whole), each constrained output (taken whole, nothing decoded), and half
    of each constrained output followed by a token the grammar rejects (decoding starts there)."""
    from extractor.runtimes.hf_generate import generate

    model, tok, prompts, grammar = setup
    eos, rejected = tok.eos_token_id, tok.convert_tokens_to_ids("<|im_start|>")
    cases = []  # (prompt index, prior, tokens it must take)
    for i, (f, c) in enumerate(zip(free, constrained)):
        cases.append((i, Prior(f.tokens, f.finish_reason, f.stop_token), None))
        cases.append((i, Prior(c.tokens, "stop", eos), c.gen_tokens))
        half = len(c.tokens) // 2
        cases.append((i, Prior(c.tokens[:half] + (rejected,), "stop", eos), half))
    out = generate(model, tok, [prompts[i] for i, _, _ in cases], BUDGET, batch_size=4, grammar=grammar,
                   priors=[p for _, p, _ in cases])
    for (i, prior, taken), g in zip(cases, out):
        assert key(g) == key(constrained[i]), (i, prior)
        if taken is not None:
            assert g.inherited == taken, (i, prior)
        if g.inherited == g.gen_tokens:  # taken whole: not decoded
            assert g.seconds < 0.05
    whole = [g for g in out if g.inherited == g.gen_tokens]
    assert len(whole) >= len(constrained)
    assert any(0 < g.inherited < g.gen_tokens for g in out)


def test_llguidance_gaps_match_llguidance_own_warnings():
    """What ``grammar_gaps.llguidance_gaps`` says the grammar leaves out is what llguidance names
    in its warning (the Cantos schema: ``not``; a schema with several unsupported keywords)."""
    from llguidance import LLMatcher

    from extractor.runtimes.hf_grammar import OPTIONS

    several = {"type": "object", "properties": {
        "a": {"type": "array", "items": {"type": "integer", "minimum": 1}, "uniqueItems": True},
        "b": {"anyOf": [{"type": "string", "format": "email"}, {"type": "integer", "not": {"const": 3}}]},
        "c": {"$ref": "#/$defs/c"}}, "$defs": {"c": {"type": "array", "contains": {"const": 1}},
                                                "unused": {"type": "object", "propertyNames": {"pattern": "^x"}}}}
    for schema in (CANTOS.schema, several):
        failed, warnings = LLMatcher.validate_grammar_with_warnings(LLMatcher.grammar_from_json_schema(schema,
                                                                                                       overrides=OPTIONS))
        assert not failed
        named = {k for w in warnings for k in json.loads(w.removeprefix("Unimplemented keys: "))}
        assert {g["keyword"] for g in grammar_gaps.llguidance_gaps(schema)} == named
    assert grammar_gaps.llguidance_gaps(CANTOS.schema) == [
        {"path": "/properties/references/items/properties/lines/items", "keyword": "not"}]
    assert grammar_gaps.llguidance_summary(CANTOS.schema) == (
        "-hf +grammar rows (llguidance): the grammar does not enforce: not at "
        "/properties/references/items/properties/lines/items.")


def test_merged_hf_grammar_is_a_row_that_continues_its_free_row(embedded, tmp_path):
    """A run whose merged-hf is the embedded checkpoint itself: ``merged-hf+grammar`` builds (not
    skipped), declares the grammar and continuation, and its records beside its free row's are
    JSON the grammar allows (complete, or cut off at the token limit)."""
    from extractor.core.sample_record import SAMPLES
    from extractor.evaluation.evaluate import read_samples, run_eval
    from extractor.evaluation.suite import Suite
    from extractor.runtimes.hf_variant import HFVariant
    from extractor.runtimes.run_card import RunArtefacts, RunCard
    from extractor.runtimes.variant import Settings, parse_name
    from extractor.runtimes.variants import Sources, build

    run = tmp_path / "run"
    (run / "export").mkdir(parents=True)
    (run / "export" / "merged-hf").symlink_to(embedded[2])
    (run / "export" / "merged.gguf").symlink_to(embedded[1])  # what identifies a run without an adapter
    RunCard("smollm2-135m", "cantos", "cantos", "chat", CANTOS.instruction).write(run)
    sources = Sources(runs={None: RunArtefacts.load(run)})
    settings = Settings(max_new_tokens=40, batch_size=4, precision="fp32")
    variant = build(parse_name("merged-hf+grammar"), sources, settings, CANTOS)
    assert isinstance(variant, HFVariant)
    assert variant.capabilities.grammar and variant.capabilities.continues
    assert not build(parse_name("merged-hf"), sources, settings, CANTOS).capabilities.grammar

    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"id": f"r{i}", "input": text, "output": {"references": []}}) + "\n"
                            for i, text in enumerate(INPUTS[:3])))
    t0 = time.perf_counter()
    meta = run_eval(Suite("hf-grammar", CANTOS, {"rows": rows}, ["merged-hf+grammar", "merged-hf"], settings),
                    sources, tmp_path / "out", progress=False, log=lambda m: None, likelihood=False)
    assert time.perf_counter() - t0 < 120
    assert meta["skipped"] == {}
    recs = {(r.variant, r.id): r for r in read_samples(tmp_path / "out" / SAMPLES)}
    assert len(recs) == 6
    for i in range(3):
        free, con = recs[("merged-hf", f"r{i}")], recs[("merged-hf+grammar", f"r{i}")]
        assert free.tokens is not None  # kept for the +grammar row
        assert con.status == "clean" or (con.status == "cut_off" and con.finish_reason == "length"), con.raw
        assert con.inherited <= con.gen_tokens
