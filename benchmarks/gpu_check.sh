#!/usr/bin/env bash
# The Speed issue's one prepared GPU check: the CUDA tests, colorize's speed at 1080p with the
# paper-width networks (random weights: speed does not depend on them) and with the bundled
# default model, the GPU's peak memory, and the networks' share of the measured bf16 matmul rate.
# Under 8 minutes on one GPU; nothing is downloaded.
#
#   bash benchmarks/gpu_check.sh                  # on a machine with a CUDA GPU
#   bash benchmarks/gpu_check.sh --device cpu     # the same steps, small, on a CPU: the script works
#   bash benchmarks/gpu_check.sh --fetch-wheels   # here, with pip: PyAV, Zarr and their needs into .whl/
#
# A GPU machine without PyAV or Zarr gets them from .whl/ (Python 3.12, x86-64 manylinux wheels,
# installed into /tmp/site); everything else lacvid needs must already be there (torch, numba,
# opencv, onnxruntime, scipy, typer, rich, pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
device=cuda
case "${1:-}" in
  --device) device="${2:?--device needs cpu or cuda}" ;;
  --fetch-wheels)
    mkdir -p .whl
    for wheel in av==18.1.0 zarr==3.1.6 numcodecs==0.16.6 donfig==0.8.1.post1 google-crc32c==1.9.0 \
                 platformdirs==4.14.9; do
      "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        -d .whl "$wheel"
    done
    ls .whl
    exit 0 ;;
  "") ;;
  *) echo "usage: bash benchmarks/gpu_check.sh [--device cpu|cuda | --fetch-wheels]" >&2; exit 2 ;;
esac
if compgen -G ".whl/*.whl" >/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH="/tmp/site:$PWD"
else
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONUNBUFFERED=1
started=$SECONDS

if [[ "$device" == cuda* ]]; then
  frames=24; height=1080; widths="64 8"; batch=16
else  # a CPU: only that every step runs (the paper-width nets take seconds a frame here)
  frames=6; height=270; widths="8"; batch=1
fi

echo "== the machine"
"$PY" - "$device" <<'EOF'
import sys, torch
device = sys.argv[1]
print(f"torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}")
if device.startswith("cuda"):
    if not torch.cuda.is_available():
        sys.exit("gpu_check: --device cuda but torch sees no CUDA device; run with --device cpu to check the script")
    p = torch.cuda.get_device_properties(device)
    print(f"GPU: {p.name}, {p.total_memory / 2**30:.0f} GiB, {p.multi_processor_count} SMs")
EOF

echo "== CUDA tests (batches on the device, out-of-memory fallback, backends)"
"$PY" -m pytest -q -p no:cacheprovider tests/pipeline/test_networks_batch.py tests/models/test_runtime.py

for model in paper default; do
  echo "== colorize speed at ${height}p, $model model, $device"
  "$PY" benchmarks/speed.py --device "$device" --model "$model" --frames "$frames" --height "$height" --no-memory
done

echo "== the networks alone: FLOPs per frame and share of the measured dense-matmul rate"
"$PY" benchmarks/network_speed.py --device "$device" --batch "$batch" --widths $widths --sizes 256 \
  --budget 1 --no-onnx

echo "gpu_check: done in $((SECONDS - started)) s on $device"
