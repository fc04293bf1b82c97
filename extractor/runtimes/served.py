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
- faults of the server (a refused or dropped connection, a timeout, a 5xx, a 429) are never an
  answer: ``execute`` yields a ``faults.Fault`` for such a request (and for the requests it had not
  sent yet: it stops sending at the first fault), and ``runtimes/retry.py`` sends them again after
  a backoff that honours ``Retry-After``, until the run's retry budget is spent (``core/faults.py``);
- a request no retry can mend stops the run at once with the fix (an unknown model, a refused
  key, a field the server rejects); a prompt longer than the server's context is an ``error``
  record of that row, as in the local runtimes;
- before the first request, the server is asked once for its models (``Endpoint.require``): a
  server that is not there, or does not serve the model, is refused before anything runs;
- each request asks for the generated tokens' log-probabilities (completions ``logprobs=1``, chat
  ``logprobs=true``), an answer's confidence (``core/confidence.py``); a server that returns none
  gives no confidence, and one that refuses the field is asked again without it (and never again);
  ``served_logprobs = false`` does not ask.

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

from ..core.confidence import chat_logprobs, completion_logprobs
from ..core.errors import ConfigError
from ..core.faults import Fault, Outage, retry_after
from ..core.generation import Generation
from ..core.task import Task
from .kinds import Kind
from . import models
from .prompts import TokenizerAnswers, chat_format, load_tokenizer, prompt_text
from .variant import SCHEMA_VIA, BaseVariant, Capabilities, Settings, Variant, VariantName

API_KEY_ENV = "EXTRACTOR_API_KEY"
CHECK_TIMEOUT = 10.0
"""Seconds the check at start (``Endpoint.require``) waits for the server."""
CONTEXT_WORDS = ("context length", "context window", "maximum context", "too long", "exceed")
"""Words of a 400 that says the prompt does not fit the server's context."""


@dataclass
class Endpoint:
    """One server: its URL, what it says about itself, and a client for it."""

    url: str
    label: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    """What the server reported: its models (id, owned_by) and version, where it says."""

    def client(self, timeout: float):
        """The official client, without retries of its own: every retry is ours (core/faults.py),
        counted and bounded by the run's budget."""
        import os

        from openai import OpenAI

        return OpenAI(base_url=self.url, api_key=os.environ.get(API_KEY_ENV) or "not-needed",
                      timeout=timeout, max_retries=0)

    def require(self, model: str) -> None:
        """Refuse to begin unless the server answers and serves ``model``: ``Outage`` (exit 4)
        when it is not there, ``ConfigError`` naming what it serves when the model is not among
        them. One request (GET /models), no retries: a dead port fails in seconds."""
        import openai

        try:
            listed = self.client(CHECK_TIMEOUT).models.list()
        except openai.NotFoundError:
            return  # a server without /models: the first request will tell
        except (openai.APIConnectionError, openai.InternalServerError, openai.RateLimitError) as e:
            raise Outage(Fault(self.url, f"the server is not answering ({_message(e)})"), 1, 0.0,
                         "nothing was run; start the server (or check --endpoint), then run again") from None
        except (openai.AuthenticationError, openai.PermissionDeniedError) as e:
            raise ConfigError(f"{self.url}: the server refused the API key ({_message(e)}); "
                              f"set {API_KEY_ENV}") from None
        ids = [m.id for m in listed.data]
        self.info.setdefault("url", self.url)
        self.info["models"] = [{"id": m.id, "owned_by": getattr(m, "owned_by", None)} for m in listed.data]
        if ids and model not in ids:
            raise ConfigError(f"{self.url} does not serve a model {model!r}; it serves {', '.join(ids)}. "
                              f"Write served:NAME with one of those names")

    def describe(self) -> dict[str, Any]:
        """The server's models and version (GET /models, /version), recorded in eval.json."""
        if self.info:
            return self.info
        import urllib.request

        out: dict[str, Any] = {"url": self.url}
        try:
            models = self.client(CHECK_TIMEOUT).models.list()
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


class ServedVariant(TokenizerAnswers, BaseVariant):
    """A model behind an OpenAI-compatible server."""

    def __init__(self, name: str, model: str, endpoint: Endpoint, prompt: Callable[[str], str], system: str,
                 settings: Settings, schema: dict | None = None, task_name: str = "answer",
                 tokenizer: Callable[[], Any] | None = None):
        self.name, self.model, self.endpoint, self.prompt, self.system = name, model, endpoint, prompt, system
        self.settings, self.schema = settings, schema
        self._tokenizer_loader, self._tokenizer, self._pieces = tokenizer, None, None
        self.capabilities = Capabilities(streams=True, grammar=schema is not None,
                                         scores=tokenizer is not None and settings.served_api == "completions")
        self.api = settings.served_api
        endpoint.require(model)
        self.via = schema_via_for(endpoint, model, settings.schema_via) if schema is not None else None
        self.extra_greedy = GREEDY.get(endpoint.owner(model) or "", {})
        self.extra = {**self.extra_greedy, **(schema_body(self.via, schema, task_name) if schema is not None else {})}
        self._client = endpoint.client(settings.timeout)
        self.where = f"{endpoint.url} (model {model})"
        self.logprobs = settings.served_logprobs
        """Requests ask for the tokens' log-probabilities (``Settings.served_logprobs``; False once the
        server refused the field)."""

    @property
    def tokenizer(self):
        """The run's tokenizer (the base model's without a run): what the scored tokens are paired with."""
        if self._tokenizer is None:
            self._tokenizer = self._tokenizer_loader()
        return self._tokenizer

    def score(self, inputs: list[str], answers: list[list[int]], stops: list[int]) -> Iterator[tuple[int, Any]]:
        """Teacher-forced scores from the server's prompt log-probabilities (``runtimes/served_score.py``)."""
        from .served_score import score

        yield from score(self, inputs, answers, stops)

    def facts(self) -> dict[str, Any]:
        return {"runtime": "served", **self.describe()}

    def describe(self) -> dict[str, Any]:
        """What the report records of this row: where it ran and how."""
        return {"endpoint": self.endpoint.url, "model": self.model, "api": self.api, "schema_via": self.via,
                "owned_by": self.endpoint.owner(self.model), "version": self.endpoint.describe().get("version")}

    def _request(self, text: str, stop: threading.Event) -> Generation | Fault:
        """One request: its Generation, or the Fault it met (``stop`` set: the others stop sending)."""
        if stop.is_set():
            return Fault(self.where, "not sent: another request failed first", attempted=False)
        t0 = time.perf_counter()
        common = {"model": self.model, "max_tokens": self.settings.max_new_tokens, "temperature": 0.0, "top_p": 1.0,
                  "seed": 0, "extra_body": self.extra or None}
        asked = self.logprobs
        try:
            if self.api == "chat":
                r = self._client.chat.completions.create(
                    messages=[{"role": "system", "content": self.system}, {"role": "user", "content": text}], **common,
                    **({"logprobs": True} if asked else {}))
                out = r.choices[0].message.content or "" if r.choices else None
            else:
                r = self._client.completions.create(prompt=self.prompt(text), **common,
                                                    **({"logprobs": 1} if asked else {}))
                out = r.choices[0].text or "" if r.choices else None
        except Exception as e:  # noqa: BLE001 - sorted into faults, row errors and stops by _failed
            if asked and _about_logprobs(e):  # a server that will not give them: answers without them
                self.logprobs = False
                return self._request(text, stop)
            stop.set()
            return self._failed(e, time.perf_counter() - t0)
        if out is None:
            stop.set()
            return Fault(self.where, "the server answered without a choice")
        finish = r.choices[0].finish_reason or "stop"
        if finish in ("abort", "error"):  # vLLM aborts the requests of a server shutting down
            stop.set()
            return Fault(self.where, f"the server ended the request with finish_reason {finish!r}")
        reason = {"stop": "stop", "length": "length"}.get(finish)
        usage = r.usage
        given = _given_logprobs(r.choices[0], out, self.api == "chat")
        return Generation(out, reason or "error", getattr(usage, "prompt_tokens", 0) or 0,
                          getattr(usage, "completion_tokens", 0) or 0, time.perf_counter() - t0,
                          None if reason else f"the server ended with finish_reason {finish!r}",
                          logprobs=given[0] if given else None, offsets=given[1] if given else None)

    def _failed(self, e: Exception, seconds: float) -> Generation | Fault:
        """A request's exception as a Fault (retried), a row error (the prompt does not fit), or a
        ConfigError that stops the run with the fix."""
        import openai

        message = _message(e)
        if isinstance(e, openai.APITimeoutError):
            return Fault(self.where, f"APITimeoutError: no answer within {self.settings.timeout} s (the timeout setting)")
        if isinstance(e, (openai.APIConnectionError, openai.APIResponseValidationError)):
            return Fault(self.where, message)
        status = getattr(e, "status_code", None)
        if isinstance(e, openai.APIStatusError) and (status is None or status >= 500 or status in (408, 409, 429)):
            return Fault(self.where, message, retry_after(getattr(e.response, "headers", None)))
        if isinstance(e, (openai.BadRequestError, openai.UnprocessableEntityError)) and \
                any(w in str(e).lower() for w in CONTEXT_WORDS):
            return Generation("", "error", seconds=seconds, error=(
                f"the prompt does not fit the server's context ({message}); raise the server's context length "
                "(vLLM --max-model-len, llama.cpp -c) or lower max_new_tokens"))
        if isinstance(e, openai.NotFoundError):
            raise ConfigError(f"{self.endpoint.url}: the server refused model {self.model!r} ({message}); check "
                              f"the name (the server knows {self._known()}) and that the URL ends in /v1") from None
        if isinstance(e, (openai.AuthenticationError, openai.PermissionDeniedError)):
            raise ConfigError(f"{self.endpoint.url}: the server refused the API key ({message}); "
                              f"set {API_KEY_ENV}") from None
        if isinstance(e, openai.APIStatusError):
            raise ConfigError(f"{self.endpoint.url}: the server rejected the request for {self.model!r} ({message}); "
                              "no retry can mend it: check the served variant's settings (served_api, schema_via "
                              "in the suite's [generation]) against what this server takes") from None
        raise e

    def _known(self) -> str:
        ids = [m["id"] for m in self.endpoint.describe().get("models", [])]
        return ", ".join(ids) or "no model it would list"

    def execute(self, inputs: list[str]) -> Iterator[tuple[int, Generation | Fault]]:
        """``(index, Generation)`` as each request returns, up to ``concurrency`` in flight. A
        sample's seconds are its request's latency over the requests in flight with it, so they add
        up to about the wall time, as the local runtimes' shares do. At the first fault no more
        requests are sent: that request and every one not sent come back as a ``Fault`` (the
        caller retries them, ``runtimes/retry.py``)."""
        width = max(1, self.settings.concurrency)
        pending = list(enumerate(inputs))
        stop = threading.Event()
        pool = ThreadPoolExecutor(max_workers=width)
        try:
            running: dict[Future, int] = {}
            while pending or running:
                while pending and len(running) < width and not stop.is_set():
                    i, text = pending.pop(0)
                    running[pool.submit(self._request, text, stop)] = i
                if stop.is_set() and pending:
                    fault = Fault(self.where, "not sent: an earlier request failed", attempted=False)
                    for i, _ in pending:
                        yield i, fault
                    pending = []
                if not running:
                    continue
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                in_flight = len(running)
                for f in done:
                    i = running.pop(f)
                    g = f.result()
                    if isinstance(g, Generation):
                        g.seconds /= in_flight
                    yield i, g
        finally:
            stop.set()
            pool.shutdown(wait=False, cancel_futures=True)


def _build(name: VariantName, sources, settings: Settings, task: Task) -> Variant:
    """A served row: the prompt is the default run's (``served``), or the task's base-model prompt
    (``served-base``, or ``served`` without a run)."""
    if name.run not in sources.endpoints:
        which = f"--endpoint {name.run}=URL" if name.run else "--endpoint URL"
        raise ConfigError(f"variant {name} needs a server: pass {which} (an OpenAI-compatible base URL, "
                          "e.g. http://127.0.0.1:8000/v1)")
    run = sources.runs.get(None) if name.kind == "served" else None
    if run is not None:
        prompt, system = run.prompt, run.card.system
    else:
        fmt = chat_format(sources.base_spec())
        system = task.instruction
        prompt = lambda t: prompt_text(fmt, t, "chat", system)  # noqa: E731
    spec = run.spec if run is not None else sources.base_spec()
    return ServedVariant(str(name), name.model, sources.endpoints[name.run], prompt, system, settings,
                         task.schema if name.grammar else None, task.name,
                         tokenizer=lambda: load_tokenizer(spec, models.hf_path(spec)))


SERVED = Kind("served", _build, "a model behind an OpenAI-compatible server, prompted as the run was trained",
              served=True)
SERVED_BASE = Kind("served-base", _build, "a model behind an OpenAI-compatible server, with the base-model prompt",
                   served=True)


def _about_logprobs(e: Exception) -> bool:
    """Whether a failed request was refused for asking for log-probabilities (a server that does not
    give them: llama-cpp-python's built without all logits answers a 500 naming them)."""
    status = getattr(e, "status_code", None)
    return status in (400, 422, 500, 501) and "logprob" in str(e).lower()


def _given_logprobs(choice, text: str, chat: bool):
    """(log-probabilities, offsets) of a choice's tokens from the server's ``logprobs``, or None
    when it returned none (``core.confidence``)."""
    lp = getattr(choice, "logprobs", None)
    if lp is None:
        return None
    if chat:
        return chat_logprobs(text, getattr(lp, "content", None))
    return completion_logprobs(text, getattr(lp, "token_logprobs", None), getattr(lp, "text_offset", None),
                               getattr(lp, "tokens", None))


def _message(e: Exception) -> str:
    """An exception as ``Name: message`` in one short line."""
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text[:300]}"
