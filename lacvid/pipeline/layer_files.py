"""``--layers DIR``: each finished frame's paint and ink layers (``lacvid.compose.layers``) as PNGs."""

from __future__ import annotations

from pathlib import Path

from lacvid.compose.layers import Layers
from lacvid.errors import OutputExistsError
from lacvid.media.images import write_image
from lacvid.util.outputs import atomic_output, check_output_path


class LayerWriter:
    """``DIR/paint/NAME.png`` and ``DIR/ink/NAME.png`` per frame, the folder published when complete."""

    def __init__(self, folder: Path, overwrite: bool = False) -> None:
        self._atomic = atomic_output(Path(folder), overwrite=overwrite, directory=True)
        self._tmp = self._atomic.__enter__()
        (self._tmp / "paint").mkdir()
        (self._tmp / "ink").mkdir()

    def write(self, layers: Layers, name: str) -> None:
        png = str(Path(name).with_suffix(".png"))
        write_image(self._tmp / "paint" / png, layers.paint)
        write_image(self._tmp / "ink" / png, layers.ink)

    def close(self, error: BaseException | None = None) -> None:
        if error is None:
            self._atomic.__exit__(None, None, None)
        else:
            self._atomic.__exit__(type(error), error, error.__traceback__)


def check_layers_output(folder: Path, overwrite: bool, inputs: dict[str, Path]) -> None:
    """Before any work: the layers folder may be written (never over an input, and ``--overwrite``
    replaces only a folder of lacvid's own layers)."""
    folder = Path(folder)
    check_output_path(folder, overwrite, inputs=inputs)
    if folder.is_dir():
        foreign = sorted(p.name for p in folder.iterdir() if p.name not in ("paint", "ink"))
        if foreign:
            raise OutputExistsError(f"layers folder {folder} already exists and holds {foreign[0]}, which lacvid did "
                                    "not write; lacvid replaces only a folder of its own layers, so choose another")
