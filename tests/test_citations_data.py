"""The citations dataset (second task, in progress): what its generator writes, rows that follow its schema."""

import json
import subprocess
import sys
from pathlib import Path

import jsonschema

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "datasets" / "citations"
SCHEMA = ROOT / "extractor" / "tasks" / "citations" / "schema.json"


def test_committed_files_are_what_the_generator_writes():
    r = subprocess.run([sys.executable, str(DATA / "build.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_rows_follow_the_schema_and_values_are_substrings_of_the_input():
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    templates = {}
    for split in ("train", "valid", "test"):
        rows = [json.loads(line) for line in (DATA / f"{split}.jsonl").read_text().splitlines()]
        assert len(rows) >= 100
        for row in rows:
            assert not list(validator.iter_errors(row["output"])), row
            assert all(v in row["input"] for v in row["output"].values()), row
            templates.setdefault(split, set()).add(row["id"].rsplit("-", 1)[0].split("-", 1)[1])
    assert not templates["train"] & templates["test"] and not templates["train"] & templates["valid"]


def test_some_training_titles_use_straight_quotes_so_outputs_escape_them():
    lines = (DATA / "train.jsonl").read_text().splitlines()
    escaped = [line for line in lines if '\\"' in json.dumps(json.loads(line)["output"], ensure_ascii=False)]
    assert len(escaped) >= 0.04 * len(lines), len(escaped)
    rows = [json.loads(line) for line in escaped]
    assert any(v.startswith('"') for row in rows for v in row["output"].values())


def test_segments_in_order_make_the_input():
    for split in ("train", "valid", "test"):
        for line in (DATA / f"{split}.jsonl").read_text().splitlines():
            row = json.loads(line)
            values = list(row["output"].values())
            joined = " ".join(values)
            if "artefact" in row["tags"]:  # a missing space between two segments is a tagged artefact
                assert joined.replace(" ", "") == row["input"].replace(" ", ""), row
            else:
                assert joined == row["input"], row
