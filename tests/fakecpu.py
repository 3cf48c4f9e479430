"""A small pure-Python CPU implementing :class:`pvops.hw.Cpu`, for op unit tests.

It has flat memory with paging off (virtual == physical), privilege checks
for the few instructions native ops use, and a log of port I/O and TLB
flushes, so tests can see what an op did to the hardware.
"""

from __future__ import annotations

from pvops.hw import EFLAGS_FIXED, EFLAGS_IF, EFLAGS_IOPL, EFLAGS_IOPL_SHIFT, VECTOR_GP, GuestFault
from pvops.types import PhysAddr, Port, VirtAddr

KNOWN_MSRS = {0x10: 0, 0x1B: 0xFEE00900}  # TSC, APIC base


class FakeCpu:
    """Registers, memory and a few devices; enough to watch a native op act."""

    def __init__(self, memory_size: int = 1 << 16, *, cpl: int = 0) -> None:
        self.memory = bytearray(memory_size)
        self.eax = self.ebx = self.ecx = self.edx = 0
        self.esi = self.edi = self.ebp = self.esp = self.eip = 0
        self.eflags = EFLAGS_FIXED
        self.cr0 = 0x11
        self.cr2 = self.cr3 = self.cr4 = 0
        self._cpl = cpl
        self.tsc = 1000
        self.msrs = dict(KNOWN_MSRS)
        self.debugregs = [0] * 8
        self.gdtr: tuple[VirtAddr, int] = (VirtAddr(0), 0)
        self.idtr: tuple[VirtAddr, int] = (VirtAddr(0), 0)
        self.tr = 0
        self.ldtr = 0
        self.halted = False
        self.port_log: list[tuple[str, int, int]] = []
        self.port_values: dict[int, int] = {}
        self.tlb_flushes: list[str] = []
        self.irets = 0

    @property
    def cpl(self) -> int:
        return self._cpl

    def _iopl(self) -> int:
        return (self.eflags & EFLAGS_IOPL) >> EFLAGS_IOPL_SHIFT

    def _privileged(self) -> None:
        if self._cpl != 0:
            raise GuestFault(VECTOR_GP, 0)

    def read(self, addr: PhysAddr, n: int) -> bytes:
        return bytes(self.memory[addr : addr + n])

    def write(self, addr: PhysAddr, data: bytes) -> None:
        if addr + len(data) <= len(self.memory):
            self.memory[addr : addr + len(data)] = data

    def read_virt(self, addr: VirtAddr, n: int) -> bytes:
        return self.read(PhysAddr(addr), n)

    def write_virt(self, addr: VirtAddr, data: bytes) -> None:
        self.write(PhysAddr(addr), data)

    def cli(self) -> None:
        if self._cpl > self._iopl():
            raise GuestFault(VECTOR_GP, 0)
        self.eflags &= ~EFLAGS_IF

    def sti(self) -> None:
        if self._cpl > self._iopl():
            raise GuestFault(VECTOR_GP, 0)
        self.eflags |= EFLAGS_IF

    def popf(self, value: int) -> None:
        keep = 0
        if self._cpl > 0:
            keep |= EFLAGS_IOPL
        if self._cpl > self._iopl():
            keep |= EFLAGS_IF
        self.eflags = (self.eflags & keep) | (value & ~keep & 0x3F7FD5) | EFLAGS_FIXED

    def hlt(self) -> None:
        self._privileged()
        self.halted = True

    def iret(self) -> None:
        self.irets += 1

    def invlpg(self, addr: VirtAddr) -> None:
        self._privileged()
        self.tlb_flushes.append(f"invlpg {addr:#x}")

    def flush_tlb(self, *, include_global: bool) -> None:
        self._privileged()
        self.tlb_flushes.append("all" if include_global else "user")

    def cpuid(self, leaf: int, subleaf: int) -> tuple[int, int, int, int]:
        del subleaf
        if leaf == 0:
            return (0x16, 0x756E6547, 0x6C65746E, 0x49656E69)  # "GenuineIntel"
        if leaf == 0x16:
            return (3800, 3800, 100, 0)
        return (0, 0, 0, 0)

    def rdmsr(self, msr: int) -> int:
        self._privileged()
        if msr not in self.msrs:
            raise GuestFault(VECTOR_GP, 0)
        return self.msrs[msr]

    def wrmsr(self, msr: int, value: int) -> None:
        self._privileged()
        if msr not in self.msrs:
            raise GuestFault(VECTOR_GP, 0)
        self.msrs[msr] = value

    def rdtsc(self) -> int:
        self.tsc += 1
        return self.tsc

    def rdpmc(self, counter: int) -> int:
        return counter * 0

    def port_in(self, port: Port, size: int) -> int:
        if self._cpl > self._iopl():
            raise GuestFault(VECTOR_GP, 0)
        self.port_log.append(("in", port, size))
        return self.port_values.get(port, (1 << (8 * size)) - 1)

    def port_out(self, port: Port, size: int, value: int) -> None:
        if self._cpl > self._iopl():
            raise GuestFault(VECTOR_GP, 0)
        self.port_log.append(("out", port, value))
        self.port_values[port] = value

    def get_debugreg(self, n: int) -> int:
        self._privileged()
        return self.debugregs[n]

    def set_debugreg(self, n: int, value: int) -> None:
        self._privileged()
        self.debugregs[n] = value

    def clts(self) -> None:
        self._privileged()
        self.cr0 &= ~8

    def wbinvd(self) -> None:
        self._privileged()

    def lgdt(self, base: VirtAddr, limit: int) -> None:
        self._privileged()
        self.gdtr = (base, limit)

    def lidt(self, base: VirtAddr, limit: int) -> None:
        self._privileged()
        self.idtr = (base, limit)

    def sgdt(self) -> tuple[VirtAddr, int]:
        return self.gdtr

    def sidt(self) -> tuple[VirtAddr, int]:
        return self.idtr

    def ltr(self, selector: int) -> None:
        self._privileged()
        self.tr = selector

    def str_(self) -> int:
        return self.tr

    def lldt(self, selector: int) -> None:
        self._privileged()
        self.ldtr = selector
