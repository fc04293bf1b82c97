"""Evaluation and extraction with llama.cpp never import the training stack (torch, transformers,
peft, accelerate), and the prompts they render without transformers are the tokenizer's.

The run these tests evaluate is a stand-in: a card for the default task, a placeholder adapter, and
the embedded base GGUF as its ``export/merged.gguf``. Every step a real run's llama.cpp variants go
through (card.json, the base model's chat format, the prompt, llama.cpp) is real;
only the weights are the base model's, which does not matter for what is imported.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from extractor.runtimes import models
from extractor.runtimes.prompts import ChatFormat, chat_format, chat_prompt, load_tokenizer, prompt_text, read_chat_format
from extractor.runtimes.run_card import RunCard
from extractor.tasks.cantos import ANSWER_FORMAT as SYSTEM
from extractor.tasks.cantos import BASE_SYSTEM
from helpers import CANTOS

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "peft", "accelerate", "bitsandbytes", "trl")
TEXTS = ["Sigismundo's epopte is presented in IX:ll.15-28", "Canto XLV and ü – Ἀ", 'quote " and {{ braces }}']


@pytest.fixture(scope="module")
def stand_in_run(tmp_path_factory, embedded):
    spec, gguf, _ = embedded
    run = tmp_path_factory.mktemp("imports") / "run"
    (run / "adapter").mkdir(parents=True)
    (run / "export").mkdir()
    RunCard("smollm2-135m", "cantos", "cantos", "chat", CANTOS.system).write(run)
    (run / "adapter" / "adapter_model.safetensors").write_bytes(b"placeholder")
    (run / "export" / "merged.gguf").symlink_to(gguf)
    return run


def python(code: str, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


# Runs the real CLI in this process, then reports which heavy modules it imported.
DRIVE_CLI = f"""
import json, sys
from extractor.cli import main
sys.argv = ["extractor", *sys.argv[1:]]
code = 0
try:
    main()
except SystemExit as e:
    code = e.code or 0
print("HEAVY " + json.dumps([m for m in {HEAVY!r} if m in sys.modules]), file=sys.stderr)
sys.exit(code)
"""


def heavy_of(result: subprocess.CompletedProcess) -> list[str]:
    line = [x for x in result.stderr.splitlines() if x.startswith("HEAVY ")]
    assert line, result.stderr[-2000:]
    return json.loads(line[-1].removeprefix("HEAVY "))


def test_building_every_llama_variant_and_its_prompts_imports_no_training_stack(stand_in_run):
    code = f"""
import json, sys
import extractor.cli, extractor.extract.corpus, extractor.evaluation.evaluate, extractor.extract.extractor, extractor.evaluation.report
from extractor.runtimes.run_card import RunArtefacts
from extractor.runtimes.variant import Settings, parse_name
from extractor.runtimes.variants import Sources, build
from extractor.tasks.registry import get_task
runs = {{None: RunArtefacts.load(sys.argv[1])}}
for name in ("rules", "base-gguf", "base-gguf+grammar", "merged-gguf", "merged-gguf+grammar"):
    v = build(parse_name(name), Sources(runs), Settings(), get_task(None))
    if hasattr(v, "prompt"):
        assert v.prompt("Canto IX").endswith("<|im_start|>assistant\\n"), name
print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
"""
    r = python(code, str(stand_in_run))
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout.strip().splitlines()[-1]) == []


@pytest.mark.slow
def test_eval_and_extract_with_merged_gguf_import_no_training_stack(stand_in_run, tmp_path):
    out = tmp_path / "eval"
    r = python(DRIVE_CLI, "eval", "--run", str(stand_in_run), "--variants", "rules,merged-gguf", "--data",
               str(ROOT / "datasets" / "cantos" / "valid.jsonl"), "--limit", "3", "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr[-3000:]
    assert heavy_of(r) == []
    samples = [json.loads(x) for x in (out / "samples.jsonl").read_text().splitlines()]
    assert sorted({s["variant"] for s in samples}) == ["merged-gguf", "rules"] and len(samples) == 6
    assert all(s["gen_tokens"] for s in samples if s["variant"] == "merged-gguf")  # llama.cpp really ran

    src = tmp_path / "notes.txt"
    src.write_text("See Canto XLV.\n\nIX:ll.15-28 again.\n")
    r = python(DRIVE_CLI, "extract", "--run", str(stand_in_run), "--variant", "merged-gguf", str(src),
               "--out", str(tmp_path / "refs.jsonl"), "--quiet")
    assert r.returncode in (0, 3), r.stderr[-3000:]
    assert heavy_of(r) == []
    assert len((tmp_path / "refs.jsonl").read_text().splitlines()) == 2


# ----------------------------------------------------------------------------- same prompts
@pytest.fixture(scope="module")
def tokenizer(embedded):
    spec, _, hf_dir = embedded
    return load_tokenizer(spec, hf_dir)


def test_the_chat_format_read_from_files_is_the_tokenizers(embedded, tokenizer):
    spec, _, hf_dir = embedded
    fmt = chat_format(spec)
    assert fmt == ChatFormat(tokenizer.chat_template, tokenizer.bos_token or "", tokenizer.eos_token or "")
    for system in (SYSTEM, BASE_SYSTEM, "Extract references to Pound's Cantos as JSON."):
        for prompt_format in ("chat", "plain"):
            for text in TEXTS:
                assert prompt_text(fmt, text, prompt_format, system) == prompt_text(tokenizer, text, prompt_format, system)


def test_trained_variants_prompt_as_training_did_and_base_gguf_as_before(stand_in_run, embedded, tokenizer):
    from extractor.runtimes.run_card import RunArtefacts
    from extractor.runtimes.variant import Settings, parse_name
    from extractor.runtimes.variants import Sources, build

    run = RunArtefacts.load(stand_in_run)
    merged = build(parse_name("merged-gguf"), Sources({None: run}), Settings(), CANTOS)
    base = build(parse_name("base-gguf"), Sources({None: run}), Settings(), CANTOS)
    for text in TEXTS:
        assert merged.prompt(text) == prompt_text(tokenizer, text, run.card.prompt_format, run.card.system)
        # What base-gguf rendered before it went through prompt_text (no special tokens passed).
        assert base.prompt(text) == chat_prompt(tokenizer.chat_template, text, system=BASE_SYSTEM)


TEMPLATE = "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{{ eos_token }}{% endfor %}{{ bos_token }}"


@pytest.mark.parametrize("files", [
    # template in tokenizer_config.json, special tokens as AddedToken dicts
    {"tokenizer_config.json": {"bos_token": {"content": "<|im_start|>", "__type": "AddedToken"},
                               "eos_token": {"content": "<|im_end|>", "__type": "AddedToken"}, "chat_template": TEMPLATE}},
    # named templates: "default" is the one used
    {"tokenizer_config.json": {"eos_token": "<|im_end|>",
                               "chat_template": [{"name": "tool_use", "template": "T"},
                                                 {"name": "default", "template": TEMPLATE}]}},
    # chat_template.jinja wins over tokenizer_config.json; special_tokens_map.json over it too
    {"tokenizer_config.json": {"eos_token": "<|im_end|>", "bos_token": "<|im_start|>", "chat_template": "unused"},
     "special_tokens_map.json": {"eos_token": "<|endoftext|>"}, "chat_template.jinja": TEMPLATE},
    # no special tokens at all
    {"tokenizer_config.json": {}, "chat_template.jinja": TEMPLATE},
], ids=["config-addedtoken", "named-templates", "jinja-and-legacy-map", "no-special-tokens"])
def test_checkpoint_layouts_read_as_transformers_reads_them(tmp_path, embedded, files):
    from transformers import AutoTokenizer

    shutil.copy(Path(embedded[2]) / "tokenizer.json", tmp_path / "tokenizer.json")
    for name, content in files.items():
        (tmp_path / name).write_text(content if isinstance(content, str) else json.dumps(content))
    tok = AutoTokenizer.from_pretrained(tmp_path)
    fmt = read_chat_format(tmp_path)
    assert fmt == ChatFormat(tok.get_chat_template(), tok.bos_token or "", tok.eos_token or "")
    assert prompt_text(fmt, TEXTS[0], "chat", SYSTEM) == tok.apply_chat_template(
        [{"role": "system", "content": SYSTEM}, {"role": "user", "content": TEXTS[0]}], tokenize=False,
        add_generation_prompt=True)


def test_a_preset_template_overrides_the_checkpoints_as_load_tokenizer_does(embedded):
    spec, _, hf_dir = embedded
    zephyr_like = models.ModelSpec(name="t", hf=hf_dir, gguf=None, chat_template=models.ZEPHYR_TEMPLATE)
    fmt = read_chat_format(hf_dir, zephyr_like.chat_template)
    tok = load_tokenizer(zephyr_like, hf_dir)
    assert prompt_text(fmt, TEXTS[0], "chat", SYSTEM) == prompt_text(tok, TEXTS[0], "chat", SYSTEM)
    assert prompt_text(fmt, TEXTS[0], "chat", SYSTEM).count("<|im_end|>") == 2  # eos_token closes each turn


def test_a_checkpoint_without_a_template_fails_with_a_fix(tmp_path):
    from extractor.core.errors import ConfigError

    (tmp_path / "tokenizer_config.json").write_text("{}")
    fmt = read_chat_format(tmp_path)
    assert prompt_text(fmt, "x", "plain", SYSTEM) == '### Question: "x"\n ### Answer: '
    with pytest.raises(ConfigError, match="no chat template"):
        prompt_text(fmt, "x", "chat", SYSTEM)
    (tmp_path / "tokenizer_config.json").write_text("{\n  'bad': 1}")
    with pytest.raises(ConfigError, match=r"tokenizer_config\.json:2: not valid JSON"):
        read_chat_format(tmp_path)
