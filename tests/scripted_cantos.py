"""A scripted Cantos evaluation (samples.jsonl + eval.json, no model): every ending and outcome the
scorer distinguishes, on rows of the committed valid and test splits. tests/test_tasks.py re-scores
it and compares with tests/fixtures/cantos_rescore.json, the figures the scorer gave before the
Task layer existed (commit 961431c); this module reads the data files with json alone. The rules
row is the rules' output of that time (tests/fixtures/cantos_rules_raw.json), so a later change to the
rules changes tests/test_rules.py, not this check of the scorer."""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RULES_RAW = json.loads((ROOT / "tests" / "fixtures" / "cantos_rules_raw.json").read_text())
VARIANTS = ["rules", "adapter-gguf", "merged-gguf", "merged-gguf+grammar"]
THRESHOLDS = [{"data": "test", "variants": ["adapter-gguf", "merged-gguf"],
               "bounds": {"exact_match": 0.7, "clean_stop": 0.95, "runaway": 0.1, "impossible_lines": 0.0}}]


def _answer(refs) -> str:
    return json.dumps({"references": refs})


def _scripted(i: int, gold: list[dict]) -> tuple[str, str]:
    """(raw output, finish reason) for row i of merged-gguf: one of eight behaviours."""
    k = i % 8
    if k == 0:
        return _answer(gold), "stop"
    if k == 1:
        return _answer(gold) + '\n### Question: "And Canto II?"', "stop"
    if k == 2:  # a wrong canto or a wrong (impossible) line
        wrong = [{"canto": r["canto"], "lines": r["lines"] + [999]} for r in gold] or [{"canto": 45, "lines": []}]
        return _answer(wrong), "stop"
    if k == 3:
        return _answer(gold)[:-3], "length"
    if k == 4:
        return '{"references": [{"canto": "IX", "lines": []}]}', "stop"
    if k == 5:
        return _answer(gold) + " These are all the references.", "length"
    if k == 6:
        return "The references are: none", "stop"
    return "```json\n" + _answer(list(reversed(gold))) + "\n```<|im_end|>", "stop"


def write(out: Path) -> None:
    """Write out/samples.jsonl and out/eval.json."""
    out.mkdir(parents=True, exist_ok=True)
    files = {"valid": ROOT / "datasets" / "cantos" / "valid.jsonl", "test": ROOT / "datasets" / "cantos" / "test.jsonl"}
    records = []
    for label, path in files.items():
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()][:48]
        for i, ex in enumerate(rows):
            gold = [{"canto": r["canto"], "lines": r["lines"]} for r in ex["output"]["references"]]
            outputs = {
                "rules": (RULES_RAW[ex["id"]], "stop", 0.001 * (i % 3 + 1), 0),
                "adapter-gguf": (_answer(gold), "stop", 0.2 + 0.01 * (i % 7), 12 + i % 5),
                "merged-gguf": (*_scripted(i, gold), 0.1 + 0.02 * (i % 5), 10 + i % 9),
                "merged-gguf+grammar": (*_scripted(i + 3 if i % 2 else i, gold), 0.3, 11),
            }
            for v in VARIANTS:
                raw, finish, seconds, tokens = outputs[v]
                error = "ValueError: Requested tokens exceed context window" if v == "merged-gguf+grammar" and i == 5 else None
                records.append({"data": label, "variant": v, "id": ex["id"], "tags": ex.get("tags", []), "input": ex["input"],
                                "gold": gold, "raw": "" if error else raw, "finish_reason": "error" if error else finish,
                                "seconds": seconds, "gen_tokens": tokens, "error": error})
    (out / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (out / "eval.json").write_text(json.dumps({"suite": "scripted", "variants": VARIANTS, "thresholds": THRESHOLDS,
                                               "data": {k: str(v.relative_to(ROOT)) for k, v in files.items()}}))
