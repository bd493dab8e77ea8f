"""Only the keys' colours: any colour projected onto the set of colours the painted keys hold.

The keys are the whole of what the animator asked for. A colour none of them holds (the
network's green tint on a grey shot, a blend the upsampling made between two fills) is an
error a viewer sees at once, however close it is in RGB. So the paint a frame gets is moved
to the nearest colour the keys hold, off their ink.

The set can be large (painted gradients hold tens of thousands of colours), so it is kept as
a table over RGB quantised to ``BITS`` bits a channel: a colour in a cell some key colour
occupies is one the keys hold, within the cell's size (``256 >> BITS`` levels a channel), and
stays as it is (a painted gradient keeps every level); a colour in an empty cell moves to the
most frequent key colour of the nearest occupied cell (a Euclidean distance transform over the
RGB cube). Projecting a frame is one lookup per pixel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from lacvid.util.arrays import most_common, rgb_cells
from lacvid.util.checks import check_array
from lacvid.util.kernels import distinct_colors

BITS = 6  # 64 levels a channel: cells of 4 levels, a table of 262,144 entries


@dataclass(frozen=True)
class KeyColors:
    """The colours of a shot's keys, ready to project onto."""

    table: np.ndarray     # uint8 (2 ** (3 * BITS), 3): the key colour an empty cell's colours move to
    occupied: np.ndarray  # bool (2 ** (3 * BITS),): cells holding a key colour (their colours stay)

    @classmethod
    def of(cls, keys: Sequence[np.ndarray], clean: Sequence[np.ndarray]) -> KeyColors:
        """``keys`` uint8 (H, W, 3) as painted; ``clean`` bool (H, W) each: their pixels with no ink
        in them (a stroke's anti-aliased edge is neither fill nor ink colour)."""
        if not keys:
            raise ValueError("a shot needs at least one key to take its colours from")
        pixels = []
        for key, mask in zip(keys, clean):
            check_array(key, "key", np.uint8, ("H", "W", 3))
            check_array(mask, "clean", np.bool_, key.shape[:2])
            pixels.append(key[mask] if mask.any() else key.reshape(-1, 3))
        colors, inverse = distinct_colors(np.ascontiguousarray(np.concatenate(pixels)))  # (U, 3), (N,)
        counts = np.bincount(inverse, minlength=len(colors))                              # (U,)
        # Per occupied cell, its most frequent key colour.
        cells, best = most_common(rgb_cells(colors, BITS), np.arange(len(colors)), counts)  # (C,), (C,)
        levels = 1 << BITS
        occupied = np.zeros((levels,) * 3, bool)
        occupied.reshape(-1)[cells] = True
        # Every cell's nearest occupied cell.
        nearest = ndimage.distance_transform_edt(~occupied, return_distances=False, return_indices=True)  # (3, L, L, L)
        nearest_cell = (nearest[0] << (2 * BITS)) | (nearest[1] << BITS) | nearest[2]                   # (L, L, L)
        representative = np.zeros((levels ** 3, 3), np.uint8)
        representative[cells] = colors[best]
        return cls(np.ascontiguousarray(representative[nearest_cell.reshape(-1)]), occupied.reshape(-1))

    def project(self, rgb: np.ndarray) -> np.ndarray:
        """uint8 (H, W, 3): ``rgb`` with every colour the keys do not hold moved to the nearest they do."""
        check_array(rgb, "rgb", np.uint8, ("H", "W", 3))
        cell = rgb_cells(rgb, BITS)                                        # (H, W)
        return np.where(self.occupied[cell][..., None], rgb, self.table[cell])

