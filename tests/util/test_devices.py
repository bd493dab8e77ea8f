"""Device names: ``auto`` is the CPU without importing torch where no GPU can be."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lacvid.util import devices


def _pci(root: Path, *vendors: str) -> Path:
    for i, vendor in enumerate(vendors):
        (root / f"0000:00:0{i}.0").mkdir(parents=True)
        (root / f"0000:00:0{i}.0" / "vendor").write_text(vendor + "\n")
    root.mkdir(exist_ok=True)
    return root


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux sysfs")
def test_no_gpu_here_reads_the_pci_vendors(tmp_path, monkeypatch) -> None:
    monkeypatch.delitem(sys.modules, "torch", raising=False)  # as in a process that has not imported it
    dev = tmp_path / "dev"
    dev.mkdir()
    assert devices.no_gpu_here(_pci(tmp_path / "virtio", "0x1af4", "0x8086"), dev)  # a VM: no GPU
    assert not devices.no_gpu_here(_pci(tmp_path / "nvidia", "0x8086", "0x10de"), dev)
    assert not devices.no_gpu_here(_pci(tmp_path / "amd", "0x1002"), dev)
    assert not devices.no_gpu_here(tmp_path / "no-sysfs", dev)  # cannot tell: ask torch
    (dev / "dxg").touch()  # WSL's GPU
    assert not devices.no_gpu_here(_pci(tmp_path / "wsl"), dev)


def test_no_gpu_here_asks_torch_once_it_is_imported() -> None:
    import torch  # noqa: F401

    assert not devices.no_gpu_here()


def test_device_name(monkeypatch) -> None:
    assert devices.device_name("cpu") == "cpu"
    monkeypatch.setattr(devices, "no_gpu_here", lambda: True)
    assert devices.device_name("auto") == "cpu"
    monkeypatch.setattr(devices, "no_gpu_here", lambda: False)
    import torch

    assert devices.device_name("auto") == ("cuda:0" if torch.cuda.is_available() else "cpu")
