"""The vmi backend: paravirt_ops whose bodies are calls into a VMI ROM.

As in Linux 2.6.21's ``vmi.c``, the kernel carries no hypervisor code: at
boot it finds the ROM, and every op the ROM implements becomes a call into
the ROM's slot for the matching VMI call (``para_fill``), or a small stub
around it (``para_wrap``).  MSR and PMC access stay native, as in Linux.
"""

from __future__ import annotations

import attrs

from pvops.backends.vmi import calls
from pvops.backends.vmi.boot import vmi_boot
from pvops.ops import (
    PvApicOps,
    PvCpuOps,
    PvInfo,
    PvInitOps,
    PvIrqOps,
    PvLazyOps,
    PvMmuOps,
    PvTimeOps,
)
from pvops.registry import Backend

VMI_INFO = PvInfo(name="vmi", kernel_rpl=0, paravirt_enabled=True, shared_kernel_pmd=True)

VMI_INIT_OPS = attrs.evolve(
    PvInitOps(),
    patch=calls.vmi_patch,
)

VMI_CPU_OPS = attrs.evolve(
    PvCpuOps(),
    cpuid=calls.vmi_cpuid,
    get_debugreg=calls.vmi_get_debugreg,
    set_debugreg=calls.vmi_set_debugreg,
    clts=calls.vmi_clts,
    read_cr0=calls.vmi_read_cr0,
    write_cr0=calls.vmi_write_cr0,
    read_cr4=calls.vmi_read_cr4,
    read_cr4_safe=calls.vmi_read_cr4_safe,
    write_cr4=calls.vmi_write_cr4,
    wbinvd=calls.vmi_wbinvd,
    read_tsc=calls.vmi_read_tsc,
    load_tr_desc=calls.vmi_load_tr_desc,
    load_gdt=calls.vmi_load_gdt,
    load_idt=calls.vmi_load_idt,
    store_gdt=calls.vmi_store_gdt,
    store_idt=calls.vmi_store_idt,
    set_ldt=calls.vmi_set_ldt,
    store_tr=calls.vmi_store_tr,
    write_ldt_entry=calls.vmi_write_ldt_entry,
    write_gdt_entry=calls.vmi_write_gdt_entry,
    write_idt_entry=calls.vmi_write_idt_entry,
    load_esp0=calls.vmi_load_esp0,
    set_iopl_mask=calls.vmi_set_iopl_mask,
    io_delay=calls.vmi_io_delay,
    iret=calls.vmi_iret,
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

VMI_APIC_OPS = attrs.evolve(
    PvApicOps(),
    apic_write=calls.vmi_apic_write,
    apic_write_atomic=calls.vmi_apic_write_atomic,
    apic_read=calls.vmi_apic_read,
    startup_ipi_hook=calls.vmi_startup_ipi_hook,
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
    alloc_pd_clone=calls.vmi_alloc_pd_clone,
    release_pt=calls.vmi_release_pt,
    release_pd=calls.vmi_release_pd,
    set_pte=calls.vmi_set_pte,
    set_pte_at=calls.vmi_set_pte_at,
    set_pmd=calls.vmi_set_pmd,
    pte_update=calls.vmi_update_pte,
    pte_update_defer=calls.vmi_update_pte_defer,
    lazy_mode=PvLazyOps(
        enter=calls.vmi_enter_lazy_mmu,
        leave=calls.vmi_leave_lazy_mmu,
        flush=calls.vmi_flush_lazy_mmu,
    ),
)

VMI_TIME_OPS = attrs.evolve(
    PvTimeOps(),
    time_init=calls.vmi_time_init,
    get_wallclock=calls.vmi_get_wallclock,
    sched_clock=calls.vmi_sched_clock,
    get_cpu_khz=calls.vmi_cpu_khz,
)

BACKEND = Backend(
    name="vmi",
    description="paravirt_ops as calls into the hypervisor's VMI ROM (VMI 3.0).",
    boot=vmi_boot,
    hypervisors=("native", "hvm", "xen-2.0.2", "xen-2.0.7", "xen-3.0.1", "xen-3.0.2"),
    info=VMI_INFO,
    init=VMI_INIT_OPS,
    time=VMI_TIME_OPS,
    cpu=VMI_CPU_OPS,
    irq=VMI_IRQ_OPS,
    apic=VMI_APIC_OPS,
    mmu=VMI_MMU_OPS,
)
