"""Shared fixtures for pvops' own tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

# The fake CPU lives next to the tests; importlib import mode does not put
# this folder on sys.path by itself.
sys.path.insert(0, str(Path(__file__).parent))

from fakecpu import FakeCpu  # noqa: E402


@pytest.fixture
def cpu() -> FakeCpu:
    """A ring-0 fake CPU with 64 KiB of flat memory."""
    return FakeCpu()
