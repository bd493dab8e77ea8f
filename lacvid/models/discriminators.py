"""Patch discriminators with spectral norm on every layer (what keeps the GAN stable).

``PatchDiscriminator`` judges one frame's (line art, colour) pair, 70x70-pixel patches at the
default 3 layers: does the colour fit these lines? ``TemporalPatchDiscriminator`` judges a
three-frame window with 3D (3, 5, 5) kernels: does the colour stay consistent through time?
Both return logits (no sigmoid): the loss chooses its form.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from torch.nn.utils.parametrizations import spectral_norm

from lacvid.models.blocks import act, conv
from lacvid.models.config import DiscriminatorConfig


class PatchDiscriminator(nn.Module):
    """PatchGAN on (line art, colour): ``d(lines (B,1,H,W), colors (B,3,H,W))`` or ``d(x (B,4,H,W))``
    -> logits (B, 1, ~H/2^layers, ~W/2^layers)."""

    def __init__(self, config: DiscriminatorConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or DiscriminatorConfig()
        w = cfg.width
        layers: list[nn.Module] = [conv(cfg.in_channels, w, 4, stride=2, sn=True), act()]
        ch = w
        for i in range(1, cfg.layers):
            nxt = min(w * 2 ** i, 8 * w)
            layers += [conv(ch, nxt, 4, stride=2, sn=True), act()]
            ch = nxt
        nxt = min(ch * 2, 8 * w)
        layers += [conv(ch, nxt, 4, stride=1, sn=True), act(), conv(nxt, 1, 4, stride=1, sn=True)]
        self.net = nn.Sequential(*layers)

    def forward(self, lines: torch.Tensor, colors: torch.Tensor | None = None) -> torch.Tensor:
        x = lines if colors is None else torch.cat([lines, colors], 1)  # (B, 4, H, W)
        if x.ndim != 4 or x.shape[1] != self.config.in_channels:
            raise ValueError(f"PatchDiscriminator wants (B, {self.config.in_channels}, H, W), got {tuple(x.shape)}")
        return self.net(x * 2 - 1)  # (B, 1, h, w)


class TemporalPatchDiscriminator(nn.Module):
    """3D patch discriminator over frames (B, T, C, H, W) -> logits (B, 1, T, h, w)."""

    def __init__(self, config: DiscriminatorConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or DiscriminatorConfig()
        w = cfg.width

        def c3(cin: int, cout: int, stride: int) -> nn.Module:
            return spectral_norm(nn.Conv3d(cin, cout, (3, 5, 5), stride=(1, stride, stride), padding=(1, 2, 2)))

        layers: list[nn.Module] = [c3(cfg.in_channels, w, 2), act()]
        ch = w
        for i in range(1, cfg.layers):
            nxt = min(w * 2 ** i, 8 * w)
            layers += [c3(ch, nxt, 2), act()]
            ch = nxt
        layers += [c3(ch, 1, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        cfg = self.config
        if frames.ndim != 5 or frames.shape[2] != cfg.in_channels:
            raise ValueError(f"TemporalPatchDiscriminator wants (B, T, {cfg.in_channels}, H, W), "
                             f"got {tuple(frames.shape)}")
        x = frames.transpose(1, 2) * 2 - 1  # (B, C, T, H, W)
        return self.net(x)  # (B, 1, T, h, w)
