"""The package's layers, checked: imports go one way, and the domain folders stay pure.

Walks every ``lacvid`` module with ``ast`` (function-level imports included, as those are how
commands keep ``lacvid --help`` fast) and fails on an import that points up the stack of
``docs/ARCHITECTURE.md``, or sideways between two packages of the same layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lacvid"

# Lower layers first; a module may import its own package and anything in a lower layer.
LAYERS: list[tuple[str, ...]] = [
    ("lacvid.errors", "lacvid.progress", "lacvid._version"),  # the public face's leaves
    ("lacvid.util",),
    ("lacvid.media", "lacvid.preprocess", "lacvid.models"),
    ("lacvid.shots", "lacvid.propagate"),
    ("lacvid.compose",),
    ("lacvid.pipeline", "lacvid.train", "lacvid.eval", "lacvid.synth"),
    ("lacvid.cli",),
]
TOP = ("lacvid", "lacvid.__main__")  # the public face: may import anything, lazily

# The domain folders take and return arrays: no tensors, no stores, no files.
DOMAIN = ("lacvid.preprocess", "lacvid.shots", "lacvid.propagate", "lacvid.compose")
DOMAIN_FORBIDS = ("torch", "zarr", "av", "lacvid.util.store", "lacvid.util.outputs", "lacvid.media")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in the file, wherever it stands; ``from X import y`` gives
    ``X.y`` when ``y`` is a module of the package, else ``X``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                is_module = sub.startswith("lacvid") and (
                    (PACKAGE.parent / (sub.replace(".", "/") + ".py")).exists()
                    or (PACKAGE.parent / sub.replace(".", "/")).is_dir())
                found.append((node.lineno, sub if is_module else node.module))
    return found


def layer_of(module: str) -> tuple[int, str] | None:
    """(layer index, the package that places it) of a lacvid module; None for the top."""
    if module in TOP:
        return None
    for rank, packages in enumerate(LAYERS):
        for package in packages:
            if module == package or module.startswith(package + "."):
                return rank, package
    raise AssertionError(f"{module} belongs to no layer: add its package to LAYERS (and docs/ARCHITECTURE.md)")


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    for path in MODULES:
        layer_of(module_name(path))


def test_imports_go_down():
    wrong = []
    for path in MODULES:
        importer = module_name(path)
        own = layer_of(importer)
        if own is None:
            continue
        for line, target in imports(path):
            if not target.startswith("lacvid"):
                continue
            theirs = layer_of(target)
            if theirs is None or (theirs[1] != own[1] and theirs[0] >= own[0]):
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} {importer} -> {target}")
    assert not wrong, "imports that go up or sideways:\n" + "\n".join(wrong)


def test_domain_folders_stay_pure():
    wrong = []
    for path in MODULES:
        importer = module_name(path)
        if not importer.startswith(DOMAIN):
            continue
        for line, target in imports(path):
            if any(target == f or target.startswith(f + ".") for f in DOMAIN_FORBIDS):
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} {importer} -> {target}")
    assert not wrong, "domain folders must take and return arrays:\n" + "\n".join(wrong)


@pytest.mark.parametrize("module, target, allowed", [
    ("lacvid.compose.fusion", "lacvid.propagate.flow", True),
    ("lacvid.propagate.shot", "lacvid.compose.regions", False),
    ("lacvid.models.runtime", "lacvid.shots.detect", False),
    ("lacvid.pipeline.run", "lacvid.train.data", False),
    ("lacvid.util.hashing", "lacvid._version", True),
    ("lacvid.cli.app", "lacvid.pipeline.run", True),
])
def test_the_rule_itself(module, target, allowed):
    """The checker would catch an upward or sideways arrow (so the real test can fail)."""
    own, theirs = layer_of(module), layer_of(target)
    ok = theirs[1] == own[1] or theirs[0] < own[0]
    assert ok == allowed
