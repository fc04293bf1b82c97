"""Prompts: the instruction, a model's chat format, and one rendering for every runtime.

transformers and llama.cpp must see byte-identical prompts, or a comparison between an HF
variant and a GGUF variant measures the prompt, not the model. So the chat template (the
preset's or the tokenizer's) is rendered here with jinja2, once, for both, by ``prompt_text``:
training, export (the Ollama template), every variant and the benches call it.

A llama.cpp evaluation needs only the template and two special tokens, so ``chat_format``
reads them from the checkpoint's files as transformers does (``chat_template.jinja`` over the
``chat_template`` of ``tokenizer_config.json``; ``bos_token`` / ``eos_token`` from
``special_tokens_map.json`` over ``tokenizer_config.json``), without importing transformers,
which imports torch. tests/test_imports.py checks both give the same prompts.
``load_tokenizer`` is the full transformers tokenizer, for training and the transformers variants.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..core.errors import ConfigError

# The seeds' format, kept so the trainer can reproduce their setup (`prompt_format = "plain"`).
PLAIN_TEMPLATE = '### Question: "{input}"\n ### Answer: '


@lru_cache(maxsize=8)
def _compile(template: str):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)

    def raise_exception(message):
        raise ValueError(message)

    env.globals["raise_exception"] = raise_exception
    return env.from_string(template)


def render_chat(template: str, messages: list[dict], *, add_generation_prompt: bool = True,
                bos_token: str = "", eos_token: str = "") -> str:
    """Render a Jinja chat template as transformers does (same environment options)."""
    return _compile(template).render(messages=messages, add_generation_prompt=add_generation_prompt,
                                     bos_token=bos_token, eos_token=eos_token)


def chat_prompt(template: str, text: str, *, system: str, bos_token: str = "", eos_token: str = "") -> str:
    """The generation prompt for one input: system instruction, user text, assistant turn opened."""
    messages = [{"role": "system", "content": system}, {"role": "user", "content": text}]
    return render_chat(template, messages, bos_token=bos_token, eos_token=eos_token)


def plain_prompt(text: str) -> str:
    return PLAIN_TEMPLATE.format(input=text)


class HasChatFormat(Protocol):
    """A ChatFormat, or a transformers tokenizer (same three attributes)."""

    chat_template: str | None
    bos_token: str | None
    eos_token: str | None


@dataclass(frozen=True)
class ChatFormat:
    """What a chat prompt is rendered with; the attribute names are a transformers tokenizer's."""

    chat_template: str | None
    """Jinja chat template (None: the checkpoint has none; only ``prompt_format = "plain"`` works)."""
    bos_token: str = ""
    """Beginning-of-sequence token text, as the template may name it."""
    eos_token: str = ""
    """End-of-sequence token text (Zephyr's template closes every turn with it)."""


def prompt_text(fmt: HasChatFormat, example_input: str, prompt_format: str, system: str) -> str:
    """The text a model sees before its answer: training, export and generation all use this."""
    if prompt_format == "plain":
        return plain_prompt(example_input)
    if not fmt.chat_template:
        raise ConfigError("the model has no chat template; set the preset's chat_template or use "
                          "prompt_format = \"plain\"")
    return chat_prompt(fmt.chat_template, example_input, system=system,
                       bos_token=fmt.bos_token or "", eos_token=fmt.eos_token or "")


def _token_text(value) -> str:
    """A special token as tokenizer_config.json writes it: a string or an AddedToken dict."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else ""


def _read_json(path: Path) -> dict:
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}:{e.lineno}: not valid JSON ({e.msg}); restore the checkpoint's file.") from None
    return obj if isinstance(obj, dict) else {}


def read_chat_format(hf_dir: str | Path, override: str | None = None) -> ChatFormat:
    """The chat format of an HF checkpoint directory, as transformers' tokenizer would have it.

    ``override`` (a preset's chat_template) wins, as ``load_tokenizer`` sets it. Otherwise
    ``chat_template.jinja`` wins over ``tokenizer_config.json``'s ``chat_template`` (a string, or
    a list of named templates of which ``default`` is used).
    """
    hf_dir = Path(hf_dir)
    config = _read_json(hf_dir / "tokenizer_config.json") if (hf_dir / "tokenizer_config.json").is_file() else {}
    legacy = _read_json(hf_dir / "special_tokens_map.json") if (hf_dir / "special_tokens_map.json").is_file() else {}
    template = override
    if template is None and (hf_dir / "chat_template.jinja").is_file():
        template = (hf_dir / "chat_template.jinja").read_text(encoding="utf-8")
    if template is None:
        template = config.get("chat_template")
        if isinstance(template, list):
            named = {t.get("name"): t.get("template") for t in template if isinstance(t, dict)}
            template = named.get("default")
    # transformers lets special_tokens_map.json override tokenizer_config.json
    tokens = {k: _token_text(legacy.get(k)) or _token_text(config.get(k)) for k in ("bos_token", "eos_token")}
    return ChatFormat(template if isinstance(template, str) else None, **tokens)


def chat_format(spec) -> ChatFormat:
    """The chat format of a model (``models.ModelSpec``), without importing transformers."""
    from .models import hf_path

    return read_chat_format(hf_path(spec), spec.chat_template)


def load_tokenizer(spec, hf_dir: str):
    """The transformers tokenizer of a model (imports transformers and torch): training,
    export and the transformers variants. Its chat format equals ``chat_format(spec)``."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(hf_dir)
    if spec.chat_template:
        tok.chat_template = spec.chat_template
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token  # padding positions carry no labels, so this is harmless
    return tok


def answer_ids(tokenizer, text: str) -> list[int]:
    """An answer's token ids as training tokenized the completion (``train/batches.py``): the text
    alone, no special tokens added (the end-of-turn token is appended by whoever needs it)."""
    return tokenizer(text, add_special_tokens=False).input_ids


class TokenizerAnswers:
    """``answer_ids`` and ``stop_token`` of a variant scored through an HF tokenizer (its
    ``tokenizer``): transformers in process, and a served model paired with its run's tokenizer."""

    tokenizer: Any

    def answer_ids(self, text: str) -> list[int]:
        """An answer's tokens as training tokenized the completion (``answer_ids``)."""
        return answer_ids(self.tokenizer, text)

    @property
    def stop_token(self) -> int:
        """The tokenizer's EOS: the end-of-turn token training appended to every completion."""
        return int(self.tokenizer.eos_token_id)
