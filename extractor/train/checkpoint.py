"""What a run directory holds while training: the adapter (two files, safetensors) and a resumable
checkpoint (adapter, optimizer state, RNG, the typed run state) - no pickle anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import torch

def save_adapter(peft_model, out: Path, base_name: str, full_state: dict | None = None) -> None:
    """Exactly two files: adapter_config.json and adapter_model.safetensors. ``full_state``: the
    model's state dict gathered from sharded processes (FSDP, DeepSpeed ZeRO-3), when it is."""
    from peft import get_peft_model_state_dict
    from safetensors.torch import save_file

    lora = get_peft_model_state_dict(peft_model, state_dict=full_state)
    state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in lora.items()}
    save_file(state, out / "adapter_model.safetensors", metadata={"format": "pt"})
    config = peft_model.peft_config["default"].to_dict()
    config["base_model_name_or_path"] = base_name  # a preset name, never this machine's path
    (out / "adapter_config.json").write_text(json.dumps(config, indent=2, sort_keys=True, default=sorted))


def save_checkpoint(out: Path, peft_model, optimizer, state: dict, base_name: str) -> None:
    from safetensors.torch import save_file

    save_adapter(peft_model, out, base_name)
    opt = optimizer.state_dict()
    tensors = {f"{idx}.{k}": (v if torch.is_tensor(v) else torch.tensor(v)).detach().cpu().contiguous()
               for idx, st in opt["state"].items() for k, v in st.items()}
    tensors["rng.torch"] = torch.get_rng_state()
    save_file(tensors, out / "optimizer.safetensors")
    (out / "state.json").write_text(json.dumps({**state, "param_groups": opt["param_groups"]}, indent=2))


def load_checkpoint(ckpt: Path, peft_model, optimizer) -> dict:
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    set_peft_model_state_dict(peft_model, load_file(ckpt / "adapter_model.safetensors"))
    tensors = load_file(ckpt / "optimizer.safetensors")
    state = json.loads((ckpt / "state.json").read_text())
    torch.set_rng_state(tensors.pop("rng.torch"))
    opt_state: dict[int, dict] = {}
    for key, value in tensors.items():
        idx, name = key.split(".", 1)
        opt_state.setdefault(int(idx), {})[name] = value
    optimizer.load_state_dict({"state": opt_state, "param_groups": state.pop("param_groups")})
    return state


