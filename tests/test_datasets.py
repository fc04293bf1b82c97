"""The committed cantos datasets: what the generator writes, disjoint splits, the convention."""

import subprocess
import sys
from pathlib import Path

import pytest

from extractor.cantos import CANTO_LENGTHS, SECTIONS, from_roman, to_roman
from extractor.data import load, normalize

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "datasets" / "cantos"
MIN_ROWS = {"train": 400, "valid": 80, "test": 80}


@pytest.fixture(scope="module")
def splits():
    return {s: load([DATA / f"{s}.jsonl"]) for s in MIN_ROWS}


def test_committed_files_are_what_the_generator_writes():
    r = subprocess.run([sys.executable, str(DATA / "build.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_sizes_and_share_without_reference(splits):
    for name, rows in splits.items():
        assert len(rows) >= MIN_ROWS[name]
        assert sum(1 for r in rows if not r.references) / len(rows) >= 0.25, name


def test_no_input_is_shared_between_splits(splits):
    keys = {name: {normalize(r.input) for r in rows} for name, rows in splits.items()}
    assert not keys["train"] & keys["valid"]
    assert not keys["train"] & keys["test"]
    assert not keys["valid"] & keys["test"]


def test_gold_lines_are_possible(splits):
    for rows in splits.values():
        for ex in rows:
            for ref in ex.references:
                length = CANTO_LENGTHS.get(ref.canto)
                if length:
                    assert all(abs(n) <= length for n in ref.lines), ex


def test_roman_numerals_round_trip():
    assert [to_roman(n) for n in (1, 4, 9, 14, 40, 45, 81, 93, 99, 120)] == \
        ["I", "IV", "IX", "XIV", "XL", "XLV", "LXXXI", "XCIII", "XCIX", "CXX"]
    assert all(from_roman(to_roman(n)) == n for n in range(1, 121))
    for bad in ("", "IIII", "VX", "CXXI", "ABC"):
        with pytest.raises(ValueError):
            from_roman(bad)


def test_section_rows_expand_to_the_section(splits):
    rows = [ex for rows in splits.values() for ex in rows if "Pisan Cantos" in ex.input and "of the" not in ex.input
            and ex.input.count("Pisan") == 1 and "first" not in ex.input and "last" not in ex.input]
    lo, hi = SECTIONS["Pisan Cantos"]
    for ex in rows:
        assert [r.canto for r in ex.references] == list(range(lo, hi + 1)), ex.input
