"""`extractor import`: a fine-tune made elsewhere becomes a run directory like one of ours.

A peft LoRA adapter (trl, axolotl, unsloth, LLaMA-Factory save this) and/or GGUFs made elsewhere
(a merged GGUF, a llama.cpp LoRA GGUF) are checked against the base model before anything heavy
loads, then written as::

    RUN_DIR/
      card.json        base model, task, prompt format and system prompt, base fingerprint, origin
      adapter/         the peft adapter (adapter_config.json + adapter_model.safetensors), if given
      export/          merged.gguf / adapter.gguf, if given (export.json says where they came from)

`extractor export`, `eval` and `extract` then use it exactly as a run of `extractor train`.
Every refusal is one line naming the file and the fix: pickle weights (``adapter_model.bin``),
DoRA, ``modules_to_save``, embedding or ``lm_head`` targets, a module or shape the base does not
have, a GGUF of another architecture or shapes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..core.errors import ConfigError, ExportError
from ..core.files import replace_dir, sha256_file, write_json
from ..core.task import Task
from ..runtimes import models
from ..runtimes.gguf_info import base_info, check_adapter_gguf
from ..runtimes.run_card import ADAPTER_FILES, RunCard, fingerprint
from ..tasks.registry import source
from .lora_gguf import Adapter, gguf_pairs, read_adapter

PROMPT_FORMATS = ("chat", "plain")


def check_adapter_files(adapter_dir: Path) -> None:
    """The two files of a peft adapter are here, and the weights are safetensors."""
    if not adapter_dir.is_dir():
        raise ConfigError(f"{adapter_dir}: no such adapter directory; pass the folder holding adapter_config.json")
    if not (adapter_dir / "adapter_config.json").is_file():
        raise ConfigError(f"{adapter_dir}: no adapter_config.json; pass the folder peft's save_pretrained wrote")
    if not (adapter_dir / "adapter_model.safetensors").is_file():
        if (adapter_dir / "adapter_model.bin").is_file():
            raise ConfigError(f"{adapter_dir / 'adapter_model.bin'}: pickle weights are not loaded (they can run code); "
                              "save the adapter with safe_serialization=True (peft's default) to get adapter_model.safetensors")
        raise ConfigError(f"{adapter_dir}: no adapter_model.safetensors; pass the folder peft's save_pretrained wrote")


def _base_shapes_hf(hf_dir: Path) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape of an HF checkpoint, from its safetensors headers (nothing is loaded)."""
    from safetensors import safe_open

    files = sorted(hf_dir.glob("*.safetensors"))
    if not files:
        raise ConfigError(f"{hf_dir}: no *.safetensors weights to check the adapter against")
    shapes = {}
    for f in files:
        with safe_open(str(f), framework="numpy") as st:
            for name in st.keys():
                shapes[name] = tuple(st.get_slice(name).get_shape())
    return shapes


def check_adapter_fits(adapter: Adapter, spec: models.ModelSpec) -> None:
    """Every adapted module exists in the base with the adapter's shapes: against the base GGUF's
    tensors where there is one (as `extractor export` will need), else the HF checkpoint's headers."""
    try:
        gguf_path = models.gguf_path(spec)
    except ConfigError:
        gguf_path = None
    except Exception:  # noqa: BLE001 - no GGUF for this base: check the HF weights instead
        gguf_path = None
    try:
        if gguf_path is not None:
            import gguf

            gguf_pairs(adapter, base_info(gguf.GGUFReader(gguf_path)), gguf_path)
            return
    except ExportError as e:
        raise ConfigError(f"{e} Pass the base it was trained on with --base.".replace(
            " Export with the base the run was trained on.", "")) from None
    shapes = _base_shapes_hf(Path(models.hf_path(spec)))
    for module, (a, b) in sorted(adapter.pairs.items()):
        want = shapes.get(f"{module}.weight")
        if want is None:
            raise ConfigError(f"{adapter.path}: module {module} is not in the base {spec.name}: this adapter was "
                              "trained for another base model. Pass its base with --base.")
        if (b.shape[0], a.shape[1]) != tuple(want[:2]):
            raise ConfigError(f"{adapter.path}: {module} is {b.shape[0]}x{a.shape[1]} in the adapter but "
                              f"{want[0]}x{want[1]} in {spec.name}: this adapter was trained for another base model. "
                              "Pass its base with --base.")


def import_run(out: Path, base: str, task: Task, *, adapter: Path | None = None, merged_gguf: Path | None = None,
               lora_gguf: Path | None = None, system: str | None = None, prompt_format: str = "chat",
               force: bool = False) -> RunCard:
    """Check everything given against ``base``, then write the run directory ``out``."""
    if adapter is None and merged_gguf is None and lora_gguf is None:
        raise ConfigError("nothing to import: give an ADAPTER_DIR, --merged-gguf FILE or --lora-gguf FILE")
    if prompt_format not in PROMPT_FORMATS:
        raise ConfigError(f"--prompt-format {prompt_format!r}: must be one of {', '.join(PROMPT_FORMATS)}")
    if out.exists() and any(out.iterdir()) and not force:
        raise ConfigError(f"{out} exists and is not empty; pick another --out (or --force to replace it)")
    spec = models.get(base)
    base_gguf = None
    if merged_gguf is not None or lora_gguf is not None:
        base_gguf = models.gguf_path(spec)  # a missing base GGUF is one line saying how to provide it
    peft = None
    if adapter is not None:
        check_adapter_files(adapter)
        try:
            peft = read_adapter(adapter)
        except ExportError as e:
            raise ConfigError(str(e)) from None
        check_adapter_fits(peft, spec)
    if merged_gguf is not None:
        _check_merged_gguf(merged_gguf, base_gguf)
    if lora_gguf is not None:
        if not lora_gguf.is_file():
            raise ConfigError(f"{lora_gguf}: no such LoRA GGUF file")
        try:
            check_adapter_gguf(base_gguf, lora_gguf)
        except ExportError as e:
            raise ConfigError(f"{e} Pass the base it was made for with --base.") from None
    hf_dir = models.hf_path(spec) if adapter is not None else None
    card = RunCard(spec.name if spec.name in models.PRESETS else str(Path(spec.name).resolve()), task.name,
                   source(task), prompt_format, system if system is not None else task.system,
                   fingerprint(hf_dir, base_gguf) if hf_dir else {"gguf_sha256": sha256_file(base_gguf)},
                   origin="extractor import")

    def fill(tmp: Path) -> None:
        card.write(tmp)
        if adapter is not None:
            (tmp / "adapter").mkdir()
            for name in ADAPTER_FILES:
                shutil.copy2(adapter / name, tmp / "adapter" / name)
        if merged_gguf is not None or lora_gguf is not None:
            (tmp / "export").mkdir()
            files = {}
            for given, name in ((merged_gguf, "merged.gguf"), (lora_gguf, "adapter.gguf")):
                if given is not None:
                    shutil.copy2(given, tmp / "export" / name)
                    files[name] = (tmp / "export" / name).stat().st_size
            write_json(tmp / "export" / "export.json", {
                "run": out.name, "model": card.base_model, "base_gguf": str(base_gguf), "files": files,
                "base_fingerprint": card.base_fingerprint, "imported_from": {
                    k: str(Path(v).resolve()) for k, v in (("merged.gguf", merged_gguf), ("adapter.gguf", lora_gguf)) if v},
            })
        (tmp / "import.json").write_text(json.dumps({
            "adapter": str(adapter.resolve()) if adapter else None,
            "adapter_base": peft.config.get("base_model_name_or_path") if peft else None,
            "rank": peft.rank if peft else None, "modules": sorted(peft.pairs) if peft else [],
        }, indent=2) + "\n")

    replace_dir(out, fill)
    return card


def _check_merged_gguf(path: Path, base_gguf: Path) -> None:
    """A merged GGUF has the base's architecture and tensor shapes (types may differ: re-quantized)."""
    import gguf

    if not path.is_file():
        raise ConfigError(f"{path}: no such GGUF file")
    try:
        mine = base_info(gguf.GGUFReader(path))
    except Exception as e:  # noqa: BLE001 - any parse failure means "not a GGUF we can use"
        raise ConfigError(f"{path}: not a readable GGUF file ({e})") from None
    base = base_info(gguf.GGUFReader(base_gguf))
    if mine.arch != base.arch:
        raise ConfigError(f"{path}: architecture {mine.arch!r}, but the base {base_gguf.name} is {base.arch!r}; "
                          "pass the base it was merged from with --base")
    missing = sorted(set(base.shapes) - set(mine.shapes))
    wrong = sorted(n for n in set(base.shapes) & set(mine.shapes) if base.shapes[n] != mine.shapes[n])
    if missing or wrong:
        n = (missing or wrong)[0]
        raise ConfigError(f"{path}: tensor {n} is {mine.shapes.get(n, 'absent')} but {base.shapes[n]} in the base "
                          f"{base_gguf.name}: a GGUF of another model; pass its base with --base")

