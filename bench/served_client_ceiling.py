"""The client's own ceiling: how many requests/s one extractor process sends to a server that
answers at once, for served eval and served extract, at concurrency 8, 64 and 256.

A stub OpenAI-compatible server (tests/openai_stub.py, its own process on 127.0.0.1) answers every
completion instantly, so what is measured is the client: the official `openai` client, the thread
pool of `runtimes/served.py`, the retry loop, scoring-free record writing (samples.jsonl, one
fsync'd line per sample; the extraction output, one sync per window). The baseline, in the same
process and against the same stub, is the bare `openai` client from as many threads with nothing
else: the ratio is what extractor's own work costs on top of it.

    python bench/served_client_ceiling.py                     # 3000 requests per figure
    python bench/served_client_ceiling.py --requests 600 --concurrency 8,64

Read a figure as: one extractor process keeps at most this many requests/s in flight to a server;
a vLLM replica that answers R requests/s at that concurrency needs ceiling/R replicas to saturate
the client (docs/performance.md). On a 2-core machine the stub takes one core and the client the
other: run it alone.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from openai_stub import Stub  # noqa: E402

from extractor.evaluation.evaluate import run_eval  # noqa: E402
from extractor.evaluation.suite import Suite  # noqa: E402
from extractor.extract.corpus import run_extract  # noqa: E402
from extractor.extract.extractor import Extractor  # noqa: E402
from extractor.runtimes.served import Endpoint  # noqa: E402
from extractor.runtimes.variant import Settings  # noqa: E402
from extractor.runtimes.variants import Sources  # noqa: E402
from extractor.tasks.registry import get_task  # noqa: E402


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def rows_file(n: int, tmp: Path) -> Path:
    """``n`` rows with distinct ids and inputs, made from the Cantos test split."""
    base = [json.loads(x) for x in (ROOT / "datasets" / "cantos" / "test.jsonl").read_text().splitlines()]
    out = tmp / "rows.jsonl"
    with out.open("w") as f:
        for i in range(n):
            row = dict(base[i % len(base)])
            row["id"], row["input"] = f"r{i}", f"{row['input']} ({i})"
            f.write(json.dumps(row) + "\n")
    return out


def bare_client(url: str, prompts: list[str], width: int) -> float:
    """Requests/s of the bare openai client from ``width`` threads (the baseline)."""
    from openai import OpenAI

    client = OpenAI(base_url=url, api_key="x", max_retries=0, timeout=60)

    def one(p: str) -> str:
        return client.completions.create(model="stub", prompt=p, max_tokens=32, temperature=0.0).choices[0].text

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=width) as pool:
        list(pool.map(one, prompts))
    return len(prompts) / (time.perf_counter() - t0)


def served_eval(url: str, rows: Path, width: int, out: Path) -> float:
    task = get_task("cantos")
    settings = Settings(max_new_tokens=32, concurrency=width)
    suite = Suite("ceiling", task, {"rows": rows}, ["served:stub"], settings)
    n = len(rows.read_text().splitlines())
    t0 = time.perf_counter()
    run_eval(suite, Sources(endpoints={None: Endpoint(url)}), out, progress=False, log=lambda m: None, likelihood=False)
    return n / (time.perf_counter() - t0)


def served_extract(url: str, rows: Path, width: int, out: Path) -> float:
    settings = Settings(max_new_tokens=32, concurrency=width)
    with Extractor.load(None, "served:stub", task="cantos", settings=settings, endpoint=url) as ex:
        t0 = time.perf_counter()
        summary = run_extract(ex, [str(rows)], out, progress=False, log=lambda m: None)
        return summary.computed / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=3000, help="requests per figure")
    ap.add_argument("--concurrency", default="8,64,256")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()
    widths = [int(x) for x in args.concurrency.split(",")]
    figures = {"cpu": cpu_name(), "requests": args.requests, "rows": []}
    print(f"client ceiling against an instant stub server on 127.0.0.1; {args.requests} requests per figure; "
          f"CPU: {figures['cpu']}")
    print(f"{'concurrency':>11} {'bare client/s':>14} {'eval/s':>9} {'ratio':>6} {'extract/s':>10} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp, Stub(max_requests=10 ** 7, max_seconds=3600) as stub:
        tmp = Path(tmp)
        rows = rows_file(args.requests, tmp)
        prompts = [json.loads(x)["input"] for x in rows.read_text().splitlines()]
        for width in widths:
            bare = bare_client(stub.url, prompts, width)
            ev = served_eval(stub.url, rows, width, tmp / f"eval-{width}")
            ex = served_extract(stub.url, rows, width, tmp / f"extract-{width}.jsonl")
            figures["rows"].append({"concurrency": width, "bare_client_rps": round(bare, 1),
                                    "eval_rps": round(ev, 1), "extract_rps": round(ex, 1)})
            print(f"{width:>11} {bare:>14.0f} {ev:>9.0f} {ev / bare:>6.2f} {ex:>10.0f} {ex / bare:>6.2f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
