"""Packaging: the dependency floors CI installs are the ones pyproject.toml declares, and the sdist
holds the tests and their helpers, so ``pytest`` collects where it is unpacked."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def _floors() -> dict[str, Version]:
    """{name: version} pinned in .ci/floors.txt."""
    pins = {}
    for line in (ROOT / ".ci" / "floors.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name.strip().lower()] = Version(version.strip())
    return pins


def _declared() -> dict[str, Version]:
    """{name: floor} of every runtime and dev dependency pyproject.toml gives a floor (``>=``)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    floors = {}
    for text in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
        req = Requirement(text)
        lows = [Version(s.version) for s in req.specifier if s.operator == ">="]
        if lows:
            floors[req.name.lower()] = max(lows)
    return floors


def test_ci_pins_each_declared_floor_exactly() -> None:
    """Each floor pyproject.toml declares is pinned in .ci/floors.txt at that release (a build of it:
    opencv 4.13 is 4.13.0.90), and nothing else is; a floor raised in one file fails here until the
    other follows."""
    declared, pins = _declared(), _floors()
    assert set(pins) == set(declared), set(pins) ^ set(declared)
    for name, floor in declared.items():
        pin = pins[name]
        assert pin >= floor and pin.release[:len(floor.release)] == floor.release, (name, str(floor), str(pin))


@pytest.mark.slow
def test_sdist_holds_the_tests_and_their_helpers(tmp_path) -> None:
    """Before: the sdist had tests/test_*.py but not conftest.py, tests/support/ or benchmarks/quality.py,
    so nothing collected. Built with setuptools' own backend (no network), unpacked, collected."""
    setuptools = pytest.importorskip("setuptools")
    if Version(setuptools.__version__) < Version("77"):
        pytest.skip("building needs setuptools >= 77 (pyproject.toml's build requirement)")
    out = tmp_path / "dist"
    build = "import sys; from setuptools import build_meta; print(build_meta.build_sdist(sys.argv[1]))"
    done = subprocess.run([sys.executable, "-c", build, str(out)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    with tarfile.open(out / done.stdout.split()[-1]) as sdist:
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # Python >= 3.11.4
        sdist.extractall(tmp_path, **safe)
    unpacked = next(tmp_path.glob("lacvid-*/"))
    helpers = ["tests/conftest.py", "benchmarks/quality.py",
               *(p.relative_to(ROOT).as_posix() for p in (ROOT / "tests" / "support").glob("*.py"))]
    assert [h for h in helpers if not (unpacked / h).is_file()] == []
    env = {**os.environ, "PYTHONPATH": str(unpacked)}
    collected = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
                               cwd=unpacked, env=env, capture_output=True, text=True)
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-2000:]
    here = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
                          cwd=ROOT, capture_output=True, text=True)
    count = re.compile(r"(\d+) tests? collected")
    assert count.search(collected.stdout).group(1) == count.search(here.stdout).group(1)


def test_package_data_ships_the_bundled_models_graphs() -> None:
    """Every file of lacvid/weights (the checkpoint and its shipped ONNX graphs) matches a package-data
    pattern, so wheels and the sdist carry them: without the graphs a first run exports with torch."""
    from fnmatch import fnmatch

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["lacvid"]
    weights = [p.relative_to(ROOT / "lacvid").as_posix() for p in (ROOT / "lacvid" / "weights").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts]
    assert "weights/default-onnx/export.json" in weights
    assert [w for w in weights if not any(fnmatch(w, pattern) for pattern in patterns)] == []
