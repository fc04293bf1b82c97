"""Generic field metrics: any JSON answer against its gold, with no knowledge of the task.

Pure functions of (gold, parsed): ``score`` gives one ``FieldScore`` per sample, ``aggregate``
turns many into a ``FieldReport``. docs/tasks.md ("Generic field metrics") defines them; in short:

- **exact match**: the canonical JSON texts are equal (keys sorted, numbers normalised - ``1``
  equals ``1.0`` - strings normalised as the options say, arrays as multisets);
- **leaves**: an answer flattens into (field, value) leaves, the field being the path with
  array indices removed (``references[].canto``); empty arrays and objects have no leaves;
- **precision / recall / F1** over leaves, micro over all fields and per field; a gold leaf no
  prediction matches is *missing*, a predicted leaf matching no gold leaf is *extra* (a wrong
  value is one of each);
- **arrays are multisets**. Scalars in an array are matched by value. Objects (and arrays) in an
  array are paired first: identical items, then the remaining items greedily by how many leaves
  they share (most first; with ``FieldOptions.keys``, only items with equal key fields pair);
  a paired item scores leaf by leaf, an unpaired one counts all its leaves missing or extra. So
  a value is credited only inside the item it belongs to: predicting ``{canto 9, lines [2]}`` and
  ``{canto 3, lines [15]}`` for gold ``{9, [15]}``, ``{3, [2]}`` does not score as correct.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .metrics import Tally, rate

ROOT = "$"
"""The field of a whole answer that is a scalar."""


@dataclass(frozen=True)
class FieldOptions:
    """How leaves are compared. The defaults compare exactly (after number normalisation)."""

    fold_case: bool = False
    """Strings equal regardless of case (Unicode case folding)."""
    collapse_whitespace: bool = False
    """Strip strings and turn every run of whitespace into one space."""
    strip_punctuation: bool = False
    """Remove punctuation (Unicode category P*) and whitespace at either end of a string."""
    abs_tol: float = 0.0
    """Numbers equal when they differ by at most this much..."""
    rel_tol: float = 0.0
    """...or by at most this share of the larger magnitude (``math.isclose`` semantics)."""
    keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Array field -> the item fields that identify an item, e.g. ``{"references[]": ("canto",)}``:
    items of that array pair only with items whose key fields are equal. Exact match ignores it."""


@dataclass
class Counts:
    """Leaf counts of one field (or of all fields)."""

    tp: int = 0
    """Gold leaves matched by a predicted leaf (each predicted leaf matches at most one)."""
    missing: int = 0
    """Gold leaves no predicted leaf matches (false negatives)."""
    extra: int = 0
    """Predicted leaves that match no gold leaf (false positives)."""

    def add(self, other: "Counts") -> None:
        self.tp += other.tp
        self.missing += other.missing
        self.extra += other.extra

    def tally(self) -> Tally:
        """(tp, predicted leaves, gold leaves): the counts ``core.metrics.Tally`` takes the figures from."""
        return Tally(self.tp, self.tp + self.extra, self.tp + self.missing)

    @property
    def precision(self) -> float | None:
        """tp / (tp + extra); None when nothing was predicted (``Tally``'s convention)."""
        return self.tally().precision

    @property
    def recall(self) -> float | None:
        """tp / (tp + missing); None when the gold has no leaf."""
        return self.tally().recall

    @property
    def f1(self) -> float | None:
        """2 tp / (2 tp + missing + extra); None when neither side has a leaf."""
        return self.tally().f1


@dataclass(frozen=True)
class FieldScore:
    """What one sample contributes to the field metrics."""

    valid: bool
    """The output parsed into an answer (an invalid one predicts nothing: every gold leaf is missing)."""
    exact: bool
    """Canonical JSON of answer and gold are equal."""
    total: Counts
    """Leaf counts over every field."""
    by_field: dict[str, Counts]
    """Leaf counts per field (path without array indices), only fields with a leaf on either side."""


@dataclass(frozen=True)
class FieldStats:
    """Aggregate figures of one field."""

    tp: int
    missing: int
    extra: int
    precision: float | None
    recall: float | None
    f1: float | None


@dataclass(frozen=True)
class FieldReport:
    """The field metrics of many samples (``core.task.FIELD_METRICS`` declares each figure)."""

    n: int
    """Samples."""
    exact_match: float | None
    precision: float | None
    recall: float | None
    f1: float | None
    macro_f1: float | None
    missing_per_sample: float | None
    extra_per_sample: float | None
    total: FieldStats
    by_field: dict[str, FieldStats]
    """Per field, sorted by field path."""


# ----------------------------------------------------------------------------- values
def normalise_string(s: str, options: FieldOptions) -> str:
    if options.collapse_whitespace:
        s = " ".join(s.split())
    if options.strip_punctuation:
        start, end = 0, len(s)
        while start < end and _is_edge(s[start]):
            start += 1
        while end > start and _is_edge(s[end - 1]):
            end -= 1
        s = s[start:end]
    if options.fold_case:
        s = s.casefold()
    return s


def _is_edge(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch).startswith("P")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _number(v: int | float) -> int | float:
    """1.0 -> 1, -0.0 -> 0; other floats as they are."""
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        return int(v)
    return v


def canonical(value: Any, options: FieldOptions = FieldOptions()) -> Any:
    """Keys sorted, numbers normalised, strings normalised, array items sorted by their text."""
    if isinstance(value, dict):
        return {k: canonical(value[k], options) for k in sorted(value)}
    if isinstance(value, list):
        return sorted((canonical(v, options) for v in value), key=_text)
    if isinstance(value, str):
        return normalise_string(value, options)
    if _is_number(value):
        return _number(value)
    return value


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any, options: FieldOptions = FieldOptions()) -> str:
    """The canonical JSON text exact match compares."""
    return _text(canonical(value, options))


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if _is_number(v):
        return "number"
    if isinstance(v, str):
        return "string"
    return "container"


def scalars_equal(a: Any, b: Any, options: FieldOptions = FieldOptions()) -> bool:
    """Two leaves match: same JSON type (true is not 1), and equal under the options."""
    kind = _kind(a)
    if kind != _kind(b):
        return False
    if kind == "number":
        return a == b or math.isclose(a, b, rel_tol=options.rel_tol, abs_tol=options.abs_tol)
    if kind == "string":
        return normalise_string(a, options) == normalise_string(b, options)
    return a == b


# ----------------------------------------------------------------------------- leaves
def _child(path: str, key: str) -> str:
    plain = key and not any(c in key for c in '.[]"') and key != ROOT
    name = key if plain else "[" + json.dumps(key, ensure_ascii=False) + "]"
    if path == ROOT:
        return name
    return f"{path}{name}" if name.startswith("[") else f"{path}.{name}"


def _item(path: str) -> str:
    return ("" if path == ROOT else path) + "[]"


def leaves(value: Any, path: str = ROOT) -> Iterable[tuple[str, Any]]:
    """(field, value) for every scalar in ``value``; empty arrays and objects give none."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, _child(path, k))
    elif isinstance(value, list):
        for v in value:
            yield from leaves(v, _item(path))
    else:
        yield path, value


def _only(value: Any, path: str, side: str) -> dict[str, Counts]:
    out: dict[str, Counts] = {}
    for f, _ in leaves(value, path):
        c = out.setdefault(f, Counts())
        if side == "gold":
            c.missing += 1
        else:
            c.extra += 1
    return out


def _merge(into: dict[str, Counts], other: dict[str, Counts]) -> None:
    for f, c in other.items():
        into.setdefault(f, Counts()).add(c)


def _tp(counts: dict[str, Counts]) -> int:
    return sum(c.tp for c in counts.values())


# ----------------------------------------------------------------------------- comparison
def compare(gold: Any, pred: Any, options: FieldOptions = FieldOptions(), path: str = ROOT) -> dict[str, Counts]:
    """Leaf counts per field of ``pred`` against ``gold`` (both JSON values)."""
    if isinstance(gold, dict) and isinstance(pred, dict):
        out: dict[str, Counts] = {}
        for k in list(gold) + [k for k in pred if k not in gold]:
            sub = _child(path, k)
            if k not in pred:
                _merge(out, _only(gold[k], sub, "gold"))
            elif k not in gold:
                _merge(out, _only(pred[k], sub, "pred"))
            else:
                _merge(out, compare(gold[k], pred[k], options, sub))
        return out
    if isinstance(gold, list) and isinstance(pred, list):
        return _compare_arrays(gold, pred, options, _item(path))
    if _kind(gold) != "container" and _kind(pred) != "container":
        if scalars_equal(gold, pred, options):
            return {path: Counts(tp=1)}
        return {path: Counts(missing=1, extra=1)}
    out = _only(gold, path, "gold")  # an object against an array, a scalar against a container
    _merge(out, _only(pred, path, "pred"))
    return out


def _compare_arrays(gold: list, pred: list, options: FieldOptions, path: str) -> dict[str, Counts]:
    out: dict[str, Counts] = {}
    g_scalars = [v for v in gold if _kind(v) != "container"]
    p_scalars = [v for v in pred if _kind(v) != "container"]
    tp = _match_scalars(g_scalars, p_scalars, options)
    if g_scalars or p_scalars:
        out[path] = Counts(tp, len(g_scalars) - tp, len(p_scalars) - tp)
    g_items = [v for v in gold if _kind(v) == "container"]
    p_items = [v for v in pred if _kind(v) == "container"]
    for g, p in _pair_items(g_items, p_items, options, path):
        if p is None:
            _merge(out, _only(g, path, "gold"))
        elif g is None:
            _merge(out, _only(p, path, "pred"))
        else:
            _merge(out, compare(g, p, options, path))
    return out


def _match_scalars(gold: list, pred: list, options: FieldOptions) -> int:
    """Size of a matching between equal scalars: by normalised value; numbers with a tolerance
    greedily in sorted order (a maximum matching for an absolute tolerance)."""
    tp = 0
    for kind in ("null", "bool", "string"):
        g = Counter(canonical(v, options) for v in gold if _kind(v) == kind)
        p = Counter(canonical(v, options) for v in pred if _kind(v) == kind)
        tp += sum((g & p).values())
    g_num = sorted(v for v in gold if _kind(v) == "number")
    p_num = sorted(v for v in pred if _kind(v) == "number")
    i = j = 0
    while i < len(g_num) and j < len(p_num):
        if scalars_equal(g_num[i], p_num[j], options):
            tp, i, j = tp + 1, i + 1, j + 1
        elif g_num[i] < p_num[j]:
            i += 1
        else:
            j += 1
    return tp


def _key_of(item: Any, fields: tuple[str, ...], options: FieldOptions) -> str | None:
    if not fields or not isinstance(item, dict):
        return None
    return _text([canonical(item.get(f), options) for f in fields])


def _pair_items(gold: list, pred: list, options: FieldOptions, path: str) -> list[tuple[Any, Any]]:
    """Pairs (gold item, predicted item); an unpaired item is paired with None."""
    fields = tuple(options.keys.get(path, ()))
    free_g, free_p = list(range(len(gold))), list(range(len(pred)))
    pairs: list[tuple[Any, Any]] = []
    # 1. identical items (canonical JSON), in order
    by_text: dict[str, list[int]] = {}
    for j in free_p:
        by_text.setdefault(canonical_json(pred[j], options), []).append(j)
    for i in list(free_g):
        same = by_text.get(canonical_json(gold[i], options))
        if same:
            j = same.pop(0)
            pairs.append((gold[i], pred[j]))
            free_g.remove(i)
            free_p.remove(j)
    # 2. the rest greedily by leaves shared (most first, then order), within equal keys
    scored = []
    for i in free_g:
        for j in free_p:
            if _key_of(gold[i], fields, options) != _key_of(pred[j], fields, options):
                continue
            shared = _tp(compare(gold[i], pred[j], options, path))
            if shared:
                scored.append((-shared, i, j))
    for _, i, j in sorted(scored):
        if i in free_g and j in free_p:
            pairs.append((gold[i], pred[j]))
            free_g.remove(i)
            free_p.remove(j)
    pairs += [(gold[i], None) for i in free_g]
    pairs += [(None, pred[j]) for j in free_p]
    return pairs


# ----------------------------------------------------------------------------- per sample, aggregate
def score(gold: Any, parsed: Any, options: FieldOptions = FieldOptions(), *, valid: bool = True) -> FieldScore:
    """One sample: ``parsed`` is the model's answer as a JSON value. ``valid=False`` says the
    output gave no answer (it did not parse, or failed the schema): it predicts nothing, every
    gold leaf is missing, and ``parsed`` is not looked at."""
    if not valid:
        by_field = _only(gold, ROOT, "gold")
        ok, exact = False, False
    else:
        by_field = compare(gold, parsed, options)
        ok, exact = True, canonical_json(gold, options) == canonical_json(parsed, options)
    total = Counts()
    for c in by_field.values():
        total.add(c)
    return FieldScore(ok, exact, total, dict(sorted(by_field.items())))


def _stats(c: Counts) -> FieldStats:
    return FieldStats(c.tp, c.missing, c.extra, c.precision, c.recall, c.f1)


def aggregate(scores: list[FieldScore]) -> FieldReport:
    """Micro figures over all samples (``core.metrics.Tally``), per field, and the per-sample rates."""
    total, by_field = Counts(), {}
    for s in scores:
        total.add(s.total)
        _merge(by_field, s.by_field)
    n = len(scores)
    f1s = [c.f1 for c in by_field.values() if c.f1 is not None]
    return FieldReport(
        n=n,
        exact_match=rate([s.exact for s in scores]),
        precision=total.precision, recall=total.recall, f1=total.f1,
        macro_f1=sum(f1s) / len(f1s) if f1s else None,
        missing_per_sample=total.missing / n if n else None,
        extra_per_sample=total.extra / n if n else None,
        total=_stats(total),
        by_field={f: _stats(c) for f, c in sorted(by_field.items())},
    )
