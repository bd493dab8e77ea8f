"""lacvid's version, defined once: the package metadata, caches and Ray's worker check read it here."""

__version__ = "0.1.0"
