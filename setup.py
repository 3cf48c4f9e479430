"""Build description that pyproject.toml cannot express declaratively.

Two things live here:
- the folder mapping: cpu/ installs as ``pvops.cpu`` and backends/ as
  ``pvops.backends``, so site-packages never gets top-level ``cpu`` or
  ``backends`` packages;
- the Cython extension of the core, compiled on every ``pip install``.
"""

from __future__ import annotations

import os
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

ROOT = Path(__file__).parent
FOLDERS = {"pvops": "pvops", "pvops.cpu": "cpu", "pvops.backends": "backends"}


def packages() -> list[str]:
    """Every package under the mapped folders (a folder with __init__.py)."""
    found: list[str] = []
    for package, folder in FOLDERS.items():
        base = ROOT / folder
        for init in sorted(base.rglob("__init__.py")):
            rel = init.parent.relative_to(base)
            found.append(".".join([package, *rel.parts]) if rel.parts else package)
    return found


# PVOPS_CPU_DEBUG=1 builds the core with assertions and line tracing.
DEBUG = os.environ.get("PVOPS_CPU_DEBUG") == "1"

core = Extension(
    "pvops.cpu._core",
    sources=["cpu/_core.pyx"],
    include_dirs=["cpu"],
    extra_compile_args=["-O0", "-g"] if DEBUG else ["-O3", "-fno-semantic-interposition"],
    define_macros=[("CYTHON_TRACE_NOGIL", "1")] if DEBUG else [],
)

setup(
    package_dir=FOLDERS,
    packages=packages(),
    package_data={
        "pvops": ["py.typed"],
        "pvops.cpu": ["*.pyi", "*.pxd", "*.pxi", "*.h"],
        "pvops.guest": ["*.c", "*.h", "*.S", "*.ld", "**/*.c", "**/*.h", "**/*.S"],
        "pvops.bench": ["loops/*.S", "programs/*.c", "programs/*.S", "programs/*.ld"],
        "pvops.backends.vmi": ["roms/*.S", "roms/*.h", "roms/*.ld", "README.md"],
        "pvops.bootmod": ["sources/*.c", "sources/*.h"],
    },
    ext_modules=cythonize(
        [core],
        language_level="3",
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
            "embedsignature": True,
            "linetrace": DEBUG,
        },
        annotate=os.environ.get("PVOPS_CPU_ANNOTATE") == "1",
        # pvops/cpu/_core.pxd (the declarations) is found through cpu/include.
        include_path=["cpu/include", "cpu"],
    ),
    zip_safe=False,
)
