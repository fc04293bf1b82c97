"""Greedy generation from the embedded model through transformers and llama-cpp-python."""

import pytest

from extractor.runtimes.prompts import chat_prompt
from extractor.tasks.cantos import ANSWER_FORMAT

pytestmark = pytest.mark.slow


def test_greedy_generation_in_both_runtimes_agrees(embedded):
    import torch
    from llama_cpp import Llama
    from transformers import AutoModelForCausalLM, AutoTokenizer

    spec, gguf, hf_dir = embedded
    tok = AutoTokenizer.from_pretrained(hf_dir)
    prompt = chat_prompt(tok.chat_template, "Sigismundo's epopte is presented in IX:ll.15-28.", system=ANSWER_FORMAT)
    n = 12

    model = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32)
    ids = tok(prompt, return_tensors="pt").input_ids
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=n, do_sample=False, pad_token_id=tok.pad_token_id)
    hf_tokens = out[0, ids.shape[1]:].tolist()

    llm = Llama(model_path=str(gguf), n_ctx=512, n_threads=2, seed=0, verbose=False)
    gguf_ids = llm.tokenize(prompt.encode(), add_bos=False, special=True)
    assert gguf_ids == ids[0].tolist()  # same prompt, same tokens in both runtimes
    res = llm.create_completion(prompt, max_tokens=n, temperature=0.0, stop=list(spec.stop))
    gguf_text = res["choices"][0]["text"]
    gguf_tokens = llm.tokenize(gguf_text.encode(), add_bos=False, special=True)

    assert tok.decode(hf_tokens, skip_special_tokens=True).strip()
    assert gguf_text.strip()
    # Q4_1 in llama.cpp vs its fp32 dequantization in torch: the greedy path agrees at the start.
    assert hf_tokens[:4] == gguf_tokens[:4], (tok.decode(hf_tokens), gguf_text)
