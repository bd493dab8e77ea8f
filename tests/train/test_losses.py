"""lacvid.train.losses on known inputs; the VGG19 loader's layout and error paths (no download)."""

from __future__ import annotations

import pytest
import torch

from lacvid.errors import InputError
from lacvid.train.losses import (
    VGG19_URL,
    GeneratorCriterion,
    LossWeights,
    VGG19Features,
    d_loss,
    find_vgg19_weights,
    g_adv_loss,
    gram_matrix,
    latent_constraint,
    load_vgg19,
    perceptual_and_style,
)


def test_gram_matrix_known_values():
    feat = torch.stack([torch.ones(2, 2), 2 * torch.ones(2, 2)])[None]  # (1, 2, 2, 2)
    g = gram_matrix(feat)
    # F F^T = [[4, 8], [8, 16]], normalised by C*H*W = 8.
    assert torch.allclose(g, torch.tensor([[[0.5, 1.0], [1.0, 2.0]]]))
    x = torch.randn(3, 4, 5, 6)
    f = x.reshape(3, 4, 30)
    assert torch.allclose(gram_matrix(x), f @ f.transpose(1, 2) / 120, atol=1e-6)


def test_latent_constraint_uses_area_downsampling():
    target = torch.arange(16.0).reshape(1, 1, 4, 4).repeat(1, 3, 1, 1) / 16  # (1, 3, 4, 4)
    means = torch.tensor([[2.5, 4.5], [10.5, 12.5]]) / 16  # 2x2 box means
    exact = means.expand(1, 3, 2, 2)
    assert latent_constraint(exact, exact, target).item() == pytest.approx(0.0, abs=1e-7)
    assert latent_constraint(exact + 0.1, exact, target).item() == pytest.approx(0.1, abs=1e-6)
    assert latent_constraint(exact + 0.1, exact - 0.2, target).item() == pytest.approx(0.3, abs=1e-6)
    # ceil(H/4) side outputs of a size not divisible by 4: 6 -> 2 averages 3x3 boxes.
    t6 = torch.zeros(1, 3, 6, 6)
    t6[..., :3, :3] = 1.0
    side = torch.tensor([[1.0, 0.0], [0.0, 0.0]]).expand(1, 3, 2, 2)
    assert latent_constraint(side, side, t6).item() == pytest.approx(0.0, abs=1e-7)


def test_adversarial_losses():
    real, fake = torch.full((2, 1, 3, 3), 2.0), torch.full((2, 1, 3, 3), -2.0)
    assert d_loss(real, fake, "hinge").item() == 0.0  # both beyond the margin
    assert d_loss(torch.zeros(1), torch.zeros(1), "hinge").item() == 2.0
    assert g_adv_loss(torch.full((4,), 0.5), "hinge").item() == -0.5
    assert d_loss(torch.ones(3), torch.zeros(3), "lsgan").item() == 0.0
    assert g_adv_loss(torch.zeros(3), "lsgan").item() == 0.5
    with pytest.raises(ValueError):
        d_loss(real, fake, "wgan")


def test_vgg_layout_is_torchvisions():
    vgg = VGG19Features()
    feats = vgg(torch.rand(1, 3, 32, 32))
    assert [f.shape[1] for f in feats] == [64, 128, 256, 512, 512]
    assert [f.shape[-1] for f in feats] == [32, 16, 8, 4, 2]
    keys = list(vgg.features.state_dict())
    assert keys[0] == "0.weight" and keys[-1] == "28.bias"  # conv5_1 is features.28 in torchvision
    assert not any(p.requires_grad for p in vgg.parameters())


def test_vgg_loader_reads_torchvision_files_and_rejects_others(tmp_path):
    src = VGG19Features()
    state = {f"features.{k}": v for k, v in src.features.state_dict().items()}
    state["features.30.weight"] = torch.zeros(1)  # layers past relu5_1 are ignored ...
    state["classifier.0.weight"] = torch.zeros(2, 2)  # ... and so is the classifier
    good = tmp_path / "vgg19-dcbb9e9d.pth"
    torch.save(state, good)
    vgg = load_vgg19(good)
    x = torch.rand(1, 3, 16, 16)
    assert all(torch.equal(a, b) for a, b in zip(vgg(x), src(x)))
    bad = tmp_path / "bad.pth"
    torch.save({"features.0.weight": torch.zeros(3)}, bad)
    with pytest.raises(InputError, match="do not fit"):
        load_vgg19(bad)
    junk = tmp_path / "junk.pth"
    junk.write_text("not a torch file")
    with pytest.raises(InputError, match="cannot be read"):
        load_vgg19(junk)


def test_missing_vgg_weights_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(InputError) as exc:
        find_vgg19_weights(None)
    msg = str(exc.value)
    assert VGG19_URL in msg and str(tmp_path / "hub" / "checkpoints") in msg and "--perceptual none" in msg
    with pytest.raises(InputError, match="do not exist"):
        find_vgg19_weights(tmp_path / "nope.pth")
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    (tmp_path / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth").write_bytes(b"x")
    assert find_vgg19_weights(None).name == "vgg19-dcbb9e9d.pth"


def test_perceptual_style_and_criterion_with_random_vgg():
    torch.manual_seed(0)
    vgg = VGG19Features()  # random weights: only allowed here, to test the arithmetic
    t = torch.rand(2, 3, 32, 32)
    p, s = perceptual_and_style(vgg, t.clone(), t)
    assert p.item() == 0.0 and s.item() == 0.0
    y = torch.rand(2, 3, 32, 32, requires_grad=True)
    crit = GeneratorCriterion(LossWeights(), vgg)
    y_side = torch.rand(2, 3, 8, 8)
    logits = torch.randn(2, 1, 4, 4)
    total, terms = crit(y, t, logits, y_side, y_side)
    assert set(terms) == {"l1", "perceptual", "style", "latent", "adv"}
    w = LossWeights()
    expect = w.l1 * terms["l1"] + w.perceptual * terms["perceptual"] + w.style * terms["style"] \
        + w.latent * terms["latent"] + w.adv * terms["adv"]
    assert torch.allclose(total, expect)
    total.backward()
    assert y.grad is not None and y.grad.abs().sum() > 0
    _, terms = GeneratorCriterion(LossWeights(), None)(y, t, None)
    assert set(terms) == {"l1"}
