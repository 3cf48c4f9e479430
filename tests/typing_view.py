"""Lay out pvops for mypy as it is installed: ``pvops/``, ``pvops/cpu``, ``pvops/backends``.

The source tree maps ``cpu/`` and ``backends/`` into the package with
setuptools' ``package-dir``; an editable install reaches them through an
import hook that mypy cannot follow.  This builds a folder of symlinks with
the installed shape, from wherever Python imports the packages, so mypy
checks the real files.  Used by the type-level tests and by ``.ci/run``.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def build(view: Path) -> Path:
    """Populate ``view`` with a ``pvops`` tree of symlinks; return ``view``."""
    roots = {
        name: Path(importlib.import_module(name).__path__[0])
        for name in ("pvops", "pvops.cpu", "pvops.backends")
    }
    package = view / "pvops"
    package.mkdir(parents=True, exist_ok=True)
    for entry in roots["pvops"].iterdir():
        if entry.name in ("cpu", "backends", "__pycache__"):
            continue
        (package / entry.name).symlink_to(entry.resolve())
    (package / "cpu").symlink_to(roots["pvops.cpu"].resolve())
    (package / "backends").symlink_to(roots["pvops.backends"].resolve())
    return view


if __name__ == "__main__":
    print(build(Path(sys.argv[1])))
