"""lacvid.train end to end on a tiny synthetic set: both stages, exact resume, DDP, CLI errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lacvid.models import load_checkpoint
from lacvid.synth import SynthConfig, write_dataset
from lacvid.train import TrainConfig, train

TINY = dict(size=32, scale=40, width=8, batch=2, perceptual="none", workers=0, checkpoint_every=2, sample_every=2)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks gain nothing from threads, and on a busy machine OpenMP threads waiting for
    each other make steps 10x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = write_dataset(tmp_path_factory.mktemp("train") / "ds", SynthConfig(shots=3, frames=6, height=40,
                                                                              width=40, seed=1))
    from lacvid.train.data import FrameCache, Preprocess
    FrameCache.build(root, Preprocess(scale=40))  # built once; every run below reuses it
    return root


class _StopAfter:
    """A Progress that presses Ctrl-C after ``n`` training steps."""

    def __init__(self, n: int) -> None:
        self.n, self.done, self.logs = n, 0, []

    def task(self, description, total=None, unit="frames"):
        outer = self

        class _T:
            def advance(self, k=1):
                if description == "training" and k > 0:
                    outer.done += k
                    if outer.done >= outer.n:
                        raise KeyboardInterrupt

            def update(self, **kw):
                pass

            def close(self):
                pass
        return _T()

    def log(self, message):
        self.logs.append(message)


def _weights(path: Path) -> dict[str, torch.Tensor]:
    payload = torch.load(path, weights_only=True)
    return {f"{net}.{k}": v for net, sd in payload["weights"].items() for k, v in sd.items()}


def test_both_stages_end_to_end_via_cli(cli, dataset, tmp_path):
    run = tmp_path / "run"
    res = cli("train", dataset, "-o", run, "--steps", "2", "--temporal-steps", "2", "--size", "32", "--scale", "40",
              "--width", "8", "--batch", "2", "--perceptual", "none", "--workers", "0", "--checkpoint-every", "1",
              "--sample-every", "2", "-q")
    assert res.exit_code == 0, res.stderr
    assert res.stdout.strip() == str(run)
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["train"]["width"] == 8 and cfg["model"]["color"]["width"] == 8 and cfg["losses"]["perceptual"] == "none"
    rows = (run / "losses.csv").read_text().splitlines()
    assert rows[0].startswith("step,stage") and [r.split(",")[1] for r in rows[1:]] == ["color"] * 2 + ["temporal"] * 2
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["step-0000002.pt", "step-0000003.pt",
                                                                       "step-0000004.pt"]  # the last 3 kept
    assert (run / "losses.png").stat().st_size > 1000
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step-0000002.png", "step-0000004.png"]
    model = load_checkpoint(run / "model.pt")
    assert model.temporal_net is not None and model.train_state is None and model.meta["temporal_steps"] == 2
    last = load_checkpoint(run / "last.pt")
    assert last.train_state["step"] == 4 and set(last.discriminators) == {"color_disc", "temporal_disc"}
    # Output exists without --resume: exit 2, nothing touched.
    res = cli("train", dataset, "-o", run, "--steps", "1", "--perceptual", "none")
    assert res.exit_code == 2 and "--resume" in res.stderr
    # Fine-tune from the checkpoint: colour stage only.
    res = cli("train", dataset, "-o", tmp_path / "ft", "--init", run / "model.pt", "--stage", "color", "--steps", "1",
              "--size", "32", "--scale", "40", "--batch", "1", "--perceptual", "none", "--workers", "0", "-q")
    assert res.exit_code == 0, res.stderr
    assert json.loads((tmp_path / "ft" / "config.json").read_text())["model"]["color"]["width"] == 8


def test_resume_after_ctrl_c_gives_the_same_weights(dataset, tmp_path):
    # Stage both: 2 colour + 3 temporal steps; stopped after step 3 (inside the temporal stage).
    straight = TrainConfig(dataset=str(dataset), run=str(tmp_path / "a"), steps=2, temporal_steps=3,
                           decay_from=0.0, **TINY)  # the rates change every step: schedules must resume too
    train(straight)
    stopped = TrainConfig(dataset=str(dataset), run=str(tmp_path / "b"), steps=2, temporal_steps=3,
                          decay_from=0.0, **TINY)
    p = _StopAfter(3)
    with pytest.raises(KeyboardInterrupt):
        train(stopped, progress=p)
    assert any("interrupted at step 3" in m for m in p.logs)
    assert torch.load(tmp_path / "b" / "last.pt", weights_only=True)["train_state"]["step"] == 3
    train(TrainConfig(dataset=str(dataset), run=str(tmp_path / "b")), resume=True)
    a, b = _weights(tmp_path / "a" / "last.pt"), _weights(tmp_path / "b" / "last.pt")
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), [k for k in a if not torch.equal(a[k], b[k])][:5]
    assert (tmp_path / "a" / "losses.csv").read_text() .count("\n") == (tmp_path / "b" / "losses.csv").read_text().count("\n")  # noqa: E501


def test_resume_can_extend_steps_and_keeps_the_runs_settings(dataset, tmp_path):
    run = tmp_path / "r"
    train(TrainConfig(dataset=str(dataset), run=str(run), steps=1, stage="color", **TINY))
    logs = _StopAfter(99)
    train(TrainConfig(dataset=str(dataset), run=str(run)), resume=True, overrides={"steps": 2, "size": 16},
          progress=logs)
    state = load_checkpoint(run / "last.pt").train_state
    assert state["step"] == 2 and state["config"]["size"] == 32
    assert any("keeps the run's own size" in m for m in logs.logs)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun(launch: str, args: list[str], env: dict) -> list[subprocess.CompletedProcess]:
    """``lacvid train ARGS`` on 2 ranks: one torchrun with 2 processes, or two "nodes" of 1 process each
    meeting at a c10d rendezvous (the multi-node form, both nodes on this machine)."""
    run = [sys.executable, "-m", "torch.distributed.run"]
    if launch == "standalone":
        cmds = [run + ["--standalone", "--nproc-per-node", "2", "-m", "lacvid", *args]]
    else:
        rdzv = ["--nnodes", "2", "--nproc-per-node", "1", "--rdzv-backend", "c10d",
                "--rdzv-endpoint", f"127.0.0.1:{_free_port()}", "--rdzv-id", "lacvid-test"]
        cmds = [run + rdzv + ["-m", "lacvid", *args] for _ in range(2)]
    procs = [subprocess.Popen(c, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in cmds]
    results = []
    for cmd, proc in zip(cmds, procs):
        out, err = proc.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(cmd, proc.returncode, out, err))
    return results


@pytest.mark.slow
@pytest.mark.parametrize("launch", ["standalone", "two-nodes"])
def test_ddp_two_processes_match_one_process_with_the_whole_batch(dataset, tmp_path, launch):
    """world 2 x batch 1 draws the same samples as world 1 x batch 2 and averages the same gradients."""
    common = ["--steps", "2", "--temporal-steps", "1", "--size", "32", "--scale", "40", "--width", "8",
              "--perceptual", "none", "--workers", "0", "-q"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "OMP_NUM_THREADS": "1"}
    results = _torchrun(launch, ["train", str(dataset), "-o", str(tmp_path / "ddp"), "--batch", "1", *common], env)
    for res in results:
        assert res.returncode == 0, res.stderr[-3000:]
    assert "".join(r.stdout for r in results).strip() == str(tmp_path / "ddp")  # one rank prints
    cfg = json.loads((tmp_path / "ddp" / "config.json").read_text())
    assert cfg["world_size"] == 2 and cfg["effective_batch"] == 2
    train(TrainConfig(dataset=str(dataset), run=str(tmp_path / "one"), steps=2, temporal_steps=1,
                      **{**TINY, "batch": 2}))
    a, b = _weights(tmp_path / "ddp" / "last.pt"), _weights(tmp_path / "one" / "last.pt")
    worst = max((a[k].float() - b[k].float()).abs().max().item() for k in a)
    assert worst < 1e-4


@pytest.mark.parametrize("args, needle", [
    (["--stage", "temporal"], "needs a trained colour network"),
    (["--perceptual", "vgg"], "vgg19-dcbb9e9d.pth"),
    (["--size", "64"], "smaller than the crop size"),
])
def test_bad_settings_exit_2_with_one_line(cli, dataset, tmp_path, monkeypatch, args, needle):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    res = cli("train", dataset, "-o", tmp_path / "run", "--steps", "1", "--scale", "40", "--width", "8",
              "--workers", "0", *(["--perceptual", "none"] if "--perceptual" not in args else []), *args)
    assert res.exit_code == 2, res.stderr
    assert needle in res.stderr and res.stderr.count("\n") == 1 and res.stderr.startswith("lacvid: error:")


def test_bad_dataset_exits_2_naming_the_path(cli, dataset, tmp_path):
    import shutil
    bad = shutil.copytree(dataset, tmp_path / "bad", ignore=shutil.ignore_patterns(".lacvid-cache.zarr"))
    (bad / "shot0001" / "color" / "0003.png").write_bytes(b"garbage")
    res = cli("train", bad, "-o", tmp_path / "run", "--steps", "1", "--perceptual", "none", "--size", "32",
              "--workers", "0")
    assert res.exit_code == 2
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("lacvid: error:")]
    # One error line naming the file (the caching bar may have drawn before the bad frame was met).
    assert len(errors) == 1 and str(bad / "shot0001" / "color" / "0003.png") in errors[0]
    assert "Traceback" not in res.stderr
    res = cli("train", tmp_path / "nowhere", "-o", tmp_path / "run2", "--steps", "1", "--perceptual", "none")
    assert res.exit_code == 2 and str(tmp_path / "nowhere") in res.stderr
