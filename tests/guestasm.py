"""Assemble small i386 test programs with GNU as (no prebuilt binaries)."""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest


@functools.cache
def _toolchain() -> bool:
    return all(shutil.which(tool) for tool in ("as", "ld", "objcopy"))


def assemble(source: str, base: int) -> bytes:
    """Assemble AT&T ``source`` to flat bytes linked at ``base`` (skips the test without as)."""
    if not _toolchain():
        pytest.skip("GNU as/ld/objcopy are not installed")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "t.S").write_text(".code32\n.text\n.globl _start\n_start:\n" + source + "\n")
        for cmd in (
            ["as", "--32", "-o", "t.o", "t.S"],
            ["ld", "-m", "elf_i386", "-Ttext", hex(base), "-e", "_start", "-o", "t.elf", "t.o"],
            ["objcopy", "-O", "binary", "-j", ".text", "t.elf", "t.bin"],
        ):
            subprocess.run(cmd, cwd=work, check=True, capture_output=True)
        return (work / "t.bin").read_bytes()
