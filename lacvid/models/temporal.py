"""The temporal constraint network: refines the middle of three coloured frames so that colour
does not flicker between frames.

Learnable gated temporal shift convs (LGTSM, Chang et al. BMVC 2019) over (B, T, C, H, W):
conv w -> gated w -> gated 2w (stride 2) -> gated 4w (stride 2) -> 4 dilated gated convs
(dilations 2, 4, 8, 16: one each, not one rate for all) -> gated 4w -> upsample + gated 2w
(skip from the 2w encoder layer) -> upsample + gated RGB (skip from the w layer). Without the
skips the output is noise, as a public re-implementation found.

The network predicts a residual on the middle frame's colour rather than the frame itself, and
its last conv starts near zero, so an untrained net is ~identity: the colour network already
gives a good frame and this one only has to fix temporal inconsistency; starting from identity
keeps that quality from step 0 (instead of re-learning the whole image through a bottleneck)
and makes an untrained or weak temporal net harmless in the pipeline.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from lacvid.models.blocks import GatedTSMConv, conv, pad_to_multiple, unmerge
from lacvid.models.config import TemporalNetConfig

_SCALE = 4


def _up(x: torch.Tensor) -> torch.Tensor:
    """Nearest 2x upsampling of (B, T, C, h, w)."""
    B, T = x.shape[0], x.shape[1]
    return unmerge(F.interpolate(x.flatten(0, 1), scale_factor=2.0, mode="nearest"), B, T)


class TemporalConstraintNet(nn.Module):
    """frames (B, T=3, C=4, H, W): RGB in [0, 1] + line art per frame -> refined middle RGB (B, 3, H, W)."""

    def __init__(self, config: TemporalNetConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or TemporalNetConfig()
        w = cfg.width
        self.stem = conv(cfg.in_channels, w, 3)
        self.enc1 = GatedTSMConv(w, w)
        self.enc2 = GatedTSMConv(w, 2 * w, stride=2)
        self.enc3 = GatedTSMConv(2 * w, 4 * w, stride=2)
        self.dilated = nn.ModuleList(GatedTSMConv(4 * w, 4 * w, dilation=d) for d in cfg.dilations)
        self.mid = GatedTSMConv(4 * w, 4 * w)
        self.dec2 = GatedTSMConv(4 * w + 2 * w, 2 * w)
        self.out = GatedTSMConv(2 * w + w, 3, activation=False)
        with torch.no_grad():  # feature half of the last conv near zero: output ~ middle frame
            self.out.conv.weight[:3].mul_(cfg.residual_scale)
            self.out.conv.bias[:3].zero_()

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        cfg = self.config
        if frames.ndim != 5 or frames.shape[1] != cfg.frames or frames.shape[2] != cfg.in_channels:
            raise ValueError(f"frames must be shaped (B, {cfg.frames}, {cfg.in_channels}, H, W), "
                             f"got {tuple(frames.shape)}")
        B, T = frames.shape[0], frames.shape[1]
        H, W = frames.shape[-2], frames.shape[-1]
        t = T // 2
        x = pad_to_multiple(frames.flatten(0, 1), _SCALE)  # (B*T, C, Hp, Wp)
        middle = unmerge(x, B, T)[:, t, :3]  # (B, 3, Hp, Wp) colour of the middle frame
        x = unmerge(self.stem(x * 2 - 1), B, T)  # (B, T, w, Hp, Wp)
        e1 = self.enc1(x)  # (B, T, w, Hp, Wp)
        e2 = self.enc2(e1)  # (B, T, 2w, Hp/2, Wp/2)
        x = self.enc3(e2)  # (B, T, 4w, Hp/4, Wp/4)
        for layer in self.dilated:
            x = layer(x)  # (B, T, 4w, Hp/4, Wp/4)
        x = self.mid(x)  # (B, T, 4w, Hp/4, Wp/4)
        x = self.dec2(torch.cat([_up(x), e2], 2))  # (B, T, 2w, Hp/2, Wp/2)
        delta = self.out(torch.cat([_up(x), e1], 2), frame=t)[:, 0]  # (B, 3, Hp, Wp)
        y = middle + delta  # (B, 3, Hp, Wp)
        if self.training:  # clip to [0, 1] but pass the gradient straight through, so a pixel
            y = y + (y.clamp(0.0, 1.0) - y).detach()  # pushed past the range can be pulled back
        else:
            y = y.clamp(0.0, 1.0)  # (B, 3, Hp, Wp): the same values, a simpler exported graph
        return y[:, :, :H, :W]  # (B, 3, H, W)
