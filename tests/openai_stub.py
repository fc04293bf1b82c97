"""A stub OpenAI-compatible server on 127.0.0.1: answers at once, or injects the faults a real
deployment meets (503 and 429 with ``Retry-After``, dropped connections, answers slower than the
client's timeout). A fixture of the tests (tests/test_faults_stub.py) and of the client-ceiling
benchmark (bench/served_client_ceiling.py).

It runs as its own process (``Stub`` starts and stops it), so a benchmark measures the client, not
a server sharing its interpreter. Bounded: it exits after ``max_requests`` requests or
``max_seconds`` seconds, whichever comes first, even if nobody stops it.

    with Stub(model="stub", fail_first=1, kinds=["503", "429", "drop", "slow"]) as stub:
        ... stub.url ...   # http://127.0.0.1:PORT/v1
        stub.stats()       # requests, faults served, answers per prompt

Plan (keyword arguments of ``Stub``, the JSON the process reads):
    model          the id GET /v1/models lists and requests must name (else 404)
    fail_first     each distinct prompt fails its first N attempts
    fail_all       every request fails (a server that keeps failing)
    die_after      after N answers every request fails (a server dying mid-run)
    kinds          the faults, by the order prompts first arrive: "503", "429", "500", "drop", "slow",
                   "context" (a 400 saying the prompt is longer than the context: the request's fault)
    retry_after    the Retry-After header of a 503 / 429, seconds
    slow_seconds   how long a "slow" answer takes (set it past the client's timeout)
    latency        seconds every good answer waits (0: at once)
    logprobs       what a request asking for log-probabilities gets: "none" (null, as many servers),
                   "give" (one token per character, each -0.01 but -1.2 for the answer's first digit;
                   completions' text_offset counted from the prompt's start, as llama-cpp-python
                   does) or "refuse" (a 400 naming the field)
The answer to a prompt is a Cantos JSON answer drawn from a hash of the prompt, so a test can tell
whose answer a record holds.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

DEFAULTS = {"model": "stub", "fail_first": 0, "fail_all": False, "die_after": None, "kinds": ["503"], "retry_after": 0.2,
            "slow_seconds": 5.0, "latency": 0.0, "max_requests": 200_000, "max_seconds": 300.0, "logprobs": "none"}


def answer_for(prompt: str) -> str:
    """The stub's answer to a prompt (a valid Cantos answer, different for most prompts)."""
    h = int(hashlib.sha1(prompt.encode("utf-8")).hexdigest(), 16)
    return json.dumps({"references": [{"canto": h % 117 + 1, "lines": [h % 50 + 1]}]})


class _State:
    def __init__(self, plan: dict):
        self.plan = {**DEFAULTS, **plan}
        self.requests = 0
        self.faults: dict[str, int] = {}
        self.attempts: dict[str, int] = {}
        self.answered: dict[str, int] = {}
        self.answers: dict[str, str] = {}
        self.order: dict[str, int] = {}
        self.started = time.monotonic()
        self.done = asyncio.Event()

    def fault_for(self, key: str) -> str | None:
        plan = self.plan
        self.order.setdefault(key, len(self.order))
        n = self.attempts[key] = self.attempts.get(key, 0) + 1
        dead = plan["die_after"] is not None and sum(self.answered.values()) >= plan["die_after"]
        if plan["fail_all"] or dead or n <= plan["fail_first"]:
            kinds = plan["kinds"]
            return kinds[(self.order[key] + n - 1) % len(kinds)]
        return None


def _response(status: int, body: dict | str, headers: dict | None = None) -> bytes:
    data = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
    reason = {200: "OK", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error",
              503: "Service Unavailable", 400: "Bad Request"}.get(status, "Status")
    head = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json", f"Content-Length: {len(data)}",
            "Connection: keep-alive"] + [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode("ascii") + data


def _completion(plan: dict, req: dict, chat: bool) -> dict:
    if chat:
        prompt = json.dumps(req.get("messages"), sort_keys=True)
    else:
        prompt = req.get("prompt") or ""
    text = answer_for(prompt)
    usage = {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(text) // 3 + 1}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    choice = ({"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"} if chat
              else {"index": 0, "text": text, "finish_reason": "stop", "logprobs": None})
    if plan["logprobs"] == "give" and req.get("logprobs"):
        digit = next(i for i, c in enumerate(text) if c.isdigit())
        lps = [-1.2 if i == digit else -0.01 for i in range(len(text))]
        choice["logprobs"] = ({"content": [{"token": c, "logprob": lp, "bytes": list(c.encode()), "top_logprobs": []}
                                           for c, lp in zip(text, lps)]} if chat else
                              {"tokens": list(text), "token_logprobs": lps, "top_logprobs": None,
                               "text_offset": [len(prompt) + i for i in range(len(text))]})
    return {"id": "stub", "object": "chat.completion" if chat else "text_completion", "created": 0,
            "model": plan["model"], "choices": [choice], "usage": usage}


async def _handle(state: _State, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    plan = state.plan
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
            body = await reader.readexactly(int(headers.get("content-length") or 0))
            state.requests += 1
            if state.requests >= plan["max_requests"] or time.monotonic() - state.started > plan["max_seconds"]:
                state.done.set()
            if path.endswith("/stats"):
                writer.write(_response(200, {"requests": state.requests, "faults": state.faults,
                                             "answered": state.answered, "attempts": state.attempts,
                                             "answers": state.answers}))
            elif path.endswith("/models"):
                writer.write(_response(200, {"object": "list", "data": [
                    {"id": plan["model"], "object": "model", "owned_by": "stub"}]}))
            elif method == "POST" and path.endswith("/completions"):
                req = json.loads(body or b"{}")
                if req.get("model") != plan["model"]:
                    writer.write(_response(404, {"error": {"message": f"model {req.get('model')!r} not found"}}))
                    await writer.drain()
                    continue
                chat = path.endswith("/chat/completions")
                if plan["logprobs"] == "refuse" and req.get("logprobs"):
                    writer.write(_response(400, {"error": {"message": "logprobs are not supported by this server"}}))
                    await writer.drain()
                    continue
                key = hashlib.sha1(json.dumps(req.get("messages") if chat else req.get("prompt"),
                                              sort_keys=True).encode()).hexdigest()
                fault = state.fault_for(key)
                if fault is not None:
                    state.faults[fault] = state.faults.get(fault, 0) + 1
                if fault == "drop":
                    writer.transport.abort()  # the connection is reset mid-request
                    return
                if fault == "slow":  # past the client's timeout: it has given up by then
                    await asyncio.sleep(plan["slow_seconds"])
                    writer.transport.abort()
                    return
                if fault == "context":
                    writer.write(_response(400, {"error": {"message": "This model's maximum context length is "
                                                                      "2048 tokens; the prompt is too long"}}))
                elif fault in ("503", "429", "500"):
                    extra = {"Retry-After": str(plan["retry_after"])} if fault != "500" else {}
                    writer.write(_response(int(fault), {"error": {"message": f"stub fault {fault}"}}, extra))
                else:
                    if plan["latency"]:
                        await asyncio.sleep(plan["latency"])
                    out = _completion(plan, req, chat)
                    state.answered[key] = state.answered.get(key, 0) + 1
                    choice = out["choices"][0]
                    state.answers[key] = choice["message"]["content"] if chat else choice["text"]
                    writer.write(_response(200, out))
            else:
                writer.write(_response(404, {"error": {"message": f"no route {method} {path}"}}))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def _serve(port: int, plan: dict) -> None:
    state = _State(plan)
    server = await asyncio.start_server(lambda r, w: _handle(state, r, w), "127.0.0.1", port, backlog=1024)
    async with server:
        try:
            await asyncio.wait_for(state.done.wait(), timeout=state.plan["max_seconds"])
        except asyncio.TimeoutError:
            pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stub:
    """The stub as a child process on a free loopback port; a context manager that waits (at most
    30 s) until it answers and kills it on exit."""

    def __init__(self, **plan):
        self.plan = {**DEFAULTS, **plan}
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Stub":
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), str(self.port),
                                      json.dumps(self.plan)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the stub server exited: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/models", timeout=1):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the stub server did not answer within 30 s")

    def stats(self) -> dict:
        with urllib.request.urlopen(self.url + "/stats", timeout=5) as r:
            return json.loads(r.read())

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":
    asyncio.run(_serve(int(sys.argv[1]), json.loads(sys.argv[2])))
