"""The colour transform network: shapes, gradients, and the matching done the paper's way."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import pytest
import torch
import torch.nn.functional as F

from lacvid.models import ColorNetConfig, ColorTransformNet, References
from lacvid.models.color import ColorTransformLayer

TINY = ColorNetConfig(width=8, res_blocks=2)


def inputs(b: int, k: int, h: int, w: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(b, 1, h, w, generator=g), torch.rand(b, 1, h, w, generator=g),
            torch.rand(b, k, 1, h, w, generator=g), torch.rand(b, k, 3, h, w, generator=g),
            torch.rand(b, k, 1, h, w, generator=g))


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("size", [(16, 16), (17, 23), (30, 9)])
def test_shapes_any_k_and_odd_sizes(k: int, size: tuple[int, int]) -> None:
    torch.manual_seed(0)
    net = ColorTransformNet(TINY)
    h, w = size
    y, y_mid, y_sim = net(*inputs(2, k, h, w))
    assert y.shape == (2, 3, h, w)
    assert y_mid.shape == y_sim.shape == (2, 3, math.ceil(h / 4), math.ceil(w / 4))
    for out in (y, y_mid, y_sim):
        assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


def test_default_is_paper_width() -> None:
    net = ColorTransformNet()
    assert net.config.width == 64 and net.transform.query.out_channels == 32 and len(net.blocks) == 8
    assert net.line_enc.net[4].out_channels == 256


def test_forward_equals_encode_then_apply() -> None:
    torch.manual_seed(0)
    net = ColorTransformNet(TINY).eval()
    x = inputs(2, 2, 20, 28)
    with torch.no_grad():
        full = net(*x)
        refs = net.encode_references(*x[2:])
        split = net.forward_with_references(x[0], x[1], refs)
    assert isinstance(refs, References)
    for a, b in zip(full, split):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_gradients_reach_every_parameter() -> None:
    torch.manual_seed(0)
    net = ColorTransformNet(TINY).train()
    y, y_mid, y_sim = net(*inputs(2, 2, 16, 20))
    (y.square().mean() + y_mid.mean() + y_sim.mean()).backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_bad_shapes_raise() -> None:
    net = ColorTransformNet(TINY)
    t, d, rl, rc, rd = inputs(1, 2, 16, 16)
    with pytest.raises(ValueError, match="ref_colors"):
        net(t, d, rl, rd, rd)
    with pytest.raises(ValueError, match="does not match"):
        net(t[..., :8], d[..., :8], rl, rc, rd)


def _identity_layer(c: int, mask_logit_m: float, mask_logit_n: float) -> ColorTransformLayer:
    """A matching layer whose 1x1 convs are identities and whose masks are constants."""
    layer = ColorTransformLayer(feat=c, attn=c)
    with torch.no_grad():
        eye = torch.eye(c)[:, :, None, None]
        for conv in (layer.query, layer.value, layer.lift):
            conv.weight.copy_(eye)
            conv.bias.zero_()
        layer.mask_t.weight.zero_()
        layer.mask_r.weight.zero_()
        layer.mask_t.bias[:c].fill_(mask_logit_m)
        layer.mask_t.bias[c:].fill_(mask_logit_n)
    return layer


def _refs(layer: ColorTransformLayer, dist: torch.Tensor, color: torch.Tensor) -> References:
    keys, mask_ref = layer.encode(dist)
    return References(color, keys, mask_ref, torch.zeros(dist.shape[0], 2 * dist.shape[2]))


def test_matching_sends_each_target_position_to_its_reference_position() -> None:
    """Target position i has the distance feature of reference position j = perm(i), half of the
    targets found in reference 0 and half in reference 1: the output at i must be the colour at j
    (the transposed matrix of the public TF port would send j to i instead)."""
    torch.manual_seed(0)
    c, h, w, K = 16, 4, 4, 2
    n = h * w
    layer = _identity_layer(c, mask_logit_m=30.0, mask_logit_n=-30.0)  # m = 1, n = 0: f_sim = f_mat
    codes = F.normalize(torch.randn(K * n, c), dim=1) * 16.0  # distinct, sharp under softmax
    ref_dist = codes.reshape(K, h, w, c).permute(0, 3, 1, 2)[None]  # (1, K, c, h, w)
    ref_color = torch.randn(1, K, c, h, w)
    perm = torch.randperm(K * n)[:n]  # target position i <- flat reference position perm[i]
    tgt = codes[perm].reshape(h, w, c).permute(2, 0, 1)[None]  # (1, c, h, w)
    with torch.no_grad():
        out = layer(tgt, _refs(layer, ref_dist, ref_color))  # (1, c, h, w)
    flat_colors = ref_color[0].permute(0, 2, 3, 1).reshape(K * n, c)  # (K*n, c)
    expected = flat_colors[perm].reshape(h, w, c).permute(2, 0, 1)[None]
    torch.testing.assert_close(out, expected, atol=1e-3, rtol=1e-3)
    assert (perm >= n).any() and (perm < n).any()  # both references were used


def test_identical_target_and_reference_maps_to_itself() -> None:
    torch.manual_seed(1)
    c, h, w = 16, 5, 6
    layer = _identity_layer(c, 30.0, -30.0)
    dist = F.normalize(torch.randn(1, c, h, w), dim=1) * 16.0
    color = torch.randn(1, 1, c, h, w)
    with torch.no_grad():
        out = layer(dist, _refs(layer, dist[:, None], color))
    torch.testing.assert_close(out, color[:, 0], atol=1e-3, rtol=1e-3)


def test_one_softmax_over_all_references_together() -> None:
    torch.manual_seed(2)
    c, h, w = 8, 4, 4
    layer = _identity_layer(c, 30.0, -30.0)
    with torch.no_grad():
        # Values all ones: weights summing to one over all K*HW positions give exactly one
        # (a softmax per reference, summed over references, would give K).
        dist = torch.randn(1, 3, c, h, w)
        out = layer(torch.randn(1, c, h, w), _refs(layer, dist, torch.ones(1, 3, c, h, w)))
        torch.testing.assert_close(out, torch.ones_like(out), atol=1e-5, rtol=0)
        # Reference 1 matches the target far better than reference 0: almost all weight goes
        # to reference 1 (a per-reference softmax, averaged, would give 0.5 here).
        q = torch.zeros(1, c, h, w)
        q[:, 0] = 4.0
        dist = torch.zeros(1, 2, c, h, w)
        dist[:, 0, 1] = 4.0  # orthogonal to the query: score 0
        dist[:, 1, 0] = 4.0  # aligned: score 16 / sqrt(c)
        color = torch.stack([torch.ones(c, h, w), torch.zeros(c, h, w)])[None]
        out = layer(q, _refs(layer, dist, color))
    assert out.max() < 0.01


def test_layer_equals_explicit_paper_formula() -> None:
    """SDPA path == softmax(QK^T / sqrt(d)) V over all K*HW positions, then
    f_sim = mean_k [ n_k * (m_k * c_k) + (1 - n_k) * f_mat ], written out naively."""
    torch.manual_seed(3)
    B, K, feat, attn, h, w = 2, 3, 12, 6, 5, 7
    layer = ColorTransformLayer(feat, attn)
    t_dist, r_dist, r_col = torch.randn(B, feat, h, w), torch.randn(B, K, feat, h, w), torch.randn(B, K, feat, h, w)
    with torch.no_grad():
        got = layer(t_dist, _refs(layer, r_dist, r_col))
        q = layer.query(t_dist).flatten(2).transpose(1, 2)  # (B, hw, d)
        ms, ns, vs, ks = [], [], [], []
        for k in range(K):
            mn = torch.sigmoid(F.conv2d(torch.cat([t_dist, r_dist[:, k]], 1),
                                        torch.cat([layer.mask_t.weight, layer.mask_r.weight], 1),
                                        layer.mask_t.bias, padding=1))
            m, n = mn[:, :feat], mn[:, feat:]
            ms.append(m)
            ns.append(n)
            vs.append(layer.value(m * r_col[:, k]).flatten(2).transpose(1, 2))  # (B, hw, d)
            ks.append(layer.query(r_dist[:, k]).flatten(2).transpose(1, 2))  # (B, hw, d)
        keys, vals = torch.cat(ks, 1), torch.cat(vs, 1)  # (B, K*hw, d)
        weights = torch.softmax(q @ keys.transpose(1, 2) / math.sqrt(attn), dim=-1)  # over references
        f_mat = layer.lift((weights @ vals).transpose(1, 2).reshape(B, attn, h, w))
        expected = sum(ns[k] * (ms[k] * r_col[:, k]) + (1 - ns[k]) * f_mat for k in range(K)) / K
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)


@pytest.mark.slow
def test_memory_at_512_paper_width_stays_far_below_the_explicit_matrix() -> None:
    """512x512, K = 3, paper width, no_grad: the explicit (128*128 x 3*128*128) fp32 matrix alone
    is 3.2 GB; the fused attention must keep the whole forward far below it. Measured as the
    peak-RSS growth of a fresh process (VmHWM), so earlier tests cannot hide it."""
    code = textwrap.dedent("""
        import torch
        from lacvid.models import ColorTransformNet
        def hwm():
            return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')) * 1024
        torch.manual_seed(0)
        net = ColorTransformNet().eval()
        x = [torch.rand(1, 1, 512, 512), torch.rand(1, 1, 512, 512), torch.rand(1, 3, 1, 512, 512),
             torch.rand(1, 3, 3, 512, 512), torch.rand(1, 3, 1, 512, 512)]
        before = hwm()
        with torch.no_grad():
            y = net(*x)[0]
        assert y.shape == (1, 3, 512, 512)
        print(hwm() - before)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    growth = int(out.stdout.strip().splitlines()[-1])
    assert growth < 1.5e9, f"peak RSS grew by {growth / 1e9:.2f} GB"
