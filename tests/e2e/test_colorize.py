"""``lacvid colorize`` end to end on a generated three-shot clip with a tiny random model.

The clip is three ``lacvid.synth`` shots joined by hard cuts: exact line art as the input and the
synth colour truth as the painted keys (first and last frame of every shot). The model is
random-initialised at width 4, so these tests check the pipeline's contracts (shapes, names,
audio, resume, palette, errors), never colouring quality (``benchmarks/quality.py`` does that).
"""

from __future__ import annotations

import json
import math
import shutil
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import torch
import zarr

from lacvid import ColorizeOptions, colorize, media
from lacvid.models.checkpoint import build_net, save_checkpoint
from lacvid.models.config import ColorNetConfig, ModelConfig, TemporalNetConfig
from lacvid.models.runtime import default_model_path
from lacvid.pipeline.cache import input_fingerprint
from lacvid.shots.detect import Shot
from lacvid.synth import render_shot
from tests.support.checks import assert_no_temporaries, assert_one_error_line

H, W = 64, 96          # 3 shots of seed 2 at this size are cut where drawn (checked below)
SEED, SHOTS, PER_SHOT = 2, 3, 8
N = SHOTS * PER_SHOT
FPS = 24
TRUE_SHOTS = [Shot(s * PER_SHOT, (s + 1) * PER_SHOT) for s in range(SHOTS)]
KEY_FRAMES = [i for s in TRUE_SHOTS for i in (s.start, s.stop - 1)]

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ----------------------------------------------------------------------------- helpers


def _write_rgb(path: Path, rgb: np.ndarray) -> None:
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)), path


def _read_rgb(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert img is not None, path
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def _encode_with_audio(path: Path, frames: list[np.ndarray], fps: int = FPS) -> Path:
    """Line art (gray uint8) -> H.264 MP4 with an interleaved AAC tone, written with PyAV (not lacvid)."""
    with av.open(str(path), mode="w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = W, H, "yuv420p"
        video.options = {"crf": "10", "preset": "ultrafast"}
        audio = container.add_stream("aac", rate=48000)
        audio.layout = "stereo"
        chunk = audio.codec_context.frame_size or 1024
        done = 0
        for i, gray in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(np.repeat(gray[..., None], 3, 2), format="rgb24")
            vf.pts, vf.time_base = i, Fraction(1, fps)
            for packet in video.encode(vf):
                container.mux(packet)
            until = (i + 1) * 48000 // fps
            while done < until:
                t = np.arange(done, min(until, done + chunk)) / 48000
                part = (0.3 * np.sin(2 * math.pi * 440 * t)).astype(np.float32)
                af = av.AudioFrame.from_ndarray(np.stack([part, part]), format="fltp", layout="stereo")
                af.sample_rate, af.pts = 48000, done
                for packet in audio.encode(af):
                    container.mux(packet)
                done += part.size
        for stream in (video, audio):
            for packet in stream.encode(None):
                container.mux(packet)
    return path


def _frames_of(folder: Path) -> dict[str, np.ndarray]:
    return {p.name: _read_rgb(p) for p in sorted(folder.iterdir())}


def _done_counts(cache_dir: Path, source: Path) -> dict[str, int]:
    """Frames flagged complete in ``source``'s cache store, per kind: prep, run/colour, run/refined."""
    store = cache_dir / f"{input_fingerprint(source, media.probe(source).names)}.zarr"
    counts: dict[str, int] = {}
    if not store.exists():
        return counts
    for name, member in zarr.open_group(str(store), mode="r").members(max_depth=None):
        if name.endswith("/done"):
            group = name.rsplit("/", 1)[0]                     # prep-<id> or run-<id>/<stage>
            kind = group.split("-", 1)[0] + ("/" + group.rsplit("/", 1)[1] if "/" in group else "")
            counts[kind] = counts.get(kind, 0) + int(np.asarray(member[:]).sum())
    return counts


def _copy_input(clip: dict, where: Path) -> Path:
    """The clip's frames under another path: its own cache entries in the shared cache folder.

    One cache folder serves the whole module so the per-checkpoint work kept there (the
    ONNX export, seconds) is done once; runs are still independent, as the cache is per input.
    """
    return Path(shutil.copytree(clip["lines_dir"], where))


class InterruptAfter:
    """A ``Progress`` whose task ``description`` raises KeyboardInterrupt (as Ctrl-C would) after ``n`` frames."""

    def __init__(self, description: str, n: int) -> None:
        self.description, self.n, self.count = description, n, 0

    def task(self, description: str, total: int | None = None, unit: str = "frames"):
        owner, armed = self, description == self.description

        class _Task:
            def advance(self, n: int = 1) -> None:
                if armed:
                    owner.count += n
                    if owner.count >= owner.n:
                        raise KeyboardInterrupt

            def update(self, *, total: int | None = None, description: str | None = None) -> None:
                pass

            def close(self) -> None:
                pass

        return _Task()

    def log(self, message: str) -> None:
        pass


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> dict:
    """The generated clip as a frame folder and a video, its keys for each, a tiny model, a cache."""
    root = tmp_path_factory.mktemp("colorize")
    lines_dir, keys_dir, vkeys_dir = root / "lines", root / "keys", root / "vkeys"
    for d in (lines_dir, keys_dir, vkeys_dir):
        d.mkdir()
    lines, colors = [], []
    for s in range(SHOTS):
        for color, ink in render_shot(SEED, s, PER_SHOT, H, W):
            lines.append(ink)
            colors.append(color)
    for i, ink in enumerate(lines):
        assert cv2.imwrite(str(lines_dir / f"{i:04d}.png"), ink)
    for i in KEY_FRAMES:
        _write_rgb(keys_dir / f"{i:04d}.png", colors[i])     # named like the frame they paint
        _write_rgb(vkeys_dir / f"{i:06d}.png", colors[i])    # named by frame index, as lacvid keys writes
    video = _encode_with_audio(root / "lines.mp4", lines)

    torch.manual_seed(0)
    config = ModelConfig(color=ColorNetConfig(width=4, res_blocks=1), temporal=TemporalNetConfig(width=4))
    model = save_checkpoint(root / "tiny.pt", config=config,
                            nets={"color": build_net("color", config), "temporal": build_net("temporal", config)})
    return dict(root=root, lines_dir=lines_dir, keys_dir=keys_dir, vkeys_dir=vkeys_dir, video=video,
                model=model, cache=root / "cache", lines=lines, colors=colors)


@pytest.fixture(scope="module")
def dir_run(clip, tmp_path_factory) -> Path:
    """The issue's exact scripted form (plus --model and --cache): a frame folder in, a frame folder out."""
    from lacvid.cli import app
    from tests.support.cli import cli_runner

    out = tmp_path_factory.mktemp("dirout") / "painted"
    result = cli_runner().invoke(app, ["colorize", str(clip["lines_dir"]), "--keys", str(clip["keys_dir"]),
                                      "-o", str(out), "-q", "--model", str(clip["model"]),
                                      "--cache", str(clip["cache"])])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{out}\n"      # only the output path: scripts read it
    assert result.stderr == ""              # -q: errors only
    return out


def _options(clip: dict, **kw) -> ColorizeOptions:
    return ColorizeOptions(model=clip["model"], device="cpu", cache_dir=clip["cache"], **kw)


# ----------------------------------------------------------------------------- end to end


def test_generated_clip_has_the_cuts_it_was_drawn_with(cli, clip) -> None:
    """The premise of every test below: the detector (``lacvid shots``) finds exactly the drawn cuts."""
    want = [{"start": s.start, "stop": s.stop} for s in TRUE_SHOTS]
    for source in (clip["lines_dir"], clip["video"]):
        result = cli("shots", source, "--json", "-q")
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["shots"] == want, source


def test_directory_in_directory_out(clip, dir_run) -> None:
    inputs = sorted(p.name for p in clip["lines_dir"].iterdir())
    assert sorted(p.name for p in dir_run.iterdir()) == inputs
    frames = _frames_of(dir_run)
    for name, image in frames.items():
        assert image.shape == (H, W, 3), name
    for i in KEY_FRAMES:  # key frames come out exactly as painted
        np.testing.assert_array_equal(frames[f"{i:04d}.png"], clip["colors"][i])
    # every other frame is painted (not left as line art): white paper is rare in the synth palettes
    for i in set(range(N)) - set(KEY_FRAMES):
        assert (frames[f"{i:04d}.png"] == 255).all(axis=2).mean() < 0.5, i
    assert_no_temporaries(dir_run.parent)


def test_library_reports_shots_keys_and_stages(clip, tmp_path) -> None:
    result = colorize(clip["lines_dir"], clip["keys_dir"], tmp_path / "out", _options(clip, flat=False))
    assert result.frames == N
    assert result.shots == TRUE_SHOTS
    assert result.keys == KEY_FRAMES
    assert {"scan", "colour", "temporal", "compose+encode"} <= set(result.stage_seconds)
    assert all(v >= 0 for v in result.stage_seconds.values())


def test_video_in_video_out_keeps_audio(cli, clip, tmp_path) -> None:
    out = tmp_path / "painted.mp4"
    result = cli("colorize", clip["video"], "--keys", clip["vkeys_dir"], "-o", out, "--model", clip["model"],
                 "--cache", clip["cache"], "-q")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{out}\n"
    info = media.probe(out)
    assert (info.width, info.height, info.fps, info.audio_streams) == (W, H, Fraction(FPS), 1)
    decoded = [f.image for f in media.read_frames(out)]
    assert len(decoded) == N
    assert info.frame_count in (None, N)
    with av.open(str(out)) as c:
        audio = c.streams.audio[0]
        assert audio.codec_context.name == "aac"
        seconds = float(audio.duration * audio.time_base) if audio.duration else None
    assert seconds is None or abs(seconds - N / FPS) < 0.1
    for i in KEY_FRAMES:  # the painted keys, through a lossy codec
        diff = np.abs(decoded[i].astype(np.int16) - clip["colors"][i].astype(np.int16))
        assert diff.mean() < 6, (i, diff.mean())


def test_exact_scripted_form_with_the_bundled_model(cli, clip, tmp_path, monkeypatch) -> None:
    """``lacvid colorize LINES_DIR --keys KEYS_DIR -o OUT_DIR -q``, literally, prints only OUT_DIR."""
    if not default_model_path().is_file():
        pytest.skip(f"the bundled model {default_model_path()} is not in this checkout yet")
    monkeypatch.setenv("LACVID_CACHE", str(tmp_path / "cache"))  # the documented default, kept out of ~
    out = tmp_path / "painted"
    result = cli("colorize", clip["lines_dir"], "--keys", clip["keys_dir"], "-o", out, "-q")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{out}\n"
    assert result.stderr == ""
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in clip["lines_dir"].iterdir())
    assert {_read_rgb(p).shape for p in out.iterdir()} == {(H, W, 3)}


# ----------------------------------------------------------------------------- flat output


def test_flat_output_holds_only_palette_colors_inside_regions(clip, dir_run) -> None:
    """Every pixel >= 2 px from ink is a colour painted in one of its shot's keys (``--flat`` is the default)."""
    for shot in TRUE_SHOTS:
        keys = [clip["colors"][i] for i in KEY_FRAMES if shot.start <= i < shot.stop]
        painted = {tuple(c) for k in keys for c in np.unique(k.reshape(-1, 3), axis=0)}
        for t in range(shot.start, shot.stop):
            ink = clip["lines"][t] < 255                                            # any ink, anti-aliasing included
            away = cv2.distanceTransform((~ink).astype(np.uint8), cv2.DIST_L2, 5) >= 2
            out = _read_rgb(dir_run / f"{t:04d}.png")[away]                         # (P, 3)
            colors = {tuple(c) for c in np.unique(out, axis=0)}
            stray = colors - painted
            assert not stray, f"frame {t}: {len(stray)} colours no key of shot {shot} holds, e.g. {sorted(stray)[:3]}"


# ----------------------------------------------------------------------------- resume


@pytest.mark.parametrize("stage,after", [("scanning", 10), ("colorizing", 13)])
def test_resume_after_interruption_gives_identical_output(clip, dir_run, tmp_path, stage, after) -> None:
    source, out = _copy_input(clip, tmp_path / "lines"), tmp_path / "painted"
    with pytest.raises(KeyboardInterrupt):
        colorize(source, clip["keys_dir"], out, _options(clip), InterruptAfter(stage, after))
    assert not out.exists()           # nothing under the final name ...
    assert_no_temporaries(tmp_path)           # ... nor a half-written temporary beside it
    done = _done_counts(clip["cache"], source)
    if stage == "scanning":
        assert 0 < done.get("prep", 0) < N, done       # stopped part-way through the scan
    else:
        assert done.get("prep") == N and done.get("run/finished", 0) > 0, done   # (no network ran: flat keys)

    result = colorize(source, clip["keys_dir"], out, _options(clip))
    assert result.frames == N
    ours, reference = _frames_of(out), _frames_of(dir_run)   # dir_run: uninterrupted, its own cache entries
    assert list(ours) == list(reference)
    for name in reference:
        assert ours[name].tobytes() == reference[name].tobytes(), name


def test_cache_never_serves_results_of_other_keys(clip, dir_run, tmp_path) -> None:
    """A rerun with repainted keys (same input, same cache) must equal a run from an empty cache.

    The cached network outputs depend on the keys (and on the shot boundaries), so they must
    key the cache; otherwise the rerun silently reuses colours computed from the old keys.
    ``dir_run`` has filled the cache of this input with the original keys' network outputs.
    """
    repainted = tmp_path / "repainted"
    repainted.mkdir()
    for i in KEY_FRAMES:   # the same drawing painted in other colours: RGB -> BRG
        _write_rgb(repainted / f"{i:04d}.png", np.ascontiguousarray(clip["colors"][i][..., [2, 0, 1]]))
    opts = dict(flat=False, warp=False)  # the networks' colour alone reaches the output
    colorize(clip["lines_dir"], repainted, tmp_path / "rerun", _options(clip, **opts))
    colorize(_copy_input(clip, tmp_path / "lines"), repainted, tmp_path / "fresh", _options(clip, **opts))
    rerun, fresh = _frames_of(tmp_path / "rerun"), _frames_of(tmp_path / "fresh")
    stale = [name for name in fresh if not np.array_equal(rerun[name], fresh[name])]
    assert not stale, f"frames {stale} came from the cache of the run with the old keys"


# ----------------------------------------------------------------------------- shots


def test_shots_single_treats_the_input_as_one_shot(cli, clip, tmp_path) -> None:
    one_key = tmp_path / "keys"
    one_key.mkdir()
    shutil.copy(clip["keys_dir"] / "0000.png", one_key)
    refused = cli("colorize", clip["lines_dir"], "--keys", one_key, "-o", tmp_path / "auto", "--model",
                  clip["model"], "--cache", clip["cache"], "-q")
    assert "shot 2" in assert_one_error_line(refused)           # detected shots 2 and 3 have no key
    result = colorize(clip["lines_dir"], one_key, tmp_path / "single", _options(clip, shots="single"))
    assert result.shots == [Shot(0, N)]
    assert len(list((tmp_path / "single").iterdir())) == N
    np.testing.assert_array_equal(_read_rgb(tmp_path / "single" / "0000.png"), clip["colors"][0])


def test_shots_from_a_json_file(cli, clip, tmp_path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    for i in (0, 16):
        shutil.copy(clip["keys_dir"] / f"{i:04d}.png", keys)
    shots_file = tmp_path / "shots.json"   # shots 1 and 2 of the clip taken as one: a cut the user overrules
    shots_file.write_text(json.dumps({"shots": [{"start": 0, "stop": 16}, {"start": 16, "stop": N}], "fps": None}))
    out = tmp_path / "out"
    result = cli("colorize", clip["lines_dir"], "--keys", keys, "-o", out, "--shots", shots_file, "--model",
                 clip["model"], "--cache", clip["cache"], "-q")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{out}\n"
    assert len(list(out.iterdir())) == N

    # the file `lacvid shots --json` writes is accepted as it is
    detected = cli("shots", clip["lines_dir"], "--json", "-q")
    (tmp_path / "detected.json").write_text(detected.stdout)
    result = colorize(clip["lines_dir"], clip["keys_dir"], tmp_path / "out2",
                      _options(clip, shots=str(tmp_path / "detected.json"), flat=False))
    assert result.shots == TRUE_SHOTS

    shots_file.write_text(json.dumps({"shots": [{"start": 0, "stop": 16}]}))  # does not cover the input
    refused = cli("colorize", clip["lines_dir"], "--keys", keys, "-o", tmp_path / "out3", "--shots", shots_file,
                  "--model", clip["model"], "--cache", clip["cache"], "-q")
    assert str(shots_file) in assert_one_error_line(refused)
    assert not (tmp_path / "out3").exists()


# ----------------------------------------------------------------------------- bad input


def _keys_copy(clip: dict, where: Path, frames=KEY_FRAMES) -> Path:
    where.mkdir()
    for i in frames:
        shutil.copy(clip["keys_dir"] / f"{i:04d}.png", where)
    return where


def _bad_missing_shot_key(clip, tmp):
    return clip["lines_dir"], _keys_copy(clip, tmp / "k", [0, 7, 16, 23]), [], ["shot 2", "frames 8 to 15"]


def _bad_key_matches_no_frame(clip, tmp):
    keys = _keys_copy(clip, tmp / "k")
    _write_rgb(keys / "9999.png", clip["colors"][0])
    return clip["lines_dir"], keys, [], ["9999.png"]


def _bad_key_wrong_size(clip, tmp):
    keys = _keys_copy(clip, tmp / "k")
    _write_rgb(keys / "0008.png", cv2.resize(clip["colors"][8], (W * 2, H * 2)))
    return clip["lines_dir"], keys, [], ["0008.png", f"{W * 2}x{H * 2}"]


def _bad_key_unreadable(clip, tmp):
    keys = _keys_copy(clip, tmp / "k")
    (keys / "0008.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not a png")
    return clip["lines_dir"], keys, [], ["0008.png"]


def _bad_empty_input(clip, tmp):
    (tmp / "empty").mkdir()
    return tmp / "empty", clip["keys_dir"], [], ["empty"]


def _bad_corrupt_video(clip, tmp):
    video = tmp / "corrupt.mp4"
    video.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    return video, clip["vkeys_dir"], [], ["corrupt.mp4"]


def _bad_truncated_video(clip, tmp):
    video = tmp / "truncated.mp4"
    data = clip["video"].read_bytes()
    video.write_bytes(data[: len(data) // 2])
    return video, clip["vkeys_dir"], [], ["truncated.mp4"]


def _bad_missing_model(clip, tmp):
    return clip["lines_dir"], clip["keys_dir"], ["--model", str(tmp / "nope.pt")], ["nope.pt"]


def _bad_corrupt_model(clip, tmp):
    model = tmp / "corrupt.pt"
    model.write_bytes(clip["model"].read_bytes()[:2000])
    return clip["lines_dir"], clip["keys_dir"], ["--model", str(model)], ["corrupt.pt"]


BAD_INPUTS = [_bad_missing_shot_key, _bad_key_matches_no_frame, _bad_key_wrong_size, _bad_key_unreadable,
              _bad_empty_input, _bad_corrupt_video, _bad_truncated_video, _bad_missing_model, _bad_corrupt_model]


@pytest.mark.parametrize("make_case", BAD_INPUTS, ids=lambda f: f.__name__[5:])
def test_bad_input_is_one_line_exit_2_nothing_written(cli, clip, tmp_path, make_case) -> None:
    source, keys, extra, named = make_case(clip, tmp_path)
    out = tmp_path / ("out.mp4" if source.suffix == ".mp4" else "out")
    args = ["colorize", source, "--keys", keys, "-o", out, "--cache", clip["cache"], "-q"]
    if "--model" not in extra:
        extra = [*extra, "--model", str(clip["model"])]
    line = assert_one_error_line(cli(*args, *extra))
    for word in named:
        assert word in line, line
    assert not out.exists()
    assert_no_temporaries(tmp_path)


def test_existing_output_is_refused_and_left_untouched(cli, clip, tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "0000.png").write_bytes(b"the user's work")
    before = (out / "0000.png").stat().st_mtime_ns
    line = assert_one_error_line(cli("colorize", clip["lines_dir"], "--keys", clip["keys_dir"], "-o", out,
                                     "--model", clip["model"], "--cache", clip["cache"]))
    assert str(out) in line and "--overwrite" in line
    assert [p.name for p in out.iterdir()] == ["0000.png"]
    assert (out / "0000.png").read_bytes() == b"the user's work"
    assert (out / "0000.png").stat().st_mtime_ns == before
    assert_no_temporaries(tmp_path)


def test_unwritable_output_is_refused(cli, clip, tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for out in (blocker / "out", blocker / "out.mp4"):
        line = assert_one_error_line(cli("colorize", clip["lines_dir"], "--keys", clip["keys_dir"], "-o", out,
                                         "--model", clip["model"], "--cache", clip["cache"], "-q"))
        assert str(blocker) in line
    assert blocker.read_text() == "not a folder"
