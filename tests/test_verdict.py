"""The verdict and its statistics: Wilson intervals, the exact McNemar test, the shipping rule."""

import pytest

from extractor.tasks.cantos.metrics import aggregate
from helpers import to_sample
from extractor.evaluation.verdict import by_tag, decide, intervals, mcnemar, outcomes, p_text, wilson


def test_wilson_interval_known_values():
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson(89, 89)[1] == 1.0 and wilson(89, 89)[0] == pytest.approx(0.9586, abs=1e-4)
    assert wilson(3, 0) is None


def test_mcnemar_counts_only_disagreements():
    same = [True, False] * 50
    assert mcnemar(same, same) == 1.0
    # 10 rows right only in A, none only in B: p = 2 / 2**10
    a, b = [True] * 10 + same, [False] * 10 + same
    assert mcnemar(a, b) == pytest.approx(2 / 1024)
    assert mcnemar(b, a) == mcnemar(a, b)
    # 6 vs 4 disagreements: far from significant
    a, b = [True] * 6 + [False] * 4, [False] * 6 + [True] * 4
    assert mcnemar(a, b) == pytest.approx(0.7539, abs=1e-4)


def rec(variant, i, right, data="test", stop=True, seconds=1.0, tags=("t",)):
    gold = [{"canto": 1, "lines": []}]
    raw = '{"references": [{"canto": 1, "lines": []}]}' if right else '{"references": [{"canto": 2, "lines": []}]}'
    return {"data": data, "variant": variant, "id": f"r{i}", "tags": list(tags), "gold": gold,
            "raw": raw if stop else raw + " Question: and next?", "finish_reason": "stop" if stop else "length",
            "seconds": seconds, "gen_tokens": 10}


def report_of(records):
    samples = outcomes(records, to_sample)
    metrics = {d: {v: aggregate(list(rows.values())) for v, rows in by_v.items()} for d, by_v in samples.items()}
    return metrics, samples


def test_the_fastest_of_the_statistically_tied_ships():
    n = 100
    records = ([rec("adapter-hf", i, i < 85, seconds=4.0) for i in range(n)]
               + [rec("merged-gguf", i, i < 83, seconds=1.0) for i in range(n)]   # 2 fewer right: a tie
               + [rec("base-gguf", i, i < 30, seconds=0.5) for i in range(n)]      # fastest, far less exact
               + [rec("adapter-gguf@padbug", i, True, stop=False) for i in range(n)]  # never stops
               + [rec("rules", i, i < 70, seconds=0.0) for i in range(n)])
    verdict = decide(*report_of(records))["test"]
    assert verdict["ship"] == "merged-gguf"
    assert "not significantly below adapter-hf" in verdict["reasons"][0] and "4.0x as fast" in verdict["reasons"][0]
    assert any(r.startswith("base-gguf: significantly less exact") for r in verdict["reasons"])
    assert verdict["failing"]["adapter-gguf@padbug"] == "clean stop 0.000, needs 0.95"
    assert "above (significant" in verdict["reasons"][-1] and "p<0.001" in verdict["reasons"][-1]


def test_a_speed_inside_the_noise_is_a_tie_that_goes_to_the_simpler_artefact():
    n = 100

    def run(hf_seconds):
        records = ([rec("merged-hf", i, i < 80, seconds=hf_seconds) for i in range(n)]
                   + [rec("merged-gguf+grammar", i, i < 80, seconds=0.9) for i in range(n)]
                   + [rec("merged-gguf", i, i < 80, seconds=1.0) for i in range(n)]
                   + [rec("adapter-gguf", i, i < 80, seconds=1.0) for i in range(n)])
        return decide(*report_of(records), sizes={"merged-gguf": 150, "adapter-gguf": 200})["test"]
    # merged-hf 10% faster, merged-gguf+grammar 11% faster: inside the noise, so the simpler artefact
    # ships: no grammar before grammar, GGUF before HF, then the smaller file
    tied = run(0.9)
    assert tied["ship"] == "merged-gguf"
    assert set(tied["tied"]) == {"merged-hf", "merged-gguf+grammar", "adapter-gguf"}
    assert "within the noise" in tied["reasons"][0]
    # twice as fast is no tie
    assert run(0.5)["ship"] == "merged-hf"


def test_nothing_ships_when_every_artefact_fails_a_gate_and_the_closest_is_named():
    records = ([rec("merged-gguf", i, True, stop=i < 18) for i in range(20)]      # clean stop 0.90
               + [rec("adapter-gguf", i, True, stop=i < 10) for i in range(20)])  # clean stop 0.50
    verdict = decide(*report_of(records))["test"]
    assert verdict["ship"] is None and verdict["closest"] == "merged-gguf"
    assert verdict["reasons"] == ["closest: merged-gguf: clean stop 0.900, needs 0.95."]


def test_p_values_below_a_thousandth_print_as_such():
    assert [p_text(p) for p in (0.0, 0.0004, 0.003, 0.04, 0.5)] == ["p<0.001", "p<0.001", "p=0.003", "p=0.04", "p=0.50"]


def test_intervals_and_per_tag_exact_match():
    records = ([rec("merged-gguf", i, i < 8, tags=("a", "b") if i < 5 else ("b",)) for i in range(10)])
    samples = outcomes(records, to_sample)
    assert intervals(samples)["test"]["merged-gguf"]["exact_match"] == pytest.approx(list(wilson(8, 10)))
    tags = by_tag(records, samples)["test"]
    assert list(tags) == ["b", "a"]
    assert tags["a"]["merged-gguf"] == {"n": 5, "exact_match": 1.0}
    assert tags["b"]["merged-gguf"] == {"n": 10, "exact_match": 0.8}
