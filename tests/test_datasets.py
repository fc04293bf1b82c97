"""The committed cantos datasets: what the generator writes, disjoint splits, the convention."""

import subprocess
import sys
from pathlib import Path

import pytest

from extractor.tasks.cantos.sections import CANTO_LENGTHS, SECTIONS, from_roman, to_roman
from extractor.core.data import load, normalize
from helpers import CANTOS

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "datasets" / "cantos"
MIN_ROWS = {"train": 2500, "valid": 150, "test": 250}


@pytest.fixture(scope="module")
def splits():
    return {s: load([DATA / f"{s}.jsonl"], CANTOS) for s in MIN_ROWS}


def test_committed_files_are_what_the_generator_writes():
    r = subprocess.run([sys.executable, str(DATA / "build.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_sizes_and_share_without_reference(splits):
    for name, rows in splits.items():
        assert len(rows) >= MIN_ROWS[name]
        assert sum(1 for r in rows if not CANTOS.references(r.output)) / len(rows) >= 0.25, name


def frame(row) -> str:
    """The frame a row was drawn from: its id is `{split}-{frame id}-{k}`."""
    return row.id.split("-")[1]


def test_splits_are_held_out_by_frame(splits):
    """The headline test measures unseen phrasing: no frame of valid or test is trained on."""
    frames = {name: {frame(r) for r in rows} for name, rows in splits.items()}
    for name, rows in splits.items():
        assert all(r.id.startswith(name + "-") for r in rows), name
    assert not frames["train"] & frames["valid"] and not frames["train"] & frames["test"]
    assert not frames["valid"] & frames["test"]
    assert len(frames["test"]) >= 50 and len(frames["train"]) >= 300


def test_every_canto_and_every_kind_is_trained_and_tested(splits):
    for name in ("train", "test"):
        cantos = {r.canto for ex in splits[name] for r in CANTOS.references(ex.output)}
        assert cantos == set(range(1, 121)), name
    kinds = {"multi", "canto_range", "section", "section_ordinal", "relative", "from_end", "from_start",
             "page", "no_ref", "other_poem", "question", "roman", "arabic", "ordinal", "single_line", "range"}
    for name, rows in splits.items():
        assert kinds <= {t for ex in rows for t in ex.tags}, (name, kinds - {t for ex in rows for t in ex.tags})


def test_no_input_is_shared_between_splits(splits):
    keys = {name: {normalize(r.input) for r in rows} for name, rows in splits.items()}
    assert not keys["train"] & keys["valid"]
    assert not keys["train"] & keys["test"]
    assert not keys["valid"] & keys["test"]


def test_gold_lines_are_possible(splits):
    for rows in splits.values():
        for ex in rows:
            for ref in CANTOS.references(ex.output):
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
    """A row tagged `section` (not an ordinal inside one) lists every canto of a section, in order."""
    spans = set(SECTIONS.values())
    rows = [ex for rows in splits.values() for ex in rows
            if "section" in ex.tags and "section_ordinal" not in ex.tags and "multi" not in ex.tags]
    assert len(rows) >= 100
    for ex in rows:
        cantos = [r.canto for r in CANTOS.references(ex.output)]
        assert (cantos[0], cantos[-1]) in spans and cantos == list(range(cantos[0], cantos[-1] + 1)), ex.input
        assert all(not r.lines for r in CANTOS.references(ex.output)), ex.input
