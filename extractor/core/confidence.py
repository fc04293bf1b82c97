"""A confidence for every answer and every field, from the probabilities of the tokens the model
generated: no second pass, no extra model call.

- **What a runtime records** (``Generation.logprobs``, ``Generation.offsets``): per generated token
  (the end-of-turn token excluded, as in ``tokens``), its log-probability under the model's own
  distribution at that step (a log-sum-exp of the logits row the runtime already holds to choose the
  token) and the character where it starts in the output text. Under a grammar it is still the
  model's own, unconstrained probability of the token the grammar let through: how sure the model
  was, not how sure the renormalised mask made it. A served row takes them from the API's logprobs
  (``completion_logprobs``, ``chat_logprobs``); a server that returns none gives no confidence.
- **Which tokens a value owns**: ``leaf_spans`` walks the answer's JSON text and gives each scalar's
  character span; a value's tokens are the tokens overlapping its span. The answer's tokens are
  those overlapping the whole JSON value (its brackets, keys and commas included: ending the list
  of references one item early is a choice of a ``]`` token).
- **The aggregate** (``AGGREGATE``): the **minimum** token probability over those tokens. One wrong
  digit makes a wrong answer however sure the model was of the rest, and the mean of a long answer's
  near-certain brackets and keys hides its one unsure digit. On the 291 test rows of the default
  run both rank exact above wrong answers alike (merged-gguf AUROC 0.871 against the geometric
  mean's 0.878, the difference's 95% bootstrap interval [-0.024, 0.013]), but the minimum reads as
  a probability (ECE 0.10 against 0.22: the mean puts nearly every answer above 0.95) and keeps
  more rows at 99% exact (0.11 against 0.04); docs/metrics.md, "Confidence and calibration".
  ``confidence(..., how="mean")`` is kept to compare.
- **Per field**: the fields are ``core.fields``' paths (``references[].canto``,
  ``author``); a field's confidence is the aggregate over the tokens of every value it has in the
  answer (the least sure of its values, with the minimum).

A confidence exists only for a schema-valid answer whose tokens' probabilities are known.
"""

from __future__ import annotations

import codecs
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from json.decoder import scanstring
from typing import Any

from . import fields as field_paths

AGGREGATE = "min"
"""How a value's token log-probabilities become its confidence: ``min`` (the least likely token's
probability) or ``mean`` (the geometric mean of the tokens' probabilities)."""
AGGREGATE_WORDS = "the least likely token's probability among the answer's tokens"
"""``AGGREGATE`` in words, for the reports."""
LOGPROB_DIGITS = 4
"""samples.jsonl keeps token log-probabilities to this many decimals (1e-4 nats: a probability of
0.9999 is told from 1; well below any difference a confidence bin reads)."""
DIGITS = 4
"""Confidences are written to this many decimals."""


@dataclass(frozen=True)
class Confidence:
    """One answer's confidence and its fields'."""

    answer: float
    """The aggregate over the tokens of the whole JSON answer, in [0, 1]."""
    fields: dict[str, float] = field(default_factory=dict)
    """Field path (``core.fields``) -> the aggregate over the tokens of its values; empty when the
    answer has no scalar (``{"references": []}``)."""


# ----------------------------------------------------------------------------- what runtimes record
def rounded(logprobs: Iterable[float] | None) -> tuple[float, ...] | None:
    """Log-probabilities as samples.jsonl keeps them (``LOGPROB_DIGITS``; -0.0 written 0.0);
    None for none."""
    if logprobs is None:
        return None
    out = tuple(round(float(x), LOGPROB_DIGITS) + 0.0 for x in logprobs)
    return out or None


def piece_offsets(pieces: Iterable[bytes], text: str) -> tuple[int, ...] | None:
    """The character where each token starts in ``text``, from the tokens' UTF-8 pieces (what
    llama.cpp's detokenizer concatenates). A token that ends inside a multi-byte character gives it
    to the next token. None when the pieces do not make ``text``."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="ignore")
    out, at = [], 0
    for piece in pieces:
        out.append(at)
        at += len(decoder.decode(piece))
    at += len(decoder.decode(b"", final=True))
    return tuple(out) if at == len(text) else None


def decode_offsets(ids: Sequence[int], decode: Callable[[list[int]], str], text: str,
                   batch: Callable[[list[list[int]]], list[str]] | None = None) -> tuple[int, ...] | None:
    """The character where each token starts in ``text`` (``decode(ids)``), for a tokenizer that
    decodes whole lists (transformers). Each token decoded alone, when those pieces make the text
    (ASCII answers); else the length of each prefix's decoding, kept non-decreasing and within the
    text. ``batch``: decodes many lists at once (``tokenizer.batch_decode``)."""
    ids = list(ids)
    if not ids:
        return ()
    pieces = batch([[t] for t in ids]) if batch is not None else [decode([t]) for t in ids]
    if "".join(pieces) == text and "\ufffd" not in text:
        out, at = [], 0
        for p in pieces:
            out.append(at)
            at += len(p)
        return tuple(out)
    out, last = [], 0
    for k in range(len(ids)):
        last = min(max(last, len(decode(ids[:k])) if k else 0), len(text))
        out.append(last)
    return tuple(out)


def completion_logprobs(text: str, token_logprobs: Sequence[float | None] | None,
                        text_offset: Sequence[int] | None = None,
                        tokens: Sequence[str] | None = None) -> tuple[tuple[float, ...], tuple[int, ...]] | None:
    """(log-probabilities, offsets) from a completions endpoint's ``logprobs`` (``logprobs=1``):
    its ``token_logprobs`` and ``text_offset`` (counted from the prompt's start by some servers,
    from the completion's by others: shifted so the first token starts at 0), else the offsets
    of its ``tokens`` strings laid end to end. None when they are missing or do not fit ``text``."""
    if not token_logprobs or any(x is None for x in token_logprobs):
        return None
    lps = tuple(float(x) for x in token_logprobs)
    offsets: tuple[int, ...] | None = None
    if text_offset and len(text_offset) == len(lps):
        first = text_offset[0]
        offsets = tuple(o - first for o in text_offset)
        if any(b < a for a, b in zip(offsets, offsets[1:])) or offsets[-1] > len(text):
            offsets = None
    if offsets is None and tokens is not None and len(tokens) == len(lps):
        offsets = _laid_end_to_end(tokens, text)
    return (lps, offsets) if offsets is not None else None


def chat_logprobs(text: str, content: Sequence[Any] | None) -> tuple[tuple[float, ...], tuple[int, ...]] | None:
    """(log-probabilities, offsets) from a chat endpoint's ``logprobs.content`` (``logprobs=True``):
    each item's ``logprob`` and ``token`` (or its UTF-8 ``bytes``). None when missing or when the
    tokens do not make ``text``."""
    if not content:
        return None
    lps, pieces, texts = [], [], []
    for item in content:
        get = item.get if isinstance(item, Mapping) else (lambda k, o=item: getattr(o, k, None))
        lp = get("logprob")
        if lp is None:
            return None
        lps.append(float(lp))
        raw = get("bytes")
        pieces.append(bytes(raw) if raw is not None else None)
        texts.append(get("token") or "")
    offsets = piece_offsets(pieces, text) if all(p is not None for p in pieces) else None
    if offsets is None:
        offsets = _laid_end_to_end(texts, text)
    return (tuple(lps), offsets) if offsets is not None else None


def _laid_end_to_end(tokens: Sequence[str], text: str) -> tuple[int, ...] | None:
    out, at = [], 0
    for t in tokens:
        out.append(at)
        at += len(t)
    return tuple(out) if "".join(tokens) == text else None


# ----------------------------------------------------------------------------- spans of JSON values
_WS = " \t\n\r"
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_LITERALS = ("true", "false", "null", "NaN", "Infinity", "-Infinity")


def leaf_spans(text: str, start: int = 0) -> list[tuple[int, int]] | None:
    """The character span ``[start, end)`` in ``text`` of every scalar of the JSON value that begins
    at ``start`` (after any whitespace), in document order (the order ``core.fields.leaves`` gives
    the parsed value's leaves); a string's span includes its quotes. None when the text is not
    one JSON value there."""
    out: list[tuple[int, int]] = []
    n = len(text)

    def skip(i: int) -> int:
        while i < n and text[i] in _WS:
            i += 1
        return i

    def container(i: int, close: str, keyed: bool) -> int:
        i = skip(i + 1)
        if text[i] == close:
            return i + 1
        while True:
            i = skip(i)
            if keyed:
                if text[i] != '"':
                    raise ValueError("a key must be a string")
                _, i = scanstring(text, i + 1)
                i = skip(i)
                if text[i] != ":":
                    raise ValueError("':' expected")
                i += 1
            i = skip(value(i))
            if text[i] == ",":
                i += 1
            elif text[i] == close:
                return i + 1
            else:
                raise ValueError(f"',' or {close!r} expected")

    def value(i: int) -> int:
        i = skip(i)
        c = text[i]
        if c == "{":
            return container(i, "}", True)
        if c == "[":
            return container(i, "]", False)
        if c == '"':
            _, end = scanstring(text, i + 1)
        elif (m := _NUMBER.match(text, i)) is not None:
            end = m.end()
        else:
            word = next((w for w in _LITERALS if text.startswith(w, i)), None)
            if word is None:
                raise ValueError("not a JSON value")
            end = i + len(word)
        out.append((i, end))
        return end

    try:
        value(start)
    except (ValueError, IndexError, RecursionError):
        return None
    return out


# ----------------------------------------------------------------------------- the confidence
def _aggregate(lps: list[float], how: str) -> float:
    lp = min(lps) if how == "min" else sum(lps) / len(lps)
    return math.exp(lp)


def _owned(offsets: Sequence[int], length: int, start: int, end: int) -> list[int]:
    """The tokens overlapping characters ``[start, end)``: token k covers ``[offsets[k],
    offsets[k + 1])`` (the last, to the text's end); one of no characters (a piece of a multi-byte
    character) covers the character it starts."""
    out = []
    for k, a in enumerate(offsets):
        b = offsets[k + 1] if k + 1 < len(offsets) else length
        b = max(b, a + 1)
        if a < end and b > start:
            out.append(k)
        elif a >= end:
            break
    return out


def confidence(raw: str, logprobs: Sequence[float] | None, offsets: Sequence[int] | None, parsed: Any,
               how: str = AGGREGATE) -> Confidence | None:
    """The confidence of a parsed answer (a ``core.parsing.Answer``) and of its fields, from the
    raw output's token log-probabilities and offsets; None when the answer is not schema-valid or
    its tokens' probabilities are not known. ``how``: ``min`` or ``mean`` (``AGGREGATE``)."""
    if not logprobs or offsets is None or len(logprobs) != len(offsets) or not getattr(parsed, "valid", False):
        return None
    text = getattr(parsed, "json_text", "") or ""
    start = raw.find(text) if text else -1
    if start < 0:
        return None
    end = start + len(text)
    whole = _owned(offsets, len(raw), start, end)
    if not whole:
        return None
    answer = _aggregate([logprobs[k] for k in whole], how)
    spans = leaf_spans(raw, start)
    paths = [p for p, _ in field_paths.leaves(parsed.value)]
    by_field: dict[str, set[int]] = {}
    if spans is not None and len(spans) == len(paths):  # else (a key given twice): no per-field figures
        for path, (a, b) in zip(paths, spans):
            by_field.setdefault(path, set()).update(_owned(offsets, len(raw), a, b))
    fields = {p: round(_aggregate([logprobs[k] for k in sorted(ks)], how), DIGITS)
              for p, ks in by_field.items() if ks}
    return Confidence(round(answer, DIGITS), fields)


def recorded(raw: str, logprobs: Sequence[float] | None, offsets: Sequence[int] | None, parsed: Any) -> dict[str, Any]:
    """The keys of a samples.jsonl record (``SampleRecord``) an output's token probabilities give:
    ``logprobs`` (rounded as kept), ``offsets``, and the ``confidence`` and ``field_confidence``
    computed from what is kept (so scoring the record again gives the same figures); {} when the
    runtime gave none (or offsets that do not match them)."""
    lps = rounded(logprobs)
    if lps is None or offsets is None or len(offsets) != len(lps):
        return {}
    offs = tuple(int(o) for o in offsets)
    found = confidence(raw, lps, offs, parsed)
    return {"logprobs": lps, "offsets": offs, "confidence": found.answer if found else None,
            "field_confidence": (found.fields or None) if found else None}


def of_record(record: Any, parsed: Any, how: str = AGGREGATE) -> float | None:
    """The answer confidence of a samples.jsonl record (``core.sample_record.SampleRecord``) parsed
    as ``parsed``: from its token log-probabilities when it has them, else the confidence it
    recorded (None: neither)."""
    logprobs = getattr(record, "logprobs", None)
    if logprobs:
        found = confidence(record.raw, logprobs, getattr(record, "offsets", None), parsed, how)
        return found.answer if found is not None else None
    return getattr(record, "confidence", None) if getattr(parsed, "valid", False) else None


def scored(task: Any, record: Any) -> Any:
    """``task.score(record)`` (a ``core.task.Sample``) with its ``confidence``, for every task: a
    task's ``score`` need not know about confidences (one that sets its own keeps it)."""
    sample = task.score(record)
    if getattr(sample, "confidence", None) is not None:
        return sample
    found = of_record(record, sample.parsed)
    return sample if found is None else replace(sample, confidence=found)
