"""Why two artefacts of one fine-tune differ: the causes users report, each checked and named in one
line with its evidence, from what the artefacts' files said (eval.json's ``artefacts``, read by
``runtimes/artefact_facts.py``) and what the likelihood view measured (``evaluation/parity.py``):

- the GGUF's chat template and special tokens against the HF tokenizer's (what training used);
- the end-of-turn token: the one training appended against the one the GGUF names as EOT;
- the base fingerprint: was the adapter GGUF exported for the base GGUF it runs on;
- QLoRA: an adapter trained on 4-bit weights, merged into full-precision ones, and that merge's
  measured cost (merged-hf against adapter-hf);
- the merged GGUF's quantization type and its measured cost (merged-gguf against merged-hf: the
  same merged weights, converted and quantized).
"""

from __future__ import annotations

from collections.abc import Iterable

from .likelihood import Scored
from .parity import compare_rows
from .view_records import LikelihoodView, Parity


def _first(facts: dict[str, dict], key: str, kind: str | None = None) -> tuple[str, dict] | None:
    for v, f in facts.items():
        if key in f and (kind is None or v.split("@")[0] == kind):
            return v, f
    return None


def lines(facts: dict[str, dict], view: LikelihoodView, scored: Iterable[Scored], decision: str | None) -> list[str]:
    """One line per cause checked (empty when nothing was read of the files)."""
    out: list[str] = []
    scored = list(scored)
    hf = _first(facts, "tokenizer")
    tok = hf[1]["tokenizer"] if hf else None
    seen_gguf: set[str] = set()
    for v, f in facts.items():
        g = f.get("gguf")
        if not g or g["file"] in seen_gguf:
            continue
        seen_gguf.add(g["file"])
        out += _tokens_line(v, g, tok)
        if g.get("adapter_base_sha256") is not None:
            same = g["adapter_base_sha256"] == g["base_sha256"]
            out.append(f"Base fingerprint ({v}): the adapter GGUF was exported for a base with sha256 "
                       f"{g['adapter_base_sha256']}..., and {g['file']} is {g['base_sha256']}...: "
                       + ("the same base." if same else "ANOTHER BASE: re-export the adapter for this base."))
    run = next((f["run"] for f in facts.values() if f.get("run")), None)
    d = decision if decision in view.parity else next(iter(view.parity), None)
    if run is not None:
        merge = (view.parity.get(d) or {}).get("merged-hf") if d else None
        quant = run.get("quantization")
        if quant in ("4bit", "nf4", "8bit"):
            out.append(f"QLoRA: the adapter was trained on {quant} weights and merged into {run.get('precision')} ones"
                       + (f"; measured: {_cost('merged-hf', merge)}." if merge else "; merged-hf was not scored."))
        else:
            out.append(f"QLoRA: the adapter was trained on full-precision weights ({run.get('precision') or 'as loaded'}),"
                       f" so merging it meets no 4-bit mismatch" + (f"; measured: {_cost('merged-hf', merge)}." if merge
                                                                     else "."))
    merged = _first(facts, "gguf", "merged-gguf")
    if merged is not None and d is not None:
        g = merged[1]["gguf"]
        cost = _pair(scored, d, merged[0], "merged-hf")
        types = ", ".join(f"{n} {k}" for n, k in sorted(g.get("tensor_types", {}).items()))
        hf_dtype = (facts.get("merged-hf") or {}).get("dtype") or "its loading precision"
        out.append(f"Quantization: {g['file']} holds {types} weight matrices (its header says {g.get('file_type')})"
                   + (f"; measured against merged-hf (the same merged weights, in {hf_dtype}): "
                      f"{_cost(merged[0], cost)}." if cost else "; merged-hf was not scored to measure its cost."))
    return out


def _tokens_line(v: str, g: dict, tok: dict | None) -> list[str]:
    out = []
    if tok is not None:
        if g.get("chat_template") == tok.get("chat_template"):
            out.append(f"Chat template ({g['file']}): the same as the HF tokenizer's (sha256 {tok['chat_template']}).")
        else:
            out.append(f"Chat template ({g['file']}): {g.get('chat_template') or 'none'} in the GGUF, "
                       f"{tok.get('chat_template') or 'none'} in the HF tokenizer: a server that applies the GGUF's "
                       "own template (Ollama, llama-server) prompts otherwise than training did; extractor's rows "
                       "render the run's template, so they are not affected.")
        same = g.get("eos") == tok.get("eos") and g.get("bos") == tok.get("bos")
        out.append(f"Special tokens ({g['file']}): EOS {g.get('eos')}, BOS {g.get('bos')} in the GGUF; EOS "
                   f"{tok.get('eos')}, BOS {tok.get('bos')} in the HF tokenizer: "
                   + ("the same." if same else "DIFFERENT: the turn ends on another token than training taught."))
    eot = g.get("eot")
    if eot is not None and eot != g.get("eos"):
        out.append(f"End-of-turn ({g['file']}): the GGUF names token {eot} its EOT, not the EOS {g.get('eos')} that "
                   "ends each training answer; llama.cpp stops at either (both end generation), but a runtime that "
                   "stops only at the EOT runs on after the answer.")
    return out


def _pair(scored: list[Scored], d: str, variant: str, reference: str) -> Parity | None:
    a = {s.id: s.scores for s in scored if s.data == d and s.variant == reference and not s.scores.error}
    b = {s.id: s.scores for s in scored if s.data == d and s.variant == variant and not s.scores.error}
    ids = sorted(i for i in a.keys() & b.keys() if a[i].tokens == b[i].tokens)
    if not ids:
        return None
    return compare_rows([a[i] for i in ids], [b[i] for i in ids], reference, {}, variant, [])


def _cost(variant: str, p: Parity) -> str:
    return (f"{variant} vs {p.reference}: NLL {p.nll_change:+.1%} [{p.nll_ci[0]:+.1%}, {p.nll_ci[1]:+.1%}], "
            f"KL {p.kl_per_token:.4f}/token: {p.verdict}")
