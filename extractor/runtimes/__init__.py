"""Where models run: presets and files (``models``), prompts, the decoding policy both batched
runtimes share (``decoding``), llama.cpp (``llama``, ``llama_batch``), transformers (``hf_generate``),
the variants an evaluation compares (``variant``, ``variants``) and the registry of their kinds
(``kinds``: one module per runtime, ``llama_variant``, ``hf_variant``, ``rules_variant``, ``served``),
and a run's card."""
