"""The run card: what everything after training reads of a run directory."""

import json

import pytest

from extractor.core.errors import ConfigError
from extractor.runtimes.run_card import RunArtefacts, RunCard


def test_a_card_round_trips_and_a_run_needs_its_adapter(tmp_path):
    card = RunCard("smollm2-135m", "cantos", "cantos", "chat", "Extract.", {"gguf_sha256": "a" * 64})
    card.write(tmp_path)
    assert RunCard.load(tmp_path) == card
    with pytest.raises(ConfigError, match="no adapter yet"):
        RunArtefacts.load(tmp_path)
    (tmp_path / "adapter").mkdir()
    (tmp_path / "adapter" / "adapter_model.safetensors").write_bytes(b"x")
    run = RunArtefacts.load(tmp_path)
    assert run.card == card and run.spec.name == "smollm2-135m"
    with pytest.raises(ConfigError, match=r"export[/\\]merged.gguf does not exist: variant merged-gguf needs "
                                          r"`extractor export"):
        run.artefact("merged-gguf")


def test_a_run_from_before_cards_is_read_from_its_config_and_run_json(tmp_path):
    (tmp_path / "config.toml").write_text('name = "old"\ntask = "cantos"\nmodel = "smollm2-135m"\n'
                                          'train = "gone/train.jsonl"\nprompt_format = "chat"\nsystem = "Old prompt."\n')
    (tmp_path / "run.json").write_text(json.dumps({"status": "finished", "base_fingerprint": {"gguf_sha256": "b" * 64}}))
    card = RunCard.load(tmp_path)  # the training files are not looked for
    assert (card.task, card.task_source, card.system, card.prompt_format) == ("cantos", "cantos", "Old prompt.", "chat")
    assert card.base_fingerprint == {"gguf_sha256": "b" * 64}


def test_what_is_not_a_run_directory_is_one_line_naming_it(tmp_path):
    with pytest.raises(ConfigError, match="not a run directory"):
        RunCard.load(tmp_path)
    (tmp_path / "card.json").write_text('{"base_model": 1}')
    with pytest.raises(ConfigError, match="card.json: not a run card"):
        RunCard.load(tmp_path)
