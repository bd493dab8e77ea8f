"""The paper's training losses: L1, VGG19 perceptual and style, latent constraint, adversarial.

Networks never see these (BasicSR style): the trainer owns the losses and the optimisers.

Adversarial form: **hinge** (default) or LSGAN. Hinge is the loss spectral-norm
discriminators were designed and tuned with (SN-GAN, SAGAN, BigGAN): it stops pushing a
discriminator on samples it already separates by the margin, so D does not run away from G
on easy batches, and the generator's gradient ``-D(fake)`` never saturates. LSGAN
(``gan="lsgan"``) is there for comparison.

VGG19: torchvision's ``features`` layout rebuilt in plain torch (torchvision has no CPU build
here) and loaded from torchvision's file ``vgg19-dcbb9e9d.pth``. ``load_vgg19`` never falls
back to random weights: random VGG features make the perceptual and style losses noise
(dominated by the style weight 1000), so a missing file is an error that says how to get it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from lacvid.errors import InputError

VGG19_FILE = "vgg19-dcbb9e9d.pth"
VGG19_URL = f"https://download.pytorch.org/models/{VGG19_FILE}"
# torchvision's VGG19 ``features`` ("E" config): numbers are 3x3 convs (each followed by a ReLU), M is max-pool.
_VGG19_CFG: tuple[int | str, ...] = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
                                    512, 512, 512, 512, "M", 512, 512, 512, 512, "M")
VGG_LAYERS = (1, 6, 11, 20, 29)  # indices of relu1_1, relu2_1, relu3_1, relu4_1, relu5_1 in ``features``
_MEAN = (0.485, 0.456, 0.406)  # ImageNet statistics the weights were trained with
_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class LossWeights:
    """Weights of the generator's loss terms (the paper's re-implementations' values by default)."""

    adv: float = 1.0
    l1: float = 10.0
    perceptual: float = 1.0
    style: float = 1000.0
    latent: float = 1.0

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


class VGG19Features(nn.Module):
    """torchvision's ``vgg19().features`` up to relu5_1, returning relu1_1..relu5_1.

    Construct with random weights only in tests; real training goes through ``load_vgg19``.
    Parameters are frozen: the network is a fixed feature extractor.
    """

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for v in _VGG19_CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, int(v), 3, padding=1), nn.ReLU(inplace=False)]
                cin = int(v)
        self.features = nn.Sequential(*layers[:VGG_LAYERS[-1] + 1])  # nothing after relu5_1 is used
        self.register_buffer("mean", torch.tensor(_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> VGG19Features:  # always eval: no dropout/BN, but be explicit
        return super().train(False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """x (B, 3, H, W) RGB in [0, 1] -> [relu1_1 (B, 64, H, W), ..., relu5_1 (B, 512, H/16, W/16)]."""
        x = (x - self.mean) / self.std  # (B, 3, H, W)
        out = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in VGG_LAYERS:
                out.append(x)
        return out


def default_vgg19_path() -> Path:
    """Where torch hub (and torchvision) keep the file: ``torch.hub.get_dir()/checkpoints/``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / VGG19_FILE


def find_vgg19_weights(path: Path | str | None = None) -> Path:
    """The VGG19 weights file to use: ``path`` if given, else the torch hub cache; never a download."""
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise InputError(f"VGG19 weights {path} do not exist; download {VGG19_URL} to that path, "
                             "or train without the perceptual and style losses with --perceptual none")
        return path
    hub = default_vgg19_path()
    if hub.is_file():
        return hub
    raise InputError(f"VGG19 weights for the perceptual and style losses are not available offline: download "
                     f"{VGG19_URL} to {hub} (or anywhere, and pass --vgg-weights PATH), or train without "
                     "these losses with --perceptual none")


def load_vgg19(path: Path | str | None = None) -> VGG19Features:
    """VGG19 features with torchvision's ImageNet weights from ``find_vgg19_weights(path)``."""
    path = find_vgg19_weights(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same user error
        raise InputError(f"VGG19 weights {path} cannot be read ({type(exc).__name__}); download {VGG19_URL} "
                         "again") from exc
    net = VGG19Features()
    if not isinstance(state, dict):
        raise InputError(f"VGG19 weights {path} are not a state dict; download {VGG19_URL} again")
    wanted = net.features.state_dict()
    picked = {k[len("features."):]: v for k, v in state.items()
              if isinstance(k, str) and k.startswith("features.") and k[len("features."):] in wanted}
    bad = [k for k, v in wanted.items() if k not in picked or picked[k].shape != v.shape]
    if bad:
        raise InputError(f"VGG19 weights {path} do not fit torchvision's vgg19 layout (e.g. {bad[0]}); "
                         f"use {VGG19_FILE} from {VGG19_URL}")
    net.features.load_state_dict(picked)
    return net


def gram_matrix(feat: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, C) Gram matrices normalised by C*H*W (float32 even under autocast)."""
    b, c, h, w = feat.shape
    f = feat.float().reshape(b, c, h * w)  # (B, C, HW)
    return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)  # (B, C, C)


def perceptual_and_style(vgg: VGG19Features, y: torch.Tensor, target: torch.Tensor
                         ) -> tuple[torch.Tensor, torch.Tensor]:
    """Sum over relu1_1..relu5_1 of mean L1 between features, and between their Gram matrices."""
    fy = vgg(y)
    with torch.no_grad():
        ft = vgg(target)
    perceptual = sum(F.l1_loss(a.float(), b.float()) for a, b in zip(fy, ft))
    style = sum(F.l1_loss(gram_matrix(a), gram_matrix(b)) for a, b in zip(fy, ft))
    return perceptual, style  # type: ignore[return-value]


def latent_constraint(y_mid: torch.Tensor, y_sim: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 of the side outputs against the target area-downsampled to their size (paper eq. 9).

    ``adaptive_avg_pool2d`` is area averaging: exact box means when H/h is whole, and it also
    covers the ceil(H/4) sizes the network uses for sizes not divisible by 4.
    """
    small = F.adaptive_avg_pool2d(target, y_sim.shape[-2:])  # (B, 3, h, w)
    return F.l1_loss(y_sim.float(), small.float()) + F.l1_loss(y_mid.float(), small.float())


def d_loss(real: torch.Tensor, fake: torch.Tensor, gan: str = "hinge") -> torch.Tensor:
    """Discriminator loss from logits on real and (detached) fake samples."""
    real, fake = real.float(), fake.float()
    if gan == "hinge":
        return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()
    if gan == "lsgan":
        return 0.5 * ((real - 1.0) ** 2).mean() + 0.5 * (fake ** 2).mean()
    raise ValueError(f"unknown gan loss {gan!r}; use 'hinge' or 'lsgan'")


def g_adv_loss(fake: torch.Tensor, gan: str = "hinge") -> torch.Tensor:
    """Generator adversarial loss from the discriminator's logits on its output."""
    fake = fake.float()
    if gan == "hinge":
        return -fake.mean()
    if gan == "lsgan":
        return 0.5 * ((fake - 1.0) ** 2).mean()
    raise ValueError(f"unknown gan loss {gan!r}; use 'hinge' or 'lsgan'")


class GeneratorCriterion(nn.Module):
    """Weighted sum of the generator's terms; ``vgg=None`` drops perceptual and style (``--perceptual none``)."""

    def __init__(self, weights: LossWeights = LossWeights(), vgg: VGG19Features | None = None,
                 gan: str = "hinge") -> None:
        super().__init__()
        if gan not in ("hinge", "lsgan"):
            raise ValueError(f"unknown gan loss {gan!r}; use 'hinge' or 'lsgan'")
        self.weights, self.vgg, self.gan = weights, vgg, gan

    def forward(self, y: torch.Tensor, target: torch.Tensor, fake_logits: torch.Tensor | None,
                y_mid: torch.Tensor | None = None, y_sim: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """y, target (B, 3, H, W) -> (total, {term: unweighted value}) for logging."""
        w = self.weights
        terms: dict[str, torch.Tensor] = {"l1": F.l1_loss(y.float(), target.float())}
        if self.vgg is not None and (w.perceptual or w.style):
            terms["perceptual"], terms["style"] = perceptual_and_style(self.vgg, y, target)
        if y_mid is not None and y_sim is not None:
            terms["latent"] = latent_constraint(y_mid, y_sim, target)
        if fake_logits is not None:
            terms["adv"] = g_adv_loss(fake_logits, self.gan)
        total = sum(getattr(w, k) * v for k, v in terms.items())
        return total, terms  # type: ignore[return-value]


def describe(weights: LossWeights, perceptual: bool, gan: str) -> dict[str, Any]:
    """The loss settings as plain values, for RUN/config.json."""
    return {"weights": weights.to_dict(), "perceptual": "vgg19" if perceptual else "none", "gan": gan}
