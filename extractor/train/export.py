"""`extractor export RUN`: the trained adapter as every artefact a user might ship.

    runs/NAME/export/
      adapter.gguf     llama.cpp LoRA adapter for the base GGUF (runs unmerged on a CPU)
      merged-hf/       full-precision base + adapter merged by peft (safetensors, tokenizer, template)
      merged.gguf      base GGUF with the touched tensors merged and re-quantized to --quant
      Modelfile        Ollama: FROM ./merged.gguf, the training chat template, stop tokens, temperature 0
      export.json      files, sizes, wall times, the base fingerprint they were built from

The directory is built aside and swapped in whole, so an interrupted export leaves the previous
one (or none), never a half-written GGUF.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..core.errors import ExportError
from ..core.files import replace_dir, sha256_file, write_json
from ..runtimes import models
from ..runtimes.prompts import load_tokenizer, prompt_text
from ..runtimes.run_card import RunArtefacts, RunCard, check_fingerprint, fingerprint
from .lora_gguf import read_adapter, write_adapter_gguf
from .quantize import check_quant, write_merged_gguf

_SYS, _PROMPT = "\x00SYSTEM\x00", "\x00PROMPT\x00"


def ollama_template(tokenizer, prompt_format: str) -> str:
    """The training prompt as an Ollama Go template, rendered from the same chat template."""
    text = prompt_text(tokenizer, _PROMPT, prompt_format, _SYS)
    if "{{" in text.replace(_PROMPT, "").replace(_SYS, ""):
        raise ExportError("the chat template contains '{{', which an Ollama template cannot hold literally.")
    go = text.replace(_PROMPT, "{{ .Prompt }}")
    if _SYS in go:
        go = go.replace(_SYS, "{{ .System }}")
    return go + "{{ .Response }}" + (tokenizer.eos_token or "")


def modelfile(tokenizer, card: RunCard, spec) -> str:
    stops = list(dict.fromkeys([*spec.stop, tokenizer.eos_token] if tokenizer.eos_token else spec.stop))
    if card.prompt_format == "plain":
        stops.append("### Question")  # the seeds' format has no turn token; cut a chained question
    lines = ["# Ollama Modelfile written by `extractor export`.",
             f"# ollama create {card.task or 'extractor'} -f Modelfile && ollama run {card.task or 'extractor'}",
             "FROM ./merged.gguf", f'TEMPLATE """{ollama_template(tokenizer, card.prompt_format)}"""']
    if card.prompt_format != "plain":
        lines.append(f'SYSTEM """{card.system}"""')
    lines += [f'PARAMETER stop "{s}"' for s in stops]
    lines += ["PARAMETER temperature 0", "PARAMETER repeat_penalty 1", "PARAMETER num_predict 256"]
    return "\n".join(lines) + "\n"


def write_merged_hf(run_dir: Path, hf_dir: str, tokenizer, out: Path) -> None:
    """Merge with peft into the full-precision base (never the 4-bit one) and save safetensors."""
    import torch
    from peft import PeftModel
    from transformers import AutoConfig, AutoModelForCausalLM

    dtype = getattr(AutoConfig.from_pretrained(hf_dir), "dtype", None) or torch.float32
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype)
    base = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=dtype)
    merged = PeftModel.from_pretrained(base, str(run_dir / "adapter")).merge_and_unload()
    merged.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)


def export(run_dir: str | Path, quant: str = "q8_0", log=print) -> dict:
    """Write runs/NAME/export/ and return its summary (also written as export.json)."""
    from ..core import quiet

    quiet.libraries()
    run_dir = Path(run_dir)
    check_quant(quant)
    run = RunArtefacts.load(run_dir)
    card, spec = run.card, run.spec
    adapter = read_adapter(run.adapter_dir)  # refusals come before any heavy work
    base_gguf = models.gguf_path(spec)
    hf_dir = models.hf_path(spec)
    fp = fingerprint(hf_dir, base_gguf)
    check_fingerprint(run_dir, card.base_fingerprint, fp)
    tokenizer = load_tokenizer(spec, hf_dir)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    touched: dict = {}

    def step(name, fn):
        t0 = time.perf_counter()
        log(f"writing {name} ...")
        result = fn()
        timings[name] = round(time.perf_counter() - t0, 2)
        return result

    def fill(tmp: Path) -> None:
        n = step("adapter.gguf", lambda: write_adapter_gguf(adapter, base_gguf, tmp / "adapter.gguf", fp["gguf_sha256"]))
        step("merged-hf", lambda: write_merged_hf(run_dir, hf_dir, tokenizer, tmp / "merged-hf"))
        touched.update(step("merged.gguf", lambda: write_merged_gguf(adapter, base_gguf, tmp / "merged.gguf", quant,
                                                                      fp["gguf_sha256"])))
        (tmp / "Modelfile").write_text(modelfile(tokenizer, card, spec))
        files = {}
        for p in sorted(tmp.rglob("*")):
            if p.is_file():
                files[str(p.relative_to(tmp))] = p.stat().st_size
        types: dict[str, int] = {}
        for t in touched.values():
            types[t] = types.get(t, 0) + 1
        summary = {
            "run": run_dir.name, "model": card.base_model, "quant": quant, "base_gguf": str(base_gguf),
            "base_fingerprint": fp, "adapter_sha256": sha256_file(run.adapter_dir / "adapter_model.safetensors"),
            "adapter": {"rank": adapter.rank, "lora_alpha": adapter.config.get("lora_alpha"),
                        "use_rslora": bool(adapter.config.get("use_rslora")), "scale": adapter.scale,
                        "gguf_alpha": adapter.gguf_alpha, "tensors": n},
            "merged_gguf_tensor_types": types, "files": files, "seconds": timings,
            "wall_seconds": round(time.perf_counter() - started, 2),
            "trained": _trained(run_dir),
        }
        write_json(tmp / "export.json", summary)

    replace_dir(run_dir / "export", fill)
    return json.loads((run_dir / "export" / "export.json").read_text())


def _trained(run_dir: Path) -> dict:
    """The best step and status of the run's training (run.json), where it has them."""
    try:
        info = json.loads((run_dir / "run.json").read_text())
    except (OSError, ValueError):
        return {}
    return {"best_step": info.get("best", {}).get("step"), "status": info.get("status")}
