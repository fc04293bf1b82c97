"""Prompts: the instruction, and one rendering of a chat template for every runtime.

transformers and llama.cpp must see byte-identical prompts, or a comparison between an HF
variant and a GGUF variant measures the prompt, not the model. So the chat template (the
tokenizer's, the GGUF's or the preset's) is rendered here with jinja2, once, for both.
"""

from __future__ import annotations

from functools import lru_cache

from jinja2.sandbox import ImmutableSandboxedEnvironment

SYSTEM = (
    "Extract every reference to Ezra Pound's The Cantos from the user's text. "
    'Answer with JSON only: {"references": [{"canto": <1-120>, "lines": [<line numbers>]}]}.'
)

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


def chat_prompt(template: str, text: str, *, system: str = SYSTEM, bos_token: str = "", eos_token: str = "") -> str:
    """The generation prompt for one input: system instruction, user text, assistant turn opened."""
    messages = [{"role": "system", "content": system}, {"role": "user", "content": text}]
    return render_chat(template, messages, bos_token=bos_token, eos_token=eos_token)


def plain_prompt(text: str) -> str:
    return PLAIN_TEMPLATE.format(input=text)
