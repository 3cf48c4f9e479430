"""pvops.image.load_image on bad input: every problem is an ImageError naming it."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from pvops.image import ImageError, load_image, parse_xen_guest


def _phdr_offset(data: bytes, index: int) -> int:
    phoff = struct.unpack_from("<I", data, 28)[0]
    return phoff + 32 * index


def _section_header(data: bytes, name: str) -> tuple[int, int, int]:
    """(file offset of the section header, sh_offset, sh_size)."""
    elf = ELFFile(io.BytesIO(data))
    for i, section in enumerate(elf.iter_sections()):
        if section.name == name:
            return elf["e_shoff"] + i * elf["e_shentsize"], section["sh_offset"], section["sh_size"]
    raise AssertionError(name)


@pytest.fixture(scope="module")
def native(built: dict[str, Path]) -> bytes:
    return built["native"].read_bytes()


@pytest.fixture(scope="module")
def pvops(built: dict[str, Path]) -> bytes:
    return built["pvops"].read_bytes()


class TestHeader:
    """Files that are not an i386 executable at all."""

    def test_empty_not_elf(self) -> None:
        """An empty file has no magic."""
        with pytest.raises(ImageError, match="not an ELF file"):
            load_image(b"")

    def test_text_not_elf(self) -> None:
        """Neither does a text file."""
        with pytest.raises(ImageError, match="bad magic"):
            load_image(b"#!/bin/sh\necho hi\n")

    def test_truncated_header_named(self, native: bytes) -> None:
        """Cut inside the ELF header."""
        with pytest.raises(ImageError, match="truncated ELF header"):
            load_image(native[:40])

    def test_elf64_wrong_class(self, native: bytes) -> None:
        """A 64-bit file is not an i386 kernel."""
        bad = bytearray(native)
        bad[4] = 2
        with pytest.raises(ImageError, match="wrong ELF class 2"):
            load_image(bytes(bad))

    def test_big_endian_wrong_byte_order(self, native: bytes) -> None:
        """i386 is little-endian."""
        bad = bytearray(native)
        bad[5] = 2
        with pytest.raises(ImageError, match="byte order"):
            load_image(bytes(bad))

    def test_x86_64_machine_wrong_machine(self, native: bytes) -> None:
        """EM_X86_64 in a 32-bit file is still the wrong machine."""
        bad = bytearray(native)
        struct.pack_into("<H", bad, 18, 62)
        with pytest.raises(ImageError, match="wrong machine type 62"):
            load_image(bytes(bad))

    def test_relocatable_wrong_type(self, native: bytes) -> None:
        """An unlinked object cannot be loaded."""
        bad = bytearray(native)
        struct.pack_into("<H", bad, 16, 1)
        with pytest.raises(ImageError, match="ET_EXEC"):
            load_image(bytes(bad))

    def test_missing_file_cannot_read(self, tmp_path: Path) -> None:
        """A path that is not there."""
        with pytest.raises(ImageError, match="cannot read"):
            load_image(tmp_path / "nope.elf")


class TestSegments:
    """Program headers that do not describe a loadable kernel."""

    def test_truncated_file_segment_past_end(self, native: bytes) -> None:
        """The data segment's bytes are not all there."""
        with pytest.raises(ImageError, match="runs past the end of the file"):
            load_image(native[:0x2000])

    def test_overlapping_virtual_named(self, native: bytes) -> None:
        """Two segments claiming the same virtual addresses."""
        bad = bytearray(native)
        first_vaddr = struct.unpack_from("<I", bad, _phdr_offset(native, 0) + 8)[0]
        struct.pack_into("<I", bad, _phdr_offset(native, 1) + 8, first_vaddr + 0x100)
        with pytest.raises(ImageError, match="overlap in virtual memory"):
            load_image(bytes(bad))

    def test_overlapping_physical_named(self, native: bytes) -> None:
        """Two segments claiming the same physical memory."""
        bad = bytearray(native)
        first_paddr = struct.unpack_from("<I", bad, _phdr_offset(native, 0) + 12)[0]
        struct.pack_into("<I", bad, _phdr_offset(native, 1) + 12, first_paddr)
        with pytest.raises(ImageError, match="overlap in physical memory"):
            load_image(bytes(bad))

    def test_file_size_over_mem_size_named(self, native: bytes) -> None:
        """filesz > memsz is malformed."""
        bad = bytearray(native)
        struct.pack_into("<I", bad, _phdr_offset(native, 0) + 20, 0x10)
        with pytest.raises(ImageError, match="exceeds memory size"):
            load_image(bytes(bad))


class TestParavirtSections:
    """Site tables and notes that cannot be trusted."""

    def test_site_table_size_not_multiple_of8(self, pvops: bytes) -> None:
        """.parainstructions holds whole 8-byte records."""
        bad = bytearray(pvops)
        hdr, _, size = _section_header(pvops, ".parainstructions")
        struct.pack_into("<I", bad, hdr + 20, size - 3)
        with pytest.raises(ImageError, match="not a multiple of 8"):
            load_image(bytes(bad))

    def test_site_outside_code_named(self, pvops: bytes) -> None:
        """A record pointing outside the executable segment is refused."""
        bad = bytearray(pvops)
        _, offset, _ = _section_header(pvops, ".parainstructions")
        struct.pack_into("<I", bad, offset, 0x1000)
        with pytest.raises(ImageError, match=r"parainstructions\[0\].*not inside"):
            load_image(bytes(bad))

    def test_note_running_past_its_segment_named(self, pvops: bytes) -> None:
        """A note whose name size points past the note segment."""
        bad = bytearray(pvops)
        _, offset, _ = _section_header(pvops, ".notes")
        struct.pack_into("<I", bad, offset, 0x10000)
        with pytest.raises(ImageError, match="runs past the end"):
            load_image(bytes(bad))


class TestXenGuestString:
    """parse_xen_guest()"""

    def test_flags_map_to_empty(self) -> None:
        """2.0's optional PT_MODE_WRITABLE is a bare word."""
        parsed = parse_xen_guest("GUEST_OS=linux,XEN_VER=2.0,PT_MODE_WRITABLE")
        assert parsed == {"GUEST_OS": "linux", "XEN_VER": "2.0", "PT_MODE_WRITABLE": ""}

    def test_duplicate_key_refused(self) -> None:
        """A key given twice is ambiguous."""
        with pytest.raises(ImageError, match="XEN_VER given twice"):
            parse_xen_guest("XEN_VER=2.0,XEN_VER=xen-3.0")

    def test_empty_item_refused(self) -> None:
        """Two commas in a row."""
        with pytest.raises(ImageError, match="empty item"):
            parse_xen_guest("GUEST_OS=linux,,LOADER=generic")


class TestGoodInput:
    """The happy paths."""

    def test_bytes_and_path_same_image(self, built: dict[str, Path], native: bytes) -> None:
        """load_image takes a path or the bytes."""
        assert load_image(native) == load_image(built["native"])

    def test_read_virt_outside_segments_raises(self, native: bytes) -> None:
        """read_virt only serves the image's own memory."""
        with pytest.raises(ImageError, match="not inside one loadable segment"):
            load_image(native).read_virt(0x1000, 4)
