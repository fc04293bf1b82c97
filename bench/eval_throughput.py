"""Harness overhead: merged-gguf through `extractor eval` vs the same prompts through llama-cpp-python.

Both load the model, generate greedily with the same settings, and are timed in this one process
(wall time including the model load). Target: the harness is at most 10% slower.

    .venv/bin/python bench/eval_throughput.py --run runs/cantos-smollm2 [--data datasets/cantos/test.jsonl] [--limit 0]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from extractor import data
from extractor.batches import prompt_text
from extractor.evaluate import Suite, run_eval
from extractor.llama_runtime import default_threads
from extractor.variants import RunArtefacts, Settings, _tokenizer


def direct(model: Path, prompts: list[str], settings: Settings) -> float:
    """Seconds for llama-cpp-python alone to load ``model`` and complete ``prompts`` greedily."""
    from llama_cpp import Llama

    t0 = time.perf_counter()
    threads = settings.threads or default_threads()  # what the harness uses
    llm = Llama(model_path=str(model), n_ctx=settings.n_ctx, n_threads=threads, n_threads_batch=threads, n_batch=512,
                verbose=False, seed=0)
    for p in prompts:
        llm.create_completion(p, max_tokens=settings.max_new_tokens, temperature=0.0, top_k=1, top_p=1.0, min_p=0.0,
                              repeat_penalty=1.0, stop=[])
    llm.close()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", default="runs/cantos-smollm2")
    ap.add_argument("--data", default="datasets/cantos/test.jsonl")
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    run = RunArtefacts.load(args.run)
    settings = Settings(max_new_tokens=128, n_ctx=2048, batch_size=8, threads=0)
    rows = data.load([args.data])[: args.limit or None]
    tok = _tokenizer(run.spec)
    prompts = [prompt_text(tok, r.input, run.cfg.prompt_format, run.cfg.system) for r in rows]

    t_direct = direct(run.artefact("merged-gguf"), prompts, settings)
    suite = Suite("bench", {"rows": Path(args.data)}, ["merged-gguf"], settings, limit=args.limit)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        run_eval(suite, {None: args.run}, Path(tmp) / "out", progress=False, log=lambda m: None)
        t_harness = time.perf_counter() - t0
    n = len(prompts)
    print(f"rows: {n} from {args.data}; variant merged-gguf ({run.artefact('merged-gguf')})")
    print(f"llama-cpp-python direct: {t_direct:7.1f} s  {n / t_direct:6.2f} examples/s")
    print(f"extractor eval harness:  {t_harness:7.1f} s  {n / t_harness:6.2f} examples/s")
    ratio = t_direct / t_harness
    print(f"harness/direct throughput ratio: {ratio:.3f}  (overhead {100 * (1 - ratio):+.1f}%, target <= 10%)")


if __name__ == "__main__":
    main()
