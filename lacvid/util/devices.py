"""Which torch device a run uses: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``, checked once."""

from __future__ import annotations

import sys
from pathlib import Path
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


def device_name(name: str) -> str:
    """``resolve_device(name)`` as a string (``"cpu"``, ``"cuda:0"``), without importing torch (seconds
    of a run's start) when the answer is the CPU on a machine with no GPU (``no_gpu_here``)."""
    if name == "cpu" or (name == "auto" and no_gpu_here()):
        return "cpu"
    return str(resolve_device(name))


# PCI vendors of the GPUs torch.cuda can run on: NVIDIA (CUDA) and AMD/ATI (ROCm builds of torch).
_GPU_VENDORS = ("0x10de", "0x1002")


def no_gpu_here(pci: Path = Path("/sys/bus/pci/devices"), dev: Path = Path("/dev")) -> bool:
    """True only where ``torch.cuda.is_available()`` is certainly False: macOS (torch has no CUDA there),
    or Linux with no NVIDIA or AMD PCI device and no WSL GPU (``/dev/dxg``). Reading sysfs takes a
    millisecond; importing torch to ask takes seconds. False (ask torch) anywhere else, and where
    torch is imported already."""
    if "torch" in sys.modules:
        return False
    if sys.platform == "darwin":
        return True
    if not sys.platform.startswith("linux") or (dev / "dxg").exists() or not pci.is_dir():
        return False
    try:
        vendors = {(d / "vendor").read_text().strip().lower() for d in pci.iterdir()}
    except OSError:
        return False
    return not vendors & set(_GPU_VENDORS)
