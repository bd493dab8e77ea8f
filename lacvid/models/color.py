"""The colour transform network of Shi et al. (2020), read top to bottom.

target line art + distance field, K painted references  ->  the target painted like them.

1. Encoders (3 convs, w -> 2w -> 4w, down to H/4): line art, colour and distance field.
2. Similarity-based colour transform layer = attention. Query: the target's distance features;
   keys: every reference's distance features; values: the reference colour features (masked).
   ONE softmax per target position over all K x (H/4 x W/4) reference positions, so a region
   can take its colour from whichever reference shows it. The public TensorFlow port builds
   the matrix transposed and takes the softmax over the target axis; it also writes
   (n - 1) * f_mat. Here: softmax over references, (1 - n) * f_mat, tested.
3. Embedder: a style vector (AdaIN means and stds) from the references' line art + colour.
4. 8 AdaIN residual blocks on target line features + f_sim, then the decoder to RGB.

Inference encodes each key frame once per shot: ``encode_references`` returns everything that
depends on the references alone (colour features, attention keys, the references' half of the mask
conv, the style vector); ``forward_with_references`` does the per-frame rest.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from lacvid.models.blocks import AdaINResBlock, act, conv, pad_to_multiple, unmerge
from lacvid.models.config import EXPORT_QUERY_CHUNKS, ColorNetConfig

_SCALE = 4  # the encoders downsample twice


class References(NamedTuple):
    """Everything the colour net needs from the K references; computed once per shot.

    h, w = ceil(H / 4), ceil(W / 4); F = 4 * width; dk = attention channels.
    """

    color_feats: torch.Tensor  # (B, K, F, h, w) reference colour features c_k
    attn_keys: torch.Tensor  # (B, 1, K*h*w, dk) contiguous attention keys over all references
    mask_ref: torch.Tensor  # (B, K, 2F, h, w) the references' half of the m/n conv
    style: torch.Tensor  # (B, 2F) AdaIN means then stds


class Encoder(nn.Module):
    """3 convs: width at full size, 2w at H/2, 4w at H/4."""

    def __init__(self, cin: int, w: int, sn: bool) -> None:
        super().__init__()
        self.net = nn.Sequential(conv(cin, w, 3, sn=sn), act(),
                                 conv(w, 2 * w, 3, stride=2, sn=sn), act(),
                                 conv(2 * w, 4 * w, 3, stride=2, sn=sn), act())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # (N, 4w, H/4, W/4)


class Embedder(nn.Module):
    """5 convs (w, 2w, 4w, 8w, 8w; strides 1, 2, 2, 2, 2) over [line art, colour] of each reference,
    global average pool, mean over references, 2 FC layers -> AdaIN means and stds (4w each).

    The stds are predicted as 1 + output so an untrained embedder leaves the trunk's
    normalised features at unit scale instead of collapsing them to ~0.
    """

    def __init__(self, w: int, sn: bool) -> None:
        super().__init__()
        chans = [4, w, 2 * w, 4 * w, 8 * w, 8 * w]
        layers: list[nn.Module] = []
        for i in range(5):
            layers += [conv(chans[i], chans[i + 1], 3, stride=1 if i == 0 else 2, sn=sn), act()]
        self.convs = nn.Sequential(*layers)
        self.fc = nn.Sequential(nn.Linear(8 * w, 8 * w), act(), nn.Linear(8 * w, 8 * w))
        self.feat = 4 * w

    def forward(self, ref_lines: torch.Tensor, ref_colors: torch.Tensor) -> torch.Tensor:
        B, K = ref_lines.shape[0], ref_lines.shape[1]
        x = torch.cat([ref_lines, ref_colors], 2).flatten(0, 1)  # (B*K, 4, H, W)
        x = self.convs(x).mean(dim=(2, 3))  # (B*K, 8w)
        x = unmerge(x, B, K).mean(1)  # (B, 8w): mean over references
        s = self.fc(x)  # (B, 8w)
        return torch.cat([s[:, :self.feat], 1.0 + s[:, self.feat:]], 1)  # (B, 2F): means, stds


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(d)) v for q (B, 1, N, d), k and v (B, 1, M, d) -> (B, 1, N, d).

    Eager torch runs the fused CPU kernel, which never holds the (N x M) matrix. ONNX has no such
    operator, so the exported graph computes the matrix explicitly, and whole it grows with the
    fourth power of the working size (640 MB at 256 x 456, K = 3). Exported, the query positions
    are split into ``EXPORT_QUERY_CHUNKS`` slices run one after another: each row's softmax needs
    only its own row, so the result is the same, and ONNX Runtime reuses one slice's memory for
    the next (``runtime.attention_bytes``). The slices' bounds stay symbolic in the graph.
    """
    if not torch.onnx.is_in_onnx_export():
        return F.scaled_dot_product_attention(q, k, v)  # (B, 1, N, d)
    n = q.shape[2]
    step = (n + EXPORT_QUERY_CHUNKS - 1) // EXPORT_QUERY_CHUNKS  # the last slices may be empty
    chunks = [F.scaled_dot_product_attention(q[:, :, i * step:(i + 1) * step], k, v)  # (B, 1, step, d)
              for i in range(EXPORT_QUERY_CHUNKS)]
    return torch.cat(chunks, 2)  # (B, 1, N, d)


class ColorTransformLayer(nn.Module):
    """The similarity-based colour transform layer as scaled-dot-product attention.

    m_k, n_k = sigmoid(conv3x3([f_dist_target, f_dist_k])) is computed as
    conv_t(f_dist_target) + conv_r(f_dist_k): the same linear map as one conv on the
    concatenation (no spectral norm here), but the reference half is computed once per shot.
    """

    def __init__(self, feat: int, attn: int) -> None:
        super().__init__()
        self.feat = feat
        self.query = nn.Conv2d(feat, attn, 1)  # shared by query and key: both read distance features
        self.value = nn.Conv2d(feat, attn, 1)  # same size as q, k: the fused CPU kernel needs it
        self.lift = nn.Conv2d(attn, feat, 1)  # f_mat back to F channels
        self.mask_t = nn.Conv2d(feat, 2 * feat, 3, padding=1)
        self.mask_r = nn.Conv2d(feat, 2 * feat, 3, padding=1, bias=False)

    def encode(self, dist_feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and the mask conv's reference half from reference distance features (B, K, F, h, w)."""
        B, K = dist_feats.shape[0], dist_feats.shape[1]
        flat = dist_feats.flatten(0, 1)  # (B*K, F, h, w)
        k = self.query(flat)  # (B*K, dk, h, w)
        k = unmerge(k, B, K).permute(0, 1, 3, 4, 2).reshape(B, -1, k.shape[1])  # (B, K*h*w, dk)
        mask_ref = unmerge(self.mask_r(flat), B, K)  # (B, K, 2F, h, w)
        return k.unsqueeze(1).contiguous(), mask_ref  # (B, 1, K*h*w, dk)

    def masks(self, target_dist: torch.Tensor, mask_ref: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mn = torch.sigmoid(self.mask_t(target_dist).unsqueeze(1) + mask_ref)  # (B, K, 2F, h, w)
        return mn[:, :, :self.feat], mn[:, :, self.feat:]  # m, n: (B, K, F, h, w) each

    def forward(self, target_dist: torch.Tensor, refs: References) -> torch.Tensor:
        """f_sim (B, F, h, w) for target distance features (B, F, h, w)."""
        B, _, h, w = target_dist.shape
        c = refs.color_feats  # (B, K, F, h, w)
        K = c.shape[1]
        m, n = self.masks(target_dist, refs.mask_ref)  # (B, K, F, h, w) each
        mc = m * c  # (B, K, F, h, w)
        v = unmerge(self.value(mc.flatten(0, 1)), B, K)  # (B, K, dk, h, w)
        v = v.permute(0, 1, 3, 4, 2).reshape(B, 1, -1, v.shape[2]).contiguous()  # (B, 1, K*h*w, dk)
        q = self.query(target_dist).flatten(2).transpose(1, 2).unsqueeze(1).contiguous()  # (B, 1, h*w, dk)
        # Contiguous q, k, v keep the CPU on the fused kernel: a transposed query silently
        # falls back to the explicit (h*w x K*h*w) matrix (7.1 GB at 512^2, K = 3).
        o = attention(q, refs.attn_keys, v)  # (B, 1, h*w, dk)
        o = o.squeeze(1).transpose(1, 2).reshape(B, -1, h, w)  # (B, dk, h, w)
        f_mat = self.lift(o)  # (B, F, h, w): the matched colour for each TARGET position
        # mean_k [ n_k * (m_k * c_k) + (1 - n_k) * f_mat ]
        return (n * mc).mean(1) + (1.0 - n.mean(1)) * f_mat  # (B, F, h, w)


class Decoder(nn.Module):
    """4w at H/4 -> RGB at H: nearest upsampling + conv (no transposed-conv checkerboards)."""

    def __init__(self, w: int, sn: bool) -> None:
        super().__init__()
        self.conv1 = conv(4 * w, 2 * w, 3, sn=sn)
        self.conv2 = conv(2 * w, w, 3, sn=sn)
        self.out = conv(w, 3, 3, sn=sn)
        self.act = act()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.conv1(F.interpolate(x, scale_factor=2.0, mode="nearest")))  # (B, 2w, H/2, W/2)
        x = self.act(self.conv2(F.interpolate(x, scale_factor=2.0, mode="nearest")))  # (B, w, H, W)
        return torch.sigmoid(self.out(x))  # (B, 3, H, W)


def _check(name: str, x: torch.Tensor, ndim: int, channels: int) -> None:
    if x.ndim != ndim or x.shape[-3] != channels:
        want = "(B, 1, H, W)" if ndim == 4 else f"(B, K, {channels}, H, W)"
        raise ValueError(f"{name} must be shaped {want}, got {tuple(x.shape)}")


class ColorTransformNet(nn.Module):
    """Colours a target line-art frame from K >= 1 painted references (any H, W)."""

    def __init__(self, config: ColorNetConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or ColorNetConfig()
        w, sn = cfg.width, cfg.spectral_norm
        self.line_enc = Encoder(1, w, sn)
        self.color_enc = Encoder(3, w, sn)
        self.dist_enc = Encoder(1, w, sn)  # shared by target and references: query and key must compare alike
        self.transform = ColorTransformLayer(cfg.feat, cfg.attn)
        self.embedder = Embedder(w, sn)
        self.blocks = nn.ModuleList(AdaINResBlock(cfg.feat, sn) for _ in range(cfg.res_blocks))
        self.decoder = Decoder(w, sn)
        self.to_rgb_sim = nn.Conv2d(cfg.feat, 3, 3, padding=1)  # side output y_sim from f_sim
        self.to_rgb_mid = nn.Conv2d(cfg.feat, 3, 3, padding=1)  # side output y_mid from the trunk

    def encode_references(self, ref_lines: torch.Tensor, ref_colors: torch.Tensor,
                          ref_dists: torch.Tensor) -> References:
        """Everything that depends on the references alone; reuse it for every frame of a shot."""
        _check("ref_lines", ref_lines, 5, 1)
        _check("ref_colors", ref_colors, 5, 3)
        _check("ref_dists", ref_dists, 5, 1)
        if not (ref_lines.shape[:2] == ref_colors.shape[:2] == ref_dists.shape[:2]
                and ref_lines.shape[-2:] == ref_colors.shape[-2:] == ref_dists.shape[-2:]):
            raise ValueError(f"reference tensors disagree in B, K, H or W: {tuple(ref_lines.shape)}, "
                             f"{tuple(ref_colors.shape)}, {tuple(ref_dists.shape)}")
        B, K = ref_lines.shape[0], ref_lines.shape[1]
        lines = pad_to_multiple(ref_lines.flatten(0, 1) * 2 - 1, _SCALE)  # (B*K, 1, Hp, Wp)
        colors = pad_to_multiple(ref_colors.flatten(0, 1) * 2 - 1, _SCALE)  # (B*K, 3, Hp, Wp)
        dists = pad_to_multiple(ref_dists.flatten(0, 1) * 2 - 1, _SCALE)  # (B*K, 1, Hp, Wp)
        color_feats = unmerge(self.color_enc(colors), B, K)  # (B, K, F, h, w)
        dist_feats = unmerge(self.dist_enc(dists), B, K)  # (B, K, F, h, w)
        attn_keys, mask_ref = self.transform.encode(dist_feats)  # (B, 1, K*h*w, dk), (B, K, 2F, h, w)
        style = self.embedder(unmerge(lines, B, K), unmerge(colors, B, K))  # (B, 2F)
        return References(color_feats, attn_keys, mask_ref, style)

    def forward_with_references(self, target_lines: torch.Tensor, target_dist: torch.Tensor,
                                refs: References) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(y (B, 3, H, W), y_mid, y_sim (B, 3, ceil(H/4), ceil(W/4))), all RGB in [0, 1]."""
        _check("target_lines", target_lines, 4, 1)
        _check("target_dist", target_dist, 4, 1)
        H, W = target_lines.shape[-2], target_lines.shape[-1]
        if target_dist.shape != target_lines.shape:
            raise ValueError(f"target_dist {tuple(target_dist.shape)} != target_lines {tuple(target_lines.shape)}")
        lines = pad_to_multiple(target_lines * 2 - 1, _SCALE)  # (B, 1, Hp, Wp)
        dist = pad_to_multiple(target_dist * 2 - 1, _SCALE)  # (B, 1, Hp, Wp)
        f_line = self.line_enc(lines)  # (B, F, h, w)
        f_dist = self.dist_enc(dist)  # (B, F, h, w)
        if f_dist.shape[-2:] != refs.color_feats.shape[-2:] or f_dist.shape[0] != refs.color_feats.shape[0]:
            raise ValueError(f"target {tuple(target_lines.shape)} does not match the references' batch or size "
                             f"(features {tuple(refs.color_feats.shape)})")
        f_sim = self.transform(f_dist, refs)  # (B, F, h, w)
        x = f_line + f_sim  # (B, F, h, w)
        mean, std = refs.style[:, :self.config.feat], refs.style[:, self.config.feat:]  # (B, F) each
        for block in self.blocks:
            x = block(x, mean, std)  # (B, F, h, w)
        y = self.decoder(x)[:, :, :H, :W]  # (B, 3, H, W)
        y_mid = torch.sigmoid(self.to_rgb_mid(x))  # (B, 3, h, w)
        y_sim = torch.sigmoid(self.to_rgb_sim(f_sim))  # (B, 3, h, w)
        return y, y_mid, y_sim

    def forward(self, target_lines: torch.Tensor, target_dist: torch.Tensor, ref_lines: torch.Tensor,
                ref_colors: torch.Tensor, ref_dists: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """target (B, 1, H, W) x2, references (B, K, C, H, W) -> (y, y_mid, y_sim); see the module doc."""
        refs = self.encode_references(ref_lines, ref_colors, ref_dists)
        return self.forward_with_references(target_lines, target_dist, refs)
