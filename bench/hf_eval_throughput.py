"""transformers variants: today's generation loop against the one they had, and bf16 against fp32.

Three runs over the same prompts, in this one process, with the same model files (merged-hf or
adapter-hf of a run) and batch size:
  1. fp32 with `model.generate` (left padding, KV cache): how the transformers rows ran before;
  2. the precision `auto` picks here (bf16 on a CPU with AMX-BF16 / AVX512-BF16) with `model.generate`;
  3. the same precision with extractor's loop (`extractor.runtimes.hf_generate`: a finished row leaves the batch).
Prints examples/s of each, the ratio of 3 (what `extractor eval` runs) to 1, how often the greedy
outputs are identical, and exact match against the gold answers so a speed gain that costs
accuracy shows.

    .venv/bin/python bench/hf_eval_throughput.py --run runs/cantos-smollm2 [--variant merged-hf] [--limit 64]
"""

from __future__ import annotations

import argparse
import time

import torch

from extractor.core import data
from extractor.core.generation import Generation
from extractor.runtimes.hardware import resolve_precision
from extractor.runtimes.hf_generate import generate
from extractor.runtimes.hf_variant import hf_dtype
from extractor.runtimes.run_card import RunArtefacts
from extractor.runtimes.variant import Settings, parse_name
from extractor.runtimes.variants import Sources, build
from extractor.tasks.registry import get_task


def with_model_generate(model, tok, prompts: list[str], max_new_tokens: int, batch_size: int) -> list[str]:
    """The loop the transformers variants used before: transformers' own batched greedy generate."""
    tok.padding_side = "left"
    texts = []
    for start in range(0, len(prompts), batch_size):
        enc = tok(prompts[start:start + batch_size], return_tensors="pt", padding=True)
        with torch.no_grad():
            gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                 eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
        for row in gen[:, enc.input_ids.shape[1]:].tolist():
            texts.append(tok.decode(row[: row.index(tok.eos_token_id)] if tok.eos_token_id in row else row))
    return texts


def exact(texts: list[str], rows, task) -> float:
    """Exact match as the task scores it (``Task.score`` of each output as a record)."""
    from extractor.core.sample_record import SampleRecord

    def record(t, r):
        gold = task.record(r, task.parse_answer(t))["gold"]
        return SampleRecord(data="d", variant="v", id=r.id, gold=gold, raw=t, finish_reason="stop")

    return sum(task.score(record(t, r)).exact for t, r in zip(texts, rows)) / len(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", default="runs/cantos-smollm2")
    ap.add_argument("--variant", default="merged-hf", choices=["merged-hf", "adapter-hf"])
    ap.add_argument("--data", default="datasets/cantos/test.jsonl")
    ap.add_argument("--limit", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=256)
    args = ap.parse_args()
    run = RunArtefacts.load(args.run)
    task = get_task(run.card.task_source or None)
    rows = data.load([args.data], task)[: args.limit or None]
    variant = build(parse_name(args.variant), Sources({None: run}), Settings(), task)
    prompts = [variant.prompt(r.input) for r in rows]
    tok = variant.tokenizer
    used, why = resolve_precision("auto", "cpu")
    results: dict[str, tuple[float, list[str]]] = {}
    for label, precision, loop in (("fp32, model.generate", "fp32", "generate"),
                                   (f"{used}, model.generate", "auto", "generate"),
                                   (f"{used}, extractor loop", "auto", "ours")):
        model = variant._load(hf_dtype(precision)).eval()
        t0 = time.perf_counter()
        if loop == "generate":
            texts = with_model_generate(model, tok, prompts, args.max_new_tokens, args.batch_size)
        else:
            gens: list[Generation] = generate(model, tok, prompts, args.max_new_tokens, args.batch_size)
            texts = [g.text for g in gens]
        results[label] = (time.perf_counter() - t0, texts)
        del model
    n = len(rows)
    print(f"rows: {n} from {args.data}; variant {args.variant}; batch {args.batch_size}; "
          f"budget {args.max_new_tokens} tokens; auto = {used} ({why})")
    base_t, base_texts = next(iter(results.values()))
    for label, (t, texts) in results.items():
        same = sum(a == b for a, b in zip(texts, base_texts))
        print(f"{label:24s} {t:7.1f} s  {n / t:6.2f} examples/s  exact {exact(texts, rows, task):.3f}  "
              f"identical to fp32 {same}/{n}")
    last_t, last_texts = results[f"{used}, extractor loop"]
    gen_t, gen_texts = results[f"{used}, model.generate"]
    print(f"extractor loop vs model.generate, same precision: identical {sum(a == b for a, b in zip(last_texts, gen_texts))}/{n}, "
          f"throughput ratio {gen_t / last_t:.3f}")
    print(f"ratio (extractor eval today / fp32 model.generate before): {base_t / last_t:.3f}")


if __name__ == "__main__":
    main()
