"""Building boot modules from C and reading their op tables."""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

import attrs
from elftools.elf.elffile import ELFFile

from pvops.guest.build import CC, CFLAGS, LD, default_cache_dir
from pvops.ops.catalog import by_number, c_header
from pvops.types import PhysAddr, VirtAddr

SOURCES = resources.files("pvops.bootmod") / "sources"
MODULE_SOURCES = ("native_mmu",)
"""The boot modules shipped with pvops (``pvops/bootmod/sources/<name>.c``)."""
TABLE_SECTION = ".pvops_module_ops"
SHF_ALLOC = 0x2
TABLE_ENTRY = 8
END = 0xFFFF_FFFF
PAGE_OFFSET = 0xC000_0000


class ModuleError(Exception):
    """A boot module did not build, or its op table is unusable."""


@attrs.frozen
class BootModule:
    """A module ready to load: its bytes, where they go, and the ops it replaces."""

    name: str
    code: bytes
    base: PhysAddr  # where the loader puts it
    ops: dict[str, VirtAddr]  # op name -> function (kernel-virtual address)

    @property
    def numbers(self) -> dict[int, VirtAddr]:
        """The replaced ops by number."""
        from pvops.ops.catalog import lookup  # noqa: PLC0415

        return {lookup(name).number: addr for name, addr in self.ops.items()}


def module_source(name: str) -> str:
    """The C source of a shipped module."""
    if name not in MODULE_SOURCES:
        msg = f"unknown boot module {name!r} (known: {', '.join(MODULE_SOURCES)})"
        raise ModuleError(msg)
    return (SOURCES / f"{name}.c").read_text()


def _run(argv: list[str], cwd: Path) -> None:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        msg = f"{argv[0]} failed:\n{(result.stderr or result.stdout).strip()[:4000]}"
        raise ModuleError(msg)


def build_module(name: str, source: str, base: PhysAddr) -> BootModule:
    """Compile ``source`` as a boot module linked to run at ``base`` (physical)."""
    if base % 4096:
        msg = f"module base {base:#x} is not page aligned"
        raise ModuleError(msg)
    header = (SOURCES / "pvops_module.h").read_text()
    numbers = c_header()
    link_at = PAGE_OFFSET + base
    link = [LD, "-m", "elf_i386", "-N", "-Ttext", hex(link_at), "-e", "0"]
    digest = hashlib.sha256("\0".join([source, header, numbers, *link, *CFLAGS]).encode())
    key = digest.hexdigest()[:20]
    cache = default_cache_dir().parent / "bootmod"
    elf_path = cache / f"{name}-{key}.elf"
    if not elf_path.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="pvops-bootmod-") as tmp:
            work = Path(tmp)
            (work / "module.c").write_text(source)
            (work / "pvops_module.h").write_text(header)
            (work / "pv_ops_numbers.h").write_text(numbers)
            _run([CC, *CFLAGS, "-I", ".", "-c", "module.c", "-o", "module.o"], work)
            _run([*link, "-o", "module.elf", "module.o"], work)
            staged = cache / f".{elf_path.name}.{os.getpid()}"
            staged.write_bytes((work / "module.elf").read_bytes())
            staged.replace(elf_path)
    return _load(name, elf_path, base)


def _load(name: str, elf_path: Path, base: PhysAddr) -> BootModule:
    with elf_path.open("rb") as f:
        elf = ELFFile(f)
        start = PAGE_OFFSET + base
        end = start
        image = bytearray()
        for section in elf.iter_sections():
            if not section["sh_flags"] & SHF_ALLOC or not section["sh_size"]:
                continue
            addr = section["sh_addr"]
            if addr < start:
                msg = f"module {name}: section {section.name} at {addr:#x} is below {start:#x}"
                raise ModuleError(msg)
            size = section["sh_size"]
            image.extend(bytes(max(0, addr - start + size - len(image))))
            if section["sh_type"] != "SHT_NOBITS":
                image[addr - start : addr - start + size] = section.data()
            end = max(end, addr + size)
        table = elf.get_section_by_name(TABLE_SECTION)
        if table is None:
            msg = f"module {name}: no {TABLE_SECTION} table (use PVOPS_MODULE_OPS)"
            raise ModuleError(msg)
        raw = table.data()
    ops: dict[str, VirtAddr] = {}
    for offset in range(0, len(raw) - TABLE_ENTRY + 1, TABLE_ENTRY):
        number = int.from_bytes(raw[offset : offset + 4], "little")
        fn = int.from_bytes(raw[offset + 4 : offset + 8], "little")
        if number == END:
            break
        try:
            spec = by_number(number)
        except KeyError:
            msg = f"module {name}: entry {offset // TABLE_ENTRY} names no op ({number})"
            raise ModuleError(msg) from None
        if not start <= fn < end:
            msg = f"module {name}: {spec.name} points outside the module ({fn:#x})"
            raise ModuleError(msg)
        ops[spec.name] = VirtAddr(fn)
    if not ops:
        msg = f"module {name}: replaces no op"
        raise ModuleError(msg)
    return BootModule(name, bytes(image), base, ops)
