"""Assemble i386 test programs with GNU as (``as --32`` + ``objcopy``)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

_CACHE: dict[str, bytes] = {}


def have_toolchain() -> bool:
    """True when as and objcopy are on PATH."""
    return shutil.which("as") is not None and shutil.which("objcopy") is not None


def assemble(source: str, base: int = 0) -> bytes:
    """Flat binary of ``source`` (AT&T syntax, .code32) linked at ``base``."""
    key = hashlib.sha256(f"{base}:{source}".encode()).hexdigest()
    if key in _CACHE:
        return _CACHE[key]
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "t.s").write_text(f".code32\n.text\n{source}\n")
        subprocess.run(
            ["as", "--32", "-o", str(d / "t.o"), str(d / "t.s")], check=True, capture_output=True
        )
        subprocess.run(
            [
                "ld",
                "-m",
                "elf_i386",
                "-Ttext",
                hex(base),
                "-e",
                "0",
                "-o",
                str(d / "t.elf"),
                str(d / "t.o"),
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            ["objcopy", "-O", "binary", "-j", ".text", str(d / "t.elf"), str(d / "t.bin")],
            check=True,
            capture_output=True,
        )
        code = (d / "t.bin").read_bytes()
    _CACHE[key] = code
    return code
