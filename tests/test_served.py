"""Served variants against a real OpenAI-compatible server on loopback: llama-cpp-python's own
server (its `server` extra), started and stopped here, serving a short run's merged.gguf and the
base GGUF with its adapter.gguf. Greedy served outputs equal the in-process llama.cpp rows; a
server killed (kill -9) mid-eval or mid-extract stops the command with exit 4 and nothing
recorded for what was not done, and --resume against the restarted server gives what an
uninterrupted run gives: nothing lost, nothing repeated."""

import json
import math
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
                 "--out", out, "--no-likelihood")  # served scoring: test_served_scoring_equals_in_process_llama_cpp
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
        # the server's logprobs give the in-process confidence (measured: equal to 4 decimals for the
        # merged GGUF, under the grammar too; within 0.03 where each side applies the LoRA GGUF itself)
        both = [i for i, s in zip(ids, same) if s and got[(local, i)].get("confidence") is not None]
        tol = 0.05 if local.startswith("adapter") else 2e-3
        assert both and all(got[(served, i)].get("confidence") == pytest.approx(got[(local, i)]["confidence"], abs=tol)
                            for i in both)
    print("served agreement with in-process llama.cpp:", agreement, "of", ROWS)
    # Greedy on both sides with the same attention kernel: identical but for near-ties (measured 24/24).
    assert all(n >= ROWS - 1 for n in agreement.values()), agreement
    meta = json.loads((out / "eval.json").read_text())
    assert meta["endpoints"]["default"]["models"][0]["owned_by"] == "me"
    assert meta["served"]["served:merged+grammar"]["schema_via"] == "grammar"
    assert meta["served"]["served:merged"]["api"] == "completions"


def kill_when(path: Path, lines: int, server: Server, proc: subprocess.Popen) -> None:
    """Kill the server (kill -9) once ``path`` holds ``lines`` lines (at most 300 s)."""
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if path.is_file() and len(path.read_text().splitlines()) >= lines:
            break
        time.sleep(0.1)
    server.stop()


@pytest.mark.slow
def test_a_server_killed_mid_eval_stops_the_run_and_resume_equals_an_uninterrupted_run(exported, server, rows_file,
                                                                                      tmp_path):
    run, out_dir = exported
    whole = tmp_path / "whole"
    # Outputs only: no log-probabilities (llama-cpp-python's server sorts the vocabulary in Python for
    # each token it returns them for: 4x the time) and no likelihood view.
    suite = tmp_path / "suite.toml"
    suite.write_text(f'name = "kill"\ntask = "cantos"\nvariants = ["served:merged"]\n[data]\nrows = "{rows_file}"\n'
                     '[generation]\nserved_logprobs = false\n')
    quick = ["--suite", suite, "--no-likelihood"]
    r = eval_cli("--run", run, "--endpoint", server.url, "--variants", "served:merged", "--data", rows_file,
                 "--out", whole, *quick)
    assert r.returncode == 0, r.stderr[-3000:]

    dying = Server(tmp_path, [{"model": str(out_dir / "merged.gguf"), "model_alias": "merged"}])
    out = tmp_path / "out"
    args = ["--run", run, "--endpoint", dying.url, "--variants", "served:merged", "--data", rows_file, "--out", out,
            "--retry-budget", "3", *quick]
    proc = subprocess.Popen([sys.executable, "-m", "extractor", "eval", "--quiet", *map(str, args)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    kill_when(out / "samples.jsonl", 4, dying, proc)
    t0 = time.time()
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 4, stderr[-3000:]  # core.faults.EXIT_OUTAGE
    assert time.time() - t0 < 3 + 30  # the budget, plus a request in flight
    first = samples(out)
    assert 4 <= len(first) < ROWS and all(x["error"] is None for x in first.values())  # no outage recorded
    assert f"{ROWS - len(first)} of {ROWS} rows not done" in stderr and "Traceback" not in stderr
    assert not (out / "report.json").exists()

    back = Server(tmp_path, [{"model": str(out_dir / "merged.gguf"), "model_alias": "merged"}])
    try:
        args[args.index("--endpoint") + 1] = back.url
        r = eval_cli(*args, "--resume")
        assert r.returncode == 0, r.stderr[-3000:]
    finally:
        back.stop()
    lines = [json.loads(x) for x in (out / "samples.jsonl").read_text().splitlines()]
    keys = [(x["variant"], x["id"]) for x in lines]
    assert len(keys) == len(set(keys)) == ROWS  # nothing lost, nothing repeated
    ref = samples(whole)
    assert {k: (v["raw"], v["finish_reason"]) for k, v in samples(out).items()} == \
        {k: (v["raw"], v["finish_reason"]) for k, v in ref.items()}


@pytest.mark.slow
def test_a_server_killed_mid_extract_stops_it_and_resume_equals_an_uninterrupted_run(exported, server, rows_file,
                                                                                    tmp_path):
    run, out_dir = exported
    text = tmp_path / "essay.txt"
    text.write_text("\n\n".join(json.loads(x)["input"] for x in rows_file.read_text().splitlines()) + "\n")

    def extract(url, out, *extra):
        return [sys.executable, "-m", "extractor", "extract", "--quiet", "--run", str(run), "--variant", "served:merged",
                "--endpoint", url, "--batch-size", "2", "--concurrency", "2", "--retry-budget", "3", str(text),
                "--out", str(out), *extra]  # windows of 8 passages: 3 of them, written one by one

    whole = tmp_path / "whole.jsonl"
    r = subprocess.run(extract(server.url, whole), capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]

    dying = Server(tmp_path, [{"model": str(out_dir / "merged.gguf"), "model_alias": "merged"}])
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(extract(dying.url, out), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    kill_when(out, 8, dying, proc)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 4, stderr[-3000:]
    written = [json.loads(x) for x in out.read_text().splitlines()]
    assert 8 <= len(written) < ROWS and not [x for x in written if x["status"].startswith("skipped")]
    assert "Traceback" not in stderr and "--resume" in stderr

    back = Server(tmp_path, [{"model": str(out_dir / "merged.gguf"), "model_alias": "merged"}])
    try:
        r = subprocess.run(extract(back.url, out, "--resume"), capture_output=True, text=True, cwd=ROOT, timeout=600)
        assert r.returncode == 0, r.stderr[-3000:]
    finally:
        back.stop()
    assert out.read_text() == whole.read_text()  # the same records: nothing lost, nothing repeated


@pytest.mark.slow
def test_served_scoring_equals_in_process_llama_cpp(exported, server, rows_file):
    """The likelihood view through llama-cpp-python's server (echo + logprobs) gives the in-process
    llama.cpp figures of the same merged.gguf: the same gold tokens, the same log-probabilities."""
    from extractor.core import data
    from extractor.runtimes.run_card import RunArtefacts
    from extractor.runtimes.served import Endpoint
    from extractor.runtimes.variant import Settings, parse_name
    from extractor.runtimes.variants import Sources, build
    from extractor.tasks.registry import get_task

    run, _ = exported
    task = get_task("cantos")
    rows = data.load([rows_file], task)[:8]
    sources = Sources({None: RunArtefacts.load(run)}, {None: Endpoint(server.url)})
    got = {}
    for name in ("merged-gguf", "served:merged"):
        v = build(parse_name(name), sources, Settings(n_ctx=1024), task)
        assert v.capabilities.scores
        answers = [v.answer_ids(task.answer_text(r.output)) for r in rows]
        got[name] = dict(v.score([r.input for r in rows], answers, [v.stop_token] * len(rows)))
        v.close()
    for i in range(len(rows)):
        local, served = got["merged-gguf"][i], got["served:merged"][i]
        assert served.error is None and served.source == "server top-5"
        assert served.tokens == local.tokens
        # one sequence per pass on the server, many slots per pass here: rounding moves a token's
        # probability a little where the model hesitates (measured: up to 0.057 on the tests'
        # 48-step run; log-probabilities up to 0.12 apart on the 1,500-step run's tokens near p = 0.5)
        assert max(abs(math.exp(a) - math.exp(b)) for a, b in zip(served.logprobs, local.logprobs)) < 0.1
        assert abs(served.nll_per_token - local.nll_per_token) < 0.02
        assert abs(served.p_stop - local.p_stop) < 0.01
        assert [t for t, _ in served.top[0][:2]] == [t for t, _ in local.top[0][:2]]
