"""Draw docs/images/review-page.png: the review page ``lacvid preview --html`` writes for a generated
episode, as headless Chromium shows it.

    python examples/review_page.py [--out docs/images/review-page.png] [--shots 6]

The episode is generated shots (``lacvid.synth``, clean and pencil drawings alternating), each
with its first and last frame painted as keys; ``lacvid preview`` colours it with the bundled model:

    lacvid preview episode/lines --keys episode/keys --shots episode/shots.json -o sheet.png --html review
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lacvid.synth import render_shot  # noqa: E402

FRAMES, H, W = 12, 240, 320


def episode(root: Path, shots: int) -> Path:
    """``root/lines`` (one frame folder), ``root/keys`` (each shot's ends, painted), ``root/shots.json``."""
    (root / "lines").mkdir(parents=True)
    (root / "keys").mkdir()
    cuts, t = [], 0
    for n in range(shots):
        style = "pencil" if n % 2 else "clean"
        for i, (color, drawing) in enumerate(render_shot(40 + n, n, FRAMES, H, W, style=style)):
            drawing = drawing if drawing.ndim == 2 else cv2.cvtColor(drawing, cv2.COLOR_RGB2BGR)
            cv2.imwrite(str(root / "lines" / f"{t:04d}.png"), drawing)
            if i in (0, FRAMES - 1):
                cv2.imwrite(str(root / "keys" / f"{t:04d}.png"), cv2.cvtColor(color, cv2.COLOR_RGB2BGR))
            t += 1
        cuts.append({"start": t - FRAMES, "stop": t})
    (root / "shots.json").write_text(json.dumps({"shots": cuts}))
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images" / "review-page.png")
    parser.add_argument("--shots", type=int, default=6)
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("examples/review_page.py: needs chromium on PATH (Debian: apt-get install -y chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        root = episode(Path(tmp) / "episode", args.shots)
        subprocess.run([sys.executable, "-m", "lacvid", "preview", str(root / "lines"), "--keys", str(root / "keys"),
                        "--shots", str(root / "shots.json"), "-o", f"{tmp}/sheet.png", "--html", f"{tmp}/review",
                        "--cache", f"{tmp}/cache", "-q"], check=True, cwd=REPO)
        shot = Path(tmp) / "shot.png"
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--user-data-dir={tmp}/profile", f"--screenshot={shot}", "--window-size=1200,900",
                        "--virtual-time-budget=5000", (Path(tmp) / "review" / "index.html").as_uri()],
                       check=True, capture_output=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, args.out)
    print(args.out)


if __name__ == "__main__":
    main()
