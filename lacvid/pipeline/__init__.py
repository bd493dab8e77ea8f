"""The colorize pipeline: line art and a few painted keys in, every frame painted out.

The passes, in the order a frame meets them, each driving one domain folder: ``scan``
(decode, ``lacvid.preprocess``, ``lacvid.shots``) -> ``networks`` (``lacvid.models``: color
transform, temporal constraint) -> ``propagation`` (drawings: ``lacvid.propagate``) ->
``compose`` (``lacvid.compose``: fusion, full resolution, ink; encode). ``run`` ties them
together over the ``cache``; ``options`` says what each pass is asked to do; ``session``,
``keys``, ``selection``, ``shot_work``, ``executors``, ``ray_executor``, ``preview`` (with ``review_page``) and
``batch`` open a run, find its keys, choose its part, and spread its shots.

The function is ``lacvid.colorize`` (``lacvid.pipeline.run.colorize``).
"""
