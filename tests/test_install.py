"""The package where users install it: the oldest Python it claims is stated alike in pyproject.toml,
the README and the Makefile (which refuses an older one in one line), and the built-in tasks' test
splits ship inside it (a wheel holds them), so `extractor eval --run DIR` works from any directory."""

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from extractor.core.errors import ConfigError
from extractor.evaluation.suite import default_suite, load_suite
from extractor.runtimes.run_card import RunCard
from extractor.tasks.registry import get_task

ROOT = Path(__file__).resolve().parents[1]
BUILTIN = ("cantos", "citations")


def oldest_python() -> tuple[int, int]:
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    m = re.fullmatch(r">=\s*(\d+)\.(\d+)", requires)
    assert m, f"requires-python = {requires!r}: this test reads only the form '>=X.Y'"
    return int(m[1]), int(m[2])


def test_the_oldest_python_is_stated_alike_in_pyproject_the_readme_and_the_makefile():
    need = oldest_python()
    readme = re.findall(r"Python >= (\d+)\.(\d+)", (ROOT / "README.md").read_text())
    assert readme and {tuple(map(int, v)) for v in readme} == {need}, readme
    makefile = re.findall(r"sys\.version_info < \((\d+), (\d+)\)", (ROOT / "Makefile").read_text())
    assert makefile and {tuple(map(int, v)) for v in makefile} == {need}, makefile
    assert sys.version_info[:2] >= need


def _older_python() -> str | None:
    """A Python older than requires-python on this machine (python3.X on the PATH, or pyenv's)."""
    need = oldest_python()
    found = [shutil.which(f"python{need[0]}.{m}") for m in range(need[1] - 1, 5, -1)]
    versions = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    found += [str(d / "bin" / "python") for d in sorted(versions.glob(f"{need[0]}.*"), reverse=True)]
    for exe in filter(None, found):
        r = subprocess.run([exe, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True, text=True)
        if r.returncode == 0 and tuple(map(int, r.stdout.split())) < need:
            return exe
    return None


def test_make_refuses_an_older_python_in_one_line_before_installing_anything(tmp_path):
    old = _older_python()
    if old is None:
        pytest.skip("no Python older than requires-python on this machine (python3.X, pyenv) to run make with")
    venv = tmp_path / "venv"
    r = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "install", f"VENV={venv}", f"PY={old}"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and not venv.exists(), r.stdout[-2000:] + r.stderr[-2000:]
    ours = [x for x in r.stderr.splitlines() if "needs Python >=" in x]
    need = ".".join(map(str, oldest_python()))
    assert len(ours) == 1 and f"extractor needs Python >= {need}" in ours[0] and "make PY=python" in ours[0], r.stderr


# ----------------------------------------------------------------------------- packaged test splits
@pytest.mark.parametrize("name", BUILTIN)
def test_a_builtin_task_ships_its_test_split_and_it_is_the_datasets_one(name):
    """The suite names a file inside the package, beside the suite; it is datasets/NAME/test.jsonl,
    which build.py writes and checks (in the repository a link: one copy, nothing to drift)."""
    task = get_task(name)
    shipped = default_suite(task).data["test"]
    assert shipped.parent == task.suite.parent and shipped.name == "test.jsonl"
    assert shipped.read_bytes() == (ROOT / "datasets" / name / "test.jsonl").read_bytes()


def test_a_wheel_holds_every_data_file_of_the_package_and_the_splits_themselves(tmp_path):
    """pyproject's package-data globs take every file of extractor/ that is not Python, and the
    test splits go into the wheel as the files (not links) with datasets/'s bytes."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "extractor", src / "extractor", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for f in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / f, src / f)
    for name in BUILTIN:  # the links' targets
        (src / "datasets" / name).mkdir(parents=True)
        shutil.copy(ROOT / "datasets" / name / "test.jsonl", src / "datasets" / name / "test.jsonl")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                        str(tmp_path / "dist"), str(src)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("extractor-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        data = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "extractor").rglob("*")
                      if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts)
        assert data and [f for f in data if f not in names] == []
        for name in BUILTIN:
            info = z.getinfo(f"extractor/tasks/{name}/test.jsonl")
            assert (info.external_attr >> 16) & 0o170000 == 0o100000  # a regular file
            assert z.read(info) == (ROOT / "datasets" / name / "test.jsonl").read_bytes()


def test_eval_of_a_run_works_from_any_directory(tmp_path):
    """The README's quick start, `extractor eval --run DIR --out DIR`, from a directory outside the
    repository: the task's own suite evaluates the packaged test split (the rules need no model)."""
    here = tmp_path / "elsewhere"
    run = here / "runs" / "mine"
    (run / "adapter").mkdir(parents=True)
    RunCard("smollm2-135m", "cantos", "cantos", "chat", get_task("cantos").system).write(run)
    (run / "adapter" / "adapter_model.safetensors").write_bytes(b"placeholder")  # the rules never load it
    assert ROOT not in here.parents
    r = subprocess.run([sys.executable, "-m", "extractor", "eval", "--quiet", "--run", "runs/mine", "--variants",
                        "rules", "--out", "out"], capture_output=True, text=True, cwd=here, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    shipped = default_suite(get_task("cantos")).data["test"]
    meta = json.loads((here / "out" / "eval.json").read_text())
    assert Path(meta["data"]["test"]).resolve() == shipped.resolve()
    report = json.loads((here / "out" / "report.json").read_text())
    assert report["metrics"]["test"]["rules"]["n"] == len(shipped.read_text().splitlines()) == 291


@pytest.mark.parametrize("path,needle", [
    ("pkg:no_such_package_xyz/test.jsonl", "data.test = 'pkg:no_such_package_xyz/test.jsonl': no installed Python "
                                           "package 'no_such_package_xyz'; install it, or pass --data FILE.jsonl"),
    ("pkg:extractor.tasks/nope.jsonl", "nope.jsonl': file not found; pass --data FILE.jsonl"),
])
def test_a_package_data_path_that_is_not_there_is_one_line_naming_the_file_and_the_fix(tmp_path, path, needle):
    f = tmp_path / "evals" / "s.toml"
    f.parent.mkdir()
    f.write_text(f'variants = ["rules"]\n[data]\ntest = "{path}"\n')
    with pytest.raises(ConfigError) as e:
        load_suite(f, get_task("cantos")).check_files()
    assert needle in str(e.value) and str(f) in str(e.value) and "\n" not in str(e.value)
