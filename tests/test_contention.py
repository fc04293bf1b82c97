"""The warning about another heavy job on the same cores: which command lines count, and that a
real second process is found (and the test process itself is not)."""

import subprocess
import sys

from extractor.cli import contention


def test_heavy_command_lines():
    heavy = [["/x/.venv/bin/python", "/x/.venv/bin/extractor", "train", "configs/a.toml"],
             ["python", "-m", "extractor", "eval", "--out", "r"],
             [".venv/bin/extractor", "extract", "--run", "runs/a", "in.txt"],
             ["python", "bench/eval_throughput.py"]]
    light = [[".venv/bin/extractor", "report", "show", "r"], ["python", "-m", "extractor", "data", "check", "a"],
             ["python", "-m", "pytest"], ["python", "train.py"], ["vim", "extractor/train.py"], [],
             ["flock", "/tmp/lock", ".venv/bin/extractor", "eval", "--out", "r"],
             ["bash", "-c", ".venv/bin/extractor train a.toml"]]
    assert all(contention.is_heavy(a) for a in heavy)
    assert not any(contention.is_heavy(a) for a in light)


def test_finds_another_heavy_process_but_not_itself(tmp_path):
    assert all(pid != __import__("os").getpid() for pid, _ in contention.others())
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "sleeper.py").write_text("import time; time.sleep(30)\n")
    p = subprocess.Popen([sys.executable, str(bench / "sleeper.py")])
    try:
        seen = []
        for _ in range(50):  # the child's /proc entry appears once it has exec'd
            seen = [pid for pid, _ in contention.others() if pid == p.pid]
            if seen:
                break
            __import__("time").sleep(0.05)
        assert seen == [p.pid]
        lines = []
        contention.warn(lines.append)
        assert any(f"pid {p.pid}" in m and "sleeper.py" in m for m in lines)
    finally:
        p.kill()
        p.wait()
