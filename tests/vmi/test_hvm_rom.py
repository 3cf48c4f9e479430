"""The hvm ROM: page-table updates through the VMM's backdoor, batched in lazy windows."""

from __future__ import annotations

import struct

from pvops.backends.vmi.rom import ROM_BASE, RelocKind, build_rom, parse_rom
from pvops.cpu import Machine, StopReason

STUB, STACK = 0x1000, 0x8000
BDOOR_PORT, BDOOR_MAGIC = 0x5658, 0x564D5868


class HvmRom:
    """The hvm ROM at 0xC0000 on a flat machine (paging off), its backdoor recorded."""

    def __init__(self) -> None:
        self.image = build_rom("hvm")
        self.info = parse_rom(self.image)
        self.m = Machine(memory_size=1 << 20)
        self.m.write(ROM_BASE, self.image)
        self.calls: list[list[tuple[int, int]]] = []
        self.m.set_port_hook(BDOOR_PORT, self._backdoor, 4)
        assert self.call(ROM_BASE + 128).eax == 0  # vmi_init

    def _backdoor(self, m: Machine, port: int, size: int, value: int | None) -> int:
        del port, size, value
        assert (m.eax, m.ecx) == (BDOOR_MAGIC, 0x50)
        pairs = struct.unpack(f"<{2 * m.esi}I", m.read(m.ebx, 8 * m.esi))
        self.calls.append(list(zip(pairs[::2], pairs[1::2], strict=True)))
        return 0

    def slot(self, name: str) -> int:
        offset = self.info.relocation(name).offset
        assert offset is not None
        return ROM_BASE + offset

    def call(self, target: int, eax: int = 0, edx: int = 0) -> Machine:
        m = self.m
        rel = (target - (STUB + 5)) & 0xFFFFFFFF
        m.write(STUB, b"\xe8" + rel.to_bytes(4, "little") + b"\xf4")
        m.eip, m.esp, m.eax, m.edx = STUB, STACK, eax, edx
        m.ebx, m.esi, m.edi = 0x1B1B1B1B, 0x5151515, 0xD1D1D1D
        assert m.run(max_instructions=100_000) is StopReason.HALT, m.dump()
        assert (m.ebx, m.esi, m.edi, m.esp) == (0x1B1B1B1B, 0x5151515, 0xD1D1D1D, STACK)
        return m

    def take(self) -> list[list[tuple[int, int]]]:
        out, self.calls = self.calls, []
        return out


def test_relocations_take_only_the_mmu_path() -> None:
    """Native bytes everywhere but the page-table calls, which the backdoor serves."""
    kinds = {r.name: r.kind for r in parse_rom(build_rom("hvm")).implemented()}
    for name in ("SetPxE", "SetLazyMode", "AllocatePage", "ReleasePage", "InvalPage", "SetCR3"):
        assert kinds[name] is RelocKind.CALL_REL
    for name in ("DisableInterrupts", "EnableInterrupts", "SetGDT", "Halt", "RDTSC"):
        assert kinds[name] is RelocKind.NONE


def test_outside_a_window_each_update_is_one_backdoor_call() -> None:
    """SetPxE(value, ptep): one pair, the entry's physical address first."""
    rom = HvmRom()
    rom.call(rom.slot("SetPxE"), eax=0x5067, edx=0x4008)
    assert rom.take() == [[(0x4008, 0x5067)]]


def test_a_window_is_one_backdoor_call() -> None:
    """In a lazy MMU window updates queue; leaving it hands them over together."""
    rom = HvmRom()
    rom.call(rom.slot("SetLazyMode"), eax=1)
    for k in range(4):
        rom.call(rom.slot("SetPxE"), eax=0x67 + (k << 12), edx=0x4000 + 4 * k)
    assert rom.take() == []
    rom.call(rom.slot("SetLazyMode"), eax=0)
    assert rom.take() == [[(0x4000 + 4 * k, 0x67 + (k << 12)) for k in range(4)]]


def test_released_tables_ride_in_the_list_and_invalidation_flushes_first() -> None:
    """ReleasePage adds a retirement (ptr | 1); InvalPage hands the queue over before it runs."""
    rom = HvmRom()
    rom.call(rom.slot("SetLazyMode"), eax=1)
    rom.call(rom.slot("SetPxE"), eax=0, edx=0x4000)
    rom.call(rom.slot("ReleasePage"), eax=0x42, edx=1)
    rom.call(rom.slot("InvalPage"), eax=0x1000)
    assert rom.take() == [[(0x4000, 0), (0x42001, 0)]]
    rom.call(rom.slot("SetLazyMode"), eax=0)
    assert rom.take() == []
