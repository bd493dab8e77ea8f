"""Plumbing every layer shares, knowing nothing of line art or video.

- ``outputs``: outputs written under a temporary name and published whole; input protection;
- ``store``: Zarr arrays of per-frame data written "done last";
- ``hashing``: cache keys (settings, file contents, file stats);
- ``devices``: the torch device a run asks for;
- ``arrays``: uint8 <-> float array conversions;
- ``cache_home``: where caches live (``$LACVID_CACHE``, XDG);
- ``kernels``: Numba kernels behind checked wrappers, run in ``numba_threads``;
- ``checks``: ``check_array``, the one dtype/shape/contiguity check of every array argument.
"""
