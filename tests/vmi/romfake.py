"""A Xen ROM on a bare Machine, with a fake hypervisor behind ``int $0x82``.

The fake records every hypercall (number, the five argument registers and
the bytes EBX points at), answers 0, and fills in the port of an
EVTCHNOP_bind_virq.  Tests call the ROM's slots the way a patched kernel
site does (``call slot``) and read back what the ROM asked of Xen.
"""

from __future__ import annotations

import struct

import attrs

from pvops.backends.vmi.rom import ROM_BASE, build_rom, parse_rom, with_params
from pvops.cpu import Machine, StopReason

SHARED_INFO = 0x9000
STUB = 0x1000
STACK = 0x8000
TIMER_PORT = 5
GDT_BASE = 0x500
VMI_INIT = ROM_BASE + 128


@attrs.frozen
class Hypercall:
    """One ``int $0x82`` as the fake saw it."""

    nr: int
    args: tuple[int, int, int, int, int]  # EBX, ECX, EDX, ESI, EDI
    block: bytes  # 64 bytes at EBX (when it is a pointer into memory)

    def words(self, n: int) -> tuple[int, ...]:
        """The first ``n`` 32-bit words EBX pointed at."""
        return struct.unpack_from(f"<{n}I", self.block)


class FakeXen:
    """One Xen ROM (``xen-2.0`` or ``xen-3.0``) at 0xC0000, paging off, ring 0."""

    def __init__(self, rom: str) -> None:
        self.abi = 300 if rom == "xen-3.0" else 200
        self.image = with_params(build_rom(rom), shared_info_pa=SHARED_INFO)
        self.info = parse_rom(self.image)
        self.m = Machine(memory_size=1 << 20)
        self.m.write(ROM_BASE, self.image)
        self.m.set_int_hook(0x82, self._hypercall)
        # A flat GDT (0x08 code, 0x10 data) so a frame's CS can be reloaded by iret.
        self.m.write(GDT_BASE, struct.pack("<3Q", 0, 0x00CF9A000000FFFF, 0x00CF92000000FFFF))
        self.m.lgdt(GDT_BASE, 3 * 8 - 1)
        self.calls: list[Hypercall] = []

    def _hypercall(self, m: Machine) -> None:
        ebx = m.ebx
        block = m.read(ebx, 64) if ebx + 64 <= m.memory_size else b""
        self.calls.append(Hypercall(m.eax, (ebx, m.ecx, m.edx, m.esi, m.edi), block))
        if m.eax == 16 and block[:4] == b"\1\0\0\0":  # EVTCHNOP_bind_virq
            port_at = 12 if self.abi >= 300 else 8
            m.write(ebx + port_at, TIMER_PORT.to_bytes(4, "little"))
        m.eax = 0

    def slot(self, name: str) -> int:
        """Physical address of a call's slot."""
        offset = self.info.relocation(name).offset
        assert offset is not None
        return ROM_BASE + offset

    def call(self, target: int, eax: int = 0, edx: int = 0, ecx: int = 0) -> Machine:
        """``call target`` from a stub with the site ABI's registers; the machine after."""
        m = self.m
        rel = (target - (STUB + 5)) & 0xFFFFFFFF
        m.write(STUB, b"\xe8" + rel.to_bytes(4, "little") + b"\xf4")
        m.eip, m.esp = STUB, STACK
        m.eax, m.edx, m.ecx = eax, edx, ecx
        m.ebx, m.esi, m.edi, m.ebp = 0x1B1B1B1B, 0x5151515, 0xD1D1D1D, 0xB0B0B0B
        stop = m.run(max_instructions=100_000)
        assert stop is StopReason.HALT, m.dump()
        assert m.eip == STUB + 6, m.dump()
        assert (m.ebx, m.esi, m.edi, m.ebp) == (0x1B1B1B1B, 0x5151515, 0xD1D1D1D, 0xB0B0B0B)
        assert m.esp == STACK
        return m

    def init(self) -> int:
        """Run vmi_init; its return value."""
        return self.call(VMI_INIT).eax

    def vcpu(self) -> tuple[int, int, int]:
        """(upcall_pending, upcall_mask, pending_sel) of vCPU 0."""
        pending, mask = self.m.read(SHARED_INFO, 2)
        return pending, mask, struct.unpack("<I", self.m.read(SHARED_INFO + 4, 4))[0]

    def set_vcpu(self, *, pending: int | None = None, mask: int | None = None) -> None:
        """Write vCPU 0's upcall bytes."""
        if pending is not None:
            self.m.write(SHARED_INFO, bytes([pending]))
        if mask is not None:
            self.m.write(SHARED_INFO + 1, bytes([mask]))

    def take(self) -> list[Hypercall]:
        """The hypercalls since the last take."""
        out, self.calls = self.calls, []
        return out
