"""What a ``colorize`` run is asked to do, and what each of its passes needs of that.

``ColorizeOptions`` is the user's whole request (and keys the cache); each pass receives only
its own slice (``ScanOptions``, ``NetworkOptions``, ``ComposeOptions``, ``EncodeOptions``), so
what a pass depends on is visible in its signature.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from lacvid.compose.layers import INK_MODES
from lacvid.compose.trace import TRACE_MODES
from lacvid.errors import InputError
from lacvid.models.config import BACKENDS, DEFAULT_MODEL
from lacvid.preprocess.lines import LINE_MODES
from lacvid.shots.detect import Shot


@dataclass(frozen=True)
class ScanOptions:
    line_mode: str = "auto"       # auto | color | lines, as ``lacvid lines --mode``


@dataclass(frozen=True)
class NetworkOptions:
    max_refs: int = 3             # the K nearest keys of the shot are the references
    temporal: bool = True         # run the temporal constraint network
    batch: int | None = None      # frames per network call (None: pipeline.networks.network_batch)


@dataclass(frozen=True)
class ComposeOptions:
    flat: bool | None = None      # see ColorizeOptions.flat
    warp: bool = True             # fuse the keys matched onto each frame with the network's color
    max_refs: int = 3             # the keys warped onto a frame: its K nearest
    ink: str = "auto"             # see ColorizeOptions.ink
    trace_lines: str = "keep"     # see ColorizeOptions.trace_lines


@dataclass(frozen=True)
class EncodeOptions:
    overwrite: bool = False
    layers: Path | None = None    # also write each frame's paint and ink layers (RGBA) here
    crf: int = 18
    preset: str = "medium"
    codec: str = "libx264"
    format: str | None = None     # the video's FFmpeg container (muxer); None: from the suffix (stdout: matroska)


# The options' earlier names, still accepted (as keywords, in batch jobs and as attributes): each
# option is now named as its CLI flag (--refs, --lines, --cache).
ALIASES = {"max_refs": "refs", "line_mode": "lines", "cache_dir": "cache"}

_T = TypeVar("_T")


def _accepts_aliases(cls: type[_T]) -> type[_T]:
    """``cls(max_refs=2)`` as ``cls(refs=2)``; an unknown name is a one-line TypeError listing the options."""
    init = cls.__init__

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **options: Any) -> None:
        init(self, *args, **option_names(options))

    cls.__init__ = __init__  # type: ignore[method-assign]
    return cls


def option_names(given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` with the options' old names (``ALIASES``) renamed; a TypeError for a name that is
    no option, or an option given under both its names."""
    known = {f.name for f in fields(ColorizeOptions)}
    renamed: dict[str, Any] = {}
    for name, value in given.items():
        new = ALIASES.get(name, name)
        if new not in known:
            raise TypeError(f"ColorizeOptions has no option {name!r}; the options are {', '.join(sorted(known))}")
        if new in renamed:
            raise TypeError(f"ColorizeOptions got {new!r} twice (once as {name!r}); give one")
        renamed[new] = value
    return renamed


@_accepts_aliases
@dataclass(frozen=True)
class ColorizeOptions:
    """Everything that decides what ``colorize`` produces (and so keys its cache).

    Each option is named as its ``lacvid colorize`` flag (``refs`` is ``--refs``, ``lines`` is
    ``--lines``, ``cache`` is ``--cache``); the earlier names ``max_refs``, ``line_mode`` and
    ``cache_dir`` are still accepted and readable.
    """

    model: str | Path = DEFAULT_MODEL
    device: str = "auto"
    backend: str = "auto"         # auto | torch | onnx: what runs the networks (lacvid.models.runtime.make_backend)
    # Working size: the short side the networks see, in pixels; None = the size the model was
    # trained at (recorded in its checkpoint).
    size: int | None = None
    # Fill every line-enclosed region with one palette color of the keys: True, False, or None
    # (auto): per shot, when the keys are flat cel paint (``flat.palette_coverage`` >= 0.95).
    flat: bool | None = None
    refs: int = 3                 # the K nearest keys of the shot are the references
    temporal: bool = True         # run the temporal constraint network
    batch: int | None = None      # frames per network call; None: 16 on a GPU, 1 on the CPU
    # Match the keys onto each frame and fuse them with the network's color: region colours
    # propagated frame to frame for drawings (lacvid.propagate); footage is its nearest key warped by flow.
    warp: bool = True
    shots: str = "auto"           # auto (detect), single (the whole input is one shot) or a JSON file
    lines: str = "auto"           # auto | color | lines, as ``lacvid lines --mode``
    cache: Path | None = None     # the cache folder; None: lacvid.util.cache_home.default_cache_dir
    overwrite: bool = False
    crf: int = 18
    preset: str = "medium"
    codec: str = "libx264"
    format: str | None = None     # --format: the video's container (muxer); None: from the suffix, matroska on stdout
    layers: Path | None = None    # also write DIR/paint/NAME.png and DIR/ink/NAME.png (lacvid.compose.layers)
    # What goes over the paint (lacvid.compose.layers.INK_MODES): auto = a drawing's ink as drawn,
    # nothing on colour footage (its extracted lines are not an artist's ink); drawn, multiply, none.
    ink: str = "auto"
    # Lines drawn in a colour (shadow and highlight boundaries; lacvid.compose.trace.TRACE_MODES): keep =
    # in the finished frame as drawn; paint = in the colour of the area they bound on their shadow side
    # (the ink layer keeps them as drawn either way).
    trace_lines: str = "keep"
    # Colour part of the input (lacvid.pipeline.selection): frames "A-B" (0-based, inclusive) and/or
    # shot N (1-based, as lacvid shots lists them). Not part of any cache key: a shot's frames are
    # the same whichever part of the input a run colours.
    frames: str | None = None
    shot: int | None = None

    def __post_init__(self) -> None:
        """The checks the CLI's flags get, for every caller (a ``lacvid batch`` job, Python code)."""
        def one_of(name: str, flag: str, choices: tuple[str, ...]) -> None:
            if getattr(self, name) not in choices:
                raise InputError(f"{name} ({flag}) must be one of {', '.join(choices)}, not {getattr(self, name)!r}")

        def integer(name: str, flag: str, low: int, high: int | None = None, optional: bool = False) -> None:
            value = getattr(self, name)
            if optional and value is None:
                return
            in_range = isinstance(value, int) and value >= low and (high is None or value <= high)
            if isinstance(value, bool) or not in_range:
                span = f"from {low} to {high}" if high is not None else f"of at least {low}"
                raise InputError(f"{name} ({flag}) must be an integer {span}, not {value!r}")

        one_of("backend", "--backend", BACKENDS)
        one_of("lines", "--lines", LINE_MODES)
        one_of("ink", "--ink", INK_MODES)
        one_of("trace_lines", "--trace-lines", TRACE_MODES)
        integer("size", "--size", 32, 4096, optional=True)
        integer("refs", "--refs", 1, 8)
        integer("batch", "--batch", 1, optional=True)
        integer("crf", "--crf", 0, 51)
        integer("shot", "--shot", 1, optional=True)
        for name, flag in (("temporal", "--temporal"), ("warp", "--warp")):
            if not isinstance(getattr(self, name), bool):
                raise InputError(f"{name} ({flag}) must be true or false, not {getattr(self, name)!r}")
        if self.flat is not None and not isinstance(self.flat, bool):
            raise InputError(f"flat (--flat) must be true, false or null (per shot), not {self.flat!r}")

    # The earlier names, read-only.
    max_refs = property(lambda self: self.refs, doc="``refs``, by its earlier name.")
    line_mode = property(lambda self: self.lines, doc="``lines``, by its earlier name.")
    cache_dir = property(lambda self: self.cache, doc="``cache``, by its earlier name.")

    def scan(self) -> ScanOptions:
        return ScanOptions(self.lines)

    def networks(self) -> NetworkOptions:
        return NetworkOptions(self.refs, self.temporal, self.batch)

    def compose(self) -> ComposeOptions:
        return ComposeOptions(self.flat, self.warp, self.refs, self.ink, self.trace_lines)

    def encode(self) -> EncodeOptions:
        return EncodeOptions(self.overwrite, self.layers, self.crf, self.preset, self.codec, self.format)


@dataclass
class ColorizeResult:
    output: Path
    frames: int
    shots: list[Shot]
    keys: list[int]
    seconds: float
    # Seconds per pass, summed over threads and processes. Networks run on demand while a frame composes
    # (``pipeline.networks.NetworksOnDemand``) count in colour and temporal, and in this process's compose+encode.
    stage_seconds: dict[str, float] = field(default_factory=dict)
    flat_shots: int = 0           # shots filled flat with the keys' palette
    # What the run warned about, in order (each also went to the ``lacvid`` logger and the progress
    # reporter): a key that does not match its frame, a video cut short, an odd size re-encoded, ...
    warnings: list[str] = field(default_factory=list)
    # Per shot number (1-based) written, its doubt figures (``lacvid.compose.doubt.ShotDoubt.figures``):
    # the doubtful share of its frames, its worst frame and that frame's share.
    doubt: dict[int, dict] = field(default_factory=dict)
