"""Xen mmu ops: page tables validated by the hypervisor, updates batched by multicall."""

from __future__ import annotations

from pvops.hw import Cpu
from pvops.pending import OpNotModeledError
from pvops.types import Pde, Pfn, PhysAddr, Pte, VirtAddr


def xen_pagetable_setup_start(cpu: Cpu, base: VirtAddr) -> None:
    """The initial page tables are about to be built."""
    raise OpNotModeledError("xen", "mmu.pagetable_setup_start", "the Xen hypervisor model")


def xen_pagetable_setup_done(cpu: Cpu, base: VirtAddr) -> None:
    """The initial page tables are built."""
    raise OpNotModeledError("xen", "mmu.pagetable_setup_done", "the Xen hypervisor model")


def xen_read_cr2(cpu: Cpu) -> VirtAddr:
    """The last page-fault address."""
    raise OpNotModeledError("xen", "mmu.read_cr2", "the Xen hypervisor model")


def xen_read_cr3(cpu: Cpu) -> PhysAddr:
    """The current page directory."""
    raise OpNotModeledError("xen", "mmu.read_cr3", "the Xen hypervisor model")


def xen_write_cr3(cpu: Cpu, pgd: PhysAddr) -> None:
    """Switch page directory."""
    raise OpNotModeledError("xen", "mmu.write_cr3", "the Xen hypervisor model")


def xen_flush_tlb(cpu: Cpu) -> None:
    """Flush non-global TLB entries."""
    raise OpNotModeledError("xen", "mmu.flush_tlb_user", "the Xen hypervisor model")


def xen_flush_tlb_kernel(cpu: Cpu) -> None:
    """Flush all TLB entries, global ones too."""
    raise OpNotModeledError("xen", "mmu.flush_tlb_kernel", "the Xen hypervisor model")


def xen_flush_tlb_single(cpu: Cpu, addr: VirtAddr) -> None:
    """Flush one page's TLB entry."""
    raise OpNotModeledError("xen", "mmu.flush_tlb_single", "the Xen hypervisor model")


def xen_flush_tlb_others(cpu: Cpu, cpumask: int, mm: VirtAddr, va: VirtAddr) -> None:
    """Flush TLBs of other CPUs."""
    raise OpNotModeledError("xen", "mmu.flush_tlb_others", "the Xen hypervisor model")


def xen_alloc_pt(cpu: Cpu, pfn: Pfn) -> None:
    """A frame becomes a page table."""
    raise OpNotModeledError("xen", "mmu.alloc_pt", "the Xen hypervisor model")


def xen_alloc_pd(cpu: Cpu, pfn: Pfn) -> None:
    """A frame becomes a page directory."""
    raise OpNotModeledError("xen", "mmu.alloc_pd", "the Xen hypervisor model")


def xen_release_pt(cpu: Cpu, pfn: Pfn) -> None:
    """A frame stops being a page table."""
    raise OpNotModeledError("xen", "mmu.release_pt", "the Xen hypervisor model")


def xen_release_pd(cpu: Cpu, pfn: Pfn) -> None:
    """A frame stops being a page directory."""
    raise OpNotModeledError("xen", "mmu.release_pd", "the Xen hypervisor model")


def xen_set_pte(cpu: Cpu, ptep: VirtAddr, pte: Pte) -> None:
    """Write a page-table entry."""
    raise OpNotModeledError("xen", "mmu.set_pte", "the Xen hypervisor model")


def xen_set_pte_at(cpu: Cpu, mm: VirtAddr, addr: VirtAddr, ptep: VirtAddr, pte: Pte) -> None:
    """Write a PTE of a known address space and address."""
    raise OpNotModeledError("xen", "mmu.set_pte_at", "the Xen hypervisor model")


def xen_set_pmd(cpu: Cpu, pmdp: VirtAddr, pmd: Pde) -> None:
    """Write a page-directory entry."""
    raise OpNotModeledError("xen", "mmu.set_pmd", "the Xen hypervisor model")


def xen_pte_val(cpu: Cpu, pte: Pte) -> int:
    """Raw value of a PTE."""
    raise OpNotModeledError("xen", "mmu.pte_val", "the Xen hypervisor model")


def xen_make_pte(cpu: Cpu, value: int) -> Pte:
    """A PTE from a raw value."""
    raise OpNotModeledError("xen", "mmu.make_pte", "the Xen hypervisor model")


def xen_pgd_val(cpu: Cpu, pgd: Pde) -> int:
    """Raw value of a directory entry."""
    raise OpNotModeledError("xen", "mmu.pgd_val", "the Xen hypervisor model")


def xen_make_pgd(cpu: Cpu, value: int) -> Pde:
    """A directory entry from a value."""
    raise OpNotModeledError("xen", "mmu.make_pgd", "the Xen hypervisor model")


def xen_activate_mm(cpu: Cpu, prev_mm: VirtAddr, next_mm: VirtAddr) -> None:
    """An address space becomes current."""
    raise OpNotModeledError("xen", "mmu.activate_mm", "the Xen hypervisor model")


def xen_dup_mmap(cpu: Cpu, old_mm: VirtAddr, new_mm: VirtAddr) -> None:
    """An address space was copied (fork)."""
    raise OpNotModeledError("xen", "mmu.dup_mmap", "the Xen hypervisor model")


def xen_exit_mmap(cpu: Cpu, mm: VirtAddr) -> None:
    """An address space is torn down."""
    raise OpNotModeledError("xen", "mmu.exit_mmap", "the Xen hypervisor model")


def xen_enter_lazy_mmu(cpu: Cpu) -> None:
    """Start queueing updates."""
    raise OpNotModeledError("xen", "mmu.lazy_mode.enter", "the Xen hypervisor model")


def xen_leave_lazy_mmu(cpu: Cpu) -> None:
    """Issue queued updates and stop queueing."""
    raise OpNotModeledError("xen", "mmu.lazy_mode.leave", "the Xen hypervisor model")


def xen_flush_lazy_mmu(cpu: Cpu) -> None:
    """Issue queued updates and go on queueing."""
    raise OpNotModeledError("xen", "mmu.lazy_mode.flush", "the Xen hypervisor model")
