"""Assemble and compile guest code with the host's binutils and gcc, cached.

Nothing prebuilt is shipped: guest loops are GNU as sources and test
programs are C sources, turned into flat images on first use.  Results are
cached by a hash of everything that determines them (sources, flags, tool
versions), under ``$PVOPS_CACHE_DIR``, else ``$XDG_CACHE_HOME/pvops``, else
``~/.cache/pvops``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import attrs

# Bumped when the recipe below changes in a way the hash cannot see.
RECIPE_VERSION = "1"

# Flags every freestanding guest program is built with: no libc, no PIC, no
# CET/stack-protector instrumentation (endbr32 and canaries are not part of
# the i386 integer set the core implements), no unwind tables.
FREESTANDING_CFLAGS = (
    "-m32",
    "-ffreestanding",
    "-nostdlib",
    "-fno-pic",
    "-fno-pie",
    "-no-pie",
    "-static",
    "-fno-stack-protector",
    "-fcf-protection=none",
    "-fno-asynchronous-unwind-tables",
    "-fno-unwind-tables",
    "-mno-sse",
    "-mno-mmx",
    "-mno-80387",
)


class ToolchainError(RuntimeError):
    """A build tool is missing or failed."""


@attrs.frozen
class Image:
    """A flat guest image: ``data`` is loaded at physical address ``base``."""

    data: bytes
    base: int
    symbols: dict[str, int] = attrs.field(factory=dict)

    def symbol(self, name: str) -> int:
        """The address of ``name``; KeyError names the missing symbol."""
        try:
            return self.symbols[name]
        except KeyError:
            msg = f"symbol {name!r} not in image (have {sorted(self.symbols)[:20]})"
            raise KeyError(msg) from None


def cache_dir() -> Path:
    """The directory build products are cached in (created on demand)."""
    explicit = os.environ.get("PVOPS_CACHE_DIR")
    if explicit:
        root = Path(explicit)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = (Path(xdg) if xdg else Path.home() / ".cache") / "pvops"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _tool(name: str, purpose: str) -> str:
    path = shutil.which(name)
    if path is None:
        msg = (
            f"{name!r} is not on PATH; it is needed to {purpose}. "
            "Install binutils and gcc with 32-bit support (Debian: binutils, gcc-multilib)."
        )
        raise ToolchainError(msg)
    return path


@cache
def _tool_version(path: str) -> str:
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.splitlines()[0] if out.stdout else path


def _run(argv: Sequence[str], cwd: Path) -> None:
    proc = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        msg = f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr}{proc.stdout}"
        raise ToolchainError(msg)


def _key(*parts: str | bytes) -> str:
    h = hashlib.sha256(RECIPE_VERSION.encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()[:24]


def _load_cached(entry: Path) -> Image | None:
    meta = entry / "image.json"
    blob = entry / "image.bin"
    if not (meta.is_file() and blob.is_file()):
        return None
    info = json.loads(meta.read_text())
    return Image(
        blob.read_bytes(), int(info["base"]), {k: int(v) for k, v in info["symbols"].items()}
    )


def _store(entry: Path, image: Image) -> None:
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=entry.parent, prefix=".tmp-"))
    (tmp / "image.bin").write_bytes(image.data)
    meta = {"base": image.base, "symbols": image.symbols}
    (tmp / "image.json").write_text(json.dumps(meta, sort_keys=True))
    try:
        tmp.rename(entry)
    except OSError:  # another process stored it first
        shutil.rmtree(tmp, ignore_errors=True)


def _symbols(nm: str, elf: Path, cwd: Path) -> dict[str, int]:
    proc = subprocess.run([nm, "-P", str(elf)], cwd=cwd, capture_output=True, text=True, check=True)
    symbols: dict[str, int] = {}
    for line in proc.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[1] not in {"U", "w", "v"}:
            symbols[fields[0]] = int(fields[2], 16)
    return symbols


def assemble(source: str, *, base: int = 0, cache_root: Path | None = None) -> Image:
    """Assemble GNU as source (``as --32``) into a flat image at ``base``.

    The source should be position independent or use ``base`` through
    absolute symbols; only ``.text`` is kept (put data in ``.text`` too).
    """
    as_ = _tool("as", "assemble guest code (as --32)")
    objcopy = _tool("objcopy", "extract flat guest images")
    nm = _tool("nm", "read guest symbols")
    root = cache_root if cache_root is not None else cache_dir()
    entry = root / "as" / _key("as", source, str(base), _tool_version(as_))
    cached = _load_cached(entry)
    if cached is not None:
        return cached
    with tempfile.TemporaryDirectory(prefix="pvops-as-") as tmpdir:
        work = Path(tmpdir)
        (work / "src.S").write_text(source)
        _run([as_, "--32", "-o", "obj.o", "src.S"], work)
        _run([objcopy, "-O", "binary", "-j", ".text", "obj.o", "obj.bin"], work)
        symbols = {k: v + base for k, v in _symbols(nm, work / "obj.o", work).items()}
        image = Image((work / "obj.bin").read_bytes(), base, symbols)
    _store(entry, image)
    return image


def build_c(
    sources: Sequence[Path],
    *,
    cflags: Sequence[str] = (),
    ldscript: Path,
    cache_root: Path | None = None,
) -> Image:
    """Compile and link freestanding C/asm ``sources`` into a flat image.

    ``ldscript`` decides the layout; the image starts at its lowest loaded
    address and the linker script must define ``__image_start``.
    """
    gcc = _tool("gcc", "compile guest C programs (gcc -m32)")
    objcopy = _tool("objcopy", "extract flat guest images")
    nm = _tool("nm", "read guest symbols")
    flags = [*FREESTANDING_CFLAGS, *cflags]
    parts: list[str | bytes] = ["c", _tool_version(gcc), " ".join(flags), ldscript.read_bytes()]
    for src in sources:
        parts += [src.name, src.read_bytes()]
    root = cache_root if cache_root is not None else cache_dir()
    entry = root / "c" / _key(*parts)
    cached = _load_cached(entry)
    if cached is not None:
        return cached
    with tempfile.TemporaryDirectory(prefix="pvops-cc-") as tmpdir:
        work = Path(tmpdir)
        argv = [gcc, *flags, "-T", str(ldscript), "-Wl,--build-id=none", "-o", "prog.elf"]
        _run([*argv, *(str(s) for s in sources)], work)
        _run([objcopy, "-O", "binary", "prog.elf", "prog.bin"], work)
        symbols = _symbols(nm, work / "prog.elf", work)
        if "__image_start" not in symbols:
            msg = f"linker script {ldscript} must define __image_start"
            raise ToolchainError(msg)
        image = Image((work / "prog.bin").read_bytes(), symbols["__image_start"], symbols)
    _store(entry, image)
    return image
