"""The Machine API on top of unicorn, to test the tests.

``PVOPS_CPU_SELFTEST=1`` makes the harness use this class instead of
``pvops.cpu.Machine``: every differential test must then pass, which shows
that the generators, tables and masks are right and that a failure in the
real run is the core's.  Exceptions are delivered through the guest IDT
(interrupt gates, same privilege level only), as the core does.
"""

from __future__ import annotations

import ctypes
import enum
import struct

from unicorn import UC_ARCH_X86, UC_HOOK_CODE, UC_HOOK_INTR, UC_MODE_32, UC_PROT_ALL, Uc, UcError
from unicorn import x86_const as ux


class StopReason(enum.IntEnum):
    """Same values as pvops.cpu.StopReason."""

    HALT = 0
    BUDGET = 1
    TRIPLE_FAULT = 2


_REGS = {
    "eax": ux.UC_X86_REG_EAX,
    "ebx": ux.UC_X86_REG_EBX,
    "ecx": ux.UC_X86_REG_ECX,
    "edx": ux.UC_X86_REG_EDX,
    "esi": ux.UC_X86_REG_ESI,
    "edi": ux.UC_X86_REG_EDI,
    "ebp": ux.UC_X86_REG_EBP,
    "esp": ux.UC_X86_REG_ESP,
    "eip": ux.UC_X86_REG_EIP,
    "eflags": ux.UC_X86_REG_EFLAGS,
    "cr0": ux.UC_X86_REG_CR0,
    "cr2": ux.UC_X86_REG_CR2,
    "cr3": ux.UC_X86_REG_CR3,
    "cr4": ux.UC_X86_REG_CR4,
}
_ERROR_CODE = {8, 10, 11, 12, 13, 14, 17}


class Machine:
    """A unicorn-backed stand-in with the pvops.cpu.Machine API."""

    def __init__(self, memory_size: int = 16 << 20) -> None:
        self.memory_size = memory_size
        self._buf = ctypes.create_string_buffer(memory_size)
        self._uc = Uc(UC_ARCH_X86, UC_MODE_32)
        self._uc.mem_map_ptr(0, memory_size, UC_PROT_ALL, ctypes.addressof(self._buf))
        self._uc.reg_write(ux.UC_X86_REG_EFLAGS, 0x2)
        self._idtr = (0, 0x3FF)
        self._pending: list[int] = []
        self._count = 0
        self._last = -1
        self.instructions = 0
        self._uc.hook_add(UC_HOOK_CODE, self._on_code)
        self._uc.hook_add(UC_HOOK_INTR, self._on_intr)

    def _on_code(self, uc: Uc, address: int, size: int, _d: object) -> None:
        code = bytes(self._buf[address : address + size])
        # unicorn keeps GDTR/IDTR itself, but exceptions are delivered here.
        if (
            code[:2] == b"\x0f\x01"
            and (code[2] >> 3) & 7 == 3
            and code[2] >> 6 == 0
            and code[2] & 7 == 5
        ):
            ptr = struct.unpack_from("<I", code, 3)[0]
            limit, base = struct.unpack("<HI", bytes(self._buf[ptr : ptr + 6]))
            self._idtr = (base, limit)
        self._count += 1
        self._last = address

    def _on_intr(self, uc: Uc, intno: int, _d: object) -> None:
        self._pending.append(intno)
        uc.emu_stop()

    def __getattr__(self, name: str) -> int:
        if name in _REGS:
            return int(self._uc.reg_read(_REGS[name]))
        raise AttributeError(name)

    def __setattr__(self, name: str, value: object) -> None:
        if name in _REGS:
            self._uc.reg_write(_REGS[name], int(value))  # type: ignore[call-overload]
        else:
            object.__setattr__(self, name, value)

    @property
    def cpl(self) -> int:
        """Always 0 here."""
        return 0

    def write(self, addr: int, data: bytes) -> None:
        """Write physical memory."""
        ctypes.memmove(ctypes.addressof(self._buf) + addr, bytes(data), len(data))
        self._uc.ctl_remove_cache(addr, addr + max(len(data), 1))

    def read(self, addr: int, n: int) -> bytes:
        """Read physical memory."""
        return bytes(self._buf[addr : addr + n])

    def _deliver(self, vector: int, eip: int) -> bool:
        base, limit = self._idtr
        if vector * 8 + 7 > limit:
            return False
        lo, sel, _z, typ, hi = struct.unpack("<HHBBH", self.read(base + vector * 8, 8))
        if not typ & 0x80:
            return False
        esp = self.esp
        words = [self.eflags, 0x08, eip] + ([0] if vector in _ERROR_CODE else [])
        for w in words:
            esp -= 4
            self.write(esp, struct.pack("<I", w))
        self.esp = esp
        self.eip = lo | (hi << 16)
        if typ & 0x1F == 0x0E:
            self.eflags = self.eflags & ~(1 << 9)
        _ = sel
        return True

    def run(self, max_instructions: int = 1 << 62) -> StopReason:
        """Run up to ``max_instructions``; HALT on hlt."""
        self._count = 0
        budget = max_instructions
        while budget > 0:
            start = self.eip
            self._pending.clear()
            self._count = 0
            try:
                self._uc.emu_start(start, 0xFFFFFFFF, count=budget)
            except UcError:
                if not self._deliver(6, self.eip):
                    return StopReason.TRIPLE_FAULT
                continue
            done = self._count
            if self._pending:
                vector = self._pending[0]
                done -= 1  # the faulting instruction did not retire
                if not self._deliver(vector, self.eip):
                    return StopReason.TRIPLE_FAULT
                self.instructions += max(done, 0)
                budget -= max(done, 0)
                continue
            self.instructions += done
            budget -= done
            if (
                self._last >= 0
                and self.read(self._last, 1) == b"\xf4"
                and self.eip == self._last + 1
            ):
                return StopReason.HALT
            if done == 0:
                break
        return StopReason.BUDGET
