#!/usr/bin/env bash
# Set up lacvid in .venv (once) and colour the bundled example clip with the bundled model.
#   bash examples/run.sh            -> writes out/example.mp4 (and prints its path)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/lacvid ]; then
    python3 -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
    # A CPU build of torch 2.13.0 lies on the development machines' disk; elsewhere pip picks one.
    .venv/bin/python -m pip install -q torch==2.13.0 || .venv/bin/python -m pip install -q torch
    .venv/bin/python -m pip install -q -e .
fi
mkdir -p out
.venv/bin/lacvid colorize examples/clip/lines.mp4 --keys examples/clip/keys -o out/example.mp4 --overwrite
