"""The likelihood view's figures (``evaluation/likelihood.py`` wrote the scores): per artefact the
gold NLL per token, P(end-of-turn | gold answer) and how often greedy decoding reproduces the gold
answer; per artefact against the reference, KL along the gold answer, the NLL change with its
interval and test, and where their outputs part.

The tests, chosen for this question (does converting, merging or quantizing cost anything?):

- the **NLL change** is token-weighted (the summed NLL of every answer token, relative to the
  reference's), with a 95% paired bootstrap interval over rows (fixed seed);
- its **test** is the exact sign test over rows: how many rows got worse against how many got
  better. A conversion's damage is small and spread over most rows, which the sign test sees where
  a test of the mean, dominated by a few hard rows, does not (docs/metrics.md);
- a change is a **cost** only when the sign test is significant (p < ``ALPHA``), more rows got
  worse than better, and the NLL rose by at least ``TOLERANCE``: below that, two runtimes of the
  same weights differ as much (numerical noise), so it is "no measurable cost". KL below
  ``SAME_KL`` per token with no cost reads "the same model".
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..core.likelihood import kl
from ..core.sample_record import SampleRecord
from ..runtimes import kinds
from ..runtimes.variant import parse_name
from .likelihood import Divergence, Scored
from .verdict import ALPHA, binomial_p
from .view_records import ArtefactLikelihood, Parity

STOP_THRESHOLD = 0.5
"""Mean P(end-of-turn | gold answer) below which an artefact "never learnt to stop"."""
TOLERANCE = 0.01
"""The smallest NLL rise (relative) called a cost: the noise between runtimes of the same weights."""
SAME_KL = 0.001
"""KL per token (nats) below which, with no measurable cost, two artefacts are "the same model"."""
NEAR_TIE = 0.5
"""A reference margin (nats) below which a parting of outputs is a near-tie: numerical noise."""
N_BOOT = 2000
SEED = 38


def artefacts(scored: Iterable[Scored]) -> dict[str, dict[str, ArtefactLikelihood]]:
    """{data: {variant: its figures}} over the rows each variant scored."""
    groups: dict[str, dict[str, list[Scored]]] = {}
    for s in scored:
        if not s.scores.error:
            groups.setdefault(s.data, {}).setdefault(s.variant, []).append(s)
    out: dict = {}
    for d, by_v in groups.items():
        for v, rows in by_v.items():
            tokens = sum(len(r.scores.answer) for r in rows)
            stops = [r.scores.p_stop for r in rows]
            mean_stop = sum(stops) / len(stops)
            out.setdefault(d, {})[v] = ArtefactLikelihood(
                rows=len(rows), nll_per_token=sum(r.scores.nll for r in rows) / max(tokens, 1),
                p_stop=mean_stop, p_stop_min=min(stops),
                greedy_reproduces=sum(r.scores.first_miss is None for r in rows) / len(rows),
                source=rows[0].scores.source, never_stops=mean_stop < STOP_THRESHOLD)
    return out


def parity(scored: Iterable[Scored], reference: str, samples: dict[str, dict[str, dict[str, SampleRecord]]],
           divergences: Iterable[Divergence]) -> dict[str, dict[str, Parity]]:
    """{data: {variant: its parity with ``reference``}} for every scored variant but the reference,
    on the rows both scored with the same gold tokens. ``samples``: {data: {variant: {id: record}}}
    (whose greedy outputs differ); ``divergences``: where they part (``likelihood.margins``)."""
    by: dict[tuple[str, str], dict[str, Scored]] = {}
    for s in scored:
        if not s.scores.error:
            by.setdefault((s.data, s.variant), {})[s.id] = s
    parted: dict[tuple[str, str], list[Divergence]] = {}
    for x in divergences:
        if x.reference == reference:
            parted.setdefault((x.data, x.variant), []).append(x)
    out: dict = {}
    for (d, v), rows in by.items():
        ref = by.get((d, reference))
        if v == reference or ref is None:
            continue
        ids = sorted(i for i in rows.keys() & ref.keys() if rows[i].scores.tokens == ref[i].scores.tokens)
        if not ids:
            continue
        out.setdefault(d, {})[v] = compare_rows([ref[i].scores for i in ids], [rows[i].scores for i in ids],
                                                reference, samples.get(d, {}), v, parted.get((d, v), []))
    return out


def compare_rows(ref: list, other: list, reference: str, outputs: dict[str, dict[str, SampleRecord]], variant: str,
                 parted: list[Divergence]) -> Parity:
    """The parity of ``other`` with ``ref`` (TokenScores of the same rows, same gold tokens)."""
    kls = [kl(a, b) for r, o in zip(ref, other) for a, b in zip(r.top, o.top)]
    nll_ref = np.array([r.nll for r in ref])
    nll_other = np.array([o.nll for o in other])
    change = float(nll_other.sum() / nll_ref.sum() - 1) if nll_ref.sum() > 0 else 0.0
    rng = np.random.default_rng(SEED)
    idx = rng.integers(0, len(ref), size=(N_BOOT, len(ref)))
    with np.errstate(divide="ignore", invalid="ignore"):
        boot = nll_other[idx].sum(1) / nll_ref[idx].sum(1) - 1
    boot = boot[np.isfinite(boot)]
    lo, hi = (np.percentile(boot, [2.5, 97.5]).tolist() if len(boot) else [change, change])
    worse = int(np.sum(nll_other > nll_ref + 1e-6))
    better = int(np.sum(nll_other < nll_ref - 1e-6))
    p = binomial_p(worse, better)
    kl_mean = sum(kls) / len(kls) if kls else 0.0
    cost = p < ALPHA and worse > better and change >= TOLERANCE
    gain = p < ALPHA and better > worse and change <= -TOLERANCE
    verdict = ("measurable cost" if cost else "measurably better" if gain
               else "the same model" if kl_mean < SAME_KL else "no measurable cost")
    ref_out, own = outputs.get(reference, {}), outputs.get(variant, {})
    differ = sum(1 for i, r in own.items() if i in ref_out and (r.raw, r.finish_reason) !=
                 (ref_out[i].raw, ref_out[i].finish_reason))
    near = [x for x in parted if x.margin is not None and not x.at_least and abs(x.margin) < NEAR_TIE]
    wide = [x for x in parted if x.margin is not None and x not in near]
    return Parity(reference=reference, rows=len(ref), kl_per_token=kl_mean, kl_max=max(kls, default=0.0),
                  nll_change=change, nll_ci=[float(lo), float(hi)], worse_rows=worse, better_rows=better,
                  sign_p=p, verdict=verdict, outputs_differ=differ,
                  near_ties=len(near), wide_margins=len(wide))


def unscored(scored: Iterable[Scored]) -> dict[str, str]:
    """Variant -> why its rows could not be scored, where none of them was (a server without prompt
    log-probabilities)."""
    ok, why = set(), {}
    for s in scored:
        if s.scores.error:
            why.setdefault(s.variant, s.scores.error)
        else:
            ok.add(s.variant)
    return {v: w for v, w in why.items() if v not in ok}


def line(variant: str, p: Parity) -> str:
    """One line per artefact near the verdict: ``merged-gguf vs adapter-hf: KL 0.0002/token, NLL
    -0.1% [-0.4, 0.1], 12 of 291 rows worse, 10 better (sign test p=0.83): the same model``."""
    pct = f"{p.nll_change:+.1%} [{p.nll_ci[0]:+.1%}, {p.nll_ci[1]:+.1%}]"
    parts = [f"{variant} vs {p.reference}: KL {p.kl_per_token:.4f}/token, NLL {pct}, {p.worse_rows} of {p.rows} rows "
             f"worse, {p.better_rows} better (sign test {_p(p.sign_p)}): {p.verdict}"]
    if p.outputs_differ:
        parts.append(f"{p.outputs_differ} greedy outputs differ from {p.reference}'s"
                     + (f" ({p.near_ties} at a near-tie of the reference, {p.wide_margins} at a wide margin)"
                        if p.near_ties or p.wide_margins else ""))
    return "; ".join(parts) + "."


def _p(p: float) -> str:
    return "p<0.001" if p < 0.001 else f"p={p:.3f}" if p < 0.01 else f"p={p:.2f}"


def stop_line(variant: str, a: ArtefactLikelihood) -> str | None:
    """The stop diagnosis of an artefact that never learnt to stop, with its figure."""
    if not a.never_stops:
        return None
    kind = kinds.get(parse_name(variant).kind)
    why = ("the pad == eos bug does this (docs/training.md)" if kind is not None and kind.needs_run else
           "if it was fine-tuned, the pad == eos bug does this (docs/training.md); a base model need not stop there")
    return (f"{variant} never learnt to stop: P(end-of-turn | gold answer) {a.p_stop:.4f} on average (under "
            f"{STOP_THRESHOLD}), whatever its generations showed; {why}.")
