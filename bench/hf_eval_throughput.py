"""transformers variants: merged-hf (or adapter-hf) through `extractor eval` in fp32 (the baseline)
and in the precision `auto` picks on this machine (bf16 on a CPU with AMX-BF16 / AVX512-BF16).

Both runs go through the same harness (batched greedy generation, left padding, KV cache), in
this one process, on the same rows. Prints examples/s of each, their ratio, and how often the
two greedy outputs are identical (bf16 rounds differently, so some near-ties flip), with exact
match of each against the gold answers so a speed gain that costs accuracy shows.

    .venv/bin/python bench/hf_eval_throughput.py --run runs/cantos-smollm2 [--variant merged-hf] [--limit 96]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from extractor.evaluate import Suite, run_eval
from extractor.hardware import resolve_precision
from extractor.variants import Settings


def timed(variant: str, run: str, data: Path, settings: Settings, limit: int) -> tuple[float, dict[str, dict]]:
    suite = Suite("bench", {"rows": data}, [variant], settings, limit=limit)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        run_eval(suite, {None: run}, Path(tmp) / "out", progress=False, log=lambda m: None)
        seconds = time.perf_counter() - t0
        records = [json.loads(line) for line in (Path(tmp) / "out" / "samples.jsonl").read_text().splitlines()]
    return seconds, {r["id"]: r for r in records}


def exact(records: dict[str, dict]) -> float:
    from extractor.metrics import is_exact
    from extractor.report import to_sample

    return sum(is_exact(to_sample(r)) for r in records.values()) / max(1, len(records))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", default="runs/cantos-smollm2")
    ap.add_argument("--variant", default="merged-hf", choices=["merged-hf", "adapter-hf"])
    ap.add_argument("--data", default="datasets/cantos/test.jsonl")
    ap.add_argument("--limit", type=int, default=96)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=256)
    args = ap.parse_args()
    base = Settings(max_new_tokens=args.max_new_tokens, n_ctx=2048, batch_size=args.batch_size, threads=0)
    used, why = resolve_precision("auto", "cpu")
    t32, r32 = timed(args.variant, args.run, Path(args.data), replace(base, precision="fp32"), args.limit)
    tau, rau = timed(args.variant, args.run, Path(args.data), replace(base, precision="auto"), args.limit)
    n = len(r32)
    same = sum(r32[i]["raw"] == rau[i]["raw"] for i in r32)
    print(f"rows: {n} from {args.data}; variant {args.variant}; batch {args.batch_size}")
    print(f"fp32:         {t32:7.1f} s  {n / t32:6.2f} examples/s  exact {exact(r32):.3f}")
    print(f"auto ({used}): {tau:7.1f} s  {n / tau:6.2f} examples/s  exact {exact(rau):.3f}  ({why})")
    print(f"auto/fp32 throughput ratio: {t32 / tau:.3f}")
    print(f"identical greedy outputs: {same}/{n} = {same / n:.3f}")


if __name__ == "__main__":
    main()
