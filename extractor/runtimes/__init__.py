"""Where models run: presets and files (``models``), prompts, llama.cpp (``llama``, ``llama_batch``),
transformers (``hf_generate``), the variants an evaluation compares, and a run's card."""
