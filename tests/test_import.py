"""`extractor import`: a fine-tune made elsewhere becomes a run directory. A peft adapter trained by
trl's SFTTrainer on a few rows imports, exports (adapter.gguf, merged) and evaluates; adapters that
cannot work (another base, DoRA, modules_to_save, pickle weights) and GGUFs of another model are
refused in one line before any model loads."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "extractor", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)


def one_line_error(r) -> str:
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr[-2000:]
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


# Trained in a process of its own: trl's Trainer sets accelerate's process-wide state, and its
# library warnings stay in that process's log.
TRL_SCRIPT = """
import json, sys
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import SFTConfig, SFTTrainer

hf_dir, rows_file, system, out = sys.argv[1:5]
rows = [json.loads(x) for x in open(rows_file, encoding="utf-8").read().splitlines()[:16]]
data = Dataset.from_list([{"messages": [{"role": "system", "content": system}, {"role": "user", "content": r["input"]},
                                        {"role": "assistant", "content": json.dumps(r["output"])}]} for r in rows])
args = SFTConfig(output_dir=out + "/work", max_steps=4, per_device_train_batch_size=4, learning_rate=1e-3,
                 logging_strategy="no", save_strategy="no", report_to=[], use_cpu=True, disable_tqdm=True,
                 max_length=256, seed=0)
trainer = SFTTrainer(model=AutoModelForCausalLM.from_pretrained(hf_dir), args=args, train_dataset=data,
                     processing_class=AutoTokenizer.from_pretrained(hf_dir),
                     peft_config=LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM"))
trainer.train()
trainer.model.save_pretrained(out + "/adapter")
"""


@pytest.fixture(scope="module")
def trl_adapter(embedded, tmp_path_factory):
    """A LoRA adapter trained by trl's SFTTrainer (4 steps, chat rows of the Cantos valid split)."""
    from extractor.tasks.registry import get_task

    out = tmp_path_factory.mktemp("trl")
    r = subprocess.run([sys.executable, "-c", TRL_SCRIPT, embedded[2], str(ROOT / "datasets" / "cantos" / "valid.jsonl"),
                        get_task("cantos").system, str(out)], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    return out / "adapter"


@pytest.mark.slow
def test_a_trl_adapter_imports_exports_and_evaluates(trl_adapter, tmp_path):
    run = tmp_path / "runs" / "from-trl"
    r = cli("import", trl_adapter, "--base", "smollm2-135m", "--out", run)
    assert r.returncode == 0, r.stderr[-2000:]
    card = json.loads((run / "card.json").read_text())
    assert card["origin"] == "extractor import" and card["task"] == "cantos" and card["base_model"] == "smollm2-135m"
    assert sorted(p.name for p in (run / "adapter").iterdir()) == ["adapter_config.json", "adapter_model.safetensors"]
    r = cli("export", run)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (run / "export" / "adapter.gguf").is_file() and (run / "export" / "merged.gguf").is_file()
    rows = tmp_path / "rows.jsonl"
    rows.write_text("\n".join((ROOT / "datasets" / "cantos" / "valid.jsonl").read_text().splitlines()[:4]) + "\n")
    out = tmp_path / "out"
    r = cli("eval", "--quiet", "--run", run, "--variants", "adapter-hf,adapter-gguf,merged-gguf", "--data", rows,
            "--out", out)
    assert r.returncode == 0, r.stderr[-3000:]
    m = json.loads((out / "report.json").read_text())["metrics"]["rows"]
    assert set(m) == {"adapter-hf", "adapter-gguf", "merged-gguf"} and all(v["n"] == 4 for v in m.values())
    recs = [json.loads(x) for x in (out / "samples.jsonl").read_text().splitlines()]
    assert all(x["gen_tokens"] and not x["error"] for x in recs)  # the models really ran


@pytest.mark.slow
def test_adapters_and_ggufs_that_cannot_work_are_refused_in_one_line(trl_adapter, exported, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    # An adapter for another base: a small Llama with other shapes.
    other = tmp_path / "other"
    tiny = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=4)
    get_peft_model(LlamaForCausalLM(tiny), LoraConfig(r=4, target_modules=["q_proj", "v_proj"])).save_pretrained(other)
    line = one_line_error(cli("import", other, "--base", "smollm2-135m", "--out", tmp_path / "r1"))
    assert "another base model" in line and "--base" in line and not (tmp_path / "r1").exists()

    def variant(name, **changes):
        d = tmp_path / name
        shutil.copytree(trl_adapter, d)
        cfg = json.loads((d / "adapter_config.json").read_text())
        cfg.update(changes)
        (d / "adapter_config.json").write_text(json.dumps(cfg))
        return d

    for d, needle in ((variant("dora", use_dora=True), "DoRA"),
                      (variant("mts", modules_to_save=["lm_head"]), "modules_to_save")):
        assert needle in one_line_error(cli("import", d, "--base", "smollm2-135m", "--out", tmp_path / "r2"))
    pickled = variant("pickled")
    (pickled / "adapter_model.safetensors").rename(pickled / "adapter_model.bin")
    assert "pickle" in one_line_error(cli("import", pickled, "--base", "smollm2-135m", "--out", tmp_path / "r3"))
    assert "no adapter_config.json" in one_line_error(cli("import", tmp_path, "--base", "smollm2-135m",
                                                          "--out", tmp_path / "r4"))
    # A LoRA GGUF checks against the base GGUF; a merged GGUF of this base imports and evaluates.
    _, out = exported
    r = cli("import", "--merged-gguf", out / "merged.gguf", "--lora-gguf", out / "adapter.gguf", "--base", "smollm2-135m",
            "--out", tmp_path / "ggufs")
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / "ggufs" / "export" / "merged.gguf").is_file()
    bad = tmp_path / "not.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    assert "not a readable GGUF" in one_line_error(cli("import", "--merged-gguf", bad, "--base", "smollm2-135m",
                                                       "--out", tmp_path / "r5"))
