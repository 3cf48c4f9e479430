"""Native MMU ops: control registers, TLB instructions and plain stores.

On bare hardware a page-table update is just a store into memory the CPU
walks; the hypervisor backends exist because that store is exactly what
they cannot allow.
"""

from __future__ import annotations

from pvops.hw import Cpu
from pvops.types import Pde, PhysAddr, Pte, VirtAddr


def native_read_cr2(cpu: Cpu) -> VirtAddr:
    """mov %cr2, reg."""
    return VirtAddr(cpu.cr2)


def native_write_cr2(cpu: Cpu, value: VirtAddr) -> None:
    """mov reg, %cr2."""
    cpu.cr2 = value


def native_read_cr3(cpu: Cpu) -> PhysAddr:
    """mov %cr3, reg."""
    return PhysAddr(cpu.cr3)


def native_write_cr3(cpu: Cpu, pgd: PhysAddr) -> None:
    """mov reg, %cr3."""
    cpu.cr3 = pgd


def native_flush_tlb(cpu: Cpu) -> None:
    """Reload cr3: drops the non-global entries."""
    cpu.flush_tlb(include_global=False)


def native_flush_tlb_global(cpu: Cpu) -> None:
    """Toggle cr4.PGE: drops global entries too."""
    cpu.flush_tlb(include_global=True)


def native_flush_tlb_single(cpu: Cpu, addr: VirtAddr) -> None:
    """invlpg."""
    cpu.invlpg(addr)


def native_flush_tlb_others(cpu: Cpu, cpumask: int, mm: VirtAddr, va: VirtAddr) -> None:
    """Send flush IPIs; the modeled machine has one CPU, so there is nobody to tell."""
    del cpu, cpumask, mm, va


def _store32(cpu: Cpu, addr: VirtAddr, value: int) -> None:
    cpu.write_virt(addr, (value & 0xFFFFFFFF).to_bytes(4, "little"))


def native_set_pte(cpu: Cpu, ptep: VirtAddr, pte: Pte) -> None:
    """A 32-bit store into the page table."""
    _store32(cpu, ptep, pte)


def native_set_pte_at(cpu: Cpu, mm: VirtAddr, addr: VirtAddr, ptep: VirtAddr, pte: Pte) -> None:
    """A 32-bit store into the page table (mm and addr only matter to hypervisors)."""
    del mm, addr
    _store32(cpu, ptep, pte)


def native_set_pmd(cpu: Cpu, pmdp: VirtAddr, pmd: Pde) -> None:
    """A 32-bit store into the page directory."""
    _store32(cpu, pmdp, pmd)


def native_pte_val(cpu: Cpu, pte: Pte) -> int:
    """The PTE as it is: physical frames are what the hardware walks."""
    del cpu
    return int(pte)


def native_make_pte(cpu: Cpu, value: int) -> Pte:
    """The value as it is."""
    del cpu
    return Pte(value)


def native_pgd_val(cpu: Cpu, pgd: Pde) -> int:
    """The entry as it is."""
    del cpu
    return int(pgd)


def native_make_pgd(cpu: Cpu, value: int) -> Pde:
    """The value as it is."""
    del cpu
    return Pde(value)
