"""The xen backend: paravirt_ops implemented on the Xen guest interface.

Modeled on Linux 2.6.23's ``arch/i386/xen``: interrupts are a mask in
vcpu_info (no hypercall), page tables go through ``mmu_update`` batched in
lazy MMU mode, cr3 through ``mmuext_op``, the IDT through
``set_trap_table``, the kernel stack through ``stack_switch``.  Whatever
Linux's Xen port left native stays native here (msr and tsc reads,
``store_*``, ``wbinvd``, spinlocks).
"""

from __future__ import annotations

import attrs

from pvops.backends.xen import cpu, irq, mmu, setup, time
from pvops.backends.xen.boot import xen_boot
from pvops.ops import (
    PvApicOps,
    PvCpuOps,
    PvInfo,
    PvInitOps,
    PvIrqOps,
    PvLazyOps,
    PvMmuOps,
    PvTimeOps,
    paravirt_nop,
)
from pvops.registry import Backend

XEN_INFO = PvInfo(name="Xen", kernel_rpl=1, paravirt_enabled=True, shared_kernel_pmd=False)

XEN_INIT_OPS = PvInitOps(
    patch=setup.xen_patch,
    arch_setup=setup.xen_arch_setup,
    post_allocator_init=setup.xen_post_allocator_init,
)

XEN_TIME_OPS = PvTimeOps(
    time_init=time.xen_time_init,
    get_wallclock=time.xen_get_wallclock,
    set_wallclock=time.xen_set_wallclock,
    sched_clock=time.xen_sched_clock,
    get_cpu_khz=time.xen_cpu_khz,
)

XEN_CPU_OPS = attrs.evolve(
    PvCpuOps(),
    cpuid=cpu.xen_cpuid,
    set_debugreg=cpu.xen_set_debugreg,
    get_debugreg=cpu.xen_get_debugreg,
    clts=cpu.xen_clts,
    write_cr0=cpu.xen_write_cr0,
    write_cr4=cpu.xen_write_cr4,
    write_msr=cpu.xen_write_msr,
    iret=cpu.xen_iret,
    load_tr_desc=paravirt_nop,  # Xen owns the TSS
    set_ldt=cpu.xen_set_ldt,
    load_gdt=cpu.xen_load_gdt,
    load_idt=cpu.xen_load_idt,
    load_tls=cpu.xen_load_tls,
    write_ldt_entry=cpu.xen_write_ldt_entry,
    write_gdt_entry=cpu.xen_write_gdt_entry,
    write_idt_entry=cpu.xen_write_idt_entry,
    load_esp0=cpu.xen_load_esp0,
    set_iopl_mask=cpu.xen_set_iopl_mask,
    io_delay=paravirt_nop,  # no ISA bus to wait for
    lazy_mode=PvLazyOps(
        enter=cpu.xen_enter_lazy_cpu, leave=cpu.xen_leave_lazy_cpu, flush=cpu.xen_flush_lazy_cpu
    ),
)

XEN_IRQ_OPS = PvIrqOps(
    init_IRQ=irq.xen_init_IRQ,
    save_fl=irq.xen_save_fl,
    restore_fl=irq.xen_restore_fl,
    irq_disable=irq.xen_irq_disable,
    irq_enable=irq.xen_irq_enable,
    safe_halt=irq.xen_safe_halt,
    halt=irq.xen_halt,
)

XEN_APIC_OPS = attrs.evolve(
    PvApicOps(),
    apic_write=setup.xen_apic_write,
    apic_write_atomic=setup.xen_apic_write,
    apic_read=setup.xen_apic_read,
)

XEN_MMU_OPS = attrs.evolve(
    PvMmuOps(),
    pagetable_setup_start=mmu.xen_pagetable_setup_start,
    pagetable_setup_done=mmu.xen_pagetable_setup_done,
    read_cr2=mmu.xen_read_cr2,
    read_cr3=mmu.xen_read_cr3,
    write_cr3=mmu.xen_write_cr3,
    flush_tlb_user=mmu.xen_flush_tlb,
    flush_tlb_kernel=mmu.xen_flush_tlb_kernel,
    flush_tlb_single=mmu.xen_flush_tlb_single,
    flush_tlb_others=mmu.xen_flush_tlb_others,
    alloc_pt=mmu.xen_alloc_pt,
    alloc_pd=mmu.xen_alloc_pd,
    release_pt=mmu.xen_release_pt,
    release_pd=mmu.xen_release_pd,
    set_pte=mmu.xen_set_pte,
    set_pte_at=mmu.xen_set_pte_at,
    set_pmd=mmu.xen_set_pmd,
    pte_val=mmu.xen_pte_val,
    make_pte=mmu.xen_make_pte,
    pgd_val=mmu.xen_pgd_val,
    make_pgd=mmu.xen_make_pgd,
    activate_mm=mmu.xen_activate_mm,
    dup_mmap=mmu.xen_dup_mmap,
    exit_mmap=mmu.xen_exit_mmap,
    lazy_mode=PvLazyOps(
        enter=mmu.xen_enter_lazy_mmu, leave=mmu.xen_leave_lazy_mmu, flush=mmu.xen_flush_lazy_mmu
    ),
)

BACKEND = Backend(
    name="xen",
    description="paravirt_ops on the Xen guest interface (hypercalls, vcpu_info, multicalls).",
    boot=xen_boot,
    hypervisors=("xen-3.0.1", "xen-3.0.2"),
    info=XEN_INFO,
    init=XEN_INIT_OPS,
    time=XEN_TIME_OPS,
    cpu=XEN_CPU_OPS,
    irq=XEN_IRQ_OPS,
    apic=XEN_APIC_OPS,
    mmu=XEN_MMU_OPS,
)
