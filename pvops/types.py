"""Kinds of numbers that must not be mixed up.

A kernel juggles several address spaces at once: virtual addresses, guest
physical addresses, and (under Xen) machine addresses, plus frame numbers
for each.  They are all ``unsigned long`` in C, which is how a Xen port ends
up writing a pseudo-physical frame into a page-table entry.  Here each kind
is a distinct ``NewType``, so passing a :data:`VirtAddr` where a
:data:`PhysAddr` is expected is a mypy error, while at run time they are
plain ints with no cost.
"""

from __future__ import annotations

from typing import NewType

VirtAddr = NewType("VirtAddr", int)
"""A linear (virtual) address, translated by the current page tables."""

PhysAddr = NewType("PhysAddr", int)
"""A guest-physical address (what the guest believes is RAM)."""

MachAddr = NewType("MachAddr", int)
"""A machine address: real RAM as the hypervisor sees it (Xen's "ma")."""

Pfn = NewType("Pfn", int)
"""A guest-physical page frame number (``PhysAddr >> 12``)."""

Mfn = NewType("Mfn", int)
"""A machine frame number (``MachAddr >> 12``)."""

Pte = NewType("Pte", int)
"""A page-table entry value (frame | flags), as written into a page table."""

Pde = NewType("Pde", int)
"""A page-directory entry value (i386 two-level paging: pmd == pgd)."""

IrqFlags = NewType("IrqFlags", int)
"""An EFLAGS image as returned by ``save_fl``; only IF is meaningful."""

Selector = NewType("Selector", int)
"""A segment selector (index << 3 | TI << 2 | RPL)."""

Port = NewType("Port", int)
"""An I/O port number (0..0xFFFF)."""

Msr = NewType("Msr", int)
"""A model-specific register number."""

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT


def pfn_of(addr: PhysAddr) -> Pfn:
    """The frame holding a physical address."""
    return Pfn(addr >> PAGE_SHIFT)


def phys_of(pfn: Pfn) -> PhysAddr:
    """The first physical address of a frame."""
    return PhysAddr(pfn << PAGE_SHIFT)
