"""Which torch device a run uses: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``, checked once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lacvid.errors import InputError

if TYPE_CHECKING:
    import torch


def resolve_device(name: str, local_rank: int | None = None) -> torch.device:
    """The device for ``name``; ``InputError`` when it is unknown or CUDA is asked for but absent.

    ``local_rank``: under torchrun each process of a node takes the GPU of its local rank.
    """
    import torch

    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise InputError(f"unknown device {name!r}; use auto, cpu or cuda[:N]") from exc
    if device.type not in ("cpu", "cuda"):
        raise InputError(f"unknown device {name!r}; use auto, cpu or cuda[:N]")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise InputError(f"device {name} was asked for but CUDA is not available here; use --device cpu "
                             "or auto")
        index = local_rank if local_rank is not None else (device.index or 0)
        return torch.device("cuda", index)
    return device
