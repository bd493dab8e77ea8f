"""``lacvid preview --html DIR``: the preview as one web page, ``DIR/index.html`` with its pictures
in ``DIR/img/``: per shot its figures, keys, sampled drawings, lacvid's frames, palette and a
looping flip-book. A 300-shot episode is one page to scroll (pictures load lazily) where the PNG
sheet would be many pages.

The figures come from ``preview.shot_figures`` and the pictures from the ``ShotPreview``, so the
page and the sheet always show the same run; the HTML itself is ``media.review_html`` (no I/O).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from lacvid.errors import InputError, OutputExistsError
from lacvid.media.animation import encode_animation
from lacvid.media.contact_sheet import palette_strip, tile
from lacvid.media.images import write_image
from lacvid.media.review_html import Picture, ShotSection, render_page
from lacvid.pipeline.preview import ShotPreview, shot_figures
from lacvid.util.outputs import atomic_output, check_output_path

PAGE = "index.html"
IMAGES = "img"
REVIEW_ENTRIES = (PAGE, IMAGES)      # what a review folder lacvid wrote holds
TILE_HEIGHT = 100                    # the strips' pictures
FLIP_HEIGHT = 195                    # the flip-book
SWATCH = 24                          # a palette colour's square
FLIP_MS = 250                        # each flip-book frame on screen
NOTE = ("One row per shot: its figures, a flip-book, the keys as painted, the sampled drawings, lacvid's frames "
        "for them and the keys' palette. A preview colours only the sampled frames, so each flip-book loops the "
        "shot's keys and those frames in frame order ({ms} ms each), not every frame; lacvid colorize paints "
        "them all.")


def check_review_output(folder: Path, overwrite: bool, inputs: Mapping[str, Path | None],
                        sheets: Sequence[Path] = ()) -> None:
    """Before any work: the review folder may be written (never over or around an input or a sheet
    page, and ``--overwrite`` replaces only a review folder lacvid wrote)."""
    folder = Path(folder)
    check_output_path(folder, overwrite, inputs=inputs)
    check_apart(folder, sheets)
    if folder.is_file() or folder.is_symlink():
        raise OutputExistsError(f"--html {folder} is a file, not a review folder; choose another path")
    if folder.is_dir():
        foreign = sorted(p.name for p in folder.iterdir() if p.name not in REVIEW_ENTRIES)
        if foreign:
            raise OutputExistsError(f"review folder {folder} already exists and holds {foreign[0]}, which lacvid "
                                    "did not write; lacvid replaces only a review folder of its own, so choose "
                                    "another")


def check_apart(folder: Path, sheets: Sequence[Path]) -> None:
    """Refuse a sheet page that is the review folder or lies inside it: the folder is replaced whole."""
    where = Path(os.path.realpath(folder))
    for sheet in sheets:
        page = Path(os.path.realpath(sheet))
        if page == where or where in page.parents:
            raise InputError(f"the sheet {sheet} would be or lie inside the --html folder {folder}, which lacvid "
                             "replaces whole; write the sheet (-o) outside it")


def write_review_page(folder: Path | str, previews: Sequence[ShotPreview], *, title: str = "lacvid preview",
                      overwrite: bool = False, animation: str = "auto") -> Path:
    """Write ``folder/index.html`` and its pictures under a temporary name, renamed when complete;
    ``animation``: the flip-books' format (``auto``: WebP where OpenCV writes it, else GIF)."""
    folder = Path(folder)
    with atomic_output(folder, overwrite=overwrite, directory=True) as tmp:
        (tmp / IMAGES).mkdir()
        sections = [_section(tmp, p, animation) for p in previews]
        (tmp / PAGE).write_text(render_page(title, NOTE.format(ms=FLIP_MS), sections), encoding="utf-8")
    return folder


def _section(root: Path, p: ShotPreview, animation: str) -> ShotSection:
    """Write one shot's pictures; its section of the page."""
    stem = f"s{p.number:04d}"
    keys, sampled = sorted(p.keys), sorted(p.frames)
    strips = [("keys", [_picture(root, f"{stem}-key{t:06d}.png", p.keys[t], f"key {t}") for t in keys])]
    if sampled:
        strips.append(("drawing", [_picture(root, f"{stem}-drawing{t:06d}.png", p.drawings[t], f"frame {t}")
                                   for t in sampled]))
        strips.append(("lacvid", [_picture(root, f"{stem}-lacvid{t:06d}.png", p.frames[t], f"frame {t}")
                                  for t in sampled]))
    swatches = palette_strip(p.palette, SWATCH * max(1, -(-len(p.palette) // 16)), SWATCH)  # rows of 16
    strips.append(("palette", [_picture(root, f"{stem}-palette.png", swatches, f"{len(p.palette)} colours",
                                        scale=False)]))
    return ShotSection(f"shot-{p.number}", f"Shot {p.number}", shot_figures(p), strips,
                       _flipbook(root, stem, p, animation))


def _picture(root: Path, name: str, image: np.ndarray, caption: str, scale: bool = True) -> Picture:
    small = tile(image, TILE_HEIGHT) if scale else image
    write_image(root / IMAGES / name, small)
    return Picture(f"{IMAGES}/{name}", small.shape[1], small.shape[0], caption)


def _flipbook(root: Path, stem: str, p: ShotPreview, animation: str) -> Picture:
    """The shot's keys and lacvid's sampled frames in frame order, looping."""
    order = sorted({**{t: p.frames[t] for t in p.frames}, **{t: p.keys[t] for t in p.keys}}.items())
    frames = [tile(image, FLIP_HEIGHT) for _, image in order]
    data, suffix = encode_animation(frames, FLIP_MS, animation)
    name = f"{stem}-flipbook{suffix}"
    (root / IMAGES / name).write_bytes(data)
    return Picture(f"{IMAGES}/{name}", frames[0].shape[1], frames[0].shape[0],
                   alt=f"shot {p.number}: frames {', '.join(str(t) for t, _ in order)} looping")
