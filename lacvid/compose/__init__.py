"""Compositing: from colours at the working size to a finished full-resolution frame.

- ``regions``: line-enclosed regions of a drawing, labelled and grown to the lines;
- ``flat``: the keys' palette and flat cel fills per region;
- ``fusion``: the network's colour fused with the keys (per region, or warped per pixel);
- ``composite``: upsampling to full resolution under the line art;
- ``layers``: the paint and ink layers whose flatten is every finished frame.
"""
