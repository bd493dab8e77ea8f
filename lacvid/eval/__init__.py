"""How lacvid is measured: the baselines it must beat and the scores it is judged by.

Used by ``benchmarks/`` and the tests; the product itself never imports this package.
"""
