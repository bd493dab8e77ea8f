"""Reading and writing frames: video files (through PyAV/FFmpeg) and directories of images.

Everything streams: a clip of any length is read and written one frame at a time, so memory
stays constant. Colour frames are uint8 RGB ``(H, W, 3)`` everywhere.

- ``images``: still images in and out, frame-folder listing;
- ``probe``: ``Frame``, ``MediaInfo``, ``probe(path)``;
- ``read``: ``read_frames(path)``;
- ``audio``: the source's sound copied into an encoded video;
- ``write``: ``open_writer`` / ``VideoWriter`` / ``FrameDirWriter``, ``extract_frames``, ``encode_video``.
"""

# Library log lines would land on stderr before lacvid's one line saying what was wrong. PyAV
# keeps FFmpeg's log off by default (level None), and it must stay so: a Python log callback can
# deadlock frame-threaded decoding. x264 prints an unknown preset itself before FFmpeg's log is
# set up, hence ``write.check_preset``; OpenCV is silenced in ``images``.

from lacvid.media.images import IMAGE_SUFFIXES, natural_key, read_image, write_image
from lacvid.media.probe import DEFAULT_FPS, Frame, MediaInfo, parse_fps, probe
from lacvid.media.read import read_frames
from lacvid.media.write import (
    FrameDirWriter,
    FrameWriter,
    VideoWriter,
    encode_video,
    extract_frames,
    open_writer,
)

__all__ = [
    "DEFAULT_FPS", "IMAGE_SUFFIXES", "Frame", "FrameDirWriter", "FrameWriter", "MediaInfo", "VideoWriter",
    "encode_video", "extract_frames", "natural_key", "open_writer", "parse_fps", "probe", "read_frames",
    "read_image", "write_image",
]
