"""The vmi backend's ops: each moves its arguments to where a VMI call wants them, and jumps in.

V:310 An op runs on the host for a moment only: it puts the kernel's
arguments in the registers the VMI call takes (EAX, EDX, ECX, as Linux's
``vmi_ops`` function pointers were called with ``-mregparm=3``) and sets EIP
to the ROM's slot, leaving the kernel's return address on the stack.  The
ROM's code then runs as guest code and returns to the kernel itself
(:mod:`pvops.lowering` does not write a result over what the ROM returns).

:data:`OP_CALLS` is the map Linux's ``activate_vmi()`` spells out with
``para_fill`` and ``para_wrap``: which VMI call (or pair of calls) each op
becomes.  :data:`DIRECT_CALLS` are the para_fill ops, whose C arguments
already are the call's: their sites are patched to call the ROM's slot
directly and never reach the host at all.  Ops with no VMI call stay
native (cpuid, msr and pmc access, the APIC, the clock), as in Linux.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pvops.backends.vmi.activate import rom_of
from pvops.hw import Cpu
from pvops.patching import PatchResult, PatchSite, patch_default
from pvops.types import IrqFlags, Pde, Pfn, PhysAddr, Pte, Selector, VirtAddr

# Arguments of VMI calls (FACTS 2: VMI_PAGE_*, VMI_FLUSH_*; Linux's PARAVIRT_LAZY_*).
VMI_PAGE_PT = 1
VMI_PAGE_PD = 2
VMI_FLUSH_TLB = 1
VMI_FLUSH_GLOBAL = 2
LAZY_NONE = 0
LAZY_MMU = 1
LAZY_CPU = 2
TSS_SELECTOR = 5 << 3  # GDT_ENTRY_TSS << 3 in the reference kernel (x86.h)

OP_CALLS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "irq.save_fl": ("GetInterruptMask",),
        "irq.restore_fl": ("SetInterruptMask",),
        "irq.irq_disable": ("DisableInterrupts",),
        "irq.irq_enable": ("EnableInterrupts",),
        "irq.safe_halt": ("EnableInterrupts", "Halt"),
        "irq.halt": ("Halt",),
        "cpu.read_cr0": ("GetCR0",),
        "cpu.write_cr0": ("SetCR0",),
        "cpu.read_cr4": ("GetCR4",),
        "cpu.read_cr4_safe": ("GetCR4",),
        "cpu.write_cr4": ("SetCR4",),
        "cpu.clts": ("CLTS",),
        "cpu.wbinvd": ("WBINVD",),
        "cpu.read_tsc": ("RDTSC",),
        "cpu.load_gdt": ("SetGDT",),
        "cpu.load_idt": ("SetIDT",),
        "cpu.store_gdt": ("GetGDT",),
        "cpu.store_idt": ("GetIDT",),
        "cpu.store_tr": ("GetTR",),
        "cpu.load_tr_desc": ("SetTR",),
        "cpu.load_esp0": ("UpdateKernelStack",),
        "cpu.iret": ("IRET",),
        "cpu.io_delay": ("IODelay",),
        "cpu.lazy_mode.enter": ("SetLazyMode",),
        "cpu.lazy_mode.leave": ("SetLazyMode",),
        "cpu.lazy_mode.flush": ("SetLazyMode", "SetLazyMode"),
        "mmu.read_cr2": ("GetCR2",),
        "mmu.write_cr2": ("SetCR2",),
        "mmu.read_cr3": ("GetCR3",),
        "mmu.write_cr3": ("SetCR3",),
        "mmu.flush_tlb_user": ("FlushTLB",),
        "mmu.flush_tlb_kernel": ("FlushTLB",),
        "mmu.flush_tlb_single": ("InvalPage",),
        "mmu.alloc_pt": ("AllocatePage",),
        "mmu.alloc_pd": ("AllocatePage",),
        "mmu.release_pt": ("ReleasePage",),
        "mmu.release_pd": ("ReleasePage",),
        "mmu.set_pte": ("SetPxE",),
        "mmu.set_pte_at": ("SetPxE",),
        "mmu.set_pmd": ("SetPxE",),
        "mmu.lazy_mode.enter": ("SetLazyMode",),
        "mmu.lazy_mode.leave": ("SetLazyMode",),
        "mmu.lazy_mode.flush": ("SetLazyMode", "SetLazyMode"),
    }
)
"""Each op the vmi backend takes, and the VMI call(s) it becomes (the last decides)."""

DIRECT_CALLS = frozenset(
    {
        "irq.save_fl",
        "irq.restore_fl",
        "irq.irq_disable",
        "irq.irq_enable",
        "irq.halt",
        "cpu.read_cr0",
        "cpu.write_cr0",
        "cpu.read_cr4",
        "cpu.read_cr4_safe",
        "cpu.write_cr4",
        "cpu.clts",
        "cpu.wbinvd",
        "cpu.read_tsc",
        "cpu.load_gdt",
        "cpu.load_idt",
        "cpu.store_gdt",
        "cpu.store_idt",
        "cpu.store_tr",
        "cpu.load_esp0",
        "cpu.iret",
        "cpu.io_delay",
        "mmu.read_cr2",
        "mmu.write_cr2",
        "mmu.read_cr3",
        "mmu.write_cr3",
        "mmu.flush_tlb_single",
    }
)
"""para_fill: the op's arguments already sit where the call wants them."""


def vmi_patch(site: PatchSite) -> PatchResult:
    """Before a ROM is activated there is nothing to call directly: the default patch.

    Activation replaces this with :func:`.activate.vmi_patch`, which knows the ROM.
    """
    return patch_default(site)


# -- irq ------------------------------------------------------------------------------------


def vmi_save_fl(cpu: Cpu) -> IrqFlags:
    """GetInterruptMask (EAX: the flags)."""
    rom_of(cpu).enter(cpu, "GetInterruptMask")
    return IrqFlags(0)  # the ROM's EAX is the answer


def vmi_restore_fl(cpu: Cpu, flags: IrqFlags) -> None:
    """SetInterruptMask(flags)."""
    rom_of(cpu).enter(cpu, "SetInterruptMask", flags)


def vmi_irq_disable(cpu: Cpu) -> None:
    """DisableInterrupts."""
    rom_of(cpu).enter(cpu, "DisableInterrupts")


def vmi_irq_enable(cpu: Cpu) -> None:
    """EnableInterrupts."""
    rom_of(cpu).enter(cpu, "EnableInterrupts")


def vmi_safe_halt(cpu: Cpu) -> None:
    """EnableInterrupts, then Halt (the vmi flavour's two sites, as one op)."""
    rom_of(cpu).enter_pair(cpu, "EnableInterrupts", (), "Halt")


def vmi_halt(cpu: Cpu) -> None:
    """Halt."""
    rom_of(cpu).enter(cpu, "Halt")


# -- cpu ------------------------------------------------------------------------------------


def vmi_read_cr0(cpu: Cpu) -> int:
    """GetCR0."""
    rom_of(cpu).enter(cpu, "GetCR0")
    return 0


def vmi_write_cr0(cpu: Cpu, value: int) -> None:
    """SetCR0(value)."""
    rom_of(cpu).enter(cpu, "SetCR0", value)


def vmi_read_cr4(cpu: Cpu) -> int:
    """GetCR4."""
    rom_of(cpu).enter(cpu, "GetCR4")
    return 0


def vmi_read_cr4_safe(cpu: Cpu) -> int:
    """GetCR4 (every CPU the ROMs run on has one)."""
    rom_of(cpu).enter(cpu, "GetCR4")
    return 0


def vmi_write_cr4(cpu: Cpu, value: int) -> None:
    """SetCR4(value)."""
    rom_of(cpu).enter(cpu, "SetCR4", value)


def vmi_clts(cpu: Cpu) -> None:
    """CLTS."""
    rom_of(cpu).enter(cpu, "CLTS")


def vmi_wbinvd(cpu: Cpu) -> None:
    """WBINVD."""
    rom_of(cpu).enter(cpu, "WBINVD")


def vmi_read_tsc(cpu: Cpu) -> int:
    """RDTSC (EDX:EAX)."""
    rom_of(cpu).enter(cpu, "RDTSC")
    return 0


def vmi_load_gdt(cpu: Cpu, dtr: VirtAddr) -> None:
    """SetGDT(&desc_ptr)."""
    rom_of(cpu).enter(cpu, "SetGDT", dtr)


def vmi_load_idt(cpu: Cpu, dtr: VirtAddr) -> None:
    """SetIDT(&desc_ptr)."""
    rom_of(cpu).enter(cpu, "SetIDT", dtr)


def vmi_store_gdt(cpu: Cpu, dtr: VirtAddr) -> None:
    """GetGDT(&desc_ptr)."""
    rom_of(cpu).enter(cpu, "GetGDT", dtr)


def vmi_store_idt(cpu: Cpu, dtr: VirtAddr) -> None:
    """GetIDT(&desc_ptr)."""
    rom_of(cpu).enter(cpu, "GetIDT", dtr)


def vmi_store_tr(cpu: Cpu) -> Selector:
    """GetTR."""
    rom_of(cpu).enter(cpu, "GetTR")
    return Selector(0)


def vmi_load_tr_desc(cpu: Cpu) -> None:
    """SetTR(the kernel's TSS selector): Linux's vmi_load_tr_desc wrapper."""
    rom_of(cpu).enter(cpu, "SetTR", TSS_SELECTOR)


def vmi_load_esp0(cpu: Cpu, tss: VirtAddr, esp0: VirtAddr) -> None:
    """UpdateKernelStack(tss, esp0)."""
    rom_of(cpu).enter(cpu, "UpdateKernelStack", tss, esp0)


def vmi_iret(cpu: Cpu) -> None:
    """IRET, jumped to with the frame on the stack."""
    rom_of(cpu).enter(cpu, "IRET")


def vmi_io_delay(cpu: Cpu) -> None:
    """IODelay."""
    rom_of(cpu).enter(cpu, "IODelay")


def vmi_enter_lazy_cpu(cpu: Cpu) -> None:
    """SetLazyMode(CPU)."""
    rom_of(cpu).enter(cpu, "SetLazyMode", LAZY_CPU)


def vmi_leave_lazy_cpu(cpu: Cpu) -> None:
    """SetLazyMode(NONE)."""
    rom_of(cpu).enter(cpu, "SetLazyMode", LAZY_NONE)


def vmi_flush_lazy_cpu(cpu: Cpu) -> None:
    """SetLazyMode(NONE), then back to CPU mode (Linux's FLUSH)."""
    rom_of(cpu).enter_pair(cpu, "SetLazyMode", (LAZY_NONE,), "SetLazyMode", LAZY_CPU)


# -- mmu ------------------------------------------------------------------------------------


def vmi_read_cr2(cpu: Cpu) -> VirtAddr:
    """GetCR2."""
    rom_of(cpu).enter(cpu, "GetCR2")
    return VirtAddr(0)


def vmi_write_cr2(cpu: Cpu, value: VirtAddr) -> None:
    """SetCR2(value)."""
    rom_of(cpu).enter(cpu, "SetCR2", value)


def vmi_read_cr3(cpu: Cpu) -> PhysAddr:
    """GetCR3."""
    rom_of(cpu).enter(cpu, "GetCR3")
    return PhysAddr(0)


def vmi_write_cr3(cpu: Cpu, pgd: PhysAddr) -> None:
    """SetCR3(pgd)."""
    rom_of(cpu).enter(cpu, "SetCR3", pgd)


def vmi_flush_tlb_user(cpu: Cpu) -> None:
    """FlushTLB(VMI_FLUSH_TLB)."""
    rom_of(cpu).enter(cpu, "FlushTLB", VMI_FLUSH_TLB)


def vmi_flush_tlb_kernel(cpu: Cpu) -> None:
    """FlushTLB(VMI_FLUSH_TLB | VMI_FLUSH_GLOBAL)."""
    rom_of(cpu).enter(cpu, "FlushTLB", VMI_FLUSH_TLB | VMI_FLUSH_GLOBAL)


def vmi_flush_tlb_single(cpu: Cpu, addr: VirtAddr) -> None:
    """InvalPage(addr)."""
    rom_of(cpu).enter(cpu, "InvalPage", addr)


def vmi_alloc_pt(cpu: Cpu, pfn: Pfn) -> None:
    """AllocatePage(pfn, VMI_PAGE_PT)."""
    rom_of(cpu).enter(cpu, "AllocatePage", pfn, VMI_PAGE_PT)


def vmi_alloc_pd(cpu: Cpu, pfn: Pfn) -> None:
    """AllocatePage(pfn, VMI_PAGE_PD)."""
    rom_of(cpu).enter(cpu, "AllocatePage", pfn, VMI_PAGE_PD)


def vmi_release_pt(cpu: Cpu, pfn: Pfn) -> None:
    """ReleasePage(pfn, VMI_PAGE_PT)."""
    rom_of(cpu).enter(cpu, "ReleasePage", pfn, VMI_PAGE_PT)


def vmi_release_pd(cpu: Cpu, pfn: Pfn) -> None:
    """ReleasePage(pfn, VMI_PAGE_PD)."""
    rom_of(cpu).enter(cpu, "ReleasePage", pfn, VMI_PAGE_PD)


def vmi_set_pte(cpu: Cpu, ptep: VirtAddr, pte: Pte) -> None:
    """SetPxE(pte, ptep): the value first, as Linux's vmi_ops.set_pte."""
    rom_of(cpu).enter(cpu, "SetPxE", pte, ptep)


def vmi_set_pte_at(cpu: Cpu, mm: VirtAddr, addr: VirtAddr, ptep: VirtAddr, pte: Pte) -> None:
    """SetPxE(pte, ptep) (the ROM needs no address-space hint)."""
    del mm, addr
    rom_of(cpu).enter(cpu, "SetPxE", pte, ptep)


def vmi_set_pmd(cpu: Cpu, pmdp: VirtAddr, pmd: Pde) -> None:
    """SetPxE(pmd, pmdp)."""
    rom_of(cpu).enter(cpu, "SetPxE", pmd, pmdp)


def vmi_enter_lazy_mmu(cpu: Cpu) -> None:
    """SetLazyMode(MMU)."""
    rom_of(cpu).enter(cpu, "SetLazyMode", LAZY_MMU)


def vmi_leave_lazy_mmu(cpu: Cpu) -> None:
    """SetLazyMode(NONE)."""
    rom_of(cpu).enter(cpu, "SetLazyMode", LAZY_NONE)


def vmi_flush_lazy_mmu(cpu: Cpu) -> None:
    """SetLazyMode(NONE), then back to MMU mode."""
    rom_of(cpu).enter_pair(cpu, "SetLazyMode", (LAZY_NONE,), "SetLazyMode", LAZY_MMU)
