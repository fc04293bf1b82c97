"""Variants that run against an OpenAI-compatible server: vLLM, SGLang, llama.cpp's server,
llama-cpp-python's, Ollama, or a hosted API.

``served:NAME`` asks the server for the model it knows as NAME (a vLLM LoRA module, an Ollama
model, a llama.cpp alias) through the official ``openai`` client:

- **the completions endpoint** by default, with the exact prompt the local runtimes render (the
  run's, or the task's base-model prompt), so a served row and a local row of the same artefact
  are comparable; ``api = "chat"`` uses the chat endpoint (the server applies its own template);
- greedy (temperature 0, seed 0), the suite's token budget, no stop strings (what a model writes
  after its answer is kept), up to ``concurrency`` requests in flight; finish reasons and token
  counts come from the responses;
- ``+grammar`` through the server's own JSON-schema decoding, in the form the server takes
  (``schema_via``: ``response_format`` (OpenAI json_schema: SGLang, Ollama, recent vLLM),
  ``structured_outputs`` / ``guided_json`` (vLLM), ``json_schema`` (llama.cpp's server),
  ``grammar`` (a GBNF grammar from llama.cpp's converter: llama-cpp-python's server); ``auto``
  picks by what ``/v1/models`` says owns the model);
- a timeout, a dropped connection or a 5xx after the client's retries (with backoff) is an
  ``error`` record whose message starts with ``TRANSIENT``: the run goes on, and ``--resume`` runs
  those samples again. After ``MAX_FAILURES`` failures in a row the server is taken as gone: the
  rest of the row is recorded the same way at once, with one clear line.

A server cannot stop a looping output early (the local runtimes' loop guard): such an output runs
to the token limit and counts as runaway, as ``loop`` does.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from ..core.errors import ConfigError
from ..core.generation import TRANSIENT, Generation
from .variant import SCHEMA_VIA, BaseVariant, Capabilities, Settings

MAX_FAILURES = 8
"""Failed requests in a row after which the server is taken as gone."""
API_KEY_ENV = "EXTRACTOR_API_KEY"


@dataclass
class Endpoint:
    """One server: its URL, what it says about itself, and a client for it."""

    url: str
    label: str | None = None
    timeout: float = 120.0
    info: dict[str, Any] = field(default_factory=dict)
    """What the server reported: its models (id, owned_by) and version, where it says."""

    def client(self):
        import os

        from openai import OpenAI

        return OpenAI(base_url=self.url, api_key=os.environ.get(API_KEY_ENV) or "not-needed",
                      timeout=self.timeout, max_retries=3)

    def describe(self) -> dict[str, Any]:
        """The server's models and version (GET /models, /version), recorded in eval.json."""
        if self.info:
            return self.info
        import urllib.request

        out: dict[str, Any] = {"url": self.url}
        try:
            models = self.client().models.list()
            out["models"] = [{"id": m.id, "owned_by": getattr(m, "owned_by", None)} for m in models.data]
        except Exception as e:  # noqa: BLE001 - an unreachable server is reported, not raised, here
            out["error"] = f"{type(e).__name__}: {e}"
        root = self.url.rstrip("/").removesuffix("/v1")
        for path in ("/version", "/v1/version"):
            try:
                with urllib.request.urlopen(root + path, timeout=5) as r:  # noqa: S310 - the user's own server URL
                    body = r.read(2000).decode("utf-8", "replace")
                    kind = r.headers.get("content-type", "")
                out["version"] = json.loads(body) if "json" in kind else body[:200]
                break
            except Exception:  # noqa: BLE001 - not every server has one
                continue
        self.info = out
        return out

    def owner(self, model: str) -> str | None:
        for m in self.describe().get("models", []):
            if m["id"] == model:
                return m.get("owned_by")
        return None


def schema_via_for(endpoint: Endpoint, model: str, setting: str) -> str:
    """How to hand this server a JSON Schema: the setting, or (``auto``) by the model's owner."""
    if setting != "auto":
        return setting
    owner = (endpoint.owner(model) or "").lower()
    version = str(endpoint.describe().get("version", ""))
    if owner == "vllm":
        return "structured_outputs" if _vllm_at_least(version, (0, 10)) else "guided_json"
    if owner == "llamacpp":
        return "json_schema"
    if owner == "me":  # llama-cpp-python's server
        return "grammar"
    return "response_format"


def _vllm_at_least(version: str, want: tuple[int, int]) -> bool:
    import re

    m = re.search(r"(\d+)\.(\d+)", version)
    return bool(m) and (int(m.group(1)), int(m.group(2))) >= want


GREEDY = {"me": {"repeat_penalty": 1.0, "top_k": 1}, "llamacpp": {"repeat_penalty": 1.0, "top_k": 1}}
"""Fields that make a server's sampling plainly greedy where temperature 0 alone does not:
llama-cpp-python's server ("me") and llama.cpp's apply a repeat penalty of 1.1 by default."""


def schema_body(via: str, schema: dict, name: str) -> dict[str, Any]:
    """The request fields that ask the server to decode under ``schema``."""
    if via == "response_format":
        return {"response_format": {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}}
    if via == "structured_outputs":
        return {"structured_outputs": {"json": schema}}
    if via == "guided_json":
        return {"guided_json": schema}
    if via == "json_schema":
        return {"json_schema": schema}
    if via == "grammar":
        from llama_cpp.llama_grammar import json_schema_to_gbnf

        return {"grammar": json_schema_to_gbnf(json.dumps(schema))}
    raise ConfigError(f"schema_via = {via!r}: must be one of {', '.join(SCHEMA_VIA)}")


class ServedVariant(BaseVariant):
    """A model behind an OpenAI-compatible server."""

    def __init__(self, name: str, model: str, endpoint: Endpoint, prompt: Callable[[str], str], system: str,
                 settings: Settings, schema: dict | None = None, task_name: str = "answer"):
        self.name, self.model, self.endpoint, self.prompt, self.system = name, model, endpoint, prompt, system
        self.settings, self.schema = settings, schema
        self.capabilities = Capabilities(streams=True, grammar=schema is not None)
        self.api = settings.served_api
        self.via = schema_via_for(endpoint, model, settings.schema_via) if schema is not None else None
        self.extra = {**GREEDY.get(endpoint.owner(model) or "", {}),
                      **(schema_body(self.via, schema, task_name) if schema is not None else {})}
        self._client = endpoint.client()
        self._failures = 0
        self._lock = threading.Lock()

    def describe(self) -> dict[str, Any]:
        """What the report records of this row: where it ran and how."""
        return {"endpoint": self.endpoint.url, "model": self.model, "api": self.api, "schema_via": self.via,
                "owned_by": self.endpoint.owner(self.model), "version": self.endpoint.describe().get("version")}

    def _request(self, text: str) -> Generation:
        t0 = time.perf_counter()
        common = {"model": self.model, "max_tokens": self.settings.max_new_tokens, "temperature": 0.0, "top_p": 1.0,
                  "seed": 0, "extra_body": self.extra or None}
        try:
            if self.api == "chat":
                r = self._client.chat.completions.create(
                    messages=[{"role": "system", "content": self.system}, {"role": "user", "content": text}], **common)
                choice, out = r.choices[0], r.choices[0].message.content or ""
            else:
                r = self._client.completions.create(prompt=self.prompt(text), **common)
                choice, out = r.choices[0], r.choices[0].text or ""
        except Exception as e:  # noqa: BLE001 - the client's own errors, after its retries
            return self._failed(e, time.perf_counter() - t0)
        with self._lock:
            self._failures = 0
        reason = {"stop": "stop", "length": "length"}.get(choice.finish_reason or "stop")
        usage = r.usage
        return Generation(out, reason or "error", getattr(usage, "prompt_tokens", 0) or 0,
                          getattr(usage, "completion_tokens", 0) or 0, time.perf_counter() - t0,
                          None if reason else f"the server ended with finish_reason {choice.finish_reason!r}")

    def _failed(self, e: Exception, seconds: float) -> Generation:
        import openai

        with self._lock:
            self._failures += 1
        transient = isinstance(e, (openai.APIConnectionError, openai.APITimeoutError, openai.InternalServerError,
                                   openai.RateLimitError))
        message = f"{type(e).__name__}: {str(e)[:300]}"
        if transient:
            return Generation("", "error", seconds=seconds, error=TRANSIENT + message)
        if isinstance(e, openai.BadRequestError) and "context" in str(e).lower():
            return Generation("", "error", seconds=seconds, error=message)
        if isinstance(e, (openai.NotFoundError, openai.AuthenticationError, openai.PermissionDeniedError)):
            raise ConfigError(f"{self.endpoint.url}: the server refused model {self.model!r} ({message}); "
                              f"check the name (the server knows {self._known()})") from None
        return Generation("", "error", seconds=seconds, error=message)

    def _known(self) -> str:
        ids = [m["id"] for m in self.endpoint.describe().get("models", [])]
        return ", ".join(ids) or "no model it would list"

    @property
    def gone(self) -> bool:
        """Too many failures in a row: the server is taken as gone for the rest of this call."""
        return self._failures >= MAX_FAILURES

    def execute(self, inputs: list[str]) -> Iterator[tuple[int, Generation]]:
        """``(index, Generation)`` as each request returns, up to ``concurrency`` in flight. A
        sample's seconds are its request's latency over the requests in flight with it, so they add
        up to about the wall time, as the local runtimes' shares do."""
        width = max(1, self.settings.concurrency)
        pending = list(enumerate(inputs))
        with ThreadPoolExecutor(max_workers=width) as pool:
            running: dict[Future, int] = {}
            while pending or running:
                while pending and len(running) < width and not self.gone:
                    i, text = pending.pop(0)
                    running[pool.submit(self._request, text)] = i
                if self.gone and pending:
                    for i, _ in pending:
                        yield i, Generation("", "error", error=TRANSIENT + f"{self.endpoint.url} stopped answering "
                                                                          f"({MAX_FAILURES} requests in a row failed)")
                    pending = []
                if not running:
                    continue
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                in_flight = len(running)
                for f in done:
                    i = running.pop(f)
                    g = f.result()
                    g.seconds /= in_flight
                    yield i, g
