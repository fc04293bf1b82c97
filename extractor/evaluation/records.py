"""An evaluation's two JSON files as typed records, and their one reader and one writer.

- ``EvalLog`` is OUT/eval.json: what `extractor eval` ran (suite, task, runs, data, variants,
  settings, thresholds) and what happened (skipped variants, servers, wall times, retries).
  ``evaluation/evaluate.py`` builds it, ``evaluation/report.py`` scores from it.
- ``Report`` is OUT/report.json: every figure per data file and variant, the checks, the
  verdict, the timing. ``evaluation/report.py`` builds it; report.md, report.html, the terminal,
  ``report compare`` and the pytest helpers (``evaluation/testing.py``) read it.

Both carry a format number (``FORMAT``): a file without one is format 1 (before typed records),
which reads the same way. Keys this version does not know are kept and written back, so an
older version's file and a newer one's survive a round trip. Each record is also a read-only
Mapping of its JSON object (``report["metrics"]``), so code written for the dicts of earlier
versions keeps working; code in this package uses the attributes (as ``core.sample_record``).

The files are written with sorted keys and two-space indents (``core.files.write_json``): a report
scored again from the same samples and recorded facts is the same file, byte for byte.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ..core.errors import ExtractorError
from ..core.files import write_json
from .record_base import Record
from .view_records import CalibrationView, LikelihoodView

FORMAT = 2
"""The format number this version writes (absent in a file: 1)."""
EVAL_JSON = "eval.json"
REPORT_JSON = "report.json"

Figures = dict[str, Any]
"""One variant's figures on one data file: the task's metric keys (``Task.metrics``) -> value."""


# ----------------------------------------------------------------------------- eval.json
@dataclass(eq=False)
class ThresholdRecord(Record):
    """A gate of the suite as eval.json records it (``suite.Threshold``)."""

    data: str
    variants: list[str]
    bounds: dict[str, float]
    """metric -> bound: a minimum for a higher-is-better metric, else a maximum."""


@dataclass(eq=False)
class EvalLog(Record):
    """OUT/eval.json: what one evaluation ran and what happened while it ran, over every
    ``--resume`` of it."""

    suite: str | None = None
    """The suite's name (``evaluation/suite.py``)."""
    task: str | None = None
    """The task's name."""
    task_source: str | None = None
    """How to resolve the task again: a registered name or a task directory."""
    variants: list[str] = field(default_factory=list)
    """The variants in the order they ran (a ``+grammar`` row after its free row)."""
    data: dict[str, str] = field(default_factory=dict)
    """Data label -> the JSONL file (relative to the working directory when under it)."""
    decision: str | None = None
    """The data label the verdict a user acts on is about."""
    runs: dict[str, str] = field(default_factory=dict)
    """Run label (``default`` for ``--run DIR``) -> run directory."""
    settings: dict[str, Any] = field(default_factory=dict)
    """The generation settings (``runtimes.variant.Settings``' fields)."""
    thresholds: list[ThresholdRecord] = field(default_factory=list)
    adapters: dict[str, str | None] = field(default_factory=dict)
    """Run label -> the sha256 of its adapter: ``--resume`` refuses samples of another adapter."""
    endpoints: dict[str, dict] = field(default_factory=dict)
    """Endpoint label -> what the server said of itself (models, version)."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Variant -> why it could not run here."""
    served: dict[str, dict] = field(default_factory=dict)
    """Served variant -> where it ran and how (endpoint, model, API, schema_via)."""
    wall_seconds: dict[str, float] = field(default_factory=dict)
    """Variant -> seconds its generation took, summed over every ``--resume``."""
    retries: dict[str, int] = field(default_factory=dict)
    """Variant -> failed attempts retried (faults of the server or runtime, ``core/faults.py``)."""
    rows: dict[str, int] = field(default_factory=dict)
    """Data label -> the rows every variant must have recorded (after ``limit``)."""
    job_summary: bool = False
    """The report adds the runs' recorded install, training and export times (``make report``)."""
    reference: str | None = None
    """The reference artefact of the likelihood view (None: the view was not asked for)."""
    likelihood_seconds: dict[str, float] = field(default_factory=dict)
    """Variant -> seconds its teacher-forced scoring took; ``margins``: the reference's margins."""
    not_scored: dict[str, str] = field(default_factory=dict)
    """Variant -> why its runtime could not score the gold answers."""
    artefacts: dict[str, dict] = field(default_factory=dict)
    """Variant -> what was read of its files for the causes (``runtimes/artefact_facts.py``)."""
    format: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    _OMIT: ClassVar[dict[str, Any]] = {"endpoints": {}, "retries": {}, "rows": {}, "job_summary": False,
                                       "reference": None, "likelihood_seconds": {}, "not_scored": {},
                                       "artefacts": {}, "format": None}
    _NESTED: ClassVar[dict[str, Any]] = {
        "thresholds": lambda xs: [ThresholdRecord.from_json(x, "eval.json thresholds") for x in xs]}


# ----------------------------------------------------------------------------- report.json
@dataclass(eq=False)
class Check(Record):
    """One threshold of the suite, for one variant and metric: the value, the bound, the outcome."""

    data: str
    variant: str
    metric: str
    value: Any
    bound: float
    kind: str
    """``min`` (higher is better) or ``max``."""
    passed: bool
    """False also when the variant has rows not evaluated on that data file."""


@dataclass(eq=False)
class Decision(Record):
    """The verdict on one data file (``evaluation/verdict.py``)."""

    ship: str | None
    """The artefact to ship; None: nothing passes the gates (see ``closest``), or rows are missing."""
    reasons: list[str]
    """Sentences: why this artefact (or the closest), why not the others, against the rules."""
    failing: dict[str, str] = field(default_factory=dict)
    """Variant -> the gates it fails, in words."""
    closest: str | None = None
    """When nothing ships: the artefact nearest the gates."""
    tied: list[str] | None = None
    """Artefacts as fast as the shipped one within the noise (the tie went to the simpler)."""
    incomplete: bool = False
    """Rows of this data file were not evaluated: no verdict until they are."""
    extra: dict[str, Any] = field(default_factory=dict)

    _OMIT: ClassVar[dict[str, Any]] = {"closest": None, "tied": None, "incomplete": False}


@dataclass(eq=False)
class Verdict(Record):
    rule: str
    """The rule, in words."""
    data: dict[str, Decision]
    """Data label -> its decision, the decision split first."""

    _NESTED: ClassVar[dict[str, Any]] = {"data": lambda d: {k: Decision.from_json(v, f"verdict {k}")
                                                            for k, v in d.items()}}


@dataclass(eq=False)
class Timing(Record):
    """Seconds per step: this evaluation's generation of each variant; with ``job``, the steps of
    the job before it as they recorded them (``make report``)."""

    eval: dict[str, float] = field(default_factory=dict)
    total_seconds: float = 0.0
    """Of ``eval`` and ``likelihood`` (format 1: of every step)."""
    likelihood: dict[str, float] | None = None
    """The likelihood view's own steps: each artefact's teacher-forced scoring, the reference's margins."""
    job: dict[str, Any] | None = None
    """``install``, ``train``, ``export`` (label -> seconds) and the job's ``total_seconds``."""
    install: dict[str, float] | None = None
    """Format 1 kept the job's steps beside ``eval``: read, and written back as they were."""
    train: dict[str, float] | None = None
    export: dict[str, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    _OMIT: ClassVar[dict[str, Any]] = {"job": None, "install": None, "train": None, "export": None,
                                       "likelihood": None}

    @property
    def job_steps(self) -> dict[str, dict[str, float]] | None:
        """The job's earlier steps (install, train, export), in either format; None without them."""
        if self.job is not None:
            return {k: self.job.get(k, {}) for k in ("install", "train", "export")}
        if self.install is not None:
            return {"install": self.install or {}, "train": self.train or {}, "export": self.export or {}}
        return None

    @property
    def job_seconds(self) -> float:
        return (self.job or {}).get("total_seconds") or self.total_seconds


@dataclass(eq=False)
class Report(Record):
    """OUT/report.json: an evaluation scored (``evaluation/report.py``)."""

    suite: str | None
    task: str
    task_source: str
    table: list[str]
    """The metric keys the tables show, in order (``Task.metrics`` of level <= 2)."""
    runs: dict[str, str]
    data: dict[str, str]
    variants: list[str]
    """The variants with figures, in the evaluation's order."""
    skipped: dict[str, str]
    settings: dict[str, Any]
    wall_seconds: dict[str, float]
    errors: int
    """Records whose generation failed (a prompt longer than the context)."""
    metrics: dict[str, dict[str, Figures]]
    """Data label -> variant -> its figures (``Task.aggregate``)."""
    checks: list[Check] = field(default_factory=list)
    timing: Timing = field(default_factory=Timing)
    inherited: dict[str, dict[str, int]] = field(default_factory=dict)
    """+grammar variant -> how many outputs it took whole / in part from its free row, of ``n``."""
    sizes: dict[str, int] = field(default_factory=dict)
    """Variant -> bytes on disk of what it loads, where known."""
    decision: str | None = None
    """The decision split: the data label of the headline verdict."""
    verdict: Verdict | None = None
    intervals: dict[str, dict[str, dict[str, list[float]]]] = field(default_factory=dict)
    """Data label -> variant -> metric -> its 95% Wilson interval [low, high]."""
    by_tag: dict = field(default_factory=dict)
    """Data label -> tag -> variant -> {"n", "exact_match"}."""
    same_outputs: dict = field(default_factory=dict)
    """Data label -> variant -> {"as": the earlier variant with the same outputs, "n": rows}."""
    grammar_unenforced: list | None = None
    grammar_stricter: list | None = None
    grammar_hf: str | None = None
    served: dict | None = None
    not_evaluated: dict | None = None
    """Data label -> variant -> {"missing", "rows"}: rows not evaluated (not scored; no verdict)."""
    likelihood: LikelihoodView | None = None
    """Teacher-forced figures, parity with the reference artefact, causes (``evaluation/parity.py``)."""
    calibration: CalibrationView | None = None
    """Answer confidences against exact match (``evaluation/calibration.py``); None: no confidence recorded."""
    format: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    _OMIT: ClassVar[dict[str, Any]] = {"grammar_unenforced": None, "grammar_stricter": None, "grammar_hf": None,
                                       "served": None, "not_evaluated": None, "likelihood": None, "calibration": None,
                                       "format": None}
    _NESTED: ClassVar[dict[str, Any]] = {
        "checks": lambda xs: [Check.from_json(x, "report.json checks") for x in xs],
        "timing": lambda t: Timing.from_json(t, "report.json timing"),
        "verdict": lambda v: Verdict.from_json(v, "report.json verdict"),
        "likelihood": lambda v: LikelihoodView.from_json(v, "report.json likelihood"),
        "calibration": lambda v: CalibrationView.from_json(v, "report.json calibration"),
    }

    def headline(self) -> tuple[str, Decision] | None:
        """The verdict a user acts on: (data label, its decision) on the decision split (else the
        first data file decided)."""
        data = self.verdict.data if self.verdict else {}
        if not data:
            return None
        d = self.decision if self.decision in data else next(iter(data))
        return d, data[d]

    def decision_of(self, d: str) -> Decision | None:
        return self.verdict.data.get(d) if self.verdict else None


# ----------------------------------------------------------------------------- the files
def _load(path: Path) -> dict:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise ExtractorError(f"{path}: not valid JSON ({e}); was the file edited?") from None
    if not isinstance(found, dict):
        raise ExtractorError(f"{path}: not a JSON object; was the file edited?")
    return found


def read_eval(out: Path) -> EvalLog:
    """OUT/eval.json; without it (a committed report copied without it), the same facts as
    OUT/report.json recorded them (its thresholds rebuilt from its checks); an empty log when there
    is neither. The one place that knows this fallback."""
    out = Path(out)
    if (out / EVAL_JSON).is_file():
        return EvalLog.from_json(_load(out / EVAL_JSON), str(out / EVAL_JSON))
    if not (out / REPORT_JSON).is_file():
        return EvalLog()
    old = read_report(out / REPORT_JSON)
    log = EvalLog(suite=old.suite, task=old.task, task_source=old.task_source, variants=list(old.variants),
                  data=dict(old.data), decision=old.decision, runs=dict(old.runs), settings=dict(old.settings),
                  skipped=dict(old.skipped), served=dict(old.served) if old.served else {},
                  wall_seconds=dict(old.wall_seconds))
    log.thresholds = [ThresholdRecord(c.data, [c.variant], {c.metric: c.bound}) for c in old.checks]
    return log


def write_eval(out: Path, log: EvalLog) -> None:
    write_json(Path(out) / EVAL_JSON, log.to_json())


def read_report(path: str | Path) -> Report:
    """A report.json (or the report.json of a report directory)."""
    path = Path(path)
    if path.is_dir():
        path = path / REPORT_JSON
    if not path.is_file():
        raise ExtractorError(f"{path}: no report here; give the --out directory of `extractor eval`")
    return Report.from_json(_load(path), str(path))


def write_report(out: Path, report: Report) -> None:
    write_json(Path(out) / REPORT_JSON, report.to_json())
