"""extractor.runtimes.hf_generate's continuous batching gives each prompt the output it gets alone.

Real SmolLM2-135M-Instruct (fp32, so rounding is not what is tested). Prompts mix short answers
(the row ends and its place is refilled while others run) with long ones (rows run to the limit),
and prompt lengths differ, so rows join a running batch whose cache is longer or shorter than
theirs and the cache's padding columns are cut as rows leave.
"""

import pytest

QUESTIONS = [
    "Answer with one word: what colour is the sky?",
    "Write a long story about a lighthouse keeper and a storm.",
    "Say yes.",
    "List ten kinds of trees, one per line, with a sentence about each.",
    "What is 2 + 2? Answer with the number only.",
    "Explain in detail how a bicycle works, part by part, for a child who has never seen one before.",
    "Reply with the single word: hello",
    "Describe the city of Venice at dawn.",
    "Name one planet.",
    "Write a short poem about bread.",
]


@pytest.fixture(scope="module")
def model_and_prompts(embedded):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(embedded[2])
    model = AutoModelForCausalLM.from_pretrained(embedded[2], dtype=torch.float32).eval()
    prompts = [tok.apply_chat_template([{"role": "user", "content": q}], tokenize=False, add_generation_prompt=True)
               for q in QUESTIONS]
    return model, tok, prompts


def test_continuous_batching_matches_one_prompt_at_a_time(model_and_prompts):
    from extractor.runtimes.hf_generate import generate

    model, tok, prompts = model_and_prompts
    alone = [generate(model, tok, [p], max_new_tokens=40, batch_size=1)[0] for p in prompts]
    together = generate(model, tok, prompts, max_new_tokens=40, batch_size=4)
    reasons = {g.finish_reason for g in alone}
    assert reasons == {"stop", "length"}, "the prompts must mix rows that stop early with rows that run on"
    for a, b in zip(alone, together):
        assert (b.text, b.finish_reason, b.gen_tokens, b.prompt_tokens) == (a.text, a.finish_reason, a.gen_tokens,
                                                                           a.prompt_tokens)
        assert b.error is None and b.seconds > 0
    assert sum(g.seconds for g in together) < sum(g.seconds for g in alone)


class ShortContext:
    """The real model behind a narrow seam: a prompt pass over more than ``limit`` positions fails,
    as a model with a short context would."""

    def __init__(self, model, limit):
        self.model, self.limit, self.device = model, limit, model.device

    def __call__(self, input_ids, **kw):
        if input_ids.shape[1] > self.limit:
            raise RuntimeError(f"{input_ids.shape[1]} positions, the model has {self.limit}")
        return self.model(input_ids=input_ids, **kw)


def test_a_failing_forward_pass_is_a_fault_never_an_answer(model_and_prompts):
    """A prompt pass that fails is tried again one prompt at a time (a batch too big for memory may
    pass so); one that still fails raises a Fault naming the runtime and the error: it is never an
    answer of the model (core/faults.py), and the caller retries what was not yielded."""
    from extractor.core.faults import Fault
    from extractor.runtimes.hf_generate import stream

    model, tok, prompts = model_and_prompts
    short = [prompts[2], prompts[4], prompts[8]]
    limit = max(len(tok(p).input_ids) for p in short)
    too_long = prompts[5] + " Please answer at length." * 10
    got = {}
    with pytest.raises(Fault) as e:
        for i, g in stream(ShortContext(model, limit), tok, [short[0], too_long, short[1], short[2]], max_new_tokens=8,
                           batch_size=4):
            got[i] = g
    assert e.value.where == "transformers" and "positions" in e.value.what
    assert 1 not in got and all(g.finish_reason != "error" for g in got.values())


def test_free_outputs_carry_their_tokens_for_a_grammar_row_to_continue(model_and_prompts):
    """Each output keeps its token ids and end-of-turn token (a ``+grammar`` row's ``Prior``);
    priors given without a grammar change nothing (the free loop has no matcher)."""
    from extractor.core.generation import Prior
    from extractor.runtimes.hf_generate import generate

    model, tok, prompts = model_and_prompts
    short = [prompts[0], prompts[2], prompts[6], prompts[7]]
    out = generate(model, tok, short, max_new_tokens=16, batch_size=4)
    assert {g.finish_reason for g in out} == {"stop", "length"}
    for g in out:
        assert tok.decode(list(g.tokens)) == g.text and g.inherited == 0
        assert g.gen_tokens == len(g.tokens) + (g.finish_reason == "stop")
        assert g.stop_token == (tok.eos_token_id if g.finish_reason == "stop" else None)
    priors = [Prior(g.tokens, g.finish_reason, g.stop_token) for g in out]
    again = generate(model, tok, short, max_new_tokens=16, batch_size=4, priors=priors)
    assert [(g.text, g.tokens, g.inherited) for g in again] == [(g.text, g.tokens, 0) for g in out]
