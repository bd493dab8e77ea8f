"""Copying a source's sound into an encoded video, interleaved with the frames."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import av
import av.error

from lacvid.errors import MediaError
from lacvid.media.probe import open_video, reason
from lacvid.progress import Progress, warn


class AudioCopy:
    """Copies the audio streams of ``source`` into ``output``, interleaved with the video.

    Packets are remuxed untouched when the output container accepts the codec; otherwise
    that stream is decoded and re-encoded to AAC (and the caller is warned).
    """

    def __init__(self, source: Path, output: Any, progress: Progress) -> None:
        if not Path(source).exists():
            raise MediaError(f"audio source {source} does not exist; check the --audio-from path")
        self.source = source
        self.input = open_video(source)
        streams = list(self.input.streams.audio)
        if not streams:
            self.input.close()
            raise MediaError(f"{source} has no audio stream; drop --audio-from or give a file with sound")
        self.map: dict[int, Any] = {}  # input stream index -> output stream
        self.reencode: set[int] = set()
        for stream in streams:
            if self._remux_ok(stream, output.format.name):
                self.map[stream.index] = output.add_stream_from_template(stream)
            else:
                codec = stream.codec_context.name
                warn(progress, f"{output.format.name} cannot hold {codec} audio from {source}; "
                               "re-encoding it to AAC (use .mkv or .mov to keep it untouched)")
                rate = stream.codec_context.sample_rate or 48000
                out = output.add_stream("aac", rate=rate)
                out.layout = "stereo" if stream.codec_context.channels >= 2 else "mono"
                self.map[stream.index] = out
                self.reencode.add(stream.index)
        self._packets = self.input.demux(streams)
        self._pending: Any = None
        self.output = output

    def _remux_ok(self, stream: Any, fmt: str) -> bool:
        """Mux a few packets into an in-memory container of the same format: some refusals
        (e.g. MP4 and unlabelled PCM channel layouts) only surface when the file is finished."""
        buf = io.BytesIO()
        try:
            with av.open(str(self.source)) as probe_in:
                trial = av.open(buf, mode="w", format=fmt)
                try:
                    out = trial.add_stream_from_template(probe_in.streams[stream.index])
                    n = 0
                    for packet in probe_in.demux(probe_in.streams[stream.index]):
                        if packet.dts is None:
                            continue
                        packet.stream = out
                        trial.mux(packet)
                        n += 1
                        if n >= 4:
                            break
                finally:
                    trial.close()
            return True
        except (av.error.FFmpegError, ValueError, TypeError):
            return False

    def _mux(self, packet: Any) -> None:
        out = self.map[packet.stream.index]
        if packet.stream.index in self.reencode:
            for frame in packet.decode():
                frame.pts = None  # the encoder's resampler restamps in its own time base
                for p in out.encode(frame):
                    self.output.mux(p)
        else:
            packet.stream = out
            self.output.mux(packet)

    def pump(self, until: float | None) -> None:
        """Mux source audio up to ``until`` seconds (all of it when None)."""
        try:
            while True:
                packet = self._pending if self._pending is not None else next(self._packets, None)
                self._pending = None
                if packet is None:
                    break
                if packet.dts is None and packet.pts is None:
                    if packet.stream.index in self.reencode:
                        self._mux(packet)  # a flush packet drains the decoder
                    continue
                ts = packet.pts if packet.pts is not None else packet.dts
                if until is not None and float(ts * packet.time_base) > until:
                    self._pending = packet
                    break
                self._mux(packet)
            if until is None:
                for index in self.reencode:
                    for p in self.map[index].encode(None):
                        self.output.mux(p)
        except av.error.FFmpegError as exc:
            raise MediaError(f"cannot copy the audio of {self.source} ({reason(exc)}); it is corrupt, "
                             "so drop --audio-from or re-export it") from exc

    def close(self) -> None:
        self.input.close()
