"""The networks of Shi et al. (2020): configs, colour and temporal networks, discriminators,
checkpoints, ONNX export and the runtime that runs them. Networks never import losses or
optimisers.

The names below load on first use, so ``lacvid.models.config`` (the model and backend names the
CLI checks) is importable without torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "inference_copy": "blocks", "remove_spectral_norm": "blocks",
    "Checkpoint": "checkpoint", "build_net": "checkpoint", "load_checkpoint": "checkpoint",
    "save_checkpoint": "checkpoint",
    "ColorTransformNet": "color", "References": "color",
    "ColorNetConfig": "config", "DiscriminatorConfig": "config", "ModelConfig": "config",
    "TemporalNetConfig": "config",
    "PatchDiscriminator": "discriminators", "TemporalPatchDiscriminator": "discriminators",
    "TemporalConstraintNet": "temporal",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"lacvid.models.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'lacvid.models' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
