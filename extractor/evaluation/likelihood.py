"""The likelihood step of an evaluation: every artefact scores the gold answers (teacher forcing),
and the reference artefact says, where two artefacts' outputs part, how sure it was there.

Written as it is produced, like samples.jsonl, to two journals beside it:

- ``likelihood.jsonl``: per (data, variant, row), the variant's ``core.likelihood.TokenScores`` of
  the gold answer. Only artefacts are scored: a ``+grammar`` row runs the same weights as its free
  row (its likelihood is the free row's), the rules have none, and a variant whose runtime cannot
  score (``Capabilities.scores``: a server without prompt log-probabilities) is recorded as such.
- ``divergence.jsonl``: per (data, variant, row) whose greedy output differs from the reference's,
  the first token where they part and the reference's margin there: its log-probability of its
  own token minus that of the variant's (a near-tie is numerical noise, a wide margin a real change).

``--resume`` skips what is recorded; a fault of the runtime is retried as for generation
(``runtimes/retry.py``). ``evaluation/parity.py`` turns the files into the report's figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core import journal
from ..core.data import Example
from ..core.faults import Backoff
from ..core.likelihood import TokenScores, from_generation
from ..core.sample_record import SampleRecord
from ..core.task import Task
from ..runtimes import kinds, retry
from ..runtimes.variant import Variant, VariantName

LIKELIHOOD = "likelihood.jsonl"
DIVERGENCE = "divergence.jsonl"
REFERENCE = "adapter-hf"
"""The default reference artefact: the adapter as trained (``--reference`` chooses another)."""


@dataclass
class Scored:
    """One line of likelihood.jsonl: a row's gold answer scored by one variant."""

    data: str
    variant: str
    id: str
    scores: TokenScores

    @property
    def key(self) -> tuple[str, str, str]:
        return self.data, self.variant, self.id

    def to_json(self) -> dict[str, Any]:
        return {"data": self.data, "variant": self.variant, "id": self.id, **self.scores.to_json()}

    @classmethod
    def from_json(cls, obj: dict) -> "Scored":
        return cls(obj["data"], obj["variant"], obj["id"], TokenScores.from_json(obj))


@dataclass
class Divergence:
    """One line of divergence.jsonl: where a variant's greedy output first parts from the reference's."""

    data: str
    variant: str
    id: str
    reference: str
    position: int
    """The output token (in the reference's tokenization of both outputs) where they part."""
    reference_token: int | None
    variant_token: int | None
    """None: that output ended there (its end-of-turn)."""
    margin: float | None
    """log P_ref(reference_token) - log P_ref(variant_token), both given the prompt and the shared
    prefix, in nats (None: not measured)."""
    at_least: bool = False
    """The variant's token is not among the reference's top-k there: the margin is at least this."""

    @property
    def key(self) -> tuple[str, str, str]:
        return self.data, self.variant, self.id

    def to_json(self) -> dict[str, Any]:
        out = dict(vars(self))
        out["margin"] = None if self.margin is None else round(self.margin, 5)
        return out

    @classmethod
    def from_json(cls, obj: dict) -> "Divergence":
        return cls(**{k: obj.get(k) for k in ("data", "variant", "id", "reference", "position", "reference_token",
                                              "variant_token", "margin")}, at_least=bool(obj.get("at_least")))


def scored_by(name: VariantName) -> bool:
    """Whether the likelihood step scores this variant itself: an artefact, not its +grammar row
    (the same weights) and not the rules (no model)."""
    return not name.grammar and name.kind != "rules"


def recover(out: Path) -> None:
    """Before a resume: both journals end on a whole line (``core.journal.recover``)."""
    journal.recover(out / LIKELIHOOD)
    journal.recover(out / DIVERGENCE)


def same_run(name: VariantName, reference: VariantName) -> bool:
    """Whether ``name`` is an artefact of the reference's run (a conversion of the same training:
    merged, GGUF, served prompted as that run), the ones whose parting outputs are worth a margin."""
    kind = kinds.get(name.kind)
    return name.run == reference.run and kind is not None and (kind.needs_run or name.kind == "served")


def read(out: Path) -> list[Scored]:
    return [Scored.from_json(x) for x in journal.read(out / LIKELIHOOD, torn="skip")]


def read_divergences(out: Path) -> list[Divergence]:
    return [Divergence.from_json(x) for x in journal.read(out / DIVERGENCE, torn="skip")]


class Reuse:
    """The gold answers' scores that came with the generation itself, for the rows of ``wanted``
    that need no teacher-forced pass of their own: scored in the row's context as it finished
    (``Generation.gold``, ``Capabilities.scores_gold``), or read off a greedy output that is the
    gold answer (``core.likelihood.from_generation``). ``take`` sees every generation of the
    variant as it comes; ``seconds``: the time the scoring took inside the generation."""

    def __init__(self, variant: Variant, wanted: list[tuple[str, Example]], task: Task):
        self.found: dict[tuple[str, str], TokenScores] = {}
        self.seconds = 0.0
        self.gold: dict[tuple[str, str], list[int]] = {}
        self.stop: int | None = None
        if wanted:
            self.gold = {(d, ex.id): variant.answer_ids(task.answer_text(ex.output)) for d, ex in wanted}
            self.stop = variant.stop_token

    def take(self, d: str, ex: Example, g) -> None:
        gold = self.gold.get((d, ex.id))
        if gold is not None and g.gold is not None:
            self.found[(d, ex.id)] = g.gold
            self.seconds += g.gold.seconds
        elif gold is not None and g.positions is not None:
            s = from_generation(g.tokens, g.logprobs, g.positions, gold, self.stop, g.prompt_tokens)
            if s is not None:
                self.found[(d, ex.id)] = s


def score_variant(variant: Variant, label: str, todo: list[tuple[str, Example]], task: Task, out: Path,
                  backoff: Backoff, faults: retry.Faults, log: Callable[[str], None], reuse: Reuse) -> int:
    """Score the gold answers of ``todo`` ((data label, row) pairs not yet in likelihood.jsonl)
    with ``variant`` (already open: the one that just generated), appending each as it comes: the
    rows whose generation was the gold answer from ``reuse``, the others in a teacher-forced pass.
    Returns how many were scored."""
    if not todo:
        return 0
    rest = [(d, ex) for d, ex in todo if (d, ex.id) not in reuse.found]
    inputs = [ex.input for _, ex in rest]
    answers = [reuse.gold.get((d, ex.id)) or variant.answer_ids(task.answer_text(ex.output)) for d, ex in rest]
    stops = [variant.stop_token] * len(rest)
    with journal.Journal(out / LIKELIHOOD, sync_every_record=False) as sink:
        for (d, ex) in todo:
            if (d, ex.id) in reuse.found:
                sink.append(Scored(d, label, ex.id, reuse.found[(d, ex.id)]).to_json())
        for j, s in retry.score(variant, inputs, answers, stops, backoff, faults=faults, log=log):
            d, ex = rest[j]
            sink.append(Scored(d, label, ex.id, s).to_json())
    return len(todo)


def diverging(reference: dict[str, SampleRecord], other: dict[str, SampleRecord],
              tokenize: Callable[[str], list[int]]) -> list[tuple[str, list[int], int | None, int | None]]:
    """Per row id whose outputs differ (raw text or how it ended): (id, the shared token prefix in
    the reference's tokenization, the reference's next token, the variant's; None where an output
    ended)."""
    out = []
    for i, r in reference.items():
        o = other.get(i)
        if o is None or (o.raw == r.raw and o.finish_reason == r.finish_reason) or r.error or o.error:
            continue
        a, b = tokenize(r.raw), tokenize(o.raw)
        n = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        out.append((i, a[:n], a[n] if n < len(a) else None, b[n] if n < len(b) else None))
    return out


def margins(reference: Variant, label: str, rows: list[tuple[str, str, str, list[int], int | None, int | None]],
            inputs: dict[tuple[str, str], str], out: Path, backoff: Backoff, log: Callable[[str], None]) -> int:
    """For each (data, variant, id, prefix, reference token, variant token): the reference's margin
    at the first token where the outputs part, appended to divergence.jsonl. A token that is None
    (an output that ended) is the reference's end-of-turn token. One pass per row: the prefix and the
    reference's token fed; the variant's token's log-probability is read from the top-k at that
    position, and when it is not among them the margin is at least the gap to the k-th (recorded so)."""
    if not rows:
        return 0
    stop = reference.stop_token
    asked = [(d, v, i, prefix, stop if a is None else a, stop if b is None else b) for d, v, i, prefix, a, b in rows]
    got: dict[int, TokenScores] = dict(retry.score(reference, [inputs[(d, i)] for d, _, i, *_ in asked],
                                                   [list(p) for *_, p, _, _ in asked], [a for *_, a, _ in asked],
                                                   backoff, log=log))
    with journal.Journal(out / DIVERGENCE, sync_every_record=False) as sink:
        for k, (d, v, i, prefix, ref_tok, var_tok) in enumerate(asked):
            s = got[k]
            margin, listed = None, False
            if not s.error:
                alts = {int(t): lp for t, lp in s.top[-1]}
                listed = var_tok in alts
                margin = s.logprobs[-1] - (alts[var_tok] if listed else s.top[-1][-1][1])
            sink.append(Divergence(d, v, i, label, len(prefix), rows[k][4], rows[k][5], margin,
                                   at_least=not listed).to_json())
    return len(rows)
