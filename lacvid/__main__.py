"""``python -m lacvid``: the same entry point as the ``lacvid`` console script."""

from lacvid.cli import main

if __name__ == "__main__":
    main()
