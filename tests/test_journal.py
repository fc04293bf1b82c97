"""extractor.core.journal: whole lines, torn tails recovered, bad lines named, kill -9 mid-stream."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from extractor.core import journal
from extractor.core.errors import ConfigError


def lines(path):
    return path.read_bytes().split(b"\n")


def test_records_round_trip_one_line_each_with_unicode_and_newlines(tmp_path):
    path = tmp_path / "j.jsonl"
    recs = [{"i": 0, "text": "line one\nline two"}, {"i": 1, "text": "Cantos – Ἀ ü \u2028 end"}, {"i": 2}]
    with journal.Journal(path) as j:
        j.append(recs[0])
        j.extend(recs[1:])
    assert path.read_bytes().count(b"\n") == 3
    assert list(journal.read(path)) == recs
    assert "Ἀ".encode() in path.read_bytes()  # kept as UTF-8, not \\u escapes


def test_missing_and_empty_files_have_no_records(tmp_path):
    assert list(journal.read(tmp_path / "none.jsonl")) == []
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert list(journal.read(empty)) == []
    assert journal.recover(empty) == journal.Recovery()
    assert journal.recover(tmp_path / "none.jsonl") == journal.Recovery()
    with journal.Journal(empty) as j:
        j.append({"a": 1})
    assert list(journal.read(empty)) == [{"a": 1}]


def test_a_torn_last_line_is_an_error_skipped_or_cut(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": 2}\n{"a": 3, "te')
    with pytest.raises(ConfigError, match=r"j\.jsonl:3: the last line is incomplete \(12 bytes.*resume it") as e:
        list(journal.read(path, hint="resume it"))
    assert "resume it" in str(e.value)
    assert list(journal.read(path, torn="skip")) == [{"a": 1}, {"a": 2}]
    assert path.read_bytes().endswith(b'"te')  # reading never changes the file
    assert journal.recover(path) == journal.Recovery(cut_bytes=12)
    assert path.read_bytes() == b'{"a": 1}\n{"a": 2}\n'
    assert journal.recover(path) == journal.Recovery()  # idempotent


def test_a_torn_line_of_zeros_after_a_crash_is_cut(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"a": 1}\n' + b"\x00" * 100)
    assert list(journal.read(path, torn="skip")) == [{"a": 1}]
    assert journal.recover(path).cut_bytes == 100


def test_a_whole_record_missing_only_its_newline_is_kept_and_completed(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": 2}')
    assert list(journal.read(path)) == [{"a": 1}, {"a": 2}]
    assert journal.recover(path) == journal.Recovery(completed=True)
    assert path.read_bytes() == b'{"a": 1}\n{"a": 2}\n'


def test_a_torn_line_with_no_newline_anywhere_is_cut_to_empty(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"a": ' + b"x" * 200_000)  # longer than one backward-scan chunk
    assert journal.recover(path).cut_bytes == 200_006
    assert path.read_bytes() == b""


def test_a_newline_beyond_the_last_scan_chunk_is_found(tmp_path):
    path = tmp_path / "j.jsonl"
    big = {"text": "y" * 150_000}
    path.write_bytes(journal.encode(big) + b'{"torn": ')
    assert journal.recover(path).cut_bytes == 9
    assert list(journal.read(path)) == [big]


def test_opening_a_journal_recovers_so_no_record_is_glued_to_a_torn_one(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": 2, "x')
    with journal.Journal(path) as j:
        assert j.recovered.cut_bytes == 11
        j.append({"a": 2})
        j.append({"a": 3})
    assert list(journal.read(path)) == [{"a": 1}, {"a": 2}, {"a": 3}]


@pytest.mark.parametrize("bad, reason", [
    (b"not json\n", "not JSON"),
    (b"[1, 2]\n", "a JSON list, not an object"),
    (b"\n", "not JSON"),
    (b'{"a": "\xff"}\n', "not UTF-8"),
])
def test_a_bad_complete_line_is_an_error_naming_file_and_line_never_skipped(tmp_path, bad, reason):
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"a": 1}\n' + bad + b'{"a": 3}\n')
    for torn in ("error", "skip"):
        with pytest.raises(ConfigError, match=rf"j\.jsonl:2: {reason}.*edited"):
            list(journal.read(path, torn=torn))
    journal.recover(path)  # a bad middle line is not a torn tail: nothing is cut
    assert path.read_bytes().endswith(b'{"a": 3}\n')


def test_check_names_the_line_of_a_record_of_the_wrong_kind(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"seq": 0}\n{"id": 1}\n')
    check = lambda r: None if "seq" in r else "no 'seq'"  # noqa: E731
    with pytest.raises(ConfigError, match=r"j\.jsonl:2: no 'seq' fix it"):
        list(journal.read(path, check=check, hint="fix it"))


def test_rewrite_replaces_the_content_atomically(tmp_path):
    path = tmp_path / "j.jsonl"
    journal.append(path, {"step": 1})
    journal.append(path, {"step": 2})
    journal.rewrite(path, [{"step": 1}])
    assert list(journal.read(path)) == [{"step": 1}]
    assert [p.name for p in tmp_path.iterdir()] == ["j.jsonl"]


def test_a_closed_journal_refuses_to_write_and_non_dicts_are_refused(tmp_path):
    j = journal.Journal(tmp_path / "j.jsonl")
    with pytest.raises(TypeError, match="dict"):
        j.append([1, 2])
    j.close()
    j.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        j.append({"a": 1})


WRITER = """
import sys
from extractor.core.journal import Journal
with Journal(sys.argv[1], sync_every_record=False) as j:
    i = 0
    while True:
        j.append({"i": i, "pad": "x" * (i % 5000)})
        i += 1
"""


def test_kill_9_mid_stream_leaves_whole_records_that_resume_continues(tmp_path):
    path = tmp_path / "j.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)])
    deadline = time.time() + 30
    while (not path.exists() or path.stat().st_size < 200_000) and time.time() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # A kill between two writes can only leave whole lines; simulate a crash's torn tail too.
    with open(path, "ab") as f:
        f.write(b'{"i": -1, "pad": "xx')
    journal.recover(path)
    recs = list(journal.read(path))
    assert len(recs) > 10 and [r["i"] for r in recs] == list(range(len(recs)))
    with journal.Journal(path) as j:
        j.append({"i": len(recs)})
    assert [r["i"] for r in journal.read(path)] == list(range(len(recs) + 1))
    assert json.loads(lines(path)[-2])["i"] == len(recs)


def test_atomic_write_gives_ordinary_permissions(tmp_path):
    import os
    import stat

    from extractor.core.files import atomic_write

    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "report.md", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "report.md").stat().st_mode) == 0o644
