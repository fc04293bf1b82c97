"""Training and export: the config, batches, the model and its loss, checkpoints, the trainer
recipe, and the artefacts `extractor export` writes (LoRA GGUF, merged HF, merged GGUF)."""
