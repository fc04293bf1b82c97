"""Greedy output of a trained adapter (transformers + peft, unmerged) on a JSONL file.

    .venv/bin/python scripts/quick_eval.py runs/cantos-smollm2 [datasets/cantos/valid.jsonl]

Prints schema-valid, clean-stop (EOS right after the JSON) and exact-match rates. A stop-gap
until the evaluation suite (`extractor eval`) lands.
"""

import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractor import data, models  # noqa: E402
from extractor.batches import prompt_text  # noqa: E402
from extractor.hf_generate import generate  # noqa: E402
from extractor.schema import canonical, parse  # noqa: E402
from extractor.trainer import load_tokenizer, resume_config  # noqa: E402


def main() -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    run = Path(sys.argv[1])
    path = sys.argv[2] if len(sys.argv) > 2 else str(ROOT / "datasets/cantos/valid.jsonl")
    cfg = resume_config(run)
    spec = models.get(cfg.model)
    hf_dir = models.hf_path(spec)
    tok = load_tokenizer(spec, hf_dir)
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32), run / "adapter")
    model.eval()
    examples = data.load([path])
    t = time.perf_counter()
    gens = generate(model, tok, [prompt_text(tok, ex.input, cfg.prompt_format, cfg.system) for ex in examples])
    dt = time.perf_counter() - t
    statuses, valid, clean, exact = Counter(), 0, 0, 0
    for ex, g in zip(examples, gens):
        p = parse(g.text)
        statuses[p.status] += 1
        valid += p.valid
        clean += p.status == "clean" and g.finish_reason == "stop"
        exact += p.valid and canonical(p.references) == canonical(list(ex.references))
    n = len(examples)
    print(f"{path}: n={n} schema_valid={valid / n:.3f} clean_stop={clean / n:.3f} exact_match={exact / n:.3f} "
          f"({dt:.0f} s) statuses={dict(statuses)}")


if __name__ == "__main__":
    main()
