"""What ran: lacvid and the versions of what it runs on, for bug reports (``lacvid --version``)."""

from __future__ import annotations

import platform
from importlib import metadata


def _dist(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def versions() -> list[tuple[str, str]]:
    """(component, version) pairs: lacvid first, then Python, torch (with CUDA), ONNX Runtime, FFmpeg."""
    from lacvid._version import __version__

    rows = [("lacvid", __version__), ("python", platform.python_version())]
    try:
        import torch

        cuda = torch.version.cuda
        gpu = f"CUDA {cuda}, {torch.cuda.device_count()} GPU(s) visible" if cuda else "CPU build"
        rows.append(("torch", f"{torch.__version__} ({gpu})"))
    except ImportError:
        rows.append(("torch", "not installed"))
    rows.append(("onnxruntime", _dist("onnxruntime") or "not installed"))
    try:
        import av

        codec = ".".join(str(v) for v in av.library_versions.get("libavcodec", ()))
        rows.append(("ffmpeg", f"libavcodec {codec} (PyAV {av.__version__})"))
    except ImportError:
        rows.append(("ffmpeg", "PyAV not installed"))
    return rows
