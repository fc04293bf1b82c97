"""Served variants against a real OpenAI-compatible server on loopback: llama-cpp-python's own
server (its `server` extra), started and stopped here, serving a short run's merged.gguf and the
base GGUF with its adapter.gguf. Greedy served outputs equal the in-process llama.cpp rows; a
server killed mid-run leaves error records and one clear line, and --resume completes the run
with nothing lost or repeated."""

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from extractor.runtimes.variant import parse_name

ROOT = Path(__file__).resolve().parents[1]
ROWS = 24


def test_served_names_parse_with_their_model_and_endpoint_label():
    n = parse_name("served:cantos+grammar@gpu")
    assert (n.kind, n.model, n.grammar, n.run, str(n)) == ("served", "cantos", True, "gpu", "served:cantos+grammar@gpu")
    n = parse_name("served:llama3:8b")  # an Ollama tag is part of the name
    assert (n.model, n.grammar, n.run) == ("llama3:8b", False, None)
    assert parse_name("served:org/model@a.b").model == "org/model"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """llama-cpp-python's OpenAI-compatible server on 127.0.0.1, from a config file."""

    def __init__(self, tmp: Path, models: list[dict]):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.config = tmp / f"server-{self.port}.json"
        common = {"n_ctx": 1024, "flash_attn": True, "n_threads": 2, "n_threads_batch": 2, "verbose": False}
        self.config.write_text(json.dumps({"host": "127.0.0.1", "port": self.port,
                                           "models": [{**common, **m} for m in models]}))
        self.log = open(tmp / f"server-{self.port}.log", "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--config_file", str(self.config)],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while time.time() < deadline:
            assert self.proc.poll() is None, (tmp / f"server-{self.port}.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(self.url + "/models", timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        raise AssertionError("the server did not answer within 120 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.log.close()


@pytest.fixture(scope="module")
def rows_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("served")
    rows = (ROOT / "datasets" / "cantos" / "valid.jsonl").read_text().splitlines()[:ROWS]
    (d / "rows.jsonl").write_text("\n".join(rows) + "\n")
    return d / "rows.jsonl"


@pytest.fixture(scope="module")
def server(exported, embedded, tmp_path_factory):
    _, out = exported
    s = Server(tmp_path_factory.mktemp("server"), [
        {"model": str(out / "merged.gguf"), "model_alias": "merged"},
        {"model": str(embedded[1]), "model_alias": "adapter", "lora_path": str(out / "adapter.gguf")},
    ])
    yield s
    s.stop()


def eval_cli(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "extractor", "eval", "--quiet", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=timeout)


def samples(out: Path) -> dict[tuple[str, str], dict]:
    return {(r["variant"], r["id"]): r for r in map(json.loads, (out / "samples.jsonl").read_text().splitlines())}


@pytest.mark.slow
def test_served_rows_equal_the_in_process_rows(exported, server, rows_file, tmp_path):
    run, _ = exported
    out = tmp_path / "out"
    variants = "merged-gguf,adapter-gguf,served:merged,served:adapter,merged-gguf+grammar,served:merged+grammar"
    r = eval_cli("--run", run, "--endpoint", server.url, "--variants", variants, "--data", rows_file,
                 "--out", out)
    assert r.returncode == 0, r.stderr[-3000:]
    got = samples(out)
    ids = sorted({i for _, i in got})
    assert len(ids) == ROWS
    agreement = {}
    for local, served in (("merged-gguf", "served:merged"), ("adapter-gguf", "served:adapter"),
                          ("merged-gguf+grammar", "served:merged+grammar")):
        same = [got[(local, i)]["raw"] == got[(served, i)]["raw"] for i in ids]
        agreement[served] = sum(same)
        assert all(got[(served, i)]["error"] is None for i in ids)
    print("served agreement with in-process llama.cpp:", agreement, "of", ROWS)
    # Greedy on both sides with the same attention kernel: identical but for near-ties (measured 24/24).
    assert all(n >= ROWS - 1 for n in agreement.values()), agreement
    meta = json.loads((out / "eval.json").read_text())
    assert meta["endpoints"]["default"]["models"][0]["owned_by"] == "me"
    assert meta["served"]["served:merged+grammar"]["schema_via"] == "grammar"
    assert meta["served"]["served:merged"]["api"] == "completions"


@pytest.mark.slow
def test_a_server_killed_mid_run_leaves_errors_and_resume_completes(exported, embedded, rows_file, tmp_path):
    run, out_dir = exported
    server = Server(tmp_path, [{"model": str(out_dir / "merged.gguf"), "model_alias": "merged"}])
    out = tmp_path / "out"
    args = ["--run", run, "--endpoint", server.url, "--variants", "served:merged", "--data", rows_file, "--out", out]
    proc = subprocess.Popen([sys.executable, "-m", "extractor", "eval", "--quiet", *map(str, args)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    path = out / "samples.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if path.is_file() and len(path.read_text().splitlines()) >= 4:
            break
        time.sleep(0.2)
    server.stop()
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr[-3000:]
    first = samples(out)
    errors = [r for r in first.values() if r["error"]]
    assert 0 < len(errors) < ROWS and len(first) == ROWS, (len(errors), len(first))
    assert all(r["error"].startswith("server unavailable: ") for r in errors)
    assert "Traceback" not in stderr

    server = Server(tmp_path, [{"model": str(out_dir / "merged.gguf"), "model_alias": "merged"}])
    try:
        args[args.index("--endpoint") + 1] = server.url
        r = eval_cli(*args, "--resume")
        assert r.returncode == 0, r.stderr[-3000:]
        assert f"{len(errors)} sample(s) a server failed on will run again" in r.stderr
    finally:
        server.stop()
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    keys = [(x["variant"], x["id"]) for x in lines]
    assert len(keys) == len(set(keys)) == ROWS  # nothing lost, nothing repeated
    assert all(x["error"] is None for x in lines)
    kept = {k: v for k, v in first.items() if not v["error"]}
    assert all(samples(out)[k]["raw"] == v["raw"] for k, v in kept.items())  # earlier answers kept as they were
