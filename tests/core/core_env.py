"""A small protected-mode environment for core tests: GDT, IDT, TSS, code.

Layout (physical = linear unless a test turns paging on):
  0x1000 GDT   0x2000 IDT   0x3000 TSS   0x4000.. page tables (when used)
  0x10000.. code snippets   stacks: ring 0 at 0x9000, ring 1 at 0xA000, ring 3 at 0xB000
Selectors: 0x08/0x10 ring-0 code/data, 0x19/0x21 ring-1, 0x2B/0x33 ring-3, 0x38 TSS.
"""

from __future__ import annotations

import struct

from core_asm import assemble

from pvops.cpu import Machine

GDT, IDT, TSS = 0x1000, 0x2000, 0x3000
K_CS, K_DS, R1_CS, R1_DS, U_CS, U_DS, TSS_SEL = 0x08, 0x10, 0x19, 0x21, 0x2B, 0x33, 0x38
STACK0, STACK1, STACK3 = 0x9000, 0xA000, 0xB000


def desc(base: int, limit: int, access: int, flags: int = 0xC) -> bytes:
    """An 8-byte segment descriptor."""
    lo = (limit & 0xFFFF) | ((base & 0xFFFF) << 16)
    hi = (
        ((base >> 16) & 0xFF)
        | (access << 8)
        | (limit & 0xF0000)
        | (flags << 20)
        | (base & 0xFF000000)
    )
    return struct.pack("<II", lo, hi)


def gate(offset: int, selector: int, dpl: int = 0, trap: bool = False) -> bytes:
    """An 8-byte 32-bit interrupt (or trap) gate."""
    lo = (offset & 0xFFFF) | (selector << 16)
    hi = (offset & 0xFFFF0000) | 0x8000 | (dpl << 13) | ((0xF if trap else 0xE) << 8)
    return struct.pack("<II", lo, hi)


def machine(memory_size: int = 1 << 22) -> Machine:
    """A machine with the GDT/TSS loaded, an empty IDT, CS/DS at ring 0."""
    m = Machine(memory_size=memory_size)
    gdt = b"".join(
        [
            bytes(8),
            desc(0, 0xFFFFF, 0x9A),
            desc(0, 0xFFFFF, 0x92),  # ring 0
            desc(0, 0xFFFFF, 0xBA),
            desc(0, 0xFFFFF, 0xB2),  # ring 1
            desc(0, 0xFFFFF, 0xFA),
            desc(0, 0xFFFFF, 0xF2),  # ring 3
            desc(TSS, 0x67, 0x89, 0),
        ]
    )
    m.write(GDT, gdt)
    tss = bytearray(0x68)
    struct.pack_into("<IIII", tss, 4, STACK0, K_DS, STACK1, R1_DS)
    m.write(TSS, bytes(tss))
    m.lgdt(GDT, len(gdt) - 1)
    m.lidt(IDT, 256 * 8 - 1)
    m.ltr(TSS_SEL)
    m.set_segment("cs", K_CS)
    for seg in ("ds", "es", "ss", "fs", "gs"):
        m.set_segment(seg, K_DS)
    m.esp = STACK0
    return m


def set_gate(
    m: Machine, vector: int, offset: int, selector: int = K_CS, dpl: int = 0, trap: bool = False
) -> None:
    """Install an IDT gate."""
    m.write(IDT + 8 * vector, gate(offset, selector, dpl, trap))


def load(m: Machine, addr: int, source: str) -> int:
    """Assemble ``source`` at ``addr`` into memory; returns the end address."""
    code = assemble(source, addr)
    m.write(addr, code)
    return addr + len(code)


def enter_ring(m: Machine, ring: int, eip: int, esp: int) -> None:
    """Put the CPU at ``ring`` (no transition, just the state a loader would set)."""
    cs, ds = {0: (K_CS, K_DS), 1: (R1_CS, R1_DS), 3: (U_CS, U_DS)}[ring]
    m.set_segment("cs", cs)
    for seg in ("ds", "es", "ss", "fs", "gs"):
        m.set_segment(seg, ds)
    m.eip = eip
    m.esp = esp


def identity_paging(m: Machine, pd: int = 0x4000, user: bool = True) -> None:
    """Map the first 4 MiB with 4 KiB pages (page table at pd + 0x1000)."""
    flags = 7 if user else 3
    pt = pd + 0x1000
    m.write(pd, struct.pack("<I", pt | flags) + bytes(4092))
    m.write(pt, b"".join(struct.pack("<I", (k << 12) | flags) for k in range(1024)))
    m.cr3 = pd
    m.cr0 = m.cr0 | 0x80000000


def pte_addr(virt: int, pd: int = 0x4000) -> int:
    """Physical address of the PTE of ``virt`` under identity_paging()."""
    return pd + 0x1000 + 4 * (virt >> 12)


def read32(m: Machine, addr: int) -> int:
    """A little-endian dword of physical memory."""
    return int.from_bytes(m.read(addr, 4), "little")


def write32(m: Machine, addr: int, value: int) -> None:
    """Store a little-endian dword to physical memory."""
    m.write(addr, struct.pack("<I", value))
