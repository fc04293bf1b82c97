"""Served throughput: a served row against the in-process row of the same artefact, same prompts and settings.

Starts llama-cpp-python's OpenAI-compatible server on 127.0.0.1 with the run's merged.gguf (flash
attention on, 2 threads), evaluates N rows of the test split through `served:merged` (the
completions endpoint, the run's exact prompt) and through the in-process `merged-gguf` row, one
after the other in this process's own harness (`run_eval`), and prints both rates, their ratio and
how many outputs are identical.

    python bench/served_throughput.py --run runs/cantos-smollm2 --limit 96

The server decodes one request at a time (llama-cpp-python's server has no batching), so the served
row measures the server plus the HTTP round trips; the in-process row batches 16 sequences per
llama.cpp call. Run it alone on the machine.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from extractor.core import data
from extractor.evaluation.evaluate import run_eval
from extractor.evaluation.suite import Suite
from extractor.runtimes.run_card import RunArtefacts
from extractor.runtimes.served import Endpoint
from extractor.runtimes.variant import Settings
from extractor.runtimes.variants import Sources
from extractor.tasks.registry import get_task


def start_server(model: Path, port: int, log: Path) -> subprocess.Popen:
    import urllib.request

    config = log.with_suffix(".json")
    config.write_text(json.dumps({"host": "127.0.0.1", "port": port, "models": [{
        "model": str(model), "model_alias": "merged", "n_ctx": 2048, "flash_attn": True, "n_threads": 2,
        "n_threads_batch": 2, "verbose": False}]}))
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--config_file", str(config)],
                            stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2):
                return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"the server did not start; see {log}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", default="runs/cantos-smollm2")
    ap.add_argument("--data", default="datasets/cantos/test.jsonl")
    ap.add_argument("--limit", type=int, default=96)
    ap.add_argument("--concurrency", type=int, default=4)
    args = ap.parse_args()
    run = RunArtefacts.load(args.run)
    task = get_task(run.card.task_source or None)
    rows = data.load([args.data], task)[: args.limit]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        server = start_server(run.artefact("merged-gguf"), port, tmp / "server.log")
        try:
            settings = Settings(max_new_tokens=128, batch_size=16, concurrency=args.concurrency, stop_loops=False)
            sources = Sources({None: run}, {None: Endpoint(f"http://127.0.0.1:{port}/v1")})
            seconds, raws = {}, {}
            for variant in ("served:merged", "merged-gguf"):
                suite = Suite("bench", task, {"rows": Path(args.data)}, [variant], settings, limit=args.limit)
                out = tmp / variant.replace(":", "-")
                t0 = time.perf_counter()
                run_eval(suite, sources, out, progress=False, log=lambda m: None, likelihood=False)
                seconds[variant] = time.perf_counter() - t0
                raws[variant] = {r["id"]: r["raw"] for r in map(json.loads, (out / "samples.jsonl").read_text().splitlines())}
        finally:
            server.kill()
            server.wait()
    n = len(rows)
    same = sum(raws["served:merged"][r.id] == raws["merged-gguf"][r.id] for r in rows)
    print(f"rows: {n} of {args.data}; run {args.run}; 128-token budget; loop guard off on both sides")
    for v, t in seconds.items():
        print(f"{v:<16} {t:7.1f} s  {n / t:6.2f} examples/s")
    print(f"served / in-process throughput ratio: {seconds['merged-gguf'] / seconds['served:merged']:.3f} "
          f"(served concurrency {args.concurrency}, in-process batch 16)")
    print(f"identical outputs: {same}/{n}")


if __name__ == "__main__":
    main()
