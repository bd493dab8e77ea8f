"""Small building blocks shared by the networks: convs with optional spectral norm, AdaIN,
gated convolutions and the learnable temporal shift.

Everything here is written so that ``torch.onnx.export`` sees only static channel counts and
shape-generic ops (no size frozen at the example resolution).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm


def conv(cin: int, cout: int, k: int = 3, stride: int = 1, dilation: int = 1, sn: bool = False,
         bias: bool = True) -> nn.Conv2d:
    """A 'same'-padded conv (output = ceil(input / stride)), optionally spectrally normalised."""
    layer = nn.Conv2d(cin, cout, k, stride=stride, padding=dilation * (k - 1) // 2, dilation=dilation, bias=bias)
    return spectral_norm(layer) if sn else layer


def act() -> nn.Module:
    return nn.LeakyReLU(0.2)


def remove_spectral_norm(module: nn.Module) -> nn.Module:
    """Bake every spectral-norm parametrisation into a plain weight, in place; returns ``module``
    (call it on a module already in eval mode).

    Call it on an eval-mode copy before ONNX export or fast inference: in eval mode the
    normalised weight is fixed (no power iteration), so baking it changes no output and removes
    the per-forward ``weight / sigma`` work and the parametrisation machinery the exporter
    would otherwise have to trace.
    """
    for m in module.modules():
        if parametrize.is_parametrized(m):
            for name in list(m.parametrizations.keys()):
                parametrize.remove_parametrizations(m, name, leave_parametrized=True)
    return module


def inference_copy(module: nn.Module) -> nn.Module:
    """An eval-mode copy with spectral norm baked in (see ``remove_spectral_norm``).

    The copy is rebuilt from ``module.config`` + its state_dict, not ``copy.deepcopy``: a deep
    copy shares the dynamically created ``ParametrizedConv2d`` class with the original, and
    removing the parametrisation from the copy then deletes ``weight`` from the original too
    (measured with torch 2.13: the original raises AttributeError afterwards).
    """
    # eval() BEFORE baking: in train mode reading the weight runs one more power iteration,
    # so the baked weight would differ from what the eval-mode original computes.
    fresh = type(module)(module.config).eval()
    if any(parametrize.is_parametrized(m) for m in module.modules()):
        fresh.load_state_dict(module.state_dict())
        remove_spectral_norm(fresh)
    else:  # already baked (an inference copy itself)
        remove_spectral_norm(fresh).load_state_dict(module.state_dict())
    return fresh.to(next(module.parameters()).device).eval()


def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Replicate-pad the last two dims of (N, C, H, W) up to a multiple (right/bottom only).

    Always pads (possibly by zero) so an exported graph keeps the pad for every input size
    instead of baking in the example's "no pad needed" branch.
    """
    h, w = x.shape[-2], x.shape[-1]
    ph, pw = (multiple - h % multiple) % multiple, (multiple - w % multiple) % multiple
    return F.pad(x, (0, pw, 0, ph), mode="replicate")  # (N, C, H + ph, W + pw)


def unmerge(x: torch.Tensor, b: int, k: int) -> torch.Tensor:
    """(B*K, ...) -> (B, K, ...).

    Written as ``reshape`` over sizes read in Python: ``Tensor.unflatten`` computes its target
    shape in C++, so the ONNX tracer records it as a constant (measured: the exported graph
    failed at any batch size, K or resolution other than the example's).
    """
    return x.reshape([b, k] + list(x.shape[1:]))


def adain(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Adaptive instance norm: normalise each channel of x, then impose the style's statistics.

    x (B, C, H, W); mean, std (B, C).
    """
    mu = x.mean(dim=(2, 3), keepdim=True)  # (B, C, 1, 1)
    var = x.var(dim=(2, 3), keepdim=True, unbiased=False)  # (B, C, 1, 1)
    return (x - mu) * torch.rsqrt(var + eps) * std[:, :, None, None] + mean[:, :, None, None]


class AdaINResBlock(nn.Module):
    """x + conv(act(adain(conv(act(adain(x)))))): the trunk that carries the references' style."""

    def __init__(self, ch: int, sn: bool) -> None:
        super().__init__()
        self.conv1 = conv(ch, ch, 3, sn=sn)
        self.conv2 = conv(ch, ch, 3, sn=sn)
        self.act = act()

    def forward(self, x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
        h = self.conv1(self.act(adain(x, mean, std)))  # (B, C, h, w)
        h = self.conv2(self.act(adain(h, mean, std)))  # (B, C, h, w)
        return x + h


class TemporalShift(nn.Module):
    """Learnable temporal shift (LGTSM, Chang et al. 2019) over (B, T, C, H, W).

    The first quarter of the channels takes each frame's value from the next frame (a shift
    back in time), the second quarter from the previous frame (a shift forward), the rest stay.
    Each shifted channel has its own 3-tap kernel over (t-1, t, t+1), initialised to the exact
    shift [0, 0, 1] / [1, 0, 0] and learnable, so training can blend neighbours instead.
    Frames beyond the ends are zero, as in TSM.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.fold = channels // 4
        back = torch.zeros(self.fold, 3)
        back[:, 2] = 1.0  # out[t] = x[t + 1]
        fwd = torch.zeros(self.fold, 3)
        fwd[:, 0] = 1.0  # out[t] = x[t - 1]
        self.kernel = nn.Parameter(torch.cat([back, fwd], 0))  # (2 * fold, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fold == 0:
            return x
        n = 2 * self.fold
        s, rest = x[:, :, :n], x[:, :, n:]  # (B, T, 2f, H, W), (B, T, C - 2f, H, W)
        # F.pad, not cat with zeros_like(): the exporter folded zeros_like into a constant of
        # the example's batch size, so the ONNX graph failed at any other batch size.
        prev = F.pad(s[:, :-1], (0, 0, 0, 0, 0, 0, 1, 0))  # (B, T, 2f, H, W): x[t - 1], zero at t = 0
        nxt = F.pad(s[:, 1:], (0, 0, 0, 0, 0, 0, 0, 1))  # (B, T, 2f, H, W): x[t + 1], zero at t = T-1
        k = self.kernel[:, :, None, None]  # (2f, 3, 1, 1)
        shifted = k[:, 0] * prev + k[:, 1] * s + k[:, 2] * nxt  # (B, T, 2f, H, W)
        return torch.cat([shifted, rest], 2)  # (B, T, C, H, W)


class GatedTSMConv(nn.Module):
    """Temporal shift, then a gated conv per frame: act(feature) * sigmoid(gate).

    The gate lets the network ignore regions where a neighbour's colour is wrong (occlusion,
    motion) instead of averaging them in. Works on (B, T, C, H, W).
    """

    def __init__(self, cin: int, cout: int, k: int = 3, stride: int = 1, dilation: int = 1,
                 activation: bool = True) -> None:
        super().__init__()
        self.shift = TemporalShift(cin)
        self.conv = conv(cin, 2 * cout, k, stride=stride, dilation=dilation)
        self.act = act() if activation else nn.Identity()
        self.cout = cout

    def forward(self, x: torch.Tensor, frame: int | None = None) -> torch.Tensor:
        """With ``frame`` set, only that frame's output is computed: (B, 1, cout, H', W')."""
        B, T = x.shape[0], x.shape[1]
        x = self.shift(x)  # (B, T, C, H, W)
        if frame is not None:
            x = x[:, frame:frame + 1]  # (B, 1, C, H, W)
            T = 1
        y = self.conv(x.flatten(0, 1))  # (B*T, 2*cout, H', W')
        feat, gate = y[:, :self.cout], y[:, self.cout:]  # (B*T, cout, H', W') each
        y = self.act(feat) * torch.sigmoid(gate)  # (B*T, cout, H', W')
        return unmerge(y, B, T)  # (B, T, cout, H', W')
