"""Drawing a part onto a cel: its flat fill, cel shading, stripes and features, all inked.

Every boundary between two fills gets an anti-aliased ink line, so region fills on the line
art recover the color regions exactly (the property the flat fills and their tests rely on).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from lacvid.synth.rig import ONE, SHIFT, Affine, Part, apply, fixed


class Canvas:
    """A colour-fill canvas and its line art, drawn in painter's order."""

    def __init__(self, color: np.ndarray, lines: np.ndarray, width: int, light: np.ndarray,
                 shade: np.ndarray | None = None) -> None:
        self.h, self.w = lines.shape
        self.color = color  # (H, W, 3) flat fills, no ink
        self.lines = lines  # (H, W) 255 = paper
        self.width = width
        self.detail_width = max(1, width - 1)
        self.light = light  # unit vector pointing towards the light
        # The cel-shadow boundaries alone (they are in ``lines`` too), 255 = none: a style may colour them.
        self.shade = np.full_like(lines, 255) if shade is None else shade

    def draw(self, part: Part, parent: Affine, t: float) -> None:
        m = part.matrix(parent, t)
        poly = apply(m, part.shape.points(t))  # (N, 2) px
        x0, y0 = np.floor(poly.min(0)).astype(int) - 2
        x1, y1 = np.ceil(poly.max(0)).astype(int) + 3
        if x1 < 0 or y1 < 0 or x0 >= self.w or y0 >= self.h:
            return
        pts = fixed(poly)
        mask_u8 = np.zeros((self.h, self.w), np.uint8)
        cv2.fillPoly(mask_u8, [pts], 1, lineType=cv2.LINE_8, shift=SHIFT)
        mask = mask_u8.astype(bool)  # (H, W)
        if not mask.any():
            return
        fill = np.array(part.fill, np.uint8)
        before = self.color.copy()
        self.color[mask] = fill
        ink, shade = self._details(part, m, t, poly, mask)  # inner lines, clipped to the part below
        ink[~mask] = 255
        shade[~mask] = 255
        self.lines[mask] = 255  # this part hides the lines of everything behind it
        self.shade[mask] = 255
        np.minimum(self.lines, ink, out=self.lines)
        np.minimum(self.shade, shade, out=self.shade)
        cv2.polylines(self.lines, [pts], True, 0, self.width, cv2.LINE_AA, SHIFT)
        # A fill pixel the stroke missed (a sharp corner's tip) would be a colour edge without
        # ink: give it back the colour underneath, so every colour boundary stays inked.
        edge = mask & ~cv2.erode(mask_u8, np.ones((3, 3), np.uint8)).astype(bool) & (self.lines == 255)
        self.color[edge] = before[edge]
        for child in part.children:
            self.draw(child, m, t)
        self._features(part, m)

    def _details(self, part: Part, m: Affine, t: float, poly: np.ndarray, mask: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Paint the part's stripes and cel shadow; return their ink lines and the shadow boundary
        alone, both (H, W), 255 = paper."""
        ink = np.full((self.h, self.w), 255, np.uint8)
        shade_ink = np.full((self.h, self.w), 255, np.uint8)
        if part.stripes or part.shade:
            ys, xs = np.nonzero(mask)
            inv = np.linalg.inv(m)
            local = np.stack([xs, ys], 1) @ inv[:2, :2].T + inv[:2, 2]  # (P, 2) part units
            reach = 2.0 * float(np.abs(part.shape.points(t)).max())  # past the outline, in part units
            for centre, width, sfill in part.stripes:
                band = np.abs(local[:, 1] - centre) < width / 2
                self.color[ys[band], xs[band]] = sfill
                for edge in (centre - width / 2, centre + width / 2):
                    seg = apply(m, np.array([[-reach, edge], [reach, edge]]))
                    cv2.line(ink, tuple(fixed(seg[0])[0, 0]), tuple(fixed(seg[1])[0, 0]), 0,
                             self.detail_width, cv2.LINE_AA, SHIFT)
            if part.shade:
                centre = poly.mean(0)
                radius = float(np.abs(poly - centre).max())
                # The shadow is on the side away from the light, whatever the part's rotation.
                offset = 0.15 * radius
                d = (np.stack([xs, ys], 1) - centre) @ -self.light  # (P,)
                shade = d > offset
                self.color[ys[shade], xs[shade]] = (self.color[ys[shade], xs[shade]] * 0.68).astype(np.uint8)
                base = centre - self.light * offset
                perp = np.array([-self.light[1], self.light[0]]) * 3 * radius
                p0, p1 = fixed(base - perp)[0, 0], fixed(base + perp)[0, 0]
                cv2.line(ink, tuple(p0), tuple(p1), 0, self.detail_width, cv2.LINE_AA, SHIFT)
                cv2.line(shade_ink, tuple(p0), tuple(p1), 0, self.detail_width, cv2.LINE_AA, SHIFT)
        return ink, shade_ink

    def _features(self, part: Part, m: Affine) -> None:
        """Ink drawn on top of everything inside the part: a pupil, a mouth."""
        if part.pupil > 0:
            c = apply(m, np.zeros((1, 2)))[0]
            r = part.pupil * float(np.linalg.norm(m[:2, 0]))
            cv2.circle(self.lines, tuple(fixed(c)[0, 0]), max(1, int(round(r * ONE))), 0, -1, cv2.LINE_AA, SHIFT)
        if part.mouth:
            c = apply(m, np.array([[0.0, 0.45]]))[0]
            axes = (max(ONE, int(0.35 * np.linalg.norm(m[:2, 0]) * ONE)),
                    max(ONE, int(0.15 * np.linalg.norm(m[:2, 1]) * ONE)))
            ang = math.degrees(math.atan2(m[1, 0], m[0, 0]))
            cv2.ellipse(self.lines, tuple(fixed(c)[0, 0]), axes, ang, 20, 160, 0, self.detail_width,
                        cv2.LINE_AA, SHIFT)
