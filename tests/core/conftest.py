"""Core tests assemble programs with GNU as; make the helpers importable."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from core_asm import have_toolchain


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip everything here when binutils is missing."""
    if have_toolchain():
        return
    skip = pytest.mark.skip(reason="GNU as/objcopy not available")
    for item in items:
        if "tests/core" in str(item.fspath):
            item.add_marker(skip)
