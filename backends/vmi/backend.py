"""The vmi backend: paravirt_ops whose bodies are calls into a VMI ROM.

As in Linux 2.6.21's ``vmi.c``, the kernel carries no hypervisor code: at
boot it finds the ROM, and every op the ROM implements becomes a call into
the ROM's slot for the matching VMI call (``para_fill``), or a small stub
around it (``para_wrap``); see :mod:`.calls` for the map and
:mod:`.activate` for how a kernel takes it.  MSR and PMC access, cpuid, the
APIC and the clock stay native, as in Linux.  Registered as it is, every
slot the map names holds its ROM call; activation on a given ROM puts back
the native default wherever that ROM's relocation info says NONE, and
``paravirt_nop`` where it says NOP.
"""

from __future__ import annotations

import attrs

from pvops.backends.vmi import calls
from pvops.backends.vmi.boot import vmi_boot
from pvops.ops import (
    PvCpuOps,
    PvInfo,
    PvInitOps,
    PvIrqOps,
    PvLazyOps,
    PvMmuOps,
)
from pvops.registry import Backend

VMI_INFO = PvInfo(name="vmi", kernel_rpl=0, paravirt_enabled=True, shared_kernel_pmd=True)

VMI_INIT_OPS = attrs.evolve(PvInitOps(), patch=calls.vmi_patch)

VMI_CPU_OPS = attrs.evolve(
    PvCpuOps(),
    read_cr0=calls.vmi_read_cr0,
    write_cr0=calls.vmi_write_cr0,
    read_cr4=calls.vmi_read_cr4,
    read_cr4_safe=calls.vmi_read_cr4_safe,
    write_cr4=calls.vmi_write_cr4,
    clts=calls.vmi_clts,
    wbinvd=calls.vmi_wbinvd,
    read_tsc=calls.vmi_read_tsc,
    load_gdt=calls.vmi_load_gdt,
    load_idt=calls.vmi_load_idt,
    store_gdt=calls.vmi_store_gdt,
    store_idt=calls.vmi_store_idt,
    store_tr=calls.vmi_store_tr,
    load_tr_desc=calls.vmi_load_tr_desc,
    load_esp0=calls.vmi_load_esp0,
    iret=calls.vmi_iret,
    io_delay=calls.vmi_io_delay,
    lazy_mode=PvLazyOps(
        enter=calls.vmi_enter_lazy_cpu,
        leave=calls.vmi_leave_lazy_cpu,
        flush=calls.vmi_flush_lazy_cpu,
    ),
)

VMI_IRQ_OPS = attrs.evolve(
    PvIrqOps(),
    save_fl=calls.vmi_save_fl,
    restore_fl=calls.vmi_restore_fl,
    irq_disable=calls.vmi_irq_disable,
    irq_enable=calls.vmi_irq_enable,
    safe_halt=calls.vmi_safe_halt,
    halt=calls.vmi_halt,
)

VMI_MMU_OPS = attrs.evolve(
    PvMmuOps(),
    read_cr2=calls.vmi_read_cr2,
    write_cr2=calls.vmi_write_cr2,
    read_cr3=calls.vmi_read_cr3,
    write_cr3=calls.vmi_write_cr3,
    flush_tlb_user=calls.vmi_flush_tlb_user,
    flush_tlb_kernel=calls.vmi_flush_tlb_kernel,
    flush_tlb_single=calls.vmi_flush_tlb_single,
    alloc_pt=calls.vmi_alloc_pt,
    alloc_pd=calls.vmi_alloc_pd,
    release_pt=calls.vmi_release_pt,
    release_pd=calls.vmi_release_pd,
    set_pte=calls.vmi_set_pte,
    set_pte_at=calls.vmi_set_pte_at,
    set_pmd=calls.vmi_set_pmd,
    lazy_mode=PvLazyOps(
        enter=calls.vmi_enter_lazy_mmu,
        leave=calls.vmi_leave_lazy_mmu,
        flush=calls.vmi_flush_lazy_mmu,
    ),
)

BACKEND = Backend(
    name="vmi",
    description="paravirt_ops as calls into the hypervisor's VMI ROM (VMI 3.0).",
    boot=vmi_boot,
    hypervisors=("native", "hvm", "xen-2.0.2", "xen-2.0.7", "xen-3.0.1", "xen-3.0.2"),
    info=VMI_INFO,
    init=VMI_INIT_OPS,
    cpu=VMI_CPU_OPS,
    irq=VMI_IRQ_OPS,
    mmu=VMI_MMU_OPS,
)
