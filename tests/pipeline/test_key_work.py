"""What the keys give a shot's frames is made once, and only what its frames use: a flat fill never
projects onto the keys' colours (``KeyColors``) nor reads their shade; colour footage pastes nothing, so
its keys' drawings (regions for held pasting) are never built; each key's regions are labelled once, for
the palette and the held pasting together. Real runs, the builders counted."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

import lacvid.compose.flat as flat
import lacvid.compose.fusion as fusion
import lacvid.pipeline.compose as compose
from lacvid import ColorizeOptions, colorize
from tests.support.drawings import write_revealed_box
from tests.support.tiny_clip import make_clip, tiny_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def built(monkeypatch) -> dict[str, int]:
    """How often each per-shot key builder ran."""
    counts = {"colors": 0, "shading": 0, "drawings": 0, "labelled": 0}

    def counted(name, fn):
        def run(*args, **kwargs):
            counts[name] += 1
            return fn(*args, **kwargs)
        return run

    monkeypatch.setattr(compose.KeyColors, "of", counted("colors", compose.KeyColors.of))
    monkeypatch.setattr(compose, "key_shading", counted("shading", compose.key_shading))
    monkeypatch.setattr(compose.KeyDrawing, "of", counted("drawings", compose.KeyDrawing.of))
    monkeypatch.setattr(fusion, "label_regions", counted("labelled", fusion.label_regions))  # FusionSettings.regions
    monkeypatch.setattr(flat, "label_regions", counted("labelled", flat.label_regions))
    return counts


def _colorize(root: Path, frames: Path, keys: Path, **options) -> None:
    colorize(frames, keys, root / "out", ColorizeOptions(model=str(tiny_model(root / "tiny.pt")), cache=root / "cache",
                                                         backend="torch", shots="single", **options))


def test_a_flat_fill_builds_the_keys_drawings_once_and_never_their_colours(tmp_path, built) -> None:
    _colorize(tmp_path, *write_revealed_box(tmp_path, pan=40))
    # two keys, once for the shot's three frames; regions labelled once per key and once per frame whose drawing
    # no key has (frames 1 and 3 show the keys' drawing held: they take that key's paint, ShotComposer.painted)
    assert built == {"colors": 0, "shading": 0, "drawings": 2, "labelled": 2 + 1}


def test_per_pixel_paint_projects_onto_the_keys_colours_once(tmp_path, built) -> None:
    _colorize(tmp_path, *write_revealed_box(tmp_path, pan=40), flat=False)
    assert built == {"colors": 1, "shading": 1, "drawings": 2, "labelled": 2 + 1}


def test_colour_footage_builds_no_key_drawing(tmp_path, built) -> None:
    clip = make_clip(tmp_path / "clip", n=4)
    footage, keys = tmp_path / "footage", tmp_path / "keys"
    footage.mkdir()
    keys.mkdir()
    y, x = np.mgrid[0:clip["colors"][0].shape[0], 0:clip["colors"][0].shape[1]]
    shade = (40 * x / x.max()).astype(np.int16)[..., None]                           # not flat cel paint
    for t, color in enumerate(clip["colors"]):
        painted = cv2.cvtColor(np.clip(color.astype(np.int16) - shade, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(footage / f"{t:04d}.png"), painted)
        if t in (0, 3):
            cv2.imwrite(str(keys / f"{t:04d}.png"), painted)
    _colorize(tmp_path, footage, keys)
    # its keys' regions only for the palette check (are they flat cel paint? no), each once
    assert built == {"colors": 1, "shading": 0, "drawings": 0, "labelled": 2}
