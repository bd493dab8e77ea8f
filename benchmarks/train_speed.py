"""Training throughput (samples/s) of ``lacvid train``, both stages, on a synthetic dataset.

    python benchmarks/train_speed.py                          # CPU width (16), 256 px, batch 4
    python benchmarks/train_speed.py --size 128 --threads 1 --precision bf16   # the default model's recipe
    python benchmarks/train_speed.py --width 64 --device cuda  # paper width, bf16 autocast on GPU

It runs the real trainer (``lacvid.train.Trainer``) for ``--steps`` steps of each stage and
reads the per-step times it logs in losses.csv (the optimiser step only: data loading runs in
DataLoader workers alongside). The first ``--warmup`` steps of each stage are left out.
Perceptual/style losses are off (no VGG19 weights offline); with them the colour stage costs
about one VGG19 forward+backward more per sample.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
from lacvid.synth import SynthConfig, write_dataset  # noqa: E402
from lacvid.train import TrainConfig, Trainer  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--steps", type=int, default=8, help="steps of each stage")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--precision", default="auto", help="auto (bf16 on CUDA), fp32 or bf16")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        data = write_dataset(Path(tmp) / "ds", SynthConfig(shots=8, frames=12, height=args.size, width=args.size))
        cfg = TrainConfig(dataset=str(data), run=str(Path(tmp) / "run"), steps=args.steps, temporal_steps=args.steps,
                          size=args.size, batch=args.batch, width=args.width, perceptual="none", device=args.device,
                          precision=args.precision,
                          workers=args.workers, checkpoint_every=10**9, sample_every=10**9)
        trainer = Trainer(cfg)
        t0 = time.perf_counter()
        trainer.fit()
        wall = time.perf_counter() - t0
        with open(Path(tmp) / "run" / "losses.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        device = str(trainer.device)
        if trainer.device.type == "cuda":
            device += f" ({torch.cuda.get_device_name(trainer.device)}, bf16 autocast)"
        trainer.close()
    print(f"device {device}, torch threads {torch.get_num_threads()}, width {args.width}, {args.size} px, "
          f"batch {args.batch}, precision {args.precision}")
    for stage in ("color", "temporal"):
        secs = [float(r["seconds"]) for r in rows if r["stage"] == stage][args.warmup:]
        med = statistics.median(secs)
        print(f"{stage:8s}: {med * 1000:7.1f} ms/step (median of {len(secs)}), {args.batch / med:6.2f} samples/s")
    print(f"wall {wall:.1f} s for {2 * args.steps} steps, data loading and checkpoints included")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
