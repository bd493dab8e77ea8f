"""The temporal constraint network, its learnable shift, and the discriminators."""

from __future__ import annotations

import pytest
import torch

from lacvid.models import (
    DiscriminatorConfig,
    PatchDiscriminator,
    TemporalConstraintNet,
    TemporalNetConfig,
    TemporalPatchDiscriminator,
)
from lacvid.models.blocks import TemporalShift

TINY = TemporalNetConfig(width=8)


@pytest.mark.parametrize("size", [(16, 16), (19, 21), (33, 12)])
def test_shape_range_and_near_identity_at_init(size: tuple[int, int]) -> None:
    torch.manual_seed(0)
    net = TemporalConstraintNet(TINY).eval()
    frames = torch.rand(2, 3, 4, *size)
    with torch.no_grad():
        out = net(frames)
    assert out.shape == (2, 3, *size)
    assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1
    assert (out - frames[:, 1, :3]).abs().max() < 0.02  # residual on the middle frame, ~0 at init


def test_default_is_paper_width_with_four_dilations() -> None:
    net = TemporalConstraintNet()
    assert net.config.width == 64
    assert [layer.conv.dilation[0] for layer in net.dilated] == [2, 4, 8, 16]


def test_temporal_shift_at_init_moves_exactly_one_frame() -> None:
    torch.manual_seed(0)
    C = 12
    shift = TemporalShift(C)
    x = torch.randn(2, 3, C, 5, 4)
    y = shift(x)
    f = C // 4
    # first quarter: frame t takes frame t + 1 (zero past the end)
    torch.testing.assert_close(y[:, :2, :f], x[:, 1:, :f], rtol=0, atol=0)
    assert (y[:, 2, :f] == 0).all()
    # second quarter: frame t takes frame t - 1 (zero before the start)
    torch.testing.assert_close(y[:, 1:, f:2 * f], x[:, :2, f:2 * f], rtol=0, atol=0)
    assert (y[:, 0, f:2 * f] == 0).all()
    # the rest stays
    torch.testing.assert_close(y[:, :, 2 * f:], x[:, :, 2 * f:], rtol=0, atol=0)
    assert shift.kernel.requires_grad


def test_gradients_reach_every_parameter() -> None:
    torch.manual_seed(0)
    net = TemporalConstraintNet(TINY).train()
    frames = torch.rand(2, 3, 4, 16, 20)
    out = net(frames)
    (out - torch.rand_like(out)).abs().mean().backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_train_and_eval_agree() -> None:
    torch.manual_seed(0)
    net = TemporalConstraintNet(TINY)
    frames = torch.rand(1, 3, 4, 16, 16)
    with torch.no_grad():
        a = net.train()(frames)
        b = net.eval()(frames)
    torch.testing.assert_close(a, b)


def test_bad_shape_raises() -> None:
    with pytest.raises(ValueError, match="frames must be shaped"):
        TemporalConstraintNet(TINY)(torch.rand(1, 2, 4, 16, 16))


def test_discriminators() -> None:
    torch.manual_seed(0)
    cfg = DiscriminatorConfig(width=8)
    d = PatchDiscriminator(cfg)
    lines, colors = torch.rand(2, 1, 64, 48), torch.rand(2, 3, 64, 48)
    logits = d(lines, colors)
    assert logits.shape[:2] == (2, 1) and logits.ndim == 4
    with torch.no_grad():  # eval: no power iteration between the two calls
        torch.testing.assert_close(d.eval()(lines, colors), d(torch.cat([lines, colors], 1)))
    d.train()
    td = TemporalPatchDiscriminator(cfg)
    t_logits = td(torch.rand(2, 3, 4, 32, 32))
    assert t_logits.shape[:3] == (2, 1, 3)
    (logits.mean() + t_logits.mean()).backward()
    for net in (d, td):
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())
        assert any("parametrizations.weight.original" in n for n, _ in net.named_parameters())  # spectral norm
