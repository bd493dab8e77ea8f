"""Shots and keys: where the cuts are, which frames to paint, whether a key fits its frame.

- ``detect``: ``Shot`` and the streaming cut detector;
- ``suggest``: the frames of each shot worth painting (``lacvid keys``);
- ``key_check``: how far a painted key's lines stray from its frame's line art.
"""

from lacvid.shots.detect import Shot, ShotDetector, ShotSettings, detect_shots

__all__ = ["Shot", "ShotDetector", "ShotSettings", "detect_shots"]
