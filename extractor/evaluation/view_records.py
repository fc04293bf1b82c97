"""The report's figures beyond exact match, as typed records (the machinery: ``record_base.py``):
the likelihood view (``evaluation/parity.py``, ``causes.py``) and confidence and calibration
(``evaluation/calibration.py``). ``records.Report`` holds them, each left out when it was not made."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from .record_base import Record


@dataclass(eq=False)
class ArtefactLikelihood(Record):
    """One artefact's teacher-forced figures on one data file (``evaluation/parity.py``)."""

    rows: int
    nll_per_token: float
    """Mean negative log-likelihood of the gold answers' tokens, in nats (token-weighted)."""
    p_stop: float
    """Mean P(end-of-turn | gold answer) over the rows."""
    p_stop_min: float
    greedy_reproduces: float
    """Share of rows whose most likely token at every answer position is the gold one."""
    source: str
    """``full`` (the runtime's whole distribution) or ``server top-k``."""
    never_stops: bool
    """``p_stop`` is under the declared threshold: it never learnt to stop."""


@dataclass(eq=False)
class Parity(Record):
    """One artefact against the reference artefact, on the rows both scored."""

    reference: str
    rows: int
    kl_per_token: float
    """Mean KL(reference || this) per gold-answer position, over both top-k lists and the rest."""
    kl_max: float
    nll_change: float
    """Summed NLL of the gold answers relative to the reference's (+0.026: 2.6% worse)."""
    nll_ci: list[float]
    """95% paired bootstrap interval of ``nll_change``."""
    worse_rows: int
    better_rows: int
    sign_p: float
    """Exact sign test of rows worse against rows better."""
    verdict: str
    """``the same model``, ``no measurable cost``, ``measurable cost`` or ``measurably better``."""
    outputs_differ: int
    """Rows whose greedy output differs from the reference's."""
    near_ties: int
    """Of those, where the reference's margin at the first parting token is a near-tie."""
    wide_margins: int


@dataclass(eq=False)
class LikelihoodView(Record):
    """The likelihood view of a report: every artefact's teacher-forced figures, its parity with the
    reference artefact, and the causes checked."""

    reference: str | None
    artefacts: dict[str, dict[str, ArtefactLikelihood]]
    parity: dict[str, dict[str, Parity]]
    causes: list[str] = field(default_factory=list)
    """One line per cause checked, with its evidence."""
    not_scored: dict[str, str] = field(default_factory=dict)
    """Variant -> why it has no likelihood figures (a server without prompt log-probabilities)."""

    _NESTED: ClassVar[dict[str, Any]] = {
        "artefacts": lambda d: {k: {v: ArtefactLikelihood.from_json(x) for v, x in by.items()} for k, by in d.items()},
        "parity": lambda d: {k: {v: Parity.from_json(x) for v, x in by.items()} for k, by in d.items()},
    }


@dataclass(eq=False)
class Calibration(Record):
    """One variant's answer confidences against exact match on one data file
    (``evaluation/calibration.py``)."""

    rows: int
    """Rows of the data file this variant has."""
    answered: int
    """Of those, schema-valid answers with a confidence (the figures below are over these)."""
    exact: int
    """Of those, exact."""
    mean_exact: float | None
    """Mean confidence of the exact answers."""
    mean_wrong: float | None
    """Mean confidence of the answers that are not exact."""
    auroc: float | None
    """P(a random exact answer is more confident than a random wrong one), ties half."""
    ece: float
    """Expected calibration error over the bins: sum of (answers in bin / answers) x |exact - confidence|."""
    bins: list[list]
    """Per confidence bin: [low, high, answers, exact rate, mean confidence] (the rates null when empty)."""
    keep: dict[str, dict | None]
    """Target exact rate (``0.95``) -> {threshold, kept, coverage (kept / rows), exact}; null: not reachable."""
    curve: list[list[float]]
    """[coverage, exact rate of the kept answers] as the threshold goes down (thinned)."""


@dataclass(eq=False)
class CalibrationView(Record):
    """The report's confidence and calibration section: per data file and variant with confidences."""

    aggregate: str
    """What an answer's confidence is, in words (``core/confidence.py``)."""
    binning: str
    """The bins of the reliability chart and the ECE, in words."""
    data: dict[str, dict[str, Calibration]]
    without: dict[str, str] = field(default_factory=dict)
    """Variant -> why its answers have no confidence."""

    _NESTED: ClassVar[dict[str, Any]] = {
        "data": lambda d: {k: {v: Calibration.from_json(x) for v, x in by.items()} for k, by in d.items()}}
