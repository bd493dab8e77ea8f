"""Export the bundled model's ONNX graphs into the package, where a run loads them instead of exporting.

    python scripts/ship_default_onnx.py [--model lacvid/weights/default.pt] [--out lacvid/weights/default-onnx]

Run it whenever ``lacvid/weights/default.pt`` or the network code changes (``scripts/train_default_model.sh``
does, after writing the bundled model): the folder's manifest records the checkpoint's digest, so a
stale folder is never loaded (the run exports into the cache instead, as for any checkpoint), and
``tests/models/test_bundled_graphs.py`` fails until the graphs are regenerated.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's lacvid, installed or not


def main() -> None:
    from lacvid.models.runtime import bundled_graphs, write_bundled_graphs
    from lacvid.util.hashing import file_digest

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "lacvid" / "weights" / "default.pt")
    parser.add_argument("--out", type=Path, default=ROOT / "lacvid" / "weights" / "default-onnx")
    args = parser.parse_args()
    folder = write_bundled_graphs(args.model, args.out)
    if bundled_graphs(file_digest(args.model), folder) is None:
        raise SystemExit(f"{folder} does not check out against {args.model}")
    for path in sorted(folder.iterdir()):
        print(f"{path.stat().st_size:>9}  {path}")


if __name__ == "__main__":
    main()
