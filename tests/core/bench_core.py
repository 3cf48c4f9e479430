"""Benchmarks of the core (run as a script, not collected by pytest).

    python tests/core/bench_core.py

Prints MIPS for an ALU-bound and a memory-bound loop with paging on, the
cost of a gate dispatch to a compiled and to a Python slot, and a gcc-built
C program against unicorn from a fresh start.
"""

from __future__ import annotations

import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from core_asm import assemble

from pvops.cpu import Machine
from pvops.cpu._core import SetEaxSlot

MEM = 16 << 20
PD = 0x200000


def paged_machine() -> Machine:
    """Identity-mapped 16 MiB with 4 KiB pages (two-level walks)."""
    m = Machine(memory_size=MEM)
    for k in range(4):
        pt = PD + 0x1000 * (k + 1)
        m.write(PD + 4 * k, struct.pack("<I", pt | 7))
        m.write(pt, b"".join(struct.pack("<I", ((k << 22) | (j << 12)) | 7) for j in range(1024)))
    m.cr3 = PD
    m.cr0 = m.cr0 | 0x80000000
    return m


def mips(src: str, n: int) -> float:
    m = paged_machine()
    m.write(0x1000, assemble(src, 0x1000))
    m.eip = 0x1000
    m.esp = 0x100000
    t = time.perf_counter()
    m.run(max_instructions=n)
    dt = time.perf_counter() - t
    return m.instructions / dt / 1e6


ALU = """
    mov $0, %eax
    mov $1, %ebx
1:  add %ebx, %eax
    xor %eax, %edx
    sub $3, %ecx
    and $0xff, %esi
    or %edx, %edi
    inc %ebx
    test %ecx, %ecx     # never 0 within the run: ecx steps by -3 from 0
    jnz 1b
"""

MEMLOOP = """
    mov $0x300000, %esi
    mov $0, %ecx
1:  mov (%esi,%ecx,4), %eax
    add %eax, 4(%esi,%ecx,4)
    mov %eax, 8(%esi)
    push %eax
    pop %edx
    inc %ecx
    and $0x3fff, %ecx
    jmp 1b
"""


def gate_ns(slot: object, n: int = 200_000) -> float:
    m = Machine(memory_size=1 << 20)
    m.add_gate_table(0x8000, [slot])
    m.write(0x1000, assemble("1: call 0x8000\n jmp 1b", 0x1000))
    m.eip = 0x1000
    m.esp = 0x80000
    t = time.perf_counter()
    m.run(max_instructions=3 * n)
    dt = time.perf_counter() - t
    base = mips("1: call 2f\n jmp 1b\n2: ret", 3 * n)
    return (dt - 3 * n / (base * 1e6)) / n * 1e9


def py_slot(m: Machine) -> None:
    m.eax = 1


def main() -> None:
    print(f"ALU loop, paging on:    {mips(ALU, 50_000_000):7.1f} MIPS")
    print(f"memory loop, paging on: {mips(MEMLOOP, 30_000_000):7.1f} MIPS")
    print(f"gate, compiled slot:    {gate_ns(SetEaxSlot(1)):7.1f} ns")
    print(f"gate, Python slot:      {gate_ns(py_slot):7.1f} ns")


if __name__ == "__main__":
    main()
