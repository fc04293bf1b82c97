"""Shared fixtures: the embedded model, resolved and prepared once per machine."""

from pathlib import Path

import pytest

from extractor.runtimes import models

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def embedded():
    """(spec, gguf path, HF checkpoint dir) of the embedded SmolLM2-135M, real files."""
    spec = models.get(models.DEFAULT_MODEL)
    return spec, models.gguf_path(spec), models.hf_path(spec)


# A short real training run shared by the export and end-to-end eval tests: long enough that the
# adapter changes the model's answers (JSON that stops), short enough for `make test` (~3.5 min).
# At 24 steps the model is unsure (near-ties flip between runtimes); at 48 it is decisive enough.
SMALL_RUN = {"max_steps": 48, "batch_size": 8, "learning_rate": 2e-3, "lora_r": 8, "lora_alpha": 16,
             "eval_every": 24, "checkpoint_every": 100, "threads": 2, "precision": "bf16",
             "compile": False}
# bf16 on purpose: the export agreement checks then run on a bf16-trained adapter. Eager: 48 steps
# do not repay the compilation (test_trainer's compile test covers that path).


PARITY_RUN = "EXTRACTOR_PARITY_RUN"
"""A run directory trained and exported elsewhere: `pytest -m parity tests/test_export.py` with it set
runs the export's parity checks on that run instead of training one (bench/gpu_check.py, on the
adapter a GPU trained)."""


@pytest.fixture(scope="session")
def small_run(tmp_path_factory, embedded):
    """A run directory from `extractor train` with the default config, cut short (or $EXTRACTOR_PARITY_RUN)."""
    import json
    import os

    if os.environ.get(PARITY_RUN):
        return Path(os.environ[PARITY_RUN])

    from extractor.train.config import load_config
    from extractor.train.trainer import train

    data = ROOT / "datasets" / "cantos"
    values = {"name": "small", "train": str(data / "train.jsonl"), "valid": str(data / "valid.jsonl"), **SMALL_RUN}
    overrides = [f"{k}={json.dumps(v)}" for k, v in values.items()]
    cfg = load_config(ROOT / "configs" / "cantos-smollm2.toml", overrides)
    from extractor.tasks.registry import get_task

    return train(cfg, get_task("cantos"), tmp_path_factory.mktemp("runs"), show_progress=False)


@pytest.fixture(scope="session")
def exported(small_run):
    """The small run exported with the default --quant q8_0: (run dir, export dir). A run given by
    $EXTRACTOR_PARITY_RUN comes exported already."""
    import os

    from extractor.train.export import export

    if not os.environ.get(PARITY_RUN):
        export(small_run, "q8_0", log=lambda m: None)
    return small_run, small_run / "export"


@pytest.fixture(scope="session")
def padbug_run(tmp_path_factory, embedded):
    """A short run with the pad == eos bug (configs/cantos-smollm2-padbug.toml, cut to SMALL_RUN's
    size), exported: the end-of-turn token is never a label, so the model never learns to stop."""
    import json

    from extractor.tasks.registry import get_task
    from extractor.train.config import load_config
    from extractor.train.export import export
    from extractor.train.trainer import train

    data = ROOT / "datasets" / "cantos"
    # Half SMALL_RUN's steps: P(end-of-turn | gold) is under the report's threshold from the start
    # (the base model's is ~0.2) and only falls with training; the 48-step run's was 0.14.
    values = {"name": "padbug", "train": str(data / "train.jsonl"), "valid": str(data / "valid.jsonl"),
              **SMALL_RUN, "max_steps": 24}
    cfg = load_config(ROOT / "configs" / "cantos-smollm2-padbug.toml", [f"{k}={json.dumps(v)}" for k, v in values.items()])
    run = train(cfg, get_task("cantos"), tmp_path_factory.mktemp("padbug"), show_progress=False)
    export(run, "q8_0", log=lambda m: None)
    return run
