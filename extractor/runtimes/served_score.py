"""Teacher-forced scoring through an OpenAI-compatible server (``core/likelihood.py``).

The completions endpoint is asked to echo the prompt with its log-probabilities (``echo=true``,
``logprobs=5``, one token to generate): llama-cpp-python's server does (its models load with
``logits_all``), vLLM does (``--max-logprobs`` at least 5). The text sent is the prompt the served
row generates from, the gold answer and the end-of-turn token, each as the run's tokenizer decodes
them; the tokens the server reports from the answer's first character on are the scored ones. They
are paired with the run's token ids only when the server cut the text into the same pieces; else
the row says so, as it does when the server returns no prompt log-probabilities (Ollama, most
hosted APIs). The top-5 alternatives are the server's (``source = "server top-5"``), by piece.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from ..core.faults import Fault
from ..core.generation import Generation
from ..core.likelihood import TOP_K, TokenScores

NO_LOGPROBS = ("the server returns no prompt log-probabilities (completions with echo and logprobs): "
               "llama-cpp-python's server and vLLM do")


def score(variant, inputs: list[str], answers: list[list[int]], stops: list[int]) -> Iterator[tuple[int, TokenScores | Fault]]:
    """``(index, TokenScores or Fault)`` for every row, ``variant.settings.concurrency`` requests at once."""
    tok = variant.tokenizer
    pieces = _pieces(variant)
    jobs = []
    for text, ans, stop in zip(inputs, answers, stops):
        prompt = variant.prompt(text)
        jobs.append((prompt, tok.decode(ans), tok.decode([stop]), list(ans) + [stop]))
    with ThreadPoolExecutor(max_workers=max(1, variant.settings.concurrency)) as pool:
        for i, got in enumerate(pool.map(lambda job: _one(variant, pieces, *job), jobs)):
            yield i, got


def _pieces(variant) -> dict[str, int]:
    """Each token's text as the tokenizer decodes it alone -> its id (the lowest where several share one)."""
    if variant._pieces is None:
        tok = variant.tokenizer
        out: dict[str, int] = {}
        for i in range(len(tok)):
            out.setdefault(tok.decode([i]), i)
        variant._pieces = out
    return variant._pieces


def _answer_pieces(tokens: list[str], n: int, answer: str, stop_text: str) -> list[int] | None:
    """Where the answer's ``n`` pieces (its tokens, then the end-of-turn token) are among the echoed
    ones: the last before the one generated token (or the very last, where the server generated
    none). Counted from the end, not by text offset: a server may render special tokens as ''
    (llama-cpp-python does), which shifts every offset after them. None: other pieces."""
    for generated in (1, 0):
        k = len(tokens) - generated - n
        if k >= 0 and "".join(tokens[k:k + n - 1]) == answer and tokens[k + n - 1] in (stop_text, ""):
            return list(range(k, k + n))
    return None


def _one(variant, pieces: dict[str, int], prompt: str, answer: str, stop_text: str, ids: list[int]) -> TokenScores | Fault:
    t0 = time.perf_counter()
    try:
        r = variant._client.completions.create(model=variant.model, prompt=prompt + answer + stop_text, max_tokens=1,
                                               temperature=0.0, echo=True, logprobs=TOP_K,
                                               extra_body=variant.extra_greedy or None)
    except Exception as e:  # noqa: BLE001 - sorted as for generation: faults retried, the rest said
        try:
            got = variant._failed(e, time.perf_counter() - t0)
        except Exception as refused:  # noqa: BLE001 - a request this server refuses: the row says so
            return TokenScores([], [], [], error=f"the server refused the scoring request ({refused})")
        if isinstance(got, Generation):
            return TokenScores([], [], [], error=got.error)
        return got
    lp = r.choices[0].logprobs if r.choices else None
    if lp is None or not lp.token_logprobs:
        return TokenScores([], [], [], error=NO_LOGPROBS)
    at = _answer_pieces(lp.tokens, len(ids), answer, stop_text)
    if at is None:
        return TokenScores([], [], [], error=f"the server cut the answer into other tokens than the run's {len(ids)}: "
                                             "its log-probabilities cannot be paired with them")
    top = []
    for k in at:
        alts = lp.top_logprobs[k] or {}
        top.append(sorted(([pieces.get(p, -1), float(v)] for p, v in alts.items()), key=lambda x: -x[1])[:TOP_K])
    return TokenScores(ids, [float(lp.token_logprobs[k]) for k in at], top, source="server top-5",
                       seconds=time.perf_counter() - t0)
