"""Training: the two-stage trainer, its data and its losses.

Stage ``color``: triplets (p < t < q of one shot; references p and q, also K = 1 or 3) train
``ColorTransformNet`` against the 2D ``PatchDiscriminator`` with L1, perceptual, style, latent
constraint and adversarial losses. Stage ``temporal``: the colour network is frozen and run on
frames t-1, t, t+1 with the outer keys as references; ``TemporalConstraintNet`` refines the
middle frame against the ``TemporalPatchDiscriminator``. The temporal discriminator sees
real windows and windows whose middle frame is the refined output between the *true*
neighbours: it then judges exactly what the temporal network controls, the middle frame's fit
with its neighbours, instead of spotting the (unrefined) colour-network neighbours.

One batch's path: ``data`` (dataset folder -> Zarr cache of frames preprocessed by
``lacvid.preprocess.frame``, as colorize does) -> ``sampling`` (a pure function of seed and step)
-> ``trainer`` (one adversarial step, ``losses``) -> ``report`` (losses.csv, samples) and
``state`` (checkpoints that resume exactly); ``config`` holds the settings, ``dist`` the
torchrun side.

A run folder holds: ``config.json`` (the resolved settings), ``checkpoints/step-NNNNNNN.pt``
(the last ``keep`` of them), ``last.pt``, ``model.pt`` (inference weights only, written at the
end), ``losses.csv``, ``losses.png``, ``samples/step-NNNNNNN.png``.

Resuming is exact: the checkpoint holds every network, both optimisers and schedulers of each
stage, the RNG states of python, numpy and torch, and the step; batches are a pure function of
``(seed, step)`` (see ``lacvid.train.sampling``), so the data stream needs no saved state.

DDP: under ``torchrun`` (``WORLD_SIZE`` > 1) every rank trains on its own slots of each step's
batch (gloo on CPU, nccl on GPUs); rank 0 alone builds the cache and writes files.
"""

from lacvid.train.config import RESUME_CHANGEABLE, STAGES, TrainConfig
from lacvid.train.trainer import Trainer, train

__all__ = ["RESUME_CHANGEABLE", "STAGES", "TrainConfig", "Trainer", "train"]
