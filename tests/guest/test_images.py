"""The built images, read back with pvops.image: the contract with the host."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from capstone import CS_ARCH_X86, CS_MODE_32, Cs
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from pvops.guest.build import FLAVOURS
from pvops.image import GuestImage

PAGE_OFFSET = 0xC000_0000
CLBR_ANY = 7
CLBR_NONE = 0

XEN_GUEST = {
    "xenolinux-2.0": "GUEST_OS=linux,GUEST_VER=2.6,XEN_VER=2.0,VIRT_BASE=0xC0000000,LOADER=generic",
    "xenolinux-3.0": (
        "GUEST_OS=linux,GUEST_VER=2.6,XEN_VER=xen-3.0,VIRT_BASE=0xC0000000,PAE=no,LOADER=generic"
    ),
}

# What each VMI call's site holds natively (FACTS 2 numbers; the operands sit
# in the registers the ROM's regparm entry point takes).
VMI_NATIVE = {
    3: bytes.fromhex("0f0110"),  # SetGDT: lgdt (%eax)
    5: bytes.fromhex("0f0118"),  # SetIDT: lidt (%eax)
    6: bytes.fromhex("0f00d8"),  # SetTR: ltr %ax
    14: bytes.fromhex("89500489500c"),  # UpdateKernelStack: esp0, esp1
    15: bytes.fromhex("0f22c0"),  # SetCR0
    17: bytes.fromhex("0f22d8"),  # SetCR3
    19: bytes.fromhex("0f20c0"),  # GetCR0
    20: bytes.fromhex("0f20d0"),  # GetCR2
    21: bytes.fromhex("0f20d8"),  # GetCR3
    27: bytes.fromhex("0f31"),  # RDTSC
    29: bytes.fromhex("fb"),  # EnableInterrupts: sti
    30: bytes.fromhex("fa"),  # DisableInterrupts: cli
    31: bytes.fromhex("9c58"),  # GetInterruptMask: pushf; pop %eax
    32: bytes.fromhex("509d"),  # SetInterruptMask: push %eax; popf
    33: bytes.fromhex("cf"),  # IRET
    35: bytes.fromhex("f4"),  # Halt
    38: bytes.fromhex("8902"),  # SetPxE: mov %eax,(%edx)
    44: b"",  # AllocatePage: nothing on bare metal
    45: b"",  # ReleasePage
    46: bytes.fromhex("0f0138"),  # InvalPage: invlpg (%eax)
    47: bytes.fromhex("0f20d90f22d9"),  # FlushTLB: cr3 reload through ecx
    73: b"",  # SetLazyMode
}

PRIVILEGED = {
    "cli", "sti", "hlt", "lgdt", "lidt", "ltr", "lldt", "invlpg", "iretd", "iret",
    "popfd", "pushfd", "rdtsc", "wbinvd", "clts",
}  # fmt: skip


def _disasm(image: GuestImage) -> list[tuple[int, int, str, str]]:
    """(address, size, mnemonic, operands) over the kernel and user code."""
    md = Cs(CS_ARCH_X86, CS_MODE_32)
    out = []
    for start, end in (("_text", "_etext"), ("__utext_start", "__utext_end")):
        lo, hi = image.symbol(start), image.symbol(end)
        code = image.read_virt(lo, hi - lo)
        out += [(i.address, i.size, i.mnemonic, i.op_str) for i in md.disasm(code, lo)]
        assert not out or out[-1][0] + out[-1][1] >= hi - 16, (
            f"disassembly stopped early in {start}"
        )
    return out


def _privileged(image: GuestImage) -> list[tuple[int, int, str]]:
    return [
        (a, n, f"{m} {o}".strip())
        for a, n, m, o in _disasm(image)
        if m in PRIVILEGED or (m == "mov" and re.search(r"\bcr\d\b", o))
    ]


def _owner(image: GuestImage, addr: int) -> str:
    """The symbol an address belongs to (nearest one at or below it)."""
    best = max(
        ((a, n) for n, a in image.symbols.items() if a <= addr and not n.startswith("__")),
        default=(0, "?"),
    )
    return best[1]


def _symbol_size(path: Path, name: str) -> int:
    with path.open("rb") as f:
        elf = ELFFile(f)
        for section in elf.iter_sections():
            if isinstance(section, SymbolTableSection):
                for sym in section.get_symbol_by_name(name) or []:
                    size: int = sym["st_size"]
                    return size
    raise AssertionError(name)


class TestAllFlavours:
    """Properties every flavour's image has."""

    @pytest.mark.parametrize("flavour", FLAVOURS)
    def test_flavour_note_names_the_flavour(
        self, images: dict[str, GuestImage], flavour: str
    ) -> None:
        """The PVOPS note records what was built, for the host to check."""
        assert images[flavour].flavour == flavour
        assert images[flavour].config

    @pytest.mark.parametrize("flavour", FLAVOURS)
    def test_load_segments_linked_high_loaded_low(
        self, images: dict[str, GuestImage], flavour: str
    ) -> None:
        """Linked at PAGE_OFFSET + 1 MiB, loaded at 1 MiB."""
        for seg in images[flavour].segments:
            assert seg.vaddr - seg.paddr == PAGE_OFFSET
            assert seg.paddr >= 0x100000

    @pytest.mark.parametrize("flavour", FLAVOURS)
    def test_user_text_is_page_aligned(self, images: dict[str, GuestImage], flavour: str) -> None:
        """The ring-3 code sits on whole pages of its own."""
        im = images[flavour]
        start, end = im.symbol("__utext_start"), im.symbol("__utext_end")
        assert start % 4096 == 0
        assert end % 4096 == 0
        assert end > start
        assert im.symbol("user_syscall_main") >= start


class TestMultibootFlavours:
    """native, pvops, vmi: booted by a Multiboot loader on bare metal."""

    @pytest.mark.parametrize("flavour", ["native", "pvops", "vmi"])
    def test_multiboot_header_in_first8_ki_b(self, built: dict[str, Path], flavour: str) -> None:
        """GRUB and qemu find the header: magic, flags, checksum."""
        data = built[flavour].read_bytes()[:8192]
        for off in range(0, len(data) - 12, 4):
            magic, flags, check = struct.unpack_from("<III", data, off)
            if magic == 0x1BADB002:
                assert (magic + flags + check) & 0xFFFFFFFF == 0
                return
        pytest.fail("no Multiboot header in the first 8 KiB")

    @pytest.mark.parametrize("flavour", ["native", "pvops", "vmi"])
    def test_entry_is_physical_start(self, images: dict[str, GuestImage], flavour: str) -> None:
        """Paging is off at entry, so the ELF entry is _start's physical address."""
        im = images[flavour]
        assert im.entry == im.symbol("_start") - PAGE_OFFSET

    def test_native_has_no_paravirt_sections(self, images: dict[str, GuestImage]) -> None:
        """The native flavour is plain privileged instructions."""
        im = images["native"]
        assert im.sites == ()
        assert im.vmi_annotations == ()
        assert "pv_ops" not in im.symbols
        assert im.xen_guest is None


class TestPvops:
    """The pvops flavour: calls through pv_ops with .parainstructions records."""

    def test_sites_call_through_their_slot(self, images: dict[str, GuestImage]) -> None:
        """Each site is `call/jmp *pv_ops+4*op` padded with NOPs to its length."""
        im = images["pvops"]
        pv_ops = im.symbol("pv_ops")
        assert len(im.sites) > 40
        for site in im.sites:
            code = im.read_virt(site.address, site.length)
            assert site.length == 8
            assert code[0] == 0xFF
            assert code[1] in (0x15, 0x25)  # call / jmp through memory
            assert struct.unpack_from("<I", code, 2)[0] == pv_ops + 4 * site.op
            assert code[6:] == b"\x66\x90"

    def test_clobbers_any_for_calls_none_for_iret(self, images: dict[str, GuestImage]) -> None:
        """C call sites allow the regparm scratch set; the iret jump allows nothing."""
        im = images["pvops"]
        iret = im.op_table["cpu.iret"]
        for site in im.sites:
            jump = im.read_virt(site.address, 2)[1] == 0x25
            assert jump == (site.op == iret)
            assert site.clobbers == (CLBR_NONE if jump else CLBR_ANY)

    def test_op_numbers_come_from_the_registry(self, images: dict[str, GuestImage]) -> None:
        """The op-table note is the registry's catalogue, and sites use it."""
        from pvops import ops

        im = images["pvops"]
        expected = {
            (s.name if s.name.startswith(f"{s.group}.") else f"{s.group}.{s.name}"): s.number
            for s in ops.catalog()
        }
        assert im.op_table == expected
        by_number = {n: name for name, n in im.op_table.items()}
        used = {by_number[s.op] for s in im.sites}
        for name in (
            "irq.save_fl", "irq.restore_fl", "irq.irq_disable", "irq.irq_enable",
            "cpu.iret", "cpu.load_idt", "mmu.read_cr2", "mmu.write_cr3",
            "mmu.set_pte", "mmu.set_pte_at", "mmu.set_pmd", "mmu.flush_tlb_single",
            "mmu.lazy_mode.enter", "mmu.lazy_mode.leave", "time.sched_clock",
            "cpu.lazy_mode.enter", "cpu.lazy_mode.leave",
        ):  # fmt: skip
            assert name in used, name

    def test_pv_ops_table_full_and_never_null(
        self, images: dict[str, GuestImage], built: dict[str, Path]
    ) -> None:
        """One code address per op number; no slot is NULL."""
        im = images["pvops"]
        count = max(im.op_table.values()) + 1
        assert _symbol_size(built["pvops"], "pv_ops") == 4 * count
        slots = struct.unpack(f"<{count}I", im.read_virt(im.symbol("pv_ops"), 4 * count))
        text = next(s for s in im.segments if s.executable)
        assert all(text.contains(a) for a in slots)
        assert slots[im.op_table["cpu.iret"]] == im.symbol("native_iret")
        assert slots[im.op_table["mmu.alloc_pt"]] == im.symbol("paravirt_nop")
        assert slots[im.op_table["lock.spin_lock"]] == im.symbol("paravirt_bug")

    def test_privileged_instructions_only_in_defaults_and_boot(
        self, images: dict[str, GuestImage]
    ) -> None:
        """paravirt.h is the only place: outside the native defaults and the
        pre-paravirt boot code, the kernel has no privileged instruction."""
        im = images["pvops"]
        allowed = re.compile(r"^(n_\w+|native_iret|_start|multiboot_header)$")
        found = [(hex(a), i, _owner(im, a)) for a, _, i in _privileged(im)]
        assert any(owner == "n_irq_disable" for _, _, owner in found)
        stray = [s for s in found if not allowed.match(s[2])]
        assert stray == []

    def test_xen_entry_named_in_a_note(self, images: dict[str, GuestImage]) -> None:
        """A separate Xen entry, found through XEN_ELFNOTE_ENTRY."""
        im = images["pvops"]
        assert im.xen_entry == im.symbol("startup_xen")
        assert im.config["CONFIG_PARAVIRT_XEN"] == "xen-3.0"
        assert im.symbol("pv_info")


class TestVmi:
    """The vmi flavour: native bytes at annotated sites."""

    def test_annotations_hold_the_native_bytes_then_nops(
        self, images: dict[str, GuestImage]
    ) -> None:
        """Native code first, then NOPs up to at least 5 bytes (room for a call)."""
        im = images["vmi"]
        md = Cs(CS_ARCH_X86, CS_MODE_32)
        assert len(im.vmi_annotations) > 30
        for a in im.vmi_annotations:
            code = im.read_virt(a.address, a.length)
            assert a.length >= 5
            assert code[: a.native_length] == VMI_NATIVE[a.call], hex(a.address)
            pad = list(md.disasm(code[a.native_length :], a.address + a.native_length))
            assert sum(i.size for i in pad) == a.length - a.native_length
            assert all(i.mnemonic in ("nop", "lea", "xchg") for i in pad)

    def test_iret_is_a_jump_site(self, images: dict[str, GuestImage]) -> None:
        """IRET may only be redirected with a jmp."""
        calls = {a.call: a.is_jump for a in images["vmi"].vmi_annotations}
        assert calls[33] is True
        assert calls[30] is False

    def test_privileged_instructions_only_at_sites(self, images: dict[str, GuestImage]) -> None:
        """Every privileged instruction outside boot code is an annotated site."""
        im = images["vmi"]
        spans = [(a.address, a.address + a.native_length) for a in im.vmi_annotations]
        assert len(_privileged(im)) > 30
        stray = [
            (hex(a), i, _owner(im, a))
            for a, n, i in _privileged(im)
            if not any(s <= a and a + n <= e for s, e in spans)
            and _owner(im, a) not in ("_start", "multiboot_header")
        ]
        assert stray == []


class TestXenolinux:
    """The XenoLinux flavours: one Xen ABI compiled in each."""

    @pytest.mark.parametrize("flavour", sorted(XEN_GUEST))
    def test_xen_guest_string_exact(self, images: dict[str, GuestImage], flavour: str) -> None:
        """The loader string is byte for byte what XenoLinux carried."""
        im = images[flavour]
        assert im.xen_guest_string == XEN_GUEST[flavour]
        assert im.xen_guest is not None
        assert im.xen_guest["VIRT_BASE"] == "0xC0000000"

    @pytest.mark.parametrize("flavour", sorted(XEN_GUEST))
    def test_entry_is_virtual_startup_xen(
        self, images: dict[str, GuestImage], flavour: str
    ) -> None:
        """Xen enters at the ELF entry, paging on: a virtual address."""
        im = images[flavour]
        assert im.entry == im.symbol("startup_xen") >= PAGE_OFFSET

    @pytest.mark.parametrize("flavour", sorted(XEN_GUEST))
    def test_hypercalls_use_trap82(self, images: dict[str, GuestImage], flavour: str) -> None:
        """2.0 and 3.0.0 have no hypercall page: int $0x82 it is."""
        ints = [o for _, _, m, o in _disasm(images[flavour]) if m == "int"]
        assert "0x82" in ints
        assert "0x80" in ints  # the user side's system calls

    def test_abis_differ_in_their_flat_selectors(self, images: dict[str, GuestImage]) -> None:
        """2.0's FLAT_RING3_DS is 0x0833, 3.0's is 0xe033 (FACTS 3d)."""
        movs = {
            f: {o for _, _, m, o in _disasm(images[f]) if m == "mov"} for f in sorted(XEN_GUEST)
        }
        assert any("0x833" in o for o in movs["xenolinux-2.0"])
        assert not any("0xe033" in o for o in movs["xenolinux-2.0"])
        assert any("0xe033" in o for o in movs["xenolinux-3.0"])

    @pytest.mark.parametrize("flavour", sorted(XEN_GUEST))
    def test_no_sites_no_multiboot(self, images: dict[str, GuestImage], flavour: str) -> None:
        """Nothing to patch, nothing for a bare-metal loader."""
        im = images[flavour]
        assert im.sites == ()
        assert im.vmi_annotations == ()
        assert "_start" not in im.symbols
