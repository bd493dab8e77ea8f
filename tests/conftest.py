"""Shared test fixtures: tiny generated clips with known content, and the CLI runner.

Every clip is generated with PyAV (never with lacvid itself), so reading tests do not trust
the code under test to make their inputs. Frames carry their index as 8 black/white bars
across the top half, which survive lossy coding; ``frame_index`` reads them back, so tests
can check order and count after a round trip through a video codec.

Use them from any test module:

    def test_something(make_video, frame_index, tmp_path):
        clip = make_video(tmp_path / "clip.mp4", n_frames=12, size=(64, 48))
        ...
        assert frame_index(frame.image) == frame.index
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from tests.support.cli import cli_runner

# The smoke tests (``pytest -m smoke``): what .ci/run runs again with every dependency at its declared
# floor (.ci/floors.txt): colorize end to end through the CLI (cache, resume, bad input), video and
# frame I/O, the ONNX backend, the Numba kernels, JSON progress and the Python API's options.
SMOKE = ("e2e/test_colorize.py", "media/test_media.py", "cli/", "models/test_runtime.py", "util/test_kernels.py",
         "pipeline/test_options.py", "test_progress.py", "e2e/test_preview_config.py")


def pytest_collection_modifyitems(config, items) -> None:
    root = Path(__file__).parent
    for item in items:
        if Path(item.path).relative_to(root).as_posix().startswith(SMOKE):
            item.add_marker(pytest.mark.smoke)


@pytest.fixture(autouse=True, scope="session")
def _private_cache_home(tmp_path_factory):
    """Every run of lacvid in the tests (subprocesses included) keeps its default cache in a
    temporary folder, never in the user's ~/.cache/lacvid."""
    patch = pytest.MonkeyPatch()
    patch.setenv("LACVID_CACHE", str(tmp_path_factory.mktemp("cache-home")))
    # --threads' default: one thread, as the shared test machine wants and one_torch_thread sets
    patch.setenv("LACVID_THREADS", "1")
    yield
    patch.undo()


INDEX_BITS = 8  # clips with the index pattern hold at most 256 frames


def pattern_frame(index: int, size: tuple[int, int], pattern: str = "index") -> np.ndarray:
    """The uint8 RGB frame ``index`` of a generated clip; ``size`` is (width, height).

    ``index``: bars encoding the index over a colour band whose hue changes with the index.
    ``lines``: black ink on white paper (the line-art convention) with the same index bars in
    the top half and a circle outline moving with the index below them.
    """
    width, height = size
    if index >= 2 ** INDEX_BITS:
        raise ValueError(f"the index pattern holds {2 ** INDEX_BITS} frames at most")
    img = np.full((height, width, 3), 255, np.uint8)
    top = max(1, height // 2)
    for bit in range(INDEX_BITS):
        x0, x1 = bit * width // INDEX_BITS, (bit + 1) * width // INDEX_BITS
        img[:top, x0:x1] = 255 if (index >> bit) & 1 else 0
    if pattern == "index":
        hue = (index * 23) % 180
        band = np.full((height - top, width, 3), (hue, 200, 220), np.uint8)
        img[top:] = cv2.cvtColor(band, cv2.COLOR_HSV2RGB) if band.size else band
    elif pattern == "lines":
        r = max(2, min(width, height - top) // 4)
        cx = r + (index * 3) % max(1, width - 2 * r)
        cv2.circle(img, (int(cx), top + (height - top) // 2), r, (0, 0, 0), 1, cv2.LINE_AA)
    else:
        raise ValueError(f"unknown pattern {pattern!r}; use 'index' or 'lines'")
    return img


def read_index(image: np.ndarray) -> int:
    """The index a ``pattern_frame`` carries, read from the middle of each bar (robust to lossy codecs)."""
    height, width = image.shape[:2]
    top = max(1, height // 2)
    gray = image.mean(axis=2) if image.ndim == 3 else image
    value = 0
    for bit in range(INDEX_BITS):
        x0, x1 = bit * width // INDEX_BITS, (bit + 1) * width // INDEX_BITS
        cx = (x0 + x1) // 2
        patch = gray[max(0, top // 4): max(1, 3 * top // 4), cx: cx + 1]
        if patch.mean() > 127:
            value |= 1 << bit
    return value


class _Tone:
    """A 440 Hz stereo tone written in step with the video, so the file is interleaved."""

    def __init__(self, container: av.container.OutputContainer, codec: str, rate: int = 48000) -> None:
        self.container, self.rate, self.done = container, rate, 0
        self.stream = container.add_stream(codec, rate=rate)
        self.stream.layout = "stereo"

    def until(self, seconds: float) -> None:
        n = int(round(seconds * self.rate))
        chunk = self.stream.codec_context.frame_size or 1024
        while self.done < n:
            t = np.arange(self.done, min(n, self.done + chunk)) / self.rate
            part = (0.3 * np.sin(2 * math.pi * 440 * t)).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(np.stack([part, part]), format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = self.rate, self.done
            for packet in self.stream.encode(frame):
                self.container.mux(packet)
            self.done += part.size

    def close(self) -> None:
        for packet in self.stream.encode(None):
            self.container.mux(packet)


def make_video_file(path: Path, n_frames: int = 12, size: tuple[int, int] = (64, 48),
                    fps: Fraction | int = 24, audio: bool = True, pattern: str = "index",
                    codec: str = "libx264", pix_fmt: str | None = None, audio_codec: str = "aac") -> Path:
    """Encode ``n_frames`` of ``pattern_frame`` to ``path``; ``size`` is (width, height).

    Odd sizes are encoded as yuv444p (4:2:0 needs even sizes). ``audio_codec`` may be e.g.
    ``pcm_s16le`` in ``.mkv``/``.mov`` to test audio that MP4 cannot hold.
    """
    path = Path(path)
    fps = Fraction(fps)
    width, height = size
    if pix_fmt is None:
        pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
    with av.open(str(path), mode="w") as container:
        video = container.add_stream(codec, rate=fps)
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        video.codec_context.time_base = 1 / fps
        if codec == "libx264":
            video.options = {"crf": "12", "preset": "ultrafast"}
        tone = _Tone(container, audio_codec) if audio else None
        for i in range(n_frames):
            frame = av.VideoFrame.from_ndarray(pattern_frame(i, size, pattern), format="rgb24")
            frame.pts, frame.time_base = i, 1 / fps
            for packet in video.encode(frame):
                container.mux(packet)
            if tone is not None:
                tone.until(float((i + 1) / fps))
        for packet in video.encode(None):
            container.mux(packet)
        if tone is not None:
            tone.close()
    return path


def make_frames_dir_at(path: Path, n_frames: int = 5, size: tuple[int, int] = (32, 24),
                       names: Sequence[str] | None = None, pattern: str = "index") -> Path:
    """A folder of PNG frames (``names`` default to ``0.png``, ``1.png``, ...) written with OpenCV."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    names = list(names) if names is not None else [f"{i}.png" for i in range(n_frames)]
    for i, name in enumerate(names):
        ok = cv2.imwrite(str(path / name), cv2.cvtColor(pattern_frame(i, size, pattern), cv2.COLOR_RGB2BGR))
        assert ok, name
    return path


@pytest.fixture
def make_video() -> Callable[..., Path]:
    """``make_video(path, n_frames=12, size=(w, h), fps=24, audio=True, pattern="index", ...)``."""
    return make_video_file


@pytest.fixture
def make_frames_dir() -> Callable[..., Path]:
    """``make_frames_dir(path, n_frames=5, size=(w, h), names=None, pattern="index")``."""
    return make_frames_dir_at


@pytest.fixture
def make_frame() -> Callable[..., np.ndarray]:
    """``make_frame(index, (w, h), pattern="index") -> RGB``: one frame of a generated clip."""
    return pattern_frame


@pytest.fixture
def frame_index() -> Callable[[np.ndarray], int]:
    """``frame_index(rgb) -> int``: the index a generated frame carries."""
    return read_index


@pytest.fixture
def cli() -> Callable[..., object]:
    """Run ``lacvid ARGS...`` in process; the result has ``exit_code``, ``stdout`` and ``stderr`` apart."""
    from lacvid.cli import app

    runner = cli_runner()

    def invoke(*args: str | Path) -> object:
        return runner.invoke(app, [str(a) for a in args])

    return invoke


@pytest.fixture(scope="module")
def one_torch_thread():
    """The machine's 2 cores are shared: one intra-op thread keeps tiny nets fast and steady."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
