"""Draw docs/images/palette-day-night.png: one generated pencil shot coloured once, then a night
palette swapped in by ``lacvid repalette`` (no network runs again).

    python examples/paint_by_palette.py [--out docs/images/palette-day-night.png]

The shot (``lacvid synth --style pencil``: grey strokes, blue shadow-boundary lines) is coloured
from its first and last frame with the bundled model, ``--layers`` and ``--trace-lines paint``;
the night map darkens and blues every palette colour and turns the paper to a night sky. Rows:
the drawing lacvid is given, the day run, the night version of the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lacvid import ColorizeOptions, colorize  # noqa: E402
from lacvid.compose.palette import hex_color, parse_color  # noqa: E402
from lacvid.media import read_image  # noqa: E402
from lacvid.media.contact_sheet import contact_sheet, write_sheet  # noqa: E402
from lacvid.pipeline.repalette import repalette  # noqa: E402
from lacvid.synth import render_shot  # noqa: E402

FRAMES, H, W = 12, 240, 320
SHOWN = (2, 5, 8)          # frames between the keys
SKY = "#1b2140"


def night(rgb: str) -> str:
    """A palette colour at night: darker, bluer."""
    r, g, b = parse_color(rgb)
    return hex_color((round(r * 0.35), round(g * 0.42), round(min(255, b * 0.6 + 40))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images" / "palette-day-night.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "lines").mkdir()
        (root / "keys").mkdir()
        for i, (color, drawing) in enumerate(render_shot(0, 0, FRAMES, H, W, style="pencil")):
            cv2.imwrite(str(root / "lines" / f"{i:04d}.png"), cv2.cvtColor(drawing, cv2.COLOR_RGB2BGR))
            if i in (0, FRAMES - 1):
                cv2.imwrite(str(root / "keys" / f"{i:04d}.png"), cv2.cvtColor(color, cv2.COLOR_RGB2BGR))
        colorize(root / "lines", root / "keys", root / "day", ColorizeOptions(
            layers=root / "layers", trace_lines="paint", cache_dir=root / "cache", shots="single"))
        manifest = json.loads((root / "layers" / "palette.json").read_text())
        mapping = {e["rgb"]: SKY if e["paper"] else night(e["rgb"]) for s in manifest["shots"] for e in s["palette"]}
        (root / "night.json").write_text(json.dumps(mapping, indent=1))
        repalette(root / "layers", mapping, root / "night")
        names = [f"{i:04d}.png" for i in SHOWN]
        sheet = contact_sheet([(label, [read_image(root / folder / n) for n in names])
                               for label, folder in (("drawing", "lines"), ("day (colorize)", "day"),
                                                     ("night (repalette)", "night"))], height=H)
        print(write_sheet(args.out, sheet, overwrite=True))


if __name__ == "__main__":
    main()
