"""Guest kernel images: an ELF32 i386 file, read into one checked value.

:func:`load_image` reads a kernel (from a path or from bytes) with pyelftools
and returns a :class:`GuestImage`: its entry point, its loadable segments,
its symbols, and everything a loader or patcher needs from the paravirt
sections:

- ``.parainstructions``: the pvops patch sites, 8 bytes each,
  ``{u32 site; u8 op; u8 len; u16 clobbers}`` (FACTS 1c), as
  :class:`pvops.patch.SiteRecord`;
- ``__vmi_annotation``: the VMI sites, 8 bytes each,
  ``{u32 site; u8 vmi_call; u8 len; u8 native_len; u8 flags}``
  (flags bit 0: the site is jumped through, as IRET), as
  :class:`VmiAnnotation`;
- ``__xen_guest``: the XenoLinux loader string, kept verbatim and parsed
  into a dict (``PT_MODE_WRITABLE``-style flags map to ``""``);
- the ELF notes: all of them as :class:`ElfNote`, with the ``PVOPS`` notes
  (flavour, build configuration, op table) and the ``Xen`` notes (entry
  point, ...) decoded.

Every structural problem raises :class:`ImageError` with a message naming
it: not ELF, truncated, wrong class, byte order or machine, segments whose
file data lie outside the file, segments that overlap in virtual or physical
memory, site tables of the wrong size or pointing outside the code.
"""

from __future__ import annotations

import io
import itertools
import os
import struct
from collections.abc import Mapping

import attrs
from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from pvops.patch import SiteRecord
from pvops.types import PhysAddr, VirtAddr

__all__ = [
    "PF_R",
    "PF_W",
    "PF_X",
    "PVOPS_NOTE_CONFIG",
    "PVOPS_NOTE_FLAVOUR",
    "PVOPS_NOTE_OPS",
    "PVOPS_NOTE_SITE_LEN",
    "XEN_ELFNOTE_ENTRY",
    "ElfNote",
    "GuestImage",
    "ImageError",
    "Segment",
    "VmiAnnotation",
    "load_image",
    "parse_xen_guest",
]

PF_X = 1
PF_W = 2
PF_R = 4
PT_LOAD = "PT_LOAD"
PT_NOTE = "PT_NOTE"

SITE_RECORD = struct.Struct("<IBBH")
"""``struct paravirt_patch_site``: site, op, len, clobbers (8 bytes)."""
VMI_RECORD = struct.Struct("<IBBBB")
"""``struct vmi_annotation``: site, vmi_call, len, native_len, flags (8 bytes)."""
VMI_ANNOT_JUMP = 1

# Note types of the "PVOPS" notes (pvops/guest/include/elfnote.h).
PVOPS_NOTE_FLAVOUR = 1
PVOPS_NOTE_CONFIG = 2
PVOPS_NOTE_OPS = 3
PVOPS_NOTE_SITE_LEN = 4
# Xen's (XEN_ELFNOTE_*); only the ones a loader acts on are named here.
XEN_ELFNOTE_ENTRY = 1
XEN_ELFNOTE_HYPERCALL_PAGE = 2
XEN_ELFNOTE_VIRT_BASE = 3
XEN_ELFNOTE_XEN_VERSION = 5


class ImageError(Exception):
    """The file is not a usable i386 kernel image; the message says why."""


@attrs.frozen
class Segment:
    """One ``PT_LOAD`` program header and its bytes."""

    vaddr: VirtAddr
    paddr: PhysAddr
    memsz: int
    data: bytes  # the file part (filesz bytes); the rest up to memsz is zero
    flags: int  # PF_R | PF_W | PF_X

    @property
    def filesz(self) -> int:
        """Bytes present in the file (the rest of ``memsz`` is bss)."""
        return len(self.data)

    @property
    def executable(self) -> bool:
        """Whether the segment is marked executable."""
        return bool(self.flags & PF_X)

    def contains(self, addr: int, length: int = 1) -> bool:
        """Whether ``[addr, addr + length)`` lies inside the segment's memory."""
        return self.vaddr <= addr and addr + length <= self.vaddr + self.memsz


@attrs.frozen
class VmiAnnotation:
    """One ``__vmi_annotation`` record: a VMI site and the call it stands for."""

    address: VirtAddr
    call: int  # VMI_CALL_* (FACTS 2)
    length: int  # the whole site, native bytes + NOP padding
    native_length: int
    flags: int

    @property
    def is_jump(self) -> bool:
        """Jumped through (IRET), so a ROM may only redirect it with a jmp."""
        return bool(self.flags & VMI_ANNOT_JUMP)


@attrs.frozen
class ElfNote:
    """One ELF note: owner name, type and descriptor bytes."""

    name: str
    type: int
    desc: bytes

    @property
    def text(self) -> str:
        """The descriptor as a NUL-terminated string."""
        return self.desc.split(b"\0", 1)[0].decode("utf-8", "replace")

    @property
    def u32(self) -> int:
        """The descriptor as a little-endian u32 (address notes)."""
        if len(self.desc) < 4:
            msg = f"note {self.name}/{self.type} has {len(self.desc)} bytes, not a u32"
            raise ImageError(msg)
        value: int = struct.unpack_from("<I", self.desc)[0]
        return value


def _kv_lines(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            out[key.strip()] = value.strip()
    return out


@attrs.frozen
class GuestImage:
    """A checked guest kernel image."""

    entry: int  # physical for the Multiboot flavours, virtual for XenoLinux
    segments: tuple[Segment, ...]
    symbols: Mapping[str, int]
    sites: tuple[SiteRecord, ...]
    vmi_annotations: tuple[VmiAnnotation, ...]
    xen_guest_string: str | None
    xen_guest: Mapping[str, str] | None
    notes: tuple[ElfNote, ...]

    def note(self, name: str, type_: int) -> ElfNote | None:
        """The first note with this owner and type, if any."""
        for n in self.notes:
            if n.name == name and n.type == type_:
                return n
        return None

    @property
    def flavour(self) -> str | None:
        """The flavour the pvops build driver recorded (``PVOPS`` note 1)."""
        n = self.note("PVOPS", PVOPS_NOTE_FLAVOUR)
        return n.text if n else None

    @property
    def config(self) -> dict[str, str]:
        """The build configuration (``PVOPS`` note 2), like a kernel .config."""
        n = self.note("PVOPS", PVOPS_NOTE_CONFIG)
        return _kv_lines(n.text) if n else {}

    @property
    def op_table(self) -> dict[str, int]:
        """``group.name -> number``: the ``pv_ops[]`` layout built in (note 3)."""
        n = self.note("PVOPS", PVOPS_NOTE_OPS)
        return {k: int(v, 0) for k, v in _kv_lines(n.text).items()} if n else {}

    @property
    def xen_entry(self) -> VirtAddr | None:
        """The Xen entry point from the ``Xen`` notes (XEN_ELFNOTE_ENTRY)."""
        n = self.note("Xen", XEN_ELFNOTE_ENTRY)
        return VirtAddr(n.u32) if n else None

    def symbol(self, name: str) -> VirtAddr:
        """A symbol's address.

        Raises:
            ImageError: no such symbol.
        """
        try:
            return VirtAddr(self.symbols[name])
        except KeyError:
            msg = f"the image has no symbol {name!r}"
            raise ImageError(msg) from None

    def segment_at(self, addr: int) -> Segment | None:
        """The loadable segment whose virtual range holds ``addr``."""
        for seg in self.segments:
            if seg.contains(addr):
                return seg
        return None

    def read_virt(self, addr: int, length: int) -> bytes:
        """Bytes of the image as loaded, by virtual address (bss reads 0).

        Raises:
            ImageError: the range is not inside one segment.
        """
        seg = self.segment_at(addr)
        if seg is None or not seg.contains(addr, length):
            msg = f"[{addr:#x}, {addr + length:#x}) is not inside one loadable segment"
            raise ImageError(msg)
        off = addr - seg.vaddr
        chunk = seg.data[off : off + length]
        return chunk + bytes(length - len(chunk))


def parse_xen_guest(text: str) -> dict[str, str]:
    """``"GUEST_OS=linux,XEN_VER=2.0,PT_MODE_WRITABLE"`` as a dict.

    Bare words (flags) map to ``""``.  Raises :class:`ImageError` on an empty
    key or a key given twice.
    """
    out: dict[str, str] = {}
    for item in text.split(","):
        key, _, value = item.partition("=")
        key = key.strip()
        if not key:
            msg = f"__xen_guest: empty item in {text!r}"
            raise ImageError(msg)
        if key in out:
            msg = f"__xen_guest: {key} given twice in {text!r}"
            raise ImageError(msg)
        out[key] = value.strip()
    return out


def _read_source(source: str | os.PathLike[str] | bytes) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    try:
        with open(source, "rb") as f:  # noqa: PTH123 - accepts str and PathLike alike
            return f.read()
    except OSError as e:
        msg = f"{os.fspath(source)}: cannot read: {e.strerror}"
        raise ImageError(msg) from e


def _check_header(data: bytes) -> None:
    """The checks whose failure would make pyelftools' errors cryptic."""
    if len(data) < 4 or data[:4] != b"\x7fELF":
        msg = "not an ELF file (bad magic)"
        raise ImageError(msg)
    if len(data) < 52:
        msg = f"truncated ELF header ({len(data)} bytes, need 52)"
        raise ImageError(msg)
    if data[4] != 1:
        msg = f"wrong ELF class {data[4]} (need ELFCLASS32: an i386 kernel)"
        raise ImageError(msg)
    if data[5] != 1:
        msg = f"wrong byte order {data[5]} (need little-endian)"
        raise ImageError(msg)
    machine = struct.unpack_from("<H", data, 18)[0]
    if machine != 3:
        msg = f"wrong machine type {machine} (need EM_386 = 3)"
        raise ImageError(msg)
    e_type = struct.unpack_from("<H", data, 16)[0]
    if e_type != 2:
        msg = f"wrong ELF type {e_type} (need ET_EXEC = 2: a linked kernel)"
        raise ImageError(msg)
    phoff, _, _, _, phentsize, phnum = struct.unpack_from("<IIIHHH", data, 28)
    if phnum == 0:
        msg = "no program headers: nothing to load"
        raise ImageError(msg)
    if phentsize != 32 or phoff + phnum * phentsize > len(data):
        msg = f"truncated program header table ({phnum} x {phentsize} at {phoff:#x})"
        raise ImageError(msg)


def _segments(elf: ELFFile, size: int) -> tuple[Segment, ...]:
    segs: list[Segment] = []
    for i, ph in enumerate(elf.iter_segments()):
        if ph["p_type"] != PT_LOAD:
            continue
        off, filesz, memsz = ph["p_offset"], ph["p_filesz"], ph["p_memsz"]
        if filesz > memsz:
            msg = f"segment {i}: file size {filesz:#x} exceeds memory size {memsz:#x}"
            raise ImageError(msg)
        if off + filesz > size:
            msg = (
                f"segment {i}: file data [{off:#x}, {off + filesz:#x}) runs past the end "
                f"of the file ({size:#x} bytes): truncated image"
            )
            raise ImageError(msg)
        if ph["p_vaddr"] + memsz > 1 << 32 or ph["p_paddr"] + memsz > 1 << 32:
            msg = f"segment {i}: extends past 4 GiB"
            raise ImageError(msg)
        segs.append(
            Segment(
                vaddr=VirtAddr(ph["p_vaddr"]),
                paddr=PhysAddr(ph["p_paddr"]),
                memsz=memsz,
                data=ph.data(),
                flags=ph["p_flags"],
            )
        )
    if not segs:
        msg = "no PT_LOAD segment: nothing to load"
        raise ImageError(msg)
    for kind in ("vaddr", "paddr"):
        ordered = sorted(segs, key=lambda s: int(getattr(s, kind)))
        for a, b in itertools.pairwise(ordered):
            a_start, b_start = int(getattr(a, kind)), int(getattr(b, kind))
            if a.memsz and b.memsz and b_start < a_start + a.memsz:
                msg = (
                    f"segments overlap in {'virtual' if kind == 'vaddr' else 'physical'} "
                    f"memory: [{a_start:#x}, {a_start + a.memsz:#x}) and "
                    f"[{b_start:#x}, {b_start + b.memsz:#x})"
                )
                raise ImageError(msg)
    return tuple(segs)


def _symbols(elf: ELFFile) -> dict[str, int]:
    out: dict[str, int] = {}
    for section in elf.iter_sections():
        if not isinstance(section, SymbolTableSection):
            continue
        for sym in section.iter_symbols():
            if sym.name and sym["st_shndx"] != "SHN_UNDEF" and sym["st_info"]["type"] != "STT_FILE":
                out.setdefault(sym.name, sym["st_value"])
    return out


def _section_data(elf: ELFFile, name: str) -> bytes | None:
    section = elf.get_section_by_name(name)
    if section is None or section["sh_type"] == "SHT_NOBITS":
        return None
    data: bytes = section.data()
    if len(data) != section["sh_size"]:
        msg = f"section {name}: truncated ({len(data)} of {section['sh_size']} bytes)"
        raise ImageError(msg)
    return data


def _in_code(segments: tuple[Segment, ...], addr: int, length: int) -> bool:
    return any(s.executable and s.contains(addr, length) for s in segments)


def _sites(elf: ELFFile, segments: tuple[Segment, ...]) -> tuple[SiteRecord, ...]:
    data = _section_data(elf, ".parainstructions")
    if not data:
        return ()
    if len(data) % SITE_RECORD.size:
        msg = f".parainstructions: {len(data)} bytes is not a multiple of {SITE_RECORD.size}"
        raise ImageError(msg)
    out: list[SiteRecord] = []
    for i, (addr, op, length, clobbers) in enumerate(SITE_RECORD.iter_unpack(data)):
        if length == 0 or not _in_code(segments, addr, length):
            msg = (
                f".parainstructions[{i}]: site [{addr:#x}, +{length}) is not inside an "
                "executable segment"
            )
            raise ImageError(msg)
        out.append(SiteRecord(address=VirtAddr(addr), op=op, length=length, clobbers=clobbers))
    return tuple(out)


def _vmi_annotations(elf: ELFFile, segments: tuple[Segment, ...]) -> tuple[VmiAnnotation, ...]:
    data = _section_data(elf, "__vmi_annotation")
    if not data:
        return ()
    if len(data) % VMI_RECORD.size:
        msg = f"__vmi_annotation: {len(data)} bytes is not a multiple of {VMI_RECORD.size}"
        raise ImageError(msg)
    out: list[VmiAnnotation] = []
    for i, (addr, call, length, native, flags) in enumerate(VMI_RECORD.iter_unpack(data)):
        if length == 0 or native > length or not _in_code(segments, addr, length):
            msg = (
                f"__vmi_annotation[{i}]: site [{addr:#x}, +{length}) with {native} native "
                "bytes is not a valid site in an executable segment"
            )
            raise ImageError(msg)
        out.append(VmiAnnotation(VirtAddr(addr), call, length, native, flags))
    return tuple(out)


def _parse_notes(blob: bytes, where: str) -> list[ElfNote]:
    notes: list[ElfNote] = []
    off = 0
    while off + 12 <= len(blob):
        namesz, descsz, ntype = struct.unpack_from("<III", blob, off)
        name_end = off + 12 + namesz
        desc_off = off + 12 + ((namesz + 3) & ~3)
        desc_end = desc_off + descsz
        if name_end > len(blob) or desc_end > len(blob):
            msg = f"{where}: note at offset {off:#x} runs past the end ({len(blob)} bytes)"
            raise ImageError(msg)
        name = blob[off + 12 : name_end].rstrip(b"\0").decode("utf-8", "replace")
        notes.append(ElfNote(name, ntype, blob[desc_off:desc_end]))
        off = desc_off + ((descsz + 3) & ~3)
    if off < len(blob) and any(blob[off:]):
        msg = f"{where}: {len(blob) - off} stray bytes after the last note"
        raise ImageError(msg)
    return notes


def _notes(elf: ELFFile, data: bytes) -> tuple[ElfNote, ...]:
    notes: list[ElfNote] = []
    for i, ph in enumerate(elf.iter_segments()):
        if ph["p_type"] != PT_NOTE:
            continue
        off, size = ph["p_offset"], ph["p_filesz"]
        if off + size > len(data):
            msg = f"note segment {i}: [{off:#x}, {off + size:#x}) runs past the end of the file"
            raise ImageError(msg)
        notes += _parse_notes(data[off : off + size], f"note segment {i}")
    return tuple(notes)


def _xen_guest(elf: ELFFile) -> str | None:
    data = _section_data(elf, "__xen_guest")
    if data is None:
        return None
    text = data.split(b"\0", 1)[0]
    try:
        return text.decode("ascii")
    except UnicodeDecodeError as e:
        msg = f"__xen_guest: not ASCII: {e}"
        raise ImageError(msg) from e


def load_image(source: str | os.PathLike[str] | bytes) -> GuestImage:
    """Read and check a guest kernel image.

    Args:
        source: a path to the ELF file, or its bytes.

    Raises:
        ImageError: the file is unreadable or not a well-formed ELF32 i386
            executable with consistent segments and paravirt sections.
    """
    data = _read_source(source)
    _check_header(data)
    try:
        elf = ELFFile(io.BytesIO(data))
        segments = _segments(elf, len(data))
        xen_text = _xen_guest(elf)
        return GuestImage(
            entry=elf.header["e_entry"],
            segments=segments,
            symbols=_symbols(elf),
            sites=_sites(elf, segments),
            vmi_annotations=_vmi_annotations(elf, segments),
            xen_guest_string=xen_text,
            xen_guest=parse_xen_guest(xen_text) if xen_text is not None else None,
            notes=_notes(elf, data),
        )
    except ImageError:
        raise
    except (ELFError, struct.error, ValueError, IndexError, KeyError, UnicodeDecodeError) as e:
        msg = f"malformed ELF: {type(e).__name__}: {e}"
        raise ImageError(msg) from e
