"""`extractor extract`: records, exit status, resume after a real kill, shards + merge, identical
passages, --resolve-lines, and the Python API with the real embedded model."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from extractor.cli import cli
from extractor.extract.corpus import EXIT_SKIPPED, Shard, meta_path, run_extract
from extractor.extract.merge import merge
from extractor.core.errors import ConfigError
from extractor.extract.extractor import Extractor

CANTOS = ["Canto I", "Canto IX, ll. 15-28", "the last line of Canto XXX", "Canto XLV", "p. 12 of Canto LXXIV",
          "no reference here", "Cantos III and IV", "Inferno V is Dante", "Canto 81, line 3"]


def corpus(root: Path, files: int, paragraphs: int) -> Path:
    """Text files whose paragraphs differ (a seq number in each) and mention a canto."""
    root.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        paras = [f"Passage {f}-{i}: see {CANTOS[(f + i) % len(CANTOS)]}." for i in range(paragraphs)]
        (root / f"doc{f:03d}.txt").write_text("\n\n".join(paras) + "\n")
    return root


def invoke(*args, input=None):
    return CliRunner().invoke(cli, ["extract", *map(str, args)], input=input, catch_exceptions=False)


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_passage_of_every_input_has_a_record_and_skips_set_the_exit_status(tmp_path):
    src = corpus(tmp_path / "in", 2, 3)
    (src / "bad.bin").write_bytes(b"\x00\x01")
    out = tmp_path / "out.jsonl"
    r = invoke("--variant", "rules", src, "--out", out, "--quiet")
    assert r.exit_code == EXIT_SKIPPED
    recs = records(out)
    assert [rec["seq"] for rec in recs] == list(range(7))
    assert recs[0]["status"] == "skipped: binary file (it holds NUL bytes); pass text or JSONL files"
    assert {rec["status"] for rec in recs[1:]} == {"ok"}
    first = recs[1]
    assert first["source"].endswith("doc000.txt") and first["line"] == 1 and first["passage"] == 0
    text = Path(first["source"]).read_text()
    assert all(text[r["start"]:r["end"]] == r["text"] for r in recs[1:4])
    assert first["references"] == [{"canto": 1, "lines": []}]
    # Resuming a finished output that holds skipped records still says so.
    r = invoke("--variant", "rules", src, "--out", out, "--resume", "--quiet")
    assert r.exit_code == EXIT_SKIPPED and len(records(out)) == 7
    # Without the binary file nothing is skipped: exit 0; stdout when there is no --out.
    (src / "bad.bin").unlink()
    r = invoke("--variant", "rules", src, "--quiet")
    assert r.exit_code == 0 and [json.loads(x)["seq"] for x in r.output.splitlines()] == list(range(6))


def test_resolve_lines_adds_absolute_lines_and_flags_impossible_ones(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("the last line of Canto IX\n\nCanto II, line 500\n\nthe last line of Canto LXXX\n")
    r = invoke("--variant", "rules", "--resolve-lines", f, "--quiet")
    refs = [json.loads(x)["references"][0] for x in r.output.splitlines()]
    assert refs[0] == {"canto": 9, "lines": [-1], "length": 268, "resolved_lines": [268], "impossible_lines": []}
    assert refs[1] == {"canto": 2, "lines": [500], "length": 160, "resolved_lines": [None], "impossible_lines": [500]}
    assert refs[2] == {"canto": 80, "lines": [-1], "length": None, "resolved_lines": [None], "impossible_lines": []}


def test_identical_passages_are_run_once(tmp_path):
    f = tmp_path / "dup.txt"
    f.write_text("\n\n".join(["Canto IV.", "Canto V.", "Canto IV.", "Canto IV.", "Canto VI.", "Canto V."] * 3))
    ex = Extractor.load(variant="rules")
    out = tmp_path / "out.jsonl"
    summary = run_extract(ex, [str(f)], out, batch_size=4, progress=False)
    recs = records(out)
    assert len(recs) == 18 and summary.computed == 3 and summary.reused == 15
    by_text = {}
    for rec in recs:
        assert by_text.setdefault(rec["text"], rec["references"]) == rec["references"]


def test_resume_after_a_real_kill_neither_repeats_nor_drops_a_passage(tmp_path):
    src = corpus(tmp_path / "in", 40, 400)  # 16,000 passages: long enough to be killed mid-run
    full, part = tmp_path / "full.jsonl", tmp_path / "part.jsonl"
    cmd = [sys.executable, "-m", "extractor", "extract", "--variant", "rules", str(src), "--quiet"]
    subprocess.run([*cmd, "--out", str(full)], check=True)
    proc = subprocess.Popen([*cmd, "--out", str(part), "--batch-size", "4"])
    deadline = time.time() + 60
    while time.time() < deadline and (not part.exists() or part.stat().st_size < 200_000):
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = len(part.read_text().splitlines())
    assert 0 < killed_at < 16_000, "the kill did not land mid-run"
    # A machine crash could also tear the last line: --resume cuts it off.
    with open(part, "a") as f:
        f.write('{"seq": 99999, "source": "torn')
    subprocess.run([*cmd, "--out", str(part), "--resume"], check=True)
    assert part.read_text() == full.read_text()
    assert json.loads(meta_path(part).read_text())["finished"] is True


def test_resume_refuses_other_options_or_changed_inputs(tmp_path):
    src = corpus(tmp_path / "in", 2, 5)
    out = tmp_path / "out.jsonl"
    assert invoke("--variant", "rules", src, "--out", out, "--quiet").exit_code == 0
    r = invoke("--variant", "rules", src, "--out", out, "--quiet")
    assert r.exit_code == 1 and "already holds records: pass --resume" in r.output
    r = invoke("--variant", "rules", "--resolve-lines", src, "--out", out, "--resume", "--quiet")
    assert r.exit_code == 1 and "resolve_lines: False -> True" in r.output
    (src / "doc001.txt").write_text("Canto C.\n")  # fewer passages than were written
    r = invoke("--variant", "rules", src, "--out", out, "--resume", "--quiet")
    assert r.exit_code == 1 and "did the inputs change?" in r.output
    r = invoke("--variant", "rules", "-", "--out", out, "--resume", "--quiet", input="x")
    assert r.exit_code == 1 and "cannot re-read stdin" in r.output


def test_shards_merged_equal_a_single_run(tmp_path):
    src = corpus(tmp_path / "in", 7, 13)
    (src / "empty.txt").write_text("")
    single = tmp_path / "single.jsonl"
    invoke("--variant", "rules", src, "--out", single, "--quiet")
    parts = [tmp_path / f"part{k}.jsonl" for k in (1, 2, 3)]
    for k, part in enumerate(parts, 1):
        invoke("--variant", "rules", src, "--shard", f"{k}/3", "--out", part, "--quiet")
        assert {rec["seq"] % 3 for rec in records(part)} == {k - 1}
    merged = tmp_path / "merged.jsonl"
    r = invoke("merge", parts[2], parts[0], parts[1], "--out", merged)
    assert r.exit_code == 0, r.output
    assert merged.read_text() == single.read_text()
    # Missing, unfinished and mixed shards are refused with what to do.
    r = invoke("merge", parts[0], parts[1], "--out", tmp_path / "m2.jsonl")
    assert r.exit_code == 1 and "every shard K/N of one N exactly once" in r.output
    meta = json.loads(meta_path(parts[1]).read_text())
    meta_path(parts[1]).write_text(json.dumps({**meta, "finished": False}))
    r = invoke("merge", *parts, "--out", tmp_path / "m3.jsonl")
    assert r.exit_code == 1 and "has not finished" in r.output and "--resume" in r.output
    meta_path(parts[1]).write_text(json.dumps({**meta, "resolve_lines": True}))
    r = invoke("merge", *parts, "--out", tmp_path / "m4.jsonl")
    assert r.exit_code == 1 and "different resolve_lines" in r.output
    assert not (tmp_path / "m4.jsonl").exists()


def test_shard_option_is_checked():
    assert Shard.parse("2/4").owns(5) and not Shard.parse("2/4").owns(4)
    for bad in ("0/3", "4/3", "a/b", "3"):
        with pytest.raises(ConfigError, match="K/N"):
            Shard.parse(bad)


def test_a_run_is_required_for_trained_variants():
    with pytest.raises(ConfigError, match="needs a training run"):
        Extractor.load(variant="merged-gguf")
    with pytest.raises(ConfigError, match="drop '@bug'"):
        Extractor.load("runs/x", variant="merged-gguf@bug")


# ----------------------------------------------------------------------------- the real model
@pytest.mark.slow
def test_api_and_cli_with_the_merged_gguf(exported, tmp_path):
    run, _ = exported
    from extractor.runtimes.variant import Settings

    # What the 48-step test model answers is not the point (it is often `[]`): the API, the CLI
    # and the splitter must agree with one another and with llama.cpp itself.
    texts = ["Tell me about lines 70\u201375 of Canto 39.", "I am stuck on ll. 54-68 of Canto LXII - any pointers?",
             "Her grandfather sailed to Canton in the tea trade."]
    settings = Settings(n_ctx=256, max_new_tokens=64)
    with Extractor.load(run, "merged-gguf", settings=settings) as ex:
        results = ex.extract_batch(texts)
        assert all(r.status in ("ok", "no_json", "invalid") for r in results)
        # What the API returns is what llama.cpp generates for the run's prompt, parsed.
        from extractor.runtimes.llama import complete, open_llama

        llm = open_llama(run / "export" / "merged.gguf", n_ctx=256)
        assert [r.raw for r in results] == [complete(llm, ex.variant.prompt(t), 64).text for t in texts]
        llm.close()
        for text, r in zip(texts, results):
            if r.status == "ok":
                assert ex.extract(text) == ex.task.collect([r.answer])
        long_sentence = "Canto IX " + "and so on " * 150 + "."
        assert not ex.fits(long_sentence) and ex.fits(texts[0])
        with pytest.raises(Exception, match="does not fit"):
            ex.extract(long_sentence)
    # The CLI with the same small context: a long paragraph is split into sentences and an
    # overlong sentence is skipped with the reason; the answers equal the API's.
    doc = tmp_path / "essay.txt"
    para = " ".join(f"Canto {n} matters here." for n in ("XLV", "IX", "LXXXI") * 25)
    doc.write_text("\n\n".join(texts) + f"\n\n{para}\n\n{long_sentence}\n")
    out = tmp_path / "out.jsonl"
    r = invoke("--run", run, "--variant", "merged-gguf", "--n-ctx", 256, "--max-new-tokens", 64, doc,
               "--out", out, "--quiet")
    recs = records(out)
    assert r.exit_code == EXIT_SKIPPED
    for rec, res in zip(recs, results):
        assert rec["status"] == res.status
        assert rec["references"] == (res.answer["references"] if res.status == "ok" else None)
    middle = [rec for rec in recs if rec["line"] == 7]
    assert len(middle) > 1 and " ".join(rec["text"] for rec in middle) == para
    assert recs[-1]["status"].startswith("skipped: sentence of") and "does not fit" in recs[-1]["status"]
    assert all(rec["status"] in ("ok", "no_json", "invalid") for rec in recs[:-1])
    text = doc.read_text()
    assert all(text[rec["start"]:rec["end"]] == rec["text"] for rec in recs)
