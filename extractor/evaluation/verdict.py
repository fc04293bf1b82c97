"""Which artefact to ship, per data file, with the uncertainty behind the choice.

Pure functions of the scored samples (no model runs), used by extractor.evaluation.report:

- ``wilson(k, n)``: a 95% Wilson score interval for a rate of k successes in n rows;
- ``mcnemar(a, b)``: the exact two-sided McNemar p-value for two variants' paired outcomes on
  the same rows (only rows where they disagree count);
- ``by_tag(records)``: exact match per tag per variant, so a data gap shows without reading samples;
- ``decide(report, records)``: the verdict, under the rule stated in ``RULE``.
"""

from __future__ import annotations

import math

from ..core.sample_record import SampleRecord
from ..core.sample_record import records as as_records
from ..core.task import Sample
from ..core.metrics import meets, rate
from .records import Decision

RULE = ("Ship the artefact that (1) stops cleanly and answers schema-valid JSON on at least 95% of rows, "
        "(2) is not significantly less exact than the most exact such artefact (exact McNemar test on "
        "the same rows, p < 0.05), and (3) of those, is the fastest (samples/s); speeds within 20% of the "
        "fastest are a tie (the run-to-run noise), and a tie goes to the simpler artefact: no grammar "
        "before grammar, GGUF before HF, then the smaller file. The rules are a baseline, not an artefact.")
GATES = {"schema_valid": 0.95, "clean_stop": 0.95}
GATE_WORDS = {"schema_valid": "schema-valid", "clean_stop": "clean stop"}
ALPHA = 0.05
Z95 = 1.959963984540054
NOISE = 0.20
"""Speeds within this fraction of the fastest are a tie. Measured: rows that decoded the same outputs
in one `make report` (adapter-gguf and merged-gguf beside their +grammar rows, before those continued
the free rows) differed by up to 18% in samples/s (2-core AMD EPYC); docs/metrics.md."""


def p_text(p: float) -> str:
    """A p-value as printed: ``p=0.04``, ``p=0.003``, ``p<0.001``."""
    return "p<0.001" if p < 0.001 else f"p={p:.3f}" if p < 0.01 else f"p={p:.2f}"


def simplicity(variant: str, sizes: dict[str, int]) -> tuple:
    """The order of ties: no grammar before grammar, GGUF before HF, then the smaller file (unknown
    sizes last), then the name."""
    kind = variant.split("@")[0]
    return ("+grammar" in kind, kind.split("+")[0].endswith("-hf"), sizes.get(variant) or float("inf"), variant)


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """95% Wilson score interval for k of n (None for n = 0)."""
    if n <= 0:
        return None
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def binomial_p(a: int, b: int) -> float:
    """Exact two-sided p-value that ``a`` against ``b`` is a fair split (the sign test; 1.0 for 0 - 0)."""
    n = a + b
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(a, b) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def mcnemar(a: list[bool], b: list[bool]) -> float:
    """Exact two-sided McNemar p-value for paired outcomes (1.0 when they never disagree): the sign
    test of the rows where they disagree."""
    return binomial_p(sum(x and not y for x, y in zip(a, b)), sum(y and not x for x, y in zip(a, b)))


def outcomes(records: "list[SampleRecord]", to_sample) -> dict[str, dict[str, dict[str, Sample]]]:
    """{data: {variant: {row id: Sample}}}; ``records``: SampleRecords or their JSON objects."""
    out: dict[str, dict[str, dict[str, Sample]]] = {}
    for r in as_records(records):
        out.setdefault(r.data, {}).setdefault(r.variant, {})[r.id] = to_sample(r)
    return out


def intervals(samples: dict[str, dict[str, dict[str, Sample]]]) -> dict:
    """{data: {variant: {"exact_match": [lo, hi], "clean_stop": [lo, hi]}}}, 95% Wilson."""
    out: dict = {}
    for d, by_v in samples.items():
        for v, rows in by_v.items():
            n = len(rows)
            out.setdefault(d, {})[v] = {
                "exact_match": list(wilson(sum(s.exact for s in rows.values()), n) or ()),
                "clean_stop": list(wilson(sum(s.clean_stop for s in rows.values()), n) or ()),
            }
    return out


def by_tag(records: "list[SampleRecord]", samples: dict[str, dict[str, dict[str, Sample]]]) -> dict:
    """{data: {tag: {variant: {"n": rows, "exact_match": rate}}}} for data files whose rows have tags."""
    tags: dict[str, dict[str, set[str]]] = {}
    for r in as_records(records):
        for t in r.tags:
            tags.setdefault(r.data, {}).setdefault(t, set()).add(r.id)
    out: dict = {}
    for d, per_tag in tags.items():
        for t in sorted(per_tag, key=lambda t: (-len(per_tag[t]), t)):
            for v, rows in samples[d].items():
                hits = [rows[i].exact for i in per_tag[t] if i in rows]
                if hits:
                    out.setdefault(d, {}).setdefault(t, {})[v] = {"n": len(hits), "exact_match": rate(hits)}
    return out


def _paired(a: dict[str, Sample], b: dict[str, Sample]) -> tuple[list[bool], list[bool]]:
    ids = sorted(a.keys() & b.keys())
    return [a[i].exact for i in ids], [b[i].exact for i in ids]


def _shortfall(m: dict) -> tuple[float, str]:
    """How far an artefact is from the gates (summed), and the gates it misses in words."""
    gap, words = 0.0, []
    for k, bound in GATES.items():
        value = m.get(k)
        if not meets(value, bound, True):
            gap += bound - (value or 0.0)
            words.append(f"{GATE_WORDS[k]} {'-' if value is None else format(value, '.3f')}, needs {bound}")
    return gap, ", ".join(words)


def undecided(missing: dict[str, dict[str, int]]) -> Decision:
    """The verdict of a data file some of whose rows were not evaluated (``report.not_evaluated``):
    none, and why. A row not evaluated is neither a success nor a failure."""
    n = sum(m["missing"] for m in missing.values())
    rows = sum(m["rows"] for m in missing.values())
    which = ", ".join(f"{v} {m['missing']} of {m['rows']}" for v, m in missing.items())
    return Decision(None, [f"no verdict: {n} of {rows} rows not evaluated ({which}); evaluate them with "
                           "`extractor eval ... --resume` (a server or runtime fault stopped the run?)."],
                    incomplete=True)


def decide(metrics: dict, samples: dict[str, dict[str, dict[str, Sample]]], inherited: frozenset[str] = frozenset(),
           sizes: dict[str, int] | None = None) -> dict[str, Decision]:
    """{data: its Decision (the variant to ship or None, the reasons, the variants failing a gate)}.
    ``inherited``: +grammar variants that continued their free row's outputs; their speed is the
    free row's (what they decoded is too little to time, and the grammar makes nothing faster).
    ``sizes``: bytes on disk per variant, for the last tie-break (``simplicity``)."""
    sizes = sizes or {}
    out = {}
    for d, by_v in metrics.items():
        models = {v: m for v, m in by_v.items() if not v.startswith("rules")}

        def speed(v: str) -> float:
            free = v.replace("+grammar", "")
            own = models[free] if v in inherited and free in models else models[v]
            return own.get("examples_per_s") or 0.0
        short = {v: _shortfall(m) for v, m in models.items()}
        failing = {v: words for v, (_, words) in short.items() if words}
        ok = [v for v in models if v not in failing]
        if not models:
            out[d] = Decision(None, ["no model artefact was evaluated (the rules are a baseline)."])
            continue
        if not ok:
            closest = min(models, key=lambda v: (short[v][0], -(models[v].get("exact_match") or 0.0)))
            out[d] = Decision(None, [f"closest: {closest}: {failing[closest]}."], failing, closest=closest)
            continue
        best = max(ok, key=lambda v: models[v]["exact_match"] or 0.0)
        p_best = {v: 1.0 if v == best else mcnemar(*_paired(samples[d][best], samples[d][v])) for v in ok}
        close = {v: p for v, p in p_best.items()
                 if p >= ALPHA or (models[v]["exact_match"] or 0) >= (models[best]["exact_match"] or 0)}
        fastest = max(close, key=speed)
        tied = [v for v in close if speed(v) >= (1 - NOISE) * speed(fastest)]
        ship = min(tied, key=lambda v: simplicity(v, sizes))
        m = models[ship]
        exact = (f"exact {m['exact_match']:.3f}, the best" if ship == best else
                 f"exact {m['exact_match']:.3f}, not significantly below {best}'s {models[best]['exact_match']:.3f} "
                 f"(McNemar {p_text(close[ship])})")
        pace = ""
        others = [v for v in tied if v != ship]
        if others:
            pace = (f"; as fast as {', '.join(others)} within the noise, and simpler")
        elif ship != best and speed(best) and speed(ship):
            pace = f"; {speed(ship) / speed(best):.1f}x as fast as {best}"
        reasons = [f"{ship}: {exact}; clean stop {m['clean_stop']:.1%}, schema-valid {m['schema_valid']:.1%}{pace}."]
        for v in ok:
            if v not in close:
                reasons.append(f"{v}: significantly less exact than {best} ({models[v]['exact_match']:.3f}, "
                               f"McNemar {p_text(p_best[v])}).")
        rules = next((v for v in by_v if v.startswith("rules")), None)
        if rules:
            p = mcnemar(*_paired(samples[d][ship], samples[d][rules]))
            cmp = "above" if m["exact_match"] > by_v[rules]["exact_match"] else "below"
            sig = "significant" if p < ALPHA else "not significant"
            reasons.append(f"Against the rules baseline ({by_v[rules]['exact_match']:.3f} exact): {ship} is {cmp} "
                           f"({sig}, McNemar {p_text(p)}).")
        out[d] = Decision(ship, reasons, failing, tied=others)
    return out
