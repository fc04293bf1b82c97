"""Batch-extraction throughput: `extractor extract` vs llama-cpp-python directly, on the same passages.

Builds N distinct passages (default 1000) from the project's own data (each row's input, then
pairs of inputs joined, so no passage repeats and the identical-passage cache gives no help),
writes them as one text file of paragraphs, then in one run:
  1. `extractor extract --run RUN --variant merged-gguf FILE --out OUT` as a subprocess (the CLI
     as a user runs it: start-up, splitting, parsing and writing records included);
  2. the same prompts through llama-cpp-python in this process (model load included).
Prints passages/s for both, their ratio (target: extract/direct >= 2.5: extract decodes 16 passages
per llama.cpp call), their greedy agreement and peak memory (RSS).

    .venv/bin/python bench/extract_throughput.py --run runs/cantos-smollm2 [--passages 1000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from extractor.core import data
from extractor.runtimes.run_card import RunArtefacts
from extractor.runtimes.variant import Settings
from extractor.tasks.registry import get_task

sys.path.insert(0, str(Path(__file__).parent))
from eval_throughput import direct  # noqa: E402 - the same llama-cpp-python baseline as the eval bench

ROOT = Path(__file__).resolve().parents[1]


def passages(n: int) -> list[str]:
    rows = data.load(sorted(str(p) for p in (ROOT / "datasets" / "cantos").glob("*.jsonl")), get_task("cantos"))
    texts = list(dict.fromkeys(" ".join(r.input.split()) for r in rows))
    out, i = list(texts), 0
    while len(out) < n:
        out.append(f"{texts[i % len(texts)]} {texts[(7 * i + 3) % len(texts)]}")
        i += 1
    return list(dict.fromkeys(out))[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", default="runs/cantos-smollm2")
    ap.add_argument("--passages", type=int, default=1000)
    args = ap.parse_args()
    run = RunArtefacts.load(args.run)
    settings = Settings()
    texts = passages(args.passages)
    with tempfile.TemporaryDirectory() as tmp:
        corpus, out = Path(tmp) / "corpus.txt", Path(tmp) / "out.jsonl"
        corpus.write_text("\n\n".join(texts) + "\n")
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "extractor", "extract", "--run", args.run, "--variant", "merged-gguf",
                        str(corpus), "--out", str(out), "--quiet"], check=True)
        t_extract = time.perf_counter() - t0
        peak_extract = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["text"] for r in records] == texts, "extract did not keep one passage per paragraph"
    statuses = {s: sum(r["status"] == s for r in records) for s in sorted({r["status"] for r in records})}

    prompts = [run.prompt(t) for t in texts]
    t_direct, direct_texts = direct(run.artefact("merged-gguf"), prompts, settings)
    peak_direct = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    n = len(texts)
    print(f"passages: {n} distinct, from datasets/cantos; variant merged-gguf ({run.artefact('merged-gguf')})")
    print(f"statuses: {statuses}")
    print(f"extractor extract (CLI):  {t_extract:7.1f} s  {n / t_extract:6.2f} passages/s  peak RSS {peak_extract:6.0f} MiB")
    print(f"llama-cpp-python direct:  {t_direct:7.1f} s  {n / t_direct:6.2f} passages/s  peak RSS {peak_direct:6.0f} MiB"
          " (this process, tokenizer included)")
    ratio = t_direct / t_extract
    print(f"extract/direct throughput ratio: {ratio:.3f}  (target >= 2.5)")
    from extractor.extract.extractor import result_of
    from extractor.core.generation import Generation

    task = get_task(run.card.task_source or None)
    answers = [result_of(Generation(t, "stop"), task) for t in direct_texts]
    same = sum(r["status"] == a.status and {k: v for k, v in r.items() if k in task.answer_fields(None)}
               == task.answer_fields(a.answer if a.status == "ok" else None) for r, a in zip(records, answers))
    print(f"same status and answers as direct: {same}/{n} = {same / n:.3f}")


if __name__ == "__main__":
    main()
