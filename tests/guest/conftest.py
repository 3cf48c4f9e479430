"""Fixtures for the guest-kernel tests: a private build cache and the images.

Every flavour is built once per session into a temporary cache (the user's
own cache is left alone); tests skip when gcc cannot target i386.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pvops.guest.build import FLAVOURS, build, toolchain_available
from pvops.image import GuestImage, load_image

needs_toolchain = pytest.mark.skipif(
    not toolchain_available(), reason="needs gcc -m32 and GNU binutils (ld -m elf_i386)"
)


@pytest.fixture(scope="session", autouse=True)
def guest_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point the build cache at a session-private folder."""
    cache = tmp_path_factory.mktemp("xdg-cache")
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(cache)
    yield cache
    if old is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = old


@pytest.fixture(scope="session")
def built(guest_cache: Path) -> dict[str, Path]:
    """Every flavour's image path (built once per session)."""
    if not toolchain_available():
        pytest.skip("needs gcc -m32 and GNU binutils")
    return {f: build(f) for f in FLAVOURS}


@pytest.fixture(scope="session")
def images(built: dict[str, Path]) -> dict[str, GuestImage]:
    """Every flavour's image, loaded and checked."""
    return {f: load_image(p) for f, p in built.items()}
