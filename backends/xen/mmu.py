"""Xen mmu ops: page tables validated by the hypervisor, updates batched by multicall.

X:1200 Direct paging (``arch/i386/xen/mmu.c``): every PTE the kernel
writes holds a *machine* frame, so ``make_pte``/``pte_val`` translate
through the p2m and the m2p table, and every write to a page table goes to
the hypervisor as an ``mmu_update`` request, which validates it.  In lazy
MMU mode the requests are queued and leave as one ``multicall`` (and
consecutive requests as one ``mmu_update``).

A page that becomes a page table (``alloc_pt``/``alloc_pd``) is remapped
read-only in the kernel's direct map first, because Xen refuses to
validate a table anything can write, and pinned, so Xen validates it once
rather than at every switch to it (XenoLinux pins at allocation; 2.6.23
at ``activate_mm``, which this kernel does not call); ``release_*``
unpins and makes it writable again.  These, and directory entries
(``set_pmd``: the caller walks through the entry right after), go down at
once even in lazy mode, after whatever is queued, as Linux's
``xen_set_pmd`` and ``make_lowmem_page_readonly`` do.  ``write_cr3`` is
``MMUEXT_NEW_BASEPTR``.  TLB flushes are MMUEXT commands (a single page's
needs none from a backend built for the what-if auto-flush interface, on a
Xen that says it has it); ``cr2`` is what Xen recorded for the last fault
(``vcpu_info.arch.cr2`` in 3.0).
"""

from __future__ import annotations

from pvops.backends.xen.models.abi import PTE_GLOBAL, PTE_PRESENT, PTE_RW, SIF_AUTO_FLUSH
from pvops.backends.xen.models.domain import Domain
from pvops.backends.xen.models.hypervisor import Xen
from pvops.backends.xen.xen_ops import (
    batch_of,
    domain_of,
    flush,
    mmu_update_call,
    mmuext_call,
    submit,
    update_va_mapping_call,
    virt_to_machine,
)
from pvops.hw import Cpu
from pvops.types import Pde, Pfn, PhysAddr, Pte, VirtAddr

INVALID = 0xFFFFFFFF


def xen_pagetable_setup_start(cpu: Cpu, base: VirtAddr) -> None:
    """The kernel builds its tables on the ones the domain builder made: nothing to do."""
    domain_of(cpu, "mmu.pagetable_setup_start")
    del base


def xen_pagetable_setup_done(cpu: Cpu, base: VirtAddr) -> None:
    """Switch to the kernel's own directory at ``base`` (validated by Xen)."""
    xen, dom = domain_of(cpu, "mmu.pagetable_setup_done")
    ma = virt_to_machine(xen, dom, base)
    if ma is not None and ma >> 12 != dom.baseptr:
        _make_readonly(cpu, base)
        submit(xen, cpu, dom, mmuext_call(xen, "new_baseptr", ma >> 12), lazy=False)


def xen_read_cr2(cpu: Cpu) -> VirtAddr:
    """The fault address Xen recorded: vcpu_info.arch.cr2 (3.0), the last bounce's (2.0)."""
    xen, dom = domain_of(cpu, "mmu.read_cr2")
    layout = dom.kernel_abi.vcpu_info  # compiled in: where this kernel was built to look
    if "arch_cr2" in layout.fields:
        return VirtAddr(xen.mem.u32((dom.shared_info_mfn << 12) + layout.offset("arch_cr2")))
    return VirtAddr(dom.last_cr2)


def xen_read_cr3(cpu: Cpu) -> PhysAddr:
    """The current directory as a pseudo-physical address (m2p of the base pointer)."""
    xen, dom = domain_of(cpu, "mmu.read_cr3")
    return PhysAddr((xen.m2p(dom.baseptr) << 12) & 0xFFFFFFFF)


def xen_write_cr3(cpu: Cpu, pgd: PhysAddr) -> None:
    """MMUEXT_NEW_BASEPTR with the directory's machine frame."""
    xen, dom = domain_of(cpu, "mmu.write_cr3")
    mfn = dom.mfn(Pfn(pgd >> 12))
    if mfn is None:
        return
    lazy = batch_of(xen, dom).lazy_mmu
    submit(xen, cpu, dom, mmuext_call(xen, "new_baseptr", mfn), lazy=lazy)


def _flush_cmd(cpu: Cpu, op: str) -> None:
    xen, dom = domain_of(cpu, op)
    name = "tlb_flush" if xen.abi.major < 3 else "tlb_flush_local"
    submit(xen, cpu, dom, mmuext_call(xen, name, 0), lazy=batch_of(xen, dom).lazy_mmu)


def xen_flush_tlb(cpu: Cpu) -> None:
    """MMUEXT_TLB_FLUSH(_LOCAL)."""
    _flush_cmd(cpu, "mmu.flush_tlb_user")


def xen_flush_tlb_kernel(cpu: Cpu) -> None:
    """The same: guests may not use global pages, so there is nothing more to flush."""
    _flush_cmd(cpu, "mmu.flush_tlb_kernel")


def _hypervisor_flushes_on_update(xen: Xen, dom: Domain) -> bool:
    """Built for the auto-flush interface, and told at boot that this Xen has it.

    Only a backend compiled against ``xen-3.0-autoflush`` knows to look; it
    looks where Xen says so, start_info's flags (``SIF_AUTO_FLUSH``).
    """
    abi = dom.kernel_abi
    if not abi.auto_flush or not dom.start_info_va:
        return False
    raw = xen.read_guest(dom, dom.start_info_va + abi.start_info.offset("flags"), 4)
    return isinstance(raw, bytes) and bool(int.from_bytes(raw, "little") & SIF_AUTO_FLUSH)


def xen_flush_tlb_single(cpu: Cpu, addr: VirtAddr) -> None:
    """MMUEXT_INVLPG(_LOCAL), unless Xen already invalidated it in the mmu_update."""
    xen, dom = domain_of(cpu, "mmu.flush_tlb_single")
    if _hypervisor_flushes_on_update(xen, dom):
        return
    name = "invlpg" if xen.abi.major < 3 else "invlpg_local"
    submit(xen, cpu, dom, mmuext_call(xen, name, addr), lazy=batch_of(xen, dom).lazy_mmu)


def xen_flush_tlb_others(cpu: Cpu, cpumask: int, mm: VirtAddr, va: VirtAddr) -> None:
    """One vCPU per domain: there are no other CPUs to flush."""
    domain_of(cpu, "mmu.flush_tlb_others")
    del cpumask, mm, va


def _set_mapping_rw(cpu: Cpu, pfn: Pfn, *, writable: bool, op: str) -> None:
    xen, dom = domain_of(cpu, op)
    mfn = dom.mfn(pfn)
    if mfn is None:
        return
    va = dom.virt_base + (pfn << 12)
    if va >= xen.abi.virt_start:
        return  # highmem: not in the direct map
    pte = (mfn << 12) | PTE_PRESENT | 0x60 | (PTE_RW if writable else 0)
    call = update_va_mapping_call(xen, va, pte, xen.abi.uvmf_invlpg)
    submit(xen, cpu, dom, call, lazy=False)


def _make_readonly(cpu: Cpu, va: VirtAddr) -> None:
    _, dom = domain_of(cpu, "mmu")
    pfn = (va - dom.virt_base) >> 12
    _set_mapping_rw(cpu, Pfn(pfn), writable=False, op="mmu")


def _register_table(cpu: Cpu, pfn: Pfn, pin: str, op: str) -> None:
    xen, dom = domain_of(cpu, op)
    flush(xen, cpu, dom)  # after everything queued before it
    _set_mapping_rw(cpu, pfn, writable=False, op=op)
    mfn = dom.mfn(pfn)
    if mfn is not None:
        submit(xen, cpu, dom, mmuext_call(xen, pin, mfn), lazy=False)


def _retire_table(cpu: Cpu, pfn: Pfn, op: str) -> None:
    xen, dom = domain_of(cpu, op)
    flush(xen, cpu, dom)
    mfn = dom.mfn(pfn)
    if mfn is not None:
        submit(xen, cpu, dom, mmuext_call(xen, "unpin_table", mfn), lazy=False)
    _set_mapping_rw(cpu, pfn, writable=True, op=op)


def xen_alloc_pt(cpu: Cpu, pfn: Pfn) -> None:
    """A page becomes a page table: read-only (``make_lowmem_page_readonly``), then pinned."""
    _register_table(cpu, pfn, "pin_l1_table", "mmu.alloc_pt")


def xen_alloc_pd(cpu: Cpu, pfn: Pfn) -> None:
    """A page becomes a directory: read-only, then pinned as an L2."""
    _register_table(cpu, pfn, "pin_l2_table", "mmu.alloc_pd")


def xen_release_pt(cpu: Cpu, pfn: Pfn) -> None:
    """A page table is freed: unpinned, writable again."""
    _retire_table(cpu, pfn, "mmu.release_pt")


def xen_release_pd(cpu: Cpu, pfn: Pfn) -> None:
    """A directory is freed: unpinned, writable again."""
    _retire_table(cpu, pfn, "mmu.release_pd")


def _write_entry(cpu: Cpu, ptr: VirtAddr, value: int, op: str, *, lazy: bool = True) -> None:
    xen, dom = domain_of(cpu, op)
    ma = virt_to_machine(xen, dom, ptr)
    if ma is None:
        return
    call = mmu_update_call(xen, ma, value & 0xFFFFFFFF)
    if lazy:
        submit(xen, cpu, dom, call, lazy=batch_of(xen, dom).lazy_mmu)
        return
    flush(xen, cpu, dom)
    submit(xen, cpu, dom, call, lazy=False)


def xen_set_pte(cpu: Cpu, ptep: VirtAddr, pte: Pte) -> None:
    """mmu_update of one PTE (queued in lazy MMU mode)."""
    _write_entry(cpu, ptep, pte, "mmu.set_pte")


def xen_set_pte_at(cpu: Cpu, mm: VirtAddr, addr: VirtAddr, ptep: VirtAddr, pte: Pte) -> None:
    """As set_pte (the address space needs no special case with one vCPU)."""
    del mm, addr
    _write_entry(cpu, ptep, pte, "mmu.set_pte_at")


def xen_set_pmd(cpu: Cpu, pmdp: VirtAddr, pmd: Pde) -> None:
    """mmu_update of one directory entry, at once (``xen_set_pmd``: the caller walks it next)."""
    _write_entry(cpu, pmdp, pmd, "mmu.set_pmd", lazy=False)


def _m2p_entry(cpu: Cpu, value: int, op: str) -> int:
    xen, _ = domain_of(cpu, op)
    if not value & PTE_PRESENT:
        return value
    pfn = xen.m2p(value >> 12)
    if pfn == INVALID:
        return value & 0xFFF
    return ((pfn << 12) | (value & 0xFFF)) & 0xFFFFFFFF


def _p2m_entry(cpu: Cpu, value: int, op: str) -> int:
    _, dom = domain_of(cpu, op)
    if not value & PTE_PRESENT:
        return value
    mfn = dom.mfn(Pfn(value >> 12))
    if mfn is None:
        return 0
    return ((mfn << 12) | (value & 0xFFF & ~PTE_GLOBAL)) & 0xFFFFFFFF


def xen_pte_val(cpu: Cpu, pte: Pte) -> int:
    """Machine PTE -> pseudo-physical value (m2p)."""
    return _m2p_entry(cpu, pte, "mmu.pte_val")


def xen_make_pte(cpu: Cpu, value: int) -> Pte:
    """Pseudo-physical value -> machine PTE (p2m); _PAGE_GLOBAL dropped, Xen refuses it."""
    return Pte(_p2m_entry(cpu, value, "mmu.make_pte"))


def xen_pgd_val(cpu: Cpu, pgd: Pde) -> int:
    """Machine directory entry -> pseudo-physical value."""
    return _m2p_entry(cpu, pgd, "mmu.pgd_val")


def xen_make_pgd(cpu: Cpu, value: int) -> Pde:
    """Pseudo-physical value -> machine directory entry."""
    return Pde(_p2m_entry(cpu, value, "mmu.make_pgd"))


def xen_activate_mm(cpu: Cpu, prev_mm: VirtAddr, next_mm: VirtAddr) -> None:
    """Xen validates the directory at write_cr3 (its tables are already read-only)."""
    domain_of(cpu, "mmu.activate_mm")
    del prev_mm, next_mm


def xen_dup_mmap(cpu: Cpu, old_mm: VirtAddr, new_mm: VirtAddr) -> None:
    """As activate_mm: pinning happens on demand at the switch."""
    domain_of(cpu, "mmu.dup_mmap")
    del old_mm, new_mm


def xen_exit_mmap(cpu: Cpu, mm: VirtAddr) -> None:
    """The directory's last reference goes with the next write_cr3: nothing to unpin."""
    domain_of(cpu, "mmu.exit_mmap")
    del mm


def xen_enter_lazy_mmu(cpu: Cpu) -> None:
    """Start queueing page-table updates."""
    xen, dom = domain_of(cpu, "mmu.lazy_mode.enter")
    batch = batch_of(xen, dom)
    assert not batch.lazy_mmu, "entering lazy MMU mode twice"
    batch.lazy_mmu = True


def xen_leave_lazy_mmu(cpu: Cpu) -> None:
    """Issue the queue as one multicall and stop queueing."""
    xen, dom = domain_of(cpu, "mmu.lazy_mode.leave")
    batch = batch_of(xen, dom)
    batch.lazy_mmu = False
    flush(xen, cpu, dom)


def xen_flush_lazy_mmu(cpu: Cpu) -> None:
    """Issue the queue and go on queueing."""
    xen, dom = domain_of(cpu, "mmu.lazy_mode.flush")
    flush(xen, cpu, dom)
