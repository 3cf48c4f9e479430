"""Fixtures for the Xen model tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(params=["xen-2.0.2", "xen-3.0.1", "xen-3.0.2"])
def release(request: pytest.FixtureRequest) -> str:
    """Each modeled ABI (2.0.7 shares 2.0.2's)."""
    return str(request.param)
