#!/usr/bin/env bash
# Set up lacvid in .venv (once) and colour the bundled example clip with the bundled model.
#   bash examples/run.sh            -> writes out/example.mp4 (and prints its path)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/lacvid ]; then
    python3 -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
    # torch first, so lacvid's own install finds it: the CUDA build only where there is a GPU
    # (plain 'pip install torch' pulls several GB of CUDA libraries on Linux), else the CPU build
    # (it lies on the development machines' disk as torch 2.13.0; elsewhere from PyTorch's index).
    if command -v nvidia-smi >/dev/null 2>&1; then
        .venv/bin/python -m pip install -q torch
    else
        .venv/bin/python -m pip install -q torch==2.13.0 2>/dev/null ||
            .venv/bin/python -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu
    fi
    .venv/bin/python -m pip install -q -e .
fi
mkdir -p out
.venv/bin/lacvid colorize examples/clip/lines.mp4 --keys examples/clip/keys -o out/example.mp4 --overwrite
