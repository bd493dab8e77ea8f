"""``--layers DIR``: each finished frame's paint and ink layers (``lacvid.compose.layers``) and its doubt
(``lacvid.compose.doubt``, 8-bit grey: 0 sure, 255 guessed) as PNGs, and for shots painted from a
palette their index layers and ``DIR/palette.json`` (``lacvid.compose.palette``), which
``lacvid repalette`` recomposes with new colours."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from lacvid.compose.layers import Layers
from lacvid.compose.palette import ShotPalette, hex_color
from lacvid.errors import OutputExistsError
from lacvid.media.images import write_image
from lacvid.media.indexed_png import write_indexed_png
from lacvid.shots.detect import Shot
from lacvid.util.outputs import atomic_output, check_output_path

LAYER_ENTRIES = ("paint", "ink", "index", "doubt", "palette.json")  # what a layers folder lacvid wrote holds
PALETTE_FILE = "palette.json"
PALETTE_VERSION = 1


@dataclass
class _ShotRecord:
    number: int
    shot: Shot
    palette: ShotPalette | None
    why: str                                   # why it has no palette ("" when it has one)
    frames: list[str] = field(default_factory=list)


class LayerWriter:
    """``DIR/paint/NAME.png``, ``DIR/ink/NAME.png``, ``DIR/doubt/NAME.png`` (and ``DIR/index/NAME.png``) per frame, then
    ``DIR/palette.json``; the folder published when complete."""

    def __init__(self, folder: Path, overwrite: bool = False, fps: Fraction | None = None,
                 key_names: dict[int, str] | None = None, trace_lines: str = "keep") -> None:
        self._atomic = atomic_output(Path(folder), overwrite=overwrite, directory=True)
        self._tmp = self._atomic.__enter__()
        (self._tmp / "paint").mkdir()
        (self._tmp / "ink").mkdir()
        self._fps, self._key_names, self._trace_lines = fps, key_names or {}, trace_lines
        self._shots: list[_ShotRecord] = []

    def shot(self, number: int, shot: Shot, palette: ShotPalette | None, why: str = "") -> None:
        """The frames written next belong to shot ``number`` (1-based), indexed with ``palette`` if any."""
        self._shots.append(_ShotRecord(number, shot, palette, why))

    def write(self, layers: Layers, name: str) -> None:
        png = str(Path(name).with_suffix(".png"))
        write_image(self._tmp / "paint" / png, layers.paint)
        write_image(self._tmp / "ink" / png, layers.ink)
        if layers.doubt is not None:
            (self._tmp / "doubt").mkdir(exist_ok=True)
            write_image(self._tmp / "doubt" / png, layers.doubt)
        if layers.index is not None:
            (self._tmp / "index").mkdir(exist_ok=True)
            write_indexed_png(self._tmp / "index" / png, layers.index.index, layers.index.colors)
        if self._shots:
            self._shots[-1].frames.append(name)

    def close(self, error: BaseException | None = None) -> None:
        if error is None:
            (self._tmp / PALETTE_FILE).write_text(json.dumps(self._manifest(), indent=1) + "\n")
            self._atomic.__exit__(None, None, None)
        else:
            self._atomic.__exit__(type(error), error, error.__traceback__)

    def _manifest(self) -> dict:
        """What ``palette.json`` holds: how to recompose the frames, and each shot's palette."""
        return {"version": PALETTE_VERSION, "fps": str(self._fps) if self._fps else None,
                "trace_lines": self._trace_lines, "shots": [self._shot_entry(r) for r in self._shots]}

    def _shot_entry(self, r: _ShotRecord) -> dict:
        entry = {"shot": r.number, "start": r.shot.start, "stop": r.shot.stop, "frames": r.frames}
        if r.palette is None:
            return {**entry, "palette": None, "why": r.why}
        keys = {t: self._key_names.get(t, str(t)) for t in r.palette.key_pixels}
        colors = []
        for i, c in enumerate(r.palette.colors):
            used = {keys[t]: n[i] for t, n in r.palette.key_pixels.items() if n[i]}
            colors.append({"index": i, "rgb": hex_color(c), "paper": i == 0, "keys": used})
        return {**entry, "palette": colors}


def check_layers_output(folder: Path, overwrite: bool, inputs: dict[str, Path]) -> None:
    """Before any work: the layers folder may be written (never over an input, and ``--overwrite``
    replaces only a folder of lacvid's own layers)."""
    folder = Path(folder)
    check_output_path(folder, overwrite, inputs=inputs)
    if folder.is_dir():
        foreign = sorted(p.name for p in folder.iterdir() if p.name not in LAYER_ENTRIES)
        if foreign:
            raise OutputExistsError(f"layers folder {folder} already exists and holds {foreign[0]}, which lacvid did "
                                    "not write; lacvid replaces only a folder of its own layers, so choose another")
