"""One checkpoint file holds everything needed to rebuild and resume a model.

    {"format": "lacvid-checkpoint", "version": 1, "config": ModelConfig.to_dict(),
     "weights": {name: state_dict}, "train_state": dict | None, "meta": dict | None}

Network names: ``color`` (required to load), ``temporal``, ``color_disc``, ``temporal_disc``.
The file is read with ``torch.load(weights_only=True)`` so opening a checkpoint never runs
code from it. For the trainer: ``train_state`` and ``meta`` may therefore hold only tensors
and plain Python values (dict, list, tuple, str, int, float, bool, None), e.g. optimiser
``state_dict()``s, step counters and RNG states as tensors; no dataclasses, Paths or numpy
objects (convert them first: ``str(path)``, ``torch.from_numpy(a)``, ``config.to_dict()``).
"""

from __future__ import annotations

import os
import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from lacvid.errors import CheckpointError
from lacvid.models.color import ColorTransformNet
from lacvid.models.config import ModelConfig
from lacvid.models.discriminators import PatchDiscriminator, TemporalPatchDiscriminator
from lacvid.models.temporal import TemporalConstraintNet
from lacvid.util.outputs import atomic_output

FORMAT = "lacvid-checkpoint"
VERSION = 1
COLOR, TEMPORAL, COLOR_DISC, TEMPORAL_DISC = "color", "temporal", "color_disc", "temporal_disc"
NET_NAMES = (COLOR, TEMPORAL, COLOR_DISC, TEMPORAL_DISC)


@dataclass
class Checkpoint:
    """A loaded checkpoint: networks rebuilt from the file's config, weights loaded, in eval mode."""

    config: ModelConfig
    color_net: ColorTransformNet
    temporal_net: TemporalConstraintNet | None = None
    discriminators: dict[str, nn.Module] = field(default_factory=dict)  # keys: color_disc, temporal_disc
    train_state: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None


def build_net(name: str, config: ModelConfig) -> nn.Module:
    """A freshly initialised network ``name`` (one of NET_NAMES) for ``config``."""
    if name == COLOR:
        return ColorTransformNet(config.color)
    if name == TEMPORAL:
        return TemporalConstraintNet(config.temporal)
    if name == COLOR_DISC:
        return PatchDiscriminator(config.discriminator)
    if name == TEMPORAL_DISC:
        return TemporalPatchDiscriminator(config.discriminator)
    raise ValueError(f"unknown network name {name!r}; expected one of {NET_NAMES}")


def save_checkpoint(path: str | os.PathLike, *, config: ModelConfig, nets: dict[str, nn.Module],
                    train_state: dict | None = None, meta: dict | None = None) -> Path:
    """Write the checkpoint atomically (``atomic_output``: a temporary sibling, renamed); returns the path.

    A crash mid-write leaves the previous checkpoint intact rather than a truncated file.
    """
    path = Path(path)
    unknown = sorted(set(nets) - set(NET_NAMES))
    if unknown:
        raise ValueError(f"unknown network names {unknown}; expected some of {NET_NAMES}")
    if COLOR not in nets:
        raise ValueError("a checkpoint needs the 'color' network")
    payload = {"format": FORMAT, "version": VERSION, "config": config.to_dict(),
               "weights": {name: net.state_dict() for name, net in nets.items()},
               "train_state": train_state, "meta": meta}
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path, overwrite=True) as tmp, open(tmp, "wb") as f:
        torch.save(payload, f)
        f.flush()
        os.fsync(f.fileno())  # on disk before the rename publishes it
    return path


def _read(path: Path, map_location: str | torch.device) -> dict:
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist; check the path")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} is not a file; pass the .pt file a training run wrote")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(f"checkpoint {path} is not a lacvid checkpoint (not a PyTorch file, or it holds "
                              "objects other than weights and plain values); pass a file written by "
                              "'lacvid train'") from exc
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as exc:
        raise CheckpointError(f"checkpoint {path} is truncated or not a PyTorch file ({type(exc).__name__}); "
                              "pass a complete file written by 'lacvid train'") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a lacvid checkpoint (e.g. a bare state_dict); pass a file written "
                              "by 'lacvid train'")
    version = payload.get("version")
    if not isinstance(version, int) or version > VERSION or version < 1:
        raise CheckpointError(f"checkpoint {path} has format version {version!r} but this lacvid reads version "
                              f"{VERSION}; upgrade lacvid or use a matching checkpoint")
    return payload


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> Checkpoint:
    """Rebuild every stored network from the file alone; raises ``CheckpointError`` on a bad file."""
    path = Path(path)
    payload = _read(path, map_location)
    try:
        config = ModelConfig.from_dict(payload.get("config"))
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"checkpoint {path} has an invalid model config ({exc}); it was written by an "
                              "incompatible lacvid") from exc
    weights = payload.get("weights")
    if not isinstance(weights, dict) or COLOR not in weights:
        raise CheckpointError(f"checkpoint {path} holds no colour network weights; pass a complete checkpoint")
    nets: dict[str, nn.Module] = {}
    for name, state in weights.items():
        try:
            net = build_net(name, config)
            net.load_state_dict(state)
        except (ValueError, RuntimeError, TypeError, AttributeError) as exc:
            raise CheckpointError(f"checkpoint {path}: the '{name}' weights do not fit its config "
                                  f"({str(exc).splitlines()[0]}); the file is damaged or from another version") from exc
        nets[name] = net.to(map_location).eval()
    return Checkpoint(config=config, color_net=nets.pop(COLOR), temporal_net=nets.pop(TEMPORAL, None),
                      discriminators=nets, train_state=payload.get("train_state"), meta=payload.get("meta"))
