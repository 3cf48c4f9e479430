"""Checksums the reference guest's workloads print, recomputed on the host.

Every workload ends with one line on the guest console::

    PVOPS-RESULT workload=syscall iterations=1000 checksum=0x1234abcd

:func:`expected_checksum` computes the checksum from the workload's name and
iteration count alone, independently of the guest, so a run that finishes but
computed something wrong (a lost PTE write, a task that ran twice, a system
call that never reached the kernel) is caught, not only a crash.  Each formula
below is the one the guest code implements (``user/user.c`` for the ring-3
workloads, ``workloads/*.c`` for the ones folded by the kernel); a change to
either side must change both.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["WORKLOADS", "expected_checksum", "parse_result"]

M32 = 0xFFFF_FFFF
X86_EFLAGS_IF = 0x200
USER_MMAP_BASE = 0x4000_0000


def _rotl(x: int, r: int) -> int:
    r &= 31
    return ((x << r) | (x >> (32 - r))) & M32 if r else x & M32


def _syscall(n: int) -> int:
    """``c = rotl(c, 5) ^ sys_null(i)``, where the kernel answers
    ``sys_null(x) = x * 0x9E3779B1 + 0x7F4A7C15`` (mod 2**32)."""
    c = 0
    for i in range(n):
        c = _rotl(c, 5) ^ ((i * 0x9E3779B1 + 0x7F4A7C15) & M32)
    return c


def _ctxsw(n: int) -> int:
    """Tasks tagged 1 and 2 alternate strictly; at each yield(i) the kernel
    folds ``sum = rotl(sum, 3) ^ (tag << 24 | i & 0xFFFFFF)``."""
    c = 0
    for i in range(n):
        for tag in (1, 2):
            c = _rotl(c, 3) ^ ((tag << 24) | (i & 0xFFFFFF))
    return c


def _pagefault(n: int) -> int:
    """A 32-page demand-zero window, remapped every 32 touches; touch i reads
    word ``(i * 4) & 0xFFC`` of page ``i % 32`` (must be 0), writes
    ``i * 0x01000193 + 1``, and folds ``c = rotl(c ^ read, 7) + written``."""
    c = 0
    for i in range(n):
        c ^= 0  # a fresh page reads as zero
        c = (_rotl(c, 7) + ((i * 0x01000193 + 1) & M32)) & M32
    return c


def _fork(n: int) -> int:
    """An 8-page populated heap, word 0 of page j = ``j * 0x1111 + 7``.  Step i
    adds i to page ``i % 8``, forks; the child exits with
    ``(i * 3 + 1) * 7 ^ heap[i % 8]`` from its copies; the parent folds
    ``c = rotl(c, 1) ^ exit_code``."""
    heap = [(j * 0x1111 + 7) & M32 for j in range(8)]
    c = 0
    for i in range(n):
        heap[i % 8] = (heap[i % 8] + i) & M32
        code = (((i * 3 + 1) * 7) & M32) ^ heap[i % 8]
        c = _rotl(c, 1) ^ code
    return c


def _irq(n: int) -> int:
    """In the kernel, interrupts on: ``flags = save_fl(); disable;
    sum = rotl(sum, 3) ^ (flags & IF) ^ i; restore_fl(flags)``."""
    c = 0
    for i in range(n):
        c = _rotl(c, 3) ^ X86_EFLAGS_IF ^ (i & M32)
    return c


def _mmap(n: int) -> int:
    """mmap 4 populated pages at 0x40000000; page j gets ``i + j``; with
    ``s = sum(0 + (i + j))`` fold ``c = rotl(c, 5) ^ (addr + s)``; munmap."""
    c = 0
    for i in range(n):
        s = sum(i + j for j in range(4)) & M32
        c = _rotl(c, 5) ^ ((USER_MMAP_BASE + s) & M32)
    return c


def _compute(n: int) -> int:
    """xorshift32 from 0x12345678 (13, 17, 5); ``c = c * 31 + (x ^ i)``."""
    x, c = 0x12345678, 0
    for i in range(n):
        x ^= (x << 13) & M32
        x ^= x >> 17
        x ^= (x << 5) & M32
        c = (c * 31 + (x ^ i)) & M32
    return c


WORKLOADS: dict[str, Callable[[int], int]] = {
    "syscall": _syscall,
    "ctxsw": _ctxsw,
    "pagefault": _pagefault,
    "fork": _fork,
    "irq": _irq,
    "mmap": _mmap,
    "compute": _compute,
}
"""Workload name (the guest command line's ``workload=``) -> checksum formula."""


def expected_checksum(workload: str, iterations: int) -> int:
    """The checksum a correct run of ``workload`` prints after ``iterations``.

    Raises:
        ValueError: unknown workload or negative iteration count.
    """
    if workload not in WORKLOADS:
        msg = f"unknown workload {workload!r} (known: {', '.join(sorted(WORKLOADS))})"
        raise ValueError(msg)
    if not 0 <= iterations <= M32:
        msg = f"iterations must be in 0..2**32-1, not {iterations}"
        raise ValueError(msg)
    return WORKLOADS[workload](iterations)


_RESULT = re.compile(
    r"^PVOPS-RESULT workload=(?P<workload>\S+) iterations=(?P<iterations>\d+)"
    r" checksum=0x(?P<checksum>[0-9a-f]{8})\s*$",
    re.MULTILINE,
)


def parse_result(console: str) -> tuple[str, int, int] | None:
    """The (workload, iterations, checksum) of the console's result line."""
    m = _RESULT.search(console)
    if m is None:
        return None
    return m["workload"], int(m["iterations"]), int(m["checksum"], 16)
