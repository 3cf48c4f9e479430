"""The ROM images: header layout (FACTS 2), relocation info, the builder."""

from __future__ import annotations

import pytest

from pvops.backends.vmi.rom import (
    ROMS,
    VMI_CALLS,
    RelocKind,
    RomError,
    build_rom,
    parse_rom,
    with_header,
    with_params,
)

# The calls the vmi flavour's sites name (paravirt.h), by their VMI 3.0 names.
KERNEL_CALLS = (
    "SetGDT",
    "SetIDT",
    "SetTR",
    "UpdateKernelStack",
    "SetCR0",
    "SetCR3",
    "GetCR0",
    "GetCR2",
    "GetCR3",
    "RDTSC",
    "EnableInterrupts",
    "DisableInterrupts",
    "GetInterruptMask",
    "SetInterruptMask",
    "IRET",
    "Halt",
    "SetPxE",
    "AllocatePage",
    "ReleasePage",
    "InvalPage",
    "FlushTLB",
    "SetLazyMode",
)


@pytest.fixture(params=ROMS)
def rom(request: pytest.FixtureRequest) -> bytes:
    """Each ROM image."""
    return build_rom(str(request.param))


class TestHeader:
    def test_header_fields_follow_facts_2(self, rom: bytes) -> None:
        """0xaa55, cVmi at 8, VMI 3.0 at 12/13, GPL license, VMware PCI ids."""
        info = parse_rom(rom)
        assert rom[:2] == b"\x55\xaa"
        assert rom[8:12] == b"cVmi"
        assert (rom[12], rom[13]) == (0, 3)
        assert info.api_version == (3, 0)
        assert info.license == "GPL"
        assert (info.pci_vendor, info.pci_device) == (0x15AD, 0x0801)
        assert info.virtual_top == 0

    def test_length_and_checksum(self, rom: bytes) -> None:
        """The length byte covers the image in 512-byte units and the bytes sum to 0."""
        assert len(rom) == rom[2] * 512
        assert sum(rom) % 256 == 0
        assert parse_rom(rom).checksum_ok

    def test_init_and_get_reloc_are_code_at_128_and_136(self, rom: bytes) -> None:
        """vmi_init and get_reloc are 8-byte code fields (a jmp each)."""
        assert rom[128] in (0xEB, 0xE9)
        assert rom[136] in (0xEB, 0xE9)

    def test_rewriting_keeps_the_checksum(self, rom: bytes) -> None:
        """with_header / with_params fix the checksum byte after any change."""
        changed = with_params(with_header(rom, license="GPL v2"), shared_info_pa=0x1234000)
        info = parse_rom(changed)
        assert info.checksum_ok
        assert info.license == "GPL v2"
        assert info.params["shared_info_pa"] == 0x1234000


class TestRelocations:
    def test_every_kernel_call_is_implemented(self, rom: bytes) -> None:
        """Each call the kernel names has a slot (and so an answer from get_reloc)."""
        info = parse_rom(rom)
        assert {r.name for r in info.implemented()} >= set(KERNEL_CALLS)

    def test_slots_are_32_bytes_apart_from_0x400(self, rom: bytes) -> None:
        """Call n's slot is at 0x400 + 32n."""
        for r in parse_rom(rom).implemented():
            assert r.offset == 0x400 + 32 * r.call

    def test_unimplemented_calls_answer_none_and_no_address(self) -> None:
        """A call the ROM lacks is NONE with eip 0 (the kernel keeps its native code)."""
        r = parse_rom(build_rom("native")).relocation("SetLinearMapping")
        assert (r.kind, r.offset) == (RelocKind.NONE, None)

    def test_native_rom_keeps_native_bytes(self) -> None:
        """native: NONE wherever the kernel has native bytes, NOP for the calls with none."""
        info = parse_rom(build_rom("native"))
        nop = {"AllocatePage", "ReleasePage", "SetLazyMode"}
        for name in KERNEL_CALLS:
            want = RelocKind.NOP if name in nop else RelocKind.NONE
            assert info.relocation(name).kind is want, name

    def test_native_calls_rom_calls_everything(self) -> None:
        """native-calls: CALL_REL everywhere, JUMP_REL for IRET."""
        info = parse_rom(build_rom("native-calls"))
        assert info.relocation("IRET").kind is RelocKind.JUMP_REL
        assert info.relocation("DisableInterrupts").kind is RelocKind.CALL_REL

    @pytest.mark.parametrize("name", ["xen-2.0", "xen-3.0"])
    def test_xen_roms_relocations(self, name: str) -> None:
        """Xen: calls for the privileged work and the batching, NOP for the TSS, native rdtsc."""
        info = parse_rom(build_rom(name))
        kinds = {r.name: r.kind for r in info.implemented()}
        assert kinds["IRET"] is RelocKind.JUMP_REL
        assert kinds["RDTSC"] is RelocKind.NONE
        assert kinds["SetTR"] is RelocKind.NOP
        for name_ in ("SetCR3", "SetPxE", "InvalPage", "FlushTLB", "EnableInterrupts", "Halt"):
            assert kinds[name_] is RelocKind.CALL_REL
        for name_ in ("AllocatePage", "ReleasePage", "SetLazyMode"):  # R:250 batching
            assert kinds[name_] is RelocKind.CALL_REL

    def test_call_numbers_are_linux_2_6_21s(self) -> None:
        """The numbering is include/asm-i386/vmi.h's (AllocatePage 44 ... SetLinearMapping 48)."""
        by_name = {v: k for k, v in VMI_CALLS.items()}
        assert by_name["SetPxE"] == 38
        assert by_name["AllocatePage"] == 44
        assert by_name["FlushTLB"] == 47
        assert by_name["SetLinearMapping"] == 48
        assert by_name["SetLazyMode"] == 73


class TestBuilder:
    def test_unknown_rom_is_refused(self) -> None:
        """build_rom names the ROMs it knows."""
        with pytest.raises(RomError, match="known: native"):
            build_rom("esx")

    def test_build_is_cached_and_deterministic(self) -> None:
        """Two builds give the same bytes."""
        assert build_rom("native") == build_rom("native")

    def test_license_too_long_is_refused(self) -> None:
        """with_header will not overwrite code with a long license string."""
        with pytest.raises(RomError, match="does not fit"):
            with_header(build_rom("native"), license="x" * 64)
