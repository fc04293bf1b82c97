"""generation.LoopGuard: an output caught repeating itself is stopped (finish reason `loop`) long
before its token limit, and nothing else is.

The pure cases use token ids; the runtime cases run the real embedded model in llama.cpp
(BatchedLlama) and in transformers (hf_generate) on a prompt it answers by repeating a word, and
check that the stopped output is the start of the output the same model gives without the guard.
"""

import pytest

from extractor.core.generation import LoopGuard, ran_on


def first_fire(tokens) -> int | None:
    """1-based count of tokens pushed when the guard fires, or None."""
    g, out = LoopGuard(), []
    for t in tokens:
        out.append(t)
        if g.push(out):
            return len(out)
    return None


def test_replaying_an_inherited_prefix_leaves_the_guard_as_pushing_it_token_by_token():
    """A +grammar row starts from its free row's tokens (``replay``); the guard then fires on the
    same next token as one that saw them decoded one by one."""
    prefix = [9, 8, 7] + [5, 6] * 20  # 43 tokens: a loop under way, not yet 64 long
    pushed, out = LoopGuard(), []
    for t in prefix:
        out.append(t)
        pushed.push(out)
    replayed = LoopGuard()
    replayed.replay(list(prefix))
    a, b = list(prefix), list(prefix)
    fired = []
    for k in range(30):
        a.append([5, 6][k % 2]), b.append([5, 6][k % 2])
        fired.append((pushed.push(a), replayed.push(b)))
    assert all(x == y for x, y in fired)
    # the loop starts after the 3 leading tokens: it fires once it spans 64, at 3 + 64 tokens in all
    assert fired.index((True, True)) == 3 + 64 - len(prefix) - 1


def test_one_token_repeated_fires_once_it_spans_64_tokens():
    answer = [5, 6, 7, 8]
    assert first_fire(answer + [9] * 63) is None
    assert first_fire(answer + [9] * 200) == len(answer) + 64


def test_a_repeated_sentence_fires_after_three_repeats():
    sentence = list(range(100, 129))  # 29 tokens, as a base model repeating one sentence
    out = [1, 2, 3] + sentence * 5
    assert first_fire(out) == 3 + 3 * 29
    assert first_fire([1, 2, 3] + sentence * 2 + sentence[:28]) is None


def test_a_block_longer_than_the_period_limit_never_fires():
    block = list(range(1000, 1000 + LoopGuard.PERIOD + 1))
    assert first_fire(block * 4) is None


def test_counting_answers_never_fire():
    # {"canto": 74, "lines": []}, {"canto": 75, ... : the same frame around numbers that change
    frame_a, frame_b = [11, 12, 13], [14, 15, 16, 17, 18]
    out = [1, 2]
    for n in range(500, 760):
        out += frame_a + [n] + frame_b
    assert first_fire(out) is None
    # lines [15, 16, ..., 300]: a number and a comma, each number new
    assert first_fire([t for n in range(15, 300) for t in (n, 9)]) is None


def test_loop_counts_as_runaway():
    assert ran_on("loop") and ran_on("length")
    assert not ran_on("stop") and not ran_on("error") and not ran_on(None)


REPEAT = "Count the word yes: " + "yes " * 18  # SmolLM2 answers "Yes yes yes ..." until stopped


@pytest.fixture(scope="module")
def repeat_prompt(embedded):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(embedded[2])
    other = "What is 2 + 2? Answer with the number only."
    return tok, [tok.apply_chat_template([{"role": "user", "content": q}], tokenize=False, add_generation_prompt=True)
                 for q in (REPEAT, other)]


def check_stopped_early(free, guarded, budget):
    """The looping prompt: free runs to the limit, guarded stops early with the start of free's text;
    the prompt that ends its turn is the same either way."""
    assert free[0].finish_reason == "length", "the prompt must make the model repeat itself to the limit"
    assert free[1].finish_reason == "stop", "the other prompt must end its turn"
    assert guarded[0].finish_reason == "loop"
    assert LoopGuard.SPAN <= guarded[0].gen_tokens < budget
    assert free[0].text.startswith(guarded[0].text)
    assert (guarded[1].text, guarded[1].finish_reason, guarded[1].gen_tokens) == (free[1].text, "stop", free[1].gen_tokens)


def test_llama_cpp_stops_a_loop(embedded, repeat_prompt):
    from extractor.runtimes.llama_batch import BatchedLlama

    _, prompts = repeat_prompt
    llm = BatchedLlama(embedded[1], slots=2, threads=2)
    try:
        free = llm.generate(prompts, 200)
        guarded = llm.generate(prompts, 200, stop_loops=True)
    finally:
        llm.close()
    check_stopped_early(free, guarded, 200)
    assert list(guarded[0].tokens) == list(free[0].tokens[:len(guarded[0].tokens)])


def test_transformers_stops_a_loop(embedded, repeat_prompt):
    import torch
    from transformers import AutoModelForCausalLM

    from extractor.runtimes.hf_generate import generate

    tok, prompts = repeat_prompt
    model = AutoModelForCausalLM.from_pretrained(embedded[2], dtype=torch.float32).eval()
    free = generate(model, tok, prompts, max_new_tokens=200, batch_size=2)
    guarded = generate(model, tok, prompts, max_new_tokens=200, batch_size=2, stop_loops=True)
    check_stopped_early(free, guarded, 200)
