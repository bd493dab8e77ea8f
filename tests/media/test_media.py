"""lacvid.media: probing, streaming reads, writers, odd sizes, audio copy and bad input."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from lacvid import media
from lacvid.errors import MediaError, OutputExistsError
from lacvid.util.outputs import TMP_MARKER

NTSC = Fraction(24000, 1001)


class Recorder:
    """A real ``Progress`` that keeps what it was told, to check warnings reach the user."""

    def __init__(self) -> None:
        self.logs: list[str] = []
        self.advanced = 0

    def task(self, description: str, total: int | None = None, unit: str = "frames") -> Recorder:
        return self

    def advance(self, n: int = 1) -> None:
        self.advanced += n

    def update(self, *, total: int | None = None, description: str | None = None) -> None:
        pass

    def close(self) -> None:
        pass

    def log(self, message: str) -> None:
        self.logs.append(message)


def _streams(path: Path) -> list[tuple[str, str]]:
    with av.open(str(path)) as c:
        return [(s.type, s.codec_context.name) for s in c.streams]


def _no_leftovers(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if TMP_MARKER in p.name]


# --------------------------------------------------------------------------- helpers


def test_natural_key_orders_numbers_as_numbers() -> None:
    names = ["10.png", "2.png", "frame_1.png", "1.png", "frame_10.png", "frame_9.png", "01.png"]
    assert sorted(names, key=media.natural_key) == [
        "01.png", "1.png", "2.png", "10.png", "frame_1.png", "frame_9.png", "frame_10.png"]


@pytest.mark.parametrize("text, expected", [
    ("24", Fraction(24)), ("23.976", NTSC), ("24000/1001", NTSC), ("29.97", Fraction(30000, 1001)),
    ("59.94", Fraction(60000, 1001)), ("12.5", Fraction(25, 2)), ("25", Fraction(25)),
])
def test_parse_fps_is_exact(text: str, expected: Fraction) -> None:
    assert media.parse_fps(text) == expected


@pytest.mark.parametrize("text", ["abc", "0", "-24", "24/0", "1e9"])
def test_parse_fps_rejects_nonsense(text: str) -> None:
    with pytest.raises(ValueError):
        media.parse_fps(text)


def test_read_image_normalises_gray_alpha_and_16_bit(tmp_path: Path) -> None:
    gray = np.array([[0, 128], [200, 255]], np.uint8)
    cv2.imwrite(str(tmp_path / "g.png"), gray)
    rgb = media.read_image(tmp_path / "g.png")
    assert rgb.shape == (2, 2, 3) and rgb.dtype == np.uint8 and (rgb[..., 0] == gray).all()

    bgra = np.zeros((1, 2, 4), np.uint8)
    bgra[0, 0] = (255, 0, 0, 255)  # opaque blue
    bgra[0, 1] = (255, 0, 0, 0)  # fully transparent: paper
    cv2.imwrite(str(tmp_path / "a.png"), bgra)
    assert media.read_image(tmp_path / "a.png").tolist() == [[[0, 0, 255], [255, 255, 255]]]

    deep = np.full((2, 2, 3), 65535, np.uint16)
    deep[0, 0] = (0, 257 * 100, 257 * 200)  # BGR
    cv2.imwrite(str(tmp_path / "d.png"), deep)
    out = media.read_image(tmp_path / "d.png")
    assert out[0, 0].tolist() == [200, 100, 0] and out[1, 1].tolist() == [255, 255, 255]


def test_write_image_round_trips_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (7, 5, 3), dtype=np.uint8)
    media.write_image(tmp_path / "x.png", rgb)
    assert (media.read_image(tmp_path / "x.png") == rgb).all()
    lines = rng.integers(0, 256, (7, 5), dtype=np.uint8)
    media.write_image(tmp_path / "l.png", lines)
    assert (media.read_image(tmp_path / "l.png")[..., 1] == lines).all()
    with pytest.raises(ValueError):
        media.write_image(tmp_path / "f.png", rgb.astype(np.float32))


def test_read_image_bad_files(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="does not exist"):
        media.read_image(tmp_path / "nope.png")
    (tmp_path / "bad.png").write_text("not an image")
    with pytest.raises(MediaError, match="bad.png"):
        media.read_image(tmp_path / "bad.png")


# --------------------------------------------------------------------------- reading


def test_probe_video_without_decoding(make_video, tmp_path: Path) -> None:
    clip = make_video(tmp_path / "c.mp4", n_frames=9, size=(40, 30), fps=NTSC)
    info = media.probe(clip)
    assert (info.kind, info.width, info.height, info.frame_count, info.audio_streams) == ("video", 40, 30, 9, 1)
    assert info.fps == NTSC and isinstance(info.fps, Fraction)
    assert info.time_base is not None and info.names is None


def test_read_video_frames_in_order_with_times(make_video, frame_index, tmp_path: Path) -> None:
    clip = make_video(tmp_path / "c.mp4", n_frames=12, size=(48, 32), fps=NTSC, audio=False)
    frames = list(media.read_frames(clip))
    assert [f.index for f in frames] == list(range(12))
    assert [frame_index(f.image) for f in frames] == list(range(12))
    assert frames[0].image.shape == (32, 48, 3) and frames[0].image.dtype == np.uint8
    assert frames[3].name == "000003.png"
    assert frames[5].time == pytest.approx(5 * 1001 / 24000, abs=1e-4)
    part = list(media.read_frames(clip, start=4, stop=7))
    assert [(f.index, frame_index(f.image)) for f in part] == [(4, 4), (5, 5), (6, 6)]


def test_frame_dir_natural_order_and_gray(make_frames_dir, frame_index, tmp_path: Path) -> None:
    names = ["1.png", "2.png", "10.png"]  # content i goes to names[i]
    folder = make_frames_dir(tmp_path / "f", size=(16, 8), names=names)
    cv2.imwrite(str(folder / "20.png"), np.full((8, 16), 255, np.uint8))  # gray, sorts last
    (folder / "notes.txt").write_text("ignored")
    info = media.probe(folder)
    assert info.kind == "frames" and info.names == names + ["20.png"] and info.frame_count == 4
    assert (info.width, info.height, info.fps) == (16, 8, None)
    frames = list(media.read_frames(folder))
    assert [f.name for f in frames] == names + ["20.png"]
    assert [frame_index(f.image) for f in frames[:3]] == [0, 1, 2]
    assert frames[3].image.shape == (8, 16, 3)


def test_bad_inputs_raise_media_error(make_video, make_frames_dir, tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="does not exist"):
        media.probe(tmp_path / "missing.mp4")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MediaError, match="holds no images"):
        media.probe(tmp_path / "empty")
    (tmp_path / "text.mp4").write_text("this is not a video\n")
    with pytest.raises(MediaError, match="text.mp4"):
        media.probe(tmp_path / "text.mp4")
    clip = make_video(tmp_path / "c.mp4", n_frames=10)
    data = clip.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError, match="cut.mp4"):
        list(media.read_frames(tmp_path / "cut.mp4"))
    folder = make_frames_dir(tmp_path / "mixed", n_frames=3, size=(16, 8))
    cv2.imwrite(str(folder / "1.png"), np.zeros((9, 16, 3), np.uint8))
    with pytest.raises(MediaError, match=r"1\.png is 16x9 but 0\.png is 16x8"):
        list(media.read_frames(folder))


def test_corrupt_packets_mid_stream_become_media_error(make_video, tmp_path: Path) -> None:
    clip = make_video(tmp_path / "c.mp4", n_frames=30, audio=False)
    data = bytearray(clip.read_bytes())
    for i in range(2000, len(data) - 3000, 7):  # flip bytes in the media data, keep the header
        data[i] ^= 0xFF
    (tmp_path / "bad.mp4").write_bytes(bytes(data))
    with pytest.raises(MediaError, match="bad.mp4"):
        list(media.read_frames(tmp_path / "bad.mp4"))


# --------------------------------------------------------------------------- writing


def test_video_writer_keeps_ntsc_rate_and_odd_size(make_frame, frame_index, tmp_path: Path) -> None:
    rec = Recorder()
    out = tmp_path / "odd.mp4"
    with media.VideoWriter(out, fps=NTSC, width=33, height=17, progress=rec) as writer:
        for i in range(6):
            writer.write(make_frame(i, (33, 17)))
    info = media.probe(out)
    assert (info.width, info.height, info.frame_count, info.fps) == (33, 17, 6, NTSC)
    assert [frame_index(f.image) for f in media.read_frames(out)] == list(range(6))
    assert any("yuv444p" in m for m in rec.logs)
    assert _no_leftovers(tmp_path)


def test_video_writer_pads_odd_size_when_codec_lacks_444(tmp_path: Path) -> None:
    rec = Recorder()
    out = tmp_path / "odd.mkv"
    with media.VideoWriter(out, fps=Fraction(25), width=33, height=17, codec="mpeg4", progress=rec) as writer:
        for _ in range(3):
            writer.write(np.full((17, 33, 3), 200, np.uint8))
    info = media.probe(out)
    assert (info.width, info.height) == (34, 18)
    assert any("repeated" in m for m in rec.logs)


def test_even_size_stays_yuv420p(tmp_path: Path) -> None:
    rec = Recorder()
    out = tmp_path / "even.mp4"
    with media.VideoWriter(out, fps=Fraction(24), width=32, height=18, progress=rec) as writer:
        writer.write(np.zeros((18, 32, 3), np.uint8))
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.pix_fmt == "yuv420p"
    assert rec.logs == []


def test_audio_is_remuxed_untouched(make_video, tmp_path: Path) -> None:
    src = make_video(tmp_path / "src.mkv", n_frames=8, size=(32, 24), audio_codec="pcm_s16le")
    rec = Recorder()
    out = media.encode_video(src, tmp_path / "out.mkv", progress=rec)
    assert _streams(out) == [("video", "h264"), ("audio", "pcm_s16le")]
    with av.open(str(src)) as a, av.open(str(out)) as b:
        pa = [bytes(p) for p in a.demux(audio=0) if p.size]
        pb = [bytes(p) for p in b.demux(audio=0) if p.size]
    assert pa == pb  # packet for packet: copied, not re-encoded
    assert rec.logs == []


def test_audio_the_container_cannot_hold_is_reencoded_with_warning(make_video, tmp_path: Path) -> None:
    src = make_video(tmp_path / "src.mkv", n_frames=8, size=(32, 24), audio_codec="pcm_s16le")
    rec = Recorder()
    out = media.encode_video(src, tmp_path / "out.mp4", progress=rec)
    assert _streams(out) == [("video", "h264"), ("audio", "aac")]
    assert any("re-encoding" in m and "pcm_s16le" in m for m in rec.logs)
    with av.open(str(out)) as c:
        audio = c.streams.audio[0]
        assert float(audio.duration * audio.time_base) == pytest.approx(8 / 24, abs=0.05)


def test_writers_publish_nothing_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "v.mp4"
    with pytest.raises(ValueError):
        with media.VideoWriter(out, fps=Fraction(24), width=16, height=16) as writer:
            writer.write(np.zeros((16, 16, 3), np.uint8))
            writer.write(np.zeros((8, 8, 3), np.uint8))  # wrong size
    assert not out.exists() and _no_leftovers(tmp_path)
    folder = tmp_path / "frames"
    with pytest.raises(RuntimeError):
        with media.FrameDirWriter(folder) as writer:
            writer.write(np.zeros((4, 4, 3), np.uint8))
            raise RuntimeError("interrupted")
    assert not folder.exists() and _no_leftovers(tmp_path)


def test_writers_never_overwrite_unless_asked(tmp_path: Path) -> None:
    out = tmp_path / "v.mp4"
    out.write_bytes(b"precious")
    with pytest.raises(OutputExistsError):
        media.VideoWriter(out, fps=Fraction(24), width=16, height=16)
    assert out.read_bytes() == b"precious"
    with media.VideoWriter(out, fps=Fraction(24), width=16, height=16, overwrite=True) as writer:
        writer.write(np.zeros((16, 16, 3), np.uint8))
    assert media.probe(out).frame_count == 1 and _no_leftovers(tmp_path)


def test_open_writer_picks_by_suffix(make_video, tmp_path: Path) -> None:
    info = media.probe(make_video(tmp_path / "c.mp4", n_frames=4, size=(32, 24), fps=NTSC))
    frames_writer = media.open_writer(tmp_path / "out", info)
    assert isinstance(frames_writer, media.FrameDirWriter)
    frames_writer.write(np.zeros((24, 32, 3), np.uint8), "a.png")
    assert frames_writer.close() == tmp_path / "out" and (tmp_path / "out" / "a.png").is_file()
    video_writer = media.open_writer(tmp_path / "out.mkv", info)
    assert isinstance(video_writer, media.VideoWriter)
    for f in media.read_frames(info.path):
        video_writer.write(f.image)
    video_writer.close()
    out = media.probe(tmp_path / "out.mkv")
    assert out.fps == NTSC and out.audio_streams == 1  # rate and sound of `like` by default
