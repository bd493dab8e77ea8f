#!/usr/bin/env bash
# The recipe of lacvid's bundled default model (lacvid/weights/default.pt): the CPU width (8),
# trained on a synthetic cel-animation dataset drawn by `lacvid synth`.
#
#   scripts/train_default_model.sh                      # full recipe (resumes if RUN exists)
#   STEPS=2 TEMPORAL_STEPS=1 SHOTS=4 RUN=/tmp/r DATA=/tmp/d MODEL_OUT=/tmp/m.pt ASSETS=/tmp/a \
#       scripts/train_default_model.sh                  # a smoke run of the same recipe
#
# Re-running continues the run in $RUN exactly where it stopped (--resume); raise STEPS to
# train longer. Ctrl-C checkpoints first. Every setting below is an environment variable.
#
# Perceptual and style losses need torchvision's VGG19 file (vgg19-dcbb9e9d.pth) in the torch
# hub cache (or VGG_WEIGHTS=PATH). This machine is offline and has no copy, so the recipe as
# run here trains with --perceptual none (L1 x10, latent constraint x1, adversarial x1).
#
# Crops: frames are cached at a 256 px short side (the working size `lacvid colorize` uses)
# and the networks train on 128 px crops of them: line widths and distance fields keep the
# inference scale while a step costs a quarter. CPU speed (benchmarks/train_speed.py): with
# 1 torch thread on a busy 2-core machine ~2.2 samples/s (colour stage, fp32, batch 4).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python}
DATA=${DATA:-runs/default-synth}
RUN=${RUN:-runs/default}
MODEL_OUT=${MODEL_OUT:-lacvid/weights/default.pt}
ASSETS=${ASSETS:-docs/default-model}   # loss plot and sample grids to commit with the model
SHOTS=${SHOTS:-300}
FRAMES=${FRAMES:-16}
SYNTH_SIZE=${SYNTH_SIZE:-256}
SCALE=${SCALE:-256}
SIZE=${SIZE:-128}
BATCH=${BATCH:-4}
WIDTH=${WIDTH:-8}
STEPS=${STEPS:-6000}
TEMPORAL_STEPS=${TEMPORAL_STEPS:-1200}
LR=${LR:-2e-4}
THREADS=${THREADS:-1}
PRECISION=${PRECISION:-auto}   # bf16 autocast on CPU only pays on AVX512-BF16 cores; measured 8x slower here without
WORKERS=${WORKERS:-1}
EVERY=${EVERY:-200}
SEED=${SEED:-0}
STYLE=${STYLE:-clean}   # lacvid synth --style: clean, pencil or mixed

if [ -n "${VGG_WEIGHTS:-}" ]; then
    PERCEPTUAL=(--perceptual vgg --vgg-weights "$VGG_WEIGHTS")
elif "$PYTHON" -c 'import sys, lacvid.train.losses as l; sys.exit(0 if l.default_vgg19_path().is_file() else 1)' 2>/dev/null; then
    PERCEPTUAL=(--perceptual vgg)
else
    echo "train_default_model: no VGG19 weights here; training with --perceptual none" >&2
    PERCEPTUAL=(--perceptual none)
fi

mkdir -p "$(dirname "$DATA")" "$(dirname "$RUN")"
if [ ! -d "$DATA" ]; then
    "$PYTHON" -m lacvid synth "$DATA" --shots "$SHOTS" --frames "$FRAMES" --size "$SYNTH_SIZE" --seed "$SEED" \
        --style "$STYLE"
fi

ARGS=(--steps "$STEPS" --temporal-steps "$TEMPORAL_STEPS" --workers "$WORKERS" --threads "$THREADS"
      --precision "$PRECISION" --checkpoint-every "$EVERY" --sample-every "$EVERY")
if [ -f "$RUN/last.pt" ]; then
    "$PYTHON" -m lacvid train "$DATA" -o "$RUN" --resume "${ARGS[@]}"
else
    "$PYTHON" -m lacvid train "$DATA" -o "$RUN" "${ARGS[@]}" --stage both --size "$SIZE" --scale "$SCALE" \
        --batch "$BATCH" --width "$WIDTH" --lr "$LR" --seed "$SEED" "${PERCEPTUAL[@]}"
fi

mkdir -p "$(dirname "$MODEL_OUT")" "$ASSETS"
cp "$RUN/model.pt" "$MODEL_OUT"
cp "$RUN/losses.png" "$RUN/config.json" "$ASSETS/"
cp "$(ls "$RUN"/samples/step-*.png | sort | tail -n 1)" "$ASSETS/samples.png"
if [ "$MODEL_OUT" = lacvid/weights/default.pt ]; then
    # The bundled model's graphs ship beside it (its first run exports nothing); stale ones would not load.
    "$PYTHON" scripts/ship_default_onnx.py >&2
fi
echo "$MODEL_OUT"
