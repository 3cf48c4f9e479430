"""A virtual address where a physical one belongs."""

from __future__ import annotations

from pvops.hw import Cpu
from pvops.ops import PvMmuOps
from pvops.types import PhysAddr, VirtAddr


def lab_write_cr3(cpu: Cpu, pgd: VirtAddr) -> None:
    del cpu, pgd


MMU = PvMmuOps(write_cr3=lab_write_cr3)  # E: write_cr3


def switch(cpu: Cpu, mmu: PvMmuOps, pgd_virt: VirtAddr) -> PhysAddr:
    mmu.write_cr3(cpu, pgd_virt)  # E: VirtAddr
    return mmu.read_cr3(cpu)
