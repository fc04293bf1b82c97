"""Eval throughput: merged-gguf through `extractor eval` (batched llama.cpp decoding) vs the same
prompts through llama-cpp-python's sequential `create_completion`.

Both load the model, generate greedily with the same settings, and are timed in this one process
(wall time including the model load). Prints examples/s of each, their ratio (target >= 2.5x) and
the share of outputs that are identical (target >= 99%; batched matmuls round near-ties differently).

    .venv/bin/python bench/eval_throughput.py --run runs/cantos-smollm2 [--data datasets/cantos/test.jsonl] [--limit 0]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from extractor.core import data
from extractor.evaluation.suite import Suite
from extractor.evaluation.evaluate import run_eval
from extractor.runtimes.llama import default_threads
from extractor.runtimes.run_card import RunArtefacts
from extractor.runtimes.variant import Settings
from extractor.runtimes.variants import Sources
from extractor.tasks.registry import get_task


def direct(model: Path, prompts: list[str], settings: Settings) -> tuple[float, list[str]]:
    """Seconds for llama-cpp-python alone to load ``model`` and complete ``prompts`` greedily, and the texts."""
    from llama_cpp import Llama

    t0 = time.perf_counter()
    threads = settings.threads or default_threads()  # what the harness uses
    # flash attention on, as the harness runs it (llama.cpp's own default; llama-cpp-python's is off, and
    # the two attention kernels round ~2% of greedy outputs differently).
    llm = Llama(model_path=str(model), n_ctx=settings.n_ctx, n_threads=threads, n_threads_batch=threads, n_batch=512,
                flash_attn=True, verbose=False, seed=0)
    texts = [llm.create_completion(p, max_tokens=settings.max_new_tokens, temperature=0.0, top_k=1, top_p=1.0,
                                   min_p=0.0, repeat_penalty=1.0, stop=[])["choices"][0]["text"] for p in prompts]
    llm.close()
    return time.perf_counter() - t0, texts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", default="runs/cantos-smollm2")
    ap.add_argument("--data", default="datasets/cantos/test.jsonl")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=16, help="sequences decoded together by the harness")
    ap.add_argument("--max-new-tokens", type=int, default=128)
    args = ap.parse_args()
    run = RunArtefacts.load(args.run)
    # stop_loops off: both sides generate every row to its end or the limit, so the texts compare
    # one to one and the ratio is batching alone (the harness's default stops a looping row early).
    settings = Settings(max_new_tokens=args.max_new_tokens, n_ctx=2048, batch_size=args.batch_size, threads=0,
                        stop_loops=False)
    task = get_task(run.card.task_source or None)
    rows = data.load([args.data], task)[: args.limit or None]
    prompts = [run.prompt(r.input) for r in rows]

    t_direct, texts = direct(run.artefact("merged-gguf"), prompts, settings)
    suite = Suite("bench", task, {"rows": Path(args.data)}, ["merged-gguf"], settings, limit=args.limit)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        run_eval(suite, Sources({None: run}), Path(tmp) / "out", progress=False, log=lambda m: None, likelihood=False)
        t_harness = time.perf_counter() - t0
        by_id = {r["id"]: r["raw"] for r in map(json.loads, (Path(tmp) / "out" / "samples.jsonl").read_text().splitlines())}
    same = sum(by_id[r.id] == t for r, t in zip(rows, texts))
    n = len(prompts)
    print(f"rows: {n} from {args.data}; variant merged-gguf ({run.artefact('merged-gguf')})")
    print(f"llama-cpp-python direct: {t_direct:7.1f} s  {n / t_direct:6.2f} examples/s")
    print(f"extractor eval harness:  {t_harness:7.1f} s  {n / t_harness:6.2f} examples/s")
    ratio = t_direct / t_harness
    print(f"harness/direct throughput ratio: {ratio:.3f}  (target >= 2.5; batch size {settings.batch_size})")
    print(f"greedy agreement with direct: {same}/{n} = {same / n:.3f}  (target >= 0.99)")


if __name__ == "__main__":
    main()
