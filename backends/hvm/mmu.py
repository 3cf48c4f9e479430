"""hvm mmu ops: page-table updates as hypercalls, batched in lazy MMU mode.

Under hardware-assisted virtualization without nested paging, the VMM keeps
shadow page tables and write-protects the guest's: every native PTE store
exits (the costliest exit there is: ptemod, 12,733 cycles on the P4 of
Adams & Agesen). A kernel that knows it runs there can instead hand the
update to the VMM in a hypercall, and in lazy MMU mode hand over a whole
batch in one exit, as KVM's paravirtual MMU did from 2.6.25; and it can say
when a page stops being a page table (``release_pt``), so that the VMM
stops write-protecting it before the page's next user writes to it.
"""

from __future__ import annotations

from pvops.hw import Cpu
from pvops.platform.hvm import hvm_of
from pvops.types import PAGE_SHIFT, Pde, Pfn, Pte, VirtAddr


def hvm_set_pte(cpu: Cpu, ptep: VirtAddr, pte: Pte) -> None:
    """Queue or issue the PTE update as a hypercall."""
    hvm_of(cpu).pt_update(cpu, ptep, pte)


def hvm_set_pte_at(cpu: Cpu, mm: VirtAddr, addr: VirtAddr, ptep: VirtAddr, pte: Pte) -> None:
    """As set_pte (the VMM needs no address-space hint)."""
    del mm, addr
    hvm_of(cpu).pt_update(cpu, ptep, pte)


def hvm_set_pmd(cpu: Cpu, pmdp: VirtAddr, pmd: Pde) -> None:
    """A page-directory entry: at once, with any batch before it, even in lazy mode.

    The caller walks through the new entry right after (as Xen's
    xen_set_pmd flushes its queue), so it cannot wait for the batch.
    """
    hvm_of(cpu).pt_update(cpu, pmdp, pmd, now=True)


def hvm_release_pt(cpu: Cpu, pfn: Pfn) -> None:
    """A page table retired: the VMM stops shadowing it (queued in lazy mode)."""
    hvm_of(cpu).pt_release(cpu, pfn << PAGE_SHIFT)


def hvm_release_pd(cpu: Cpu, pfn: Pfn) -> None:
    """A page directory retired: as a page table."""
    hvm_of(cpu).pt_release(cpu, pfn << PAGE_SHIFT)


def hvm_enter_lazy_mmu(cpu: Cpu) -> None:
    """Start batching page-table updates."""
    hvm_of(cpu).lazy_enter()


def hvm_leave_lazy_mmu(cpu: Cpu) -> None:
    """Issue the batch in one hypercall and stop batching."""
    hvm_of(cpu).lazy_leave(cpu)


def hvm_flush_lazy_mmu(cpu: Cpu) -> None:
    """Issue the batch and go on batching."""
    hvm_of(cpu).lazy_flush(cpu)
