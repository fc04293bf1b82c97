"""`extractor report compare A B`: rows paired by (data, variant, id), McNemar for the rates, a
seeded paired bootstrap for F1, Holm's adjustment, and an exit status that fails only on a
significant regression."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from extractor.evaluation.compare import CompareError, compare, describe, holm, load_samples, paired_bootstrap
from helpers import CANTOS

ROOT = Path(__file__).resolve().parents[1]


def rec(variant, i, right, data="test", stop=True):
    gold = [{"canto": 9, "lines": [1, 2]}]
    answer = gold if right else [{"canto": 9, "lines": [1, 3]}]
    raw = json.dumps({"references": answer}) + ("" if stop else " ### Question: next?")
    return {"data": data, "variant": variant, "id": f"r{i:03d}", "tags": [], "input": f"row {i}", "gold": gold,
            "raw": raw, "finish_reason": "stop" if stop else "length", "seconds": 0.5, "gen_tokens": 10}


def write(path: Path, records) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def cli(*args):
    return subprocess.run([sys.executable, "-m", "extractor", "report", "compare", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT)


def test_paired_bootstrap_is_deterministic_and_sees_a_real_difference():
    same = [(1, 1, 1)] * 40 + [(0, 1, 1)] * 10
    assert paired_bootstrap(same, same)[2:4] == (0.0, 1.0)
    worse = [(1, 1, 1)] * 20 + [(0, 1, 1)] * 30
    boot = paired_bootstrap(same, worse)
    (a, b, delta, p, (lo, hi)) = boot
    assert (a, b) == (0.8, 0.4) and delta == pytest.approx(0.4 - 0.8) and p < 0.01 and lo <= delta <= hi < 0
    assert paired_bootstrap(same, worse) == boot  # fixed seed: same p every run
    slightly = [(1, 1, 1)] * 39 + [(0, 1, 1)] * 11
    assert paired_bootstrap(same, slightly).p > 0.3


def test_an_f1_undefined_on_either_side_is_not_tested():
    """Nothing predicted and nothing in the gold: F1 is undefined (None, core.metrics.Tally), so there is
    no delta to test; one side empty, the other not, is an F1 of 0.0 and is tested."""
    assert paired_bootstrap([(0, 0, 0)] * 5, [(0, 1, 0)] * 5) is None
    assert paired_bootstrap([(0, 1, 0)] * 5, [(0, 0, 0)] * 5) is None
    assert paired_bootstrap([(0, 0, 1)] * 5, [(1, 1, 1)] * 5)[:3] == (0.0, 1.0, 1.0)


def test_holm_adjusts_in_input_order():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5]) == [0.5]


def test_a_significant_drop_is_a_regression_and_a_small_one_is_not():
    n = 100
    a = [rec("merged-gguf", i, i < 80) for i in range(n)] + [rec("adapter-hf", i, i < 73) for i in range(n)]
    b = ([rec("merged-gguf", i, i < 50) for i in range(n)]   # 30 rows lost: significant
         + [rec("adapter-hf", i, i < 70) for i in range(n)])  # 3 rows lost: noise
    key = lambda r: (r["data"], r["variant"], r["id"])  # noqa: E731
    from helpers import CANTOS, to_sample
    result = compare({key(r): to_sample(r) for r in a}, {key(r): to_sample(r) for r in b}, CANTOS)
    rows = {(r["variant"], r["metric"]): r for r in result.rows}
    reg = rows[("merged-gguf", "exact_match")]
    assert reg["verdict"] == "regression" and reg["p_holm"] < 0.001 and reg["n"] == 100
    assert rows[("merged-gguf", "line_f1")]["verdict"] == "regression" and rows[("merged-gguf", "line_f1")]["test"] == "paired bootstrap"
    small = rows[("adapter-hf", "exact_match")]
    assert small["verdict"] == "not significant" and small["delta"] == pytest.approx(-0.03)
    assert describe(small).startswith("test / adapter-hf: exact_match 0.730 -> 0.700 (-0.030, 100 rows), McNemar p=0.25")
    assert describe(small).endswith(": not significant")
    assert rows[("adapter-hf", "clean_stop")]["verdict"] == "unchanged"


def test_cli_exits_1_only_on_a_significant_regression(tmp_path):
    base = write(tmp_path / "base", [rec("merged-gguf", i, i < 73) for i in range(100)])
    noise = write(tmp_path / "noise", [rec("merged-gguf", i, i < 70) for i in range(100)])
    r = cli(base, noise)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "exact_match 0.730 -> 0.700" in r.stdout and "McNemar p=0.25" in r.stdout and "not significant" in r.stdout
    assert "0 significant regression(s)" in r.stdout
    bad = write(tmp_path / "bad", [rec("merged-gguf", i, i < 73, stop=i >= 40) for i in range(100)])
    r = cli(base, bad)
    assert r.returncode == 1
    line = next(x for x in r.stdout.splitlines() if "clean_stop" in x)
    assert line.strip().startswith("test / merged-gguf: clean_stop 1.000 -> 0.600") and line.endswith("REGRESSION")
    assert "runaway 0.000 -> 0.400" in r.stdout


def test_rows_are_paired_by_data_variant_and_id(tmp_path):
    a = [rec("merged-gguf", i, i % 2 == 0) for i in range(50)] + [rec("rules", i, True) for i in range(5)]
    b = list(reversed([rec("merged-gguf", i, i % 2 == 0) for i in range(50)]))  # same rows, other order
    b += [rec("merged-gguf", 99, False), rec("merged-gguf", 3, True, data="valid")]
    result = compare(load_samples(write(tmp_path / "a", a)), load_samples(write(tmp_path / "b", b)), CANTOS)
    assert {r["verdict"] for r in result.rows} == {"unchanged"} and {r["n"] for r in result.rows} == {50}
    assert "only in A: rules on test" in result.unpaired
    assert "only in B: merged-gguf on valid" in result.unpaired
    assert any("1 row(s) in one report only" in u for u in result.unpaired)


def test_a_directory_without_samples_is_one_clear_line(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "report.json").write_text("{}")
    new = write(tmp_path / "new", [rec("merged-gguf", 0, True)])
    r = cli(tmp_path / "old", new)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0
    assert str(tmp_path / "old" / "samples.jsonl") in r.stderr and "extractor eval --out" in r.stderr
    with pytest.raises(CompareError, match="no such report directory"):
        load_samples(tmp_path / "missing")
    (new / "samples.jsonl").write_text("not json\n" + json.dumps(rec("merged-gguf", 0, True)) + "\n")
    with pytest.raises(CompareError, match=r"samples.jsonl:1: not JSON"):
        load_samples(new)


def test_help_documents_the_exit_status_and_examples():
    r = subprocess.run([sys.executable, "-m", "extractor", "report", "compare", "--help"], capture_output=True,
                       text=True, cwd=ROOT)
    assert "Exit status: 0 no significant regression, 1 at least one, 2 bad input" in " ".join(r.stdout.split())
    assert "extractor report compare reports/baseline reports/latest" in r.stdout


def test_html_page_lists_the_tests_and_the_samples_that_changed_escaped(tmp_path):
    """`--html OUT`: the paired tests table and every sample whose outcome changed, its outputs escaped."""
    a = [rec("merged-gguf", i, True) for i in range(40)] + [rec("rules", i, True) for i in range(5)]
    b = [rec("merged-gguf", i, i >= 3) for i in range(40)] + [rec("rules", i, True) for i in range(5)]
    b[0]["raw"] = '<script>alert("x")</script> & {"references": []}'  # no valid answer now, markup in it
    b[39]["raw"] += " ### Question: next?"  # still exact, no clean stop: a changed outcome too
    b[39]["finish_reason"] = "length"
    b.append(rec("merged-gguf", 7, True, data="valid"))  # only in B: said, not paired
    out = tmp_path / "pages" / "compare.html"
    r = cli(write(tmp_path / "a", a), write(tmp_path / "b", b), "--html", out)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"wrote {out}" in r.stdout
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "http" not in page  # self-contained, static
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp;" in page
    tests = page.split('<table class="tests">', 1)[1].split("</table>", 1)[0]
    for head in ("metric", "variant", "split", "A", "B", "difference", "p (Holm-adjusted)", "significant"):
        assert f"<th>{head}</th>" in tests
    assert "<td>exact_match</td><td>merged-gguf</td><td>test</td>" in tests and "paired bootstrap" in tests
    assert "McNemar" in tests and "-0.075" in tests  # 3 of 40 rows lost
    changed = page.split('<table class="changed">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr class="(worse|better)"><td class="id">([^<]*)<div>', changed)
    assert rows == [("worse", "test/r000"), ("worse", "test/r001"), ("worse", "test/r002"), ("worse", "test/r039")]
    assert "rules" not in changed  # unchanged variant: no rows
    r0 = changed.split("test/r000", 1)[1].split("</tr>", 1)[0]
    assert "exact, clean stop" in r0 and "no valid answer" in r0
    assert "valid but wrong" in changed.split("test/r001", 1)[1].split("</tr>", 1)[0]
    assert "exact, no clean stop" in changed.split("test/r039", 1)[1].split("</tr>", 1)[0]
    assert "only in B: merged-gguf on valid" in page
    assert "4 sample(s) changed outcome, 4 of them for the worse" in page


def test_changed_samples_pairs_by_key_and_orders_worse_first(tmp_path):
    from extractor.evaluation.compare import load
    from extractor.evaluation.compare_html import changed_samples
    a = [rec("m", 0, False), rec("m", 1, True), rec("m", 2, True)]
    b = [rec("m", 0, True), rec("m", 1, False), rec("m", 2, True), rec("m", 3, False)]
    got = changed_samples(load(write(tmp_path / "a", a)), load(write(tmp_path / "b", b)))
    assert [(c["id"], c["a"], c["b"], c["worse"]) for c in got] == [("r001", "exact", "wrong", True),
                                                                      ("r000", "wrong", "exact", False)]
    assert got[0]["input"] == "row 1" and '"lines": [1, 3]' in got[0]["raw_b"]


def test_help_documents_the_html_page():
    r = subprocess.run([sys.executable, "-m", "extractor", "report", "compare", "--help"], capture_output=True,
                       text=True, cwd=ROOT)
    assert "--html OUT" in r.stdout and "--html compare.html" in r.stdout
