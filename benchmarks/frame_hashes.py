"""Hashes of what ``lacvid colorize`` writes, to prove a speed change leaves every output bit for bit.

    python benchmarks/frame_hashes.py [-o hashes.json] [--compare before.json] [--cases NAME,...]

Each case runs ``lacvid colorize`` (in process, a fresh cache, ``--shots single`` where the clip is one
shot) with ``--layers`` and hashes the decoded pixels of every finished frame and of every layer file
(paint, ink, index, doubt; ``palette.json`` as bytes). The cases cover every compositing path:

- ``synth-clean``: generated cel drawings, two shots, flat keys (per-region fill), ink as drawn;
- ``synth-1080``: the same at 1920x1080 (the full-resolution upsampling at a large scale factor);
- ``synth-pencil-trace``: pencil drawings with coloured shadow lines, ``--trace-lines paint``;
- ``synth-stress-noflat``: the stress drawings (gradient sky), ``--no-flat`` (per-pixel fill, the keys'
  colours, confident regions painted whole), ``--ink multiply``;
- ``synth-footage``: the generated colour frames read as footage (keys warped by flow, no ink);
- ``clip11`` .. ``clip13``: the hand-drawn clips of ``../shared/realdata`` as given (skipped when absent;
  read in place, never copied into the repository).

``--compare`` prints every case and file whose hash differs from a saved run and exits 1 if any does.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing


def _write(path: Path, image: np.ndarray) -> None:
    cv2.imwrite(str(path), image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR))


def synth_clip(folder: Path, style: str, frames: int, height: int, width: int, footage: bool = False) -> None:
    """``folder/lines`` (or the colour frames, ``footage``) and ``folder/keys``: two generated shots,
    keys first and last of each."""
    from lacvid.synth import render_shot

    (folder / "lines").mkdir()
    (folder / "keys").mkdir()
    i = 0
    for shot, length in enumerate((frames // 2, frames - frames // 2)):
        for j, (color, drawn) in enumerate(render_shot(3, shot, length, height, width, style=style)):
            _write(folder / "lines" / f"{i:04d}.png", color if footage else drawn)
            if j in (0, length - 1):
                _write(folder / "keys" / f"{i:04d}.png", color)
            i += 1


def real_clip(folder: Path, clip: Path) -> None:
    """``folder/lines`` as links to the clip's own drawings, ``folder/keys`` its first and last colour frame."""
    (folder / "lines").mkdir()
    (folder / "keys").mkdir()
    drawn = sorted((clip / "lines").glob("*.png"))
    color = sorted((clip / "color").glob("*.png"))
    for p in drawn:
        os.symlink(p, folder / "lines" / p.name)
    for p in (color[0], color[-1]):
        os.symlink(p, folder / "keys" / p.name)


def cases(realdata: Path) -> dict[str, tuple[Callable[[Path], None], list[str]]]:
    """name -> (how to make its input folder, colorize's extra flags)."""
    out: dict[str, tuple[Callable[[Path], None], list[str]]] = {
        "synth-clean": (lambda f: synth_clip(f, "clean", 12, 288, 512), []),
        "synth-1080": (lambda f: synth_clip(f, "clean", 6, 1080, 1920), []),
        "synth-pencil-trace": (lambda f: synth_clip(f, "pencil", 10, 270, 480), ["--trace-lines", "paint"]),
        "synth-stress-noflat": (lambda f: synth_clip(f, "stress", 10, 270, 480), ["--no-flat", "--ink", "multiply"]),
        "synth-footage": (lambda f: synth_clip(f, "clean", 8, 270, 480, footage=True), ["--lines", "color"]),
    }
    for name in ("clip11", "clip12", "clip13"):
        if (realdata / name).is_dir():
            out[name] = (lambda f, c=realdata / name: real_clip(f, c), ["--shots", "single"])
    return out


def digest_file(path: Path) -> str:
    """sha256 of an image's decoded pixels (any PNG encoder settings give the same), else of its bytes."""
    if path.suffix == ".png":
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        return hashlib.sha256(np.ascontiguousarray(image).tobytes() + str(image.shape).encode()).hexdigest()[:16]
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def run_case(make: Callable[[Path], None], flags: list[str]) -> dict[str, str]:
    """Every output file of one colorize run (frames and layers), relative path -> digest."""
    from lacvid.cli import app

    with tempfile.TemporaryDirectory(prefix="lacvid-hashes-") as tmp:
        root = Path(tmp)
        make(root)
        argv = ["colorize", str(root / "lines"), "--keys", str(root / "keys"), "-o", str(root / "out"), "-q",
                "--cache", str(root / "cache"), "--layers", str(root / "layers"), *flags]
        with contextlib.redirect_stdout(io.StringIO()):
            code = app(argv, standalone_mode=False)
        if code:
            raise RuntimeError(f"lacvid {' '.join(argv)} exited with {code}")
        files = sorted(p for d in ("out", "layers") for p in (root / d).rglob("*") if p.is_file())
        return {str(p.relative_to(root)): digest_file(p) for p in files}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", type=Path, help="write the hashes here (JSON)")
    ap.add_argument("--compare", type=Path, help="a saved run to compare with; exit 1 on any difference")
    ap.add_argument("--cases", help="comma-separated case names (default: all)")
    ap.add_argument("--realdata", type=Path,
                    default=Path(os.environ.get("LACVID_REALDATA", REPO.parent / "shared" / "realdata")))
    args = ap.parse_args()
    every = cases(args.realdata)
    wanted = args.cases.split(",") if args.cases else list(every)
    hashes = {}
    for name in wanted:
        make, flags = every[name]
        hashes[name] = run_case(make, flags)
        whole = hashlib.sha256(json.dumps(hashes[name], sort_keys=True).encode()).hexdigest()[:16]
        print(f"{name:<22} {len(hashes[name]):4d} files  {whole}", flush=True)
    if args.output:
        args.output.write_text(json.dumps(hashes, indent=1, sort_keys=True))
    if args.compare:
        before = json.loads(args.compare.read_text())
        differ = [f"{name}/{path}" for name in hashes for path in sorted(set(hashes[name]) | set(before.get(name, {})))
                  if hashes[name].get(path) != before.get(name, {}).get(path)]
        for line in differ[:50]:
            print(f"differs: {line}")
        print(f"{len(differ)} files differ from {args.compare} over {len(hashes)} cases")
        raise SystemExit(1 if differ else 0)


if __name__ == "__main__":
    main()
