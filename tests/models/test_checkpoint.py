"""Checkpoints: one file rebuilds every network; a bad file gives one clear CheckpointError."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from lacvid.errors import CheckpointError
from lacvid.models import (
    ColorNetConfig,
    DiscriminatorConfig,
    ModelConfig,
    TemporalNetConfig,
    build_net,
    load_checkpoint,
    save_checkpoint,
)
from lacvid.models.checkpoint import NET_NAMES

CFG = ModelConfig(color=ColorNetConfig(width=8, res_blocks=2), temporal=TemporalNetConfig(width=8),
                  discriminator=DiscriminatorConfig(width=8, layers=2))


def _nets() -> dict:
    torch.manual_seed(0)
    nets = {name: build_net(name, CFG) for name in NET_NAMES}
    nets["color_disc"](torch.rand(1, 4, 32, 32))  # a train-mode pass moves the spectral-norm vectors
    return nets


def test_config_round_trip_and_presets() -> None:
    for cfg in (CFG, ModelConfig.paper(), ModelConfig.cpu()):
        assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    assert ModelConfig.paper().color.width == 64 and ModelConfig.cpu().color.width < 64
    with pytest.raises(ValueError, match="unknown"):
        ModelConfig.from_dict({"color": {"width": 8, "colour_width": 3}})
    with pytest.raises(ValueError, match="int"):
        ModelConfig.from_dict({"color": {"width": "8"}})


def test_round_trip(tmp_path: Path) -> None:
    nets = _nets()
    opt = torch.optim.Adam(nets["color"].parameters())
    state = {"step": 7, "optim": opt.state_dict(), "rng": torch.get_rng_state()}
    path = save_checkpoint(tmp_path / "run" / "model.pt", config=CFG, nets=nets, train_state=state,
                           meta={"note": "x"})
    assert [p.name for p in path.parent.iterdir()] == ["model.pt"]  # no temp file left behind
    ck = load_checkpoint(path)
    assert ck.config == CFG and ck.meta == {"note": "x"} and ck.train_state["step"] == 7
    assert torch.equal(ck.train_state["rng"], state["rng"])
    loaded = {"color": ck.color_net, "temporal": ck.temporal_net, **ck.discriminators}
    assert set(loaded) == set(NET_NAMES)
    for name, net in nets.items():
        a, b = net.state_dict(), loaded[name].state_dict()
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a), name
    x = [torch.rand(1, 1, 16, 16), torch.rand(1, 1, 16, 16), torch.rand(1, 2, 1, 16, 16),
         torch.rand(1, 2, 3, 16, 16), torch.rand(1, 2, 1, 16, 16)]
    with torch.no_grad():
        torch.testing.assert_close(nets["color"].eval()(*x)[0], ck.color_net(*x)[0], rtol=0, atol=0)


def test_color_only_checkpoint(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "c.pt", config=CFG, nets={"color": _nets()["color"]})
    ck = load_checkpoint(path)
    assert ck.temporal_net is None and ck.discriminators == {} and ck.train_state is None


def test_save_rejects_unknown_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown network"):
        save_checkpoint(tmp_path / "x.pt", config=CFG, nets={"color": _nets()["color"], "gen": torch.nn.Linear(1, 1)})


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    good = save_checkpoint(tmp_path / "good.pt", config=CFG, nets={"color": _nets()["color"]})
    data = good.read_bytes()
    files = {"truncated": data[: len(data) // 2], "random": torch.randint(0, 256, (4096,), dtype=torch.uint8)
             .numpy().tobytes(), "empty": b""}
    out = {name: tmp_path / f"{name}.pt" for name in files}
    for name, blob in files.items():
        out[name].write_bytes(blob)
    torch.save(_nets()["color"].state_dict(), tmp_path / "state_dict.pt")
    out["state_dict"] = tmp_path / "state_dict.pt"
    payload = torch.load(good, weights_only=True)
    torch.save({**payload, "version": 99}, tmp_path / "future.pt")
    out["future"] = tmp_path / "future.pt"
    weights = dict(payload["weights"])
    weights["color"] = {k: v for k, v in weights["color"].items() if "blocks.1" not in k}
    torch.save({**payload, "weights": weights}, tmp_path / "missing_keys.pt")
    out["missing_keys"] = tmp_path / "missing_keys.pt"
    out["missing"] = tmp_path / "nope.pt"
    out["directory"] = tmp_path
    return out


@pytest.mark.parametrize("kind", ["truncated", "random", "empty", "state_dict", "future", "missing_keys", "missing",
                                  "directory"])
def test_bad_checkpoint_raises_one_clear_error(tmp_path: Path, kind: str) -> None:
    path = _bad_files(tmp_path)[kind]
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    assert info.value.exit_code == 2
