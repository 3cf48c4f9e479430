"""The op groups, modeled on Linux's ``pv_*_ops`` (2.6.2x, i386, non-PAE).

Every slot has an explicit default: the ``native_*`` function that does what
the bare hardware does, or :func:`~pvops.ops.nop.paravirt_nop` where bare
hardware has nothing to do.  A backend never fills "the non-NULL entries":
it starts from these complete groups and replaces what it implements::

    XEN_IRQ_OPS = attrs.evolve(PvIrqOps(), irq_disable=xen_irq_disable, ...)

Each slot carries a stable op number, the analogue of
``PARAVIRT_PATCH(op)``: the kernel's patch-site records and its ops table
are indexed by it.  Numbers are grouped in fixed blocks so that adding an op
to one group never renumbers another; ``tests/test_ops.py`` pins them.
"""

from __future__ import annotations

from typing import Any, TypeVar

import attrs

from pvops.backends.native import apic as native_apic
from pvops.backends.native import cpu as native_cpu
from pvops.backends.native import init as native_init
from pvops.backends.native import irq as native_irq
from pvops.backends.native import lock as native_lock
from pvops.backends.native import mmu as native_mmu
from pvops.backends.native import time as native_time
from pvops.ops import signatures as sig
from pvops.ops.nop import paravirt_nop

F = TypeVar("F")


def _is_slot(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    del instance
    if value is None or not callable(value):
        msg = f"op {attribute.name}: a slot must hold a callable, not {value!r}"
        raise TypeError(msg)


def op(number: int, default: F, doc: str) -> F:
    """Declare a slot: its op number, its explicit default and its one-line contract."""
    field: F = attrs.field(
        default=default, validator=_is_slot, metadata={"number": number, "doc": doc}
    )
    return field


def nested(number: int, group: type[F]) -> F:
    """Declare a nested group (``lazy_mode``) whose ops are numbered from ``number``."""
    field: F = attrs.field(factory=group, metadata={"number": number, "doc": group.__doc__ or ""})
    return field


@attrs.frozen
class PvInfo:
    """Data, not ops: what the kernel learns about the platform it runs on."""

    name: str = "bare hardware"
    kernel_rpl: int = 0
    paravirt_enabled: bool = False
    shared_kernel_pmd: bool = True


@attrs.frozen
class PvLazyOps:
    """A batching mode: updates between enter and leave may be queued."""

    enter: sig.LazyModeChange = op(0, paravirt_nop, "Start queueing updates.")
    leave: sig.LazyModeChange = op(1, paravirt_nop, "Issue queued updates and stop queueing.")
    flush: sig.LazyModeChange = op(2, paravirt_nop, "Issue queued updates and go on queueing.")


@attrs.frozen
class PvInitOps:
    """Boot-time hooks, and the patcher's oracle."""

    patch: sig.Patch = op(0, native_init.native_patch, "Choose what replaces one patch site.")
    arch_setup: sig.ArchSetup = op(1, paravirt_nop, "Early architecture setup.")
    post_allocator_init: sig.PostAllocatorInit = op(
        2, paravirt_nop, "Runs once the page allocator works."
    )


@attrs.frozen
class PvTimeOps:
    """Clocks and the periodic tick."""

    time_init: sig.TimeInit = op(8, native_time.native_time_init, "Start the periodic tick.")
    get_wallclock: sig.GetWallclock = op(
        9, native_time.native_get_wallclock, "Seconds since the epoch."
    )
    set_wallclock: sig.SetWallclock = op(
        10, native_time.native_set_wallclock, "Set the platform clock; 0 or -errno."
    )
    sched_clock: sig.SchedClock = op(
        11, native_time.native_sched_clock, "Monotonic nanoseconds for the scheduler."
    )
    get_cpu_khz: sig.GetCpuKhz = op(12, native_time.native_get_cpu_khz, "TSC frequency in kHz.")


@attrs.frozen
class PvCpuOps:
    """Privileged CPU state: control, debug and model-specific registers, descriptor tables."""

    cpuid: sig.Cpuid = op(16, native_cpu.native_cpuid, "cpuid, possibly with features masked.")
    get_debugreg: sig.GetDebugreg = op(17, native_cpu.native_get_debugreg, "Read a debug register.")
    set_debugreg: sig.SetDebugreg = op(
        18, native_cpu.native_set_debugreg, "Write a debug register."
    )
    clts: sig.Clts = op(19, native_cpu.native_clts, "Clear CR0.TS.")
    read_cr0: sig.ReadCr = op(20, native_cpu.native_read_cr0, "Read cr0.")
    write_cr0: sig.WriteCr = op(21, native_cpu.native_write_cr0, "Write cr0.")
    read_cr4_safe: sig.ReadCr = op(
        22, native_cpu.native_read_cr4_safe, "Read cr4, or 0 where there is none."
    )
    read_cr4: sig.ReadCr = op(23, native_cpu.native_read_cr4, "Read cr4.")
    write_cr4: sig.WriteCr = op(24, native_cpu.native_write_cr4, "Write cr4.")
    wbinvd: sig.Wbinvd = op(25, native_cpu.native_wbinvd, "Write back and invalidate caches.")
    read_msr: sig.ReadMsr = op(26, native_cpu.native_read_msr, "Safe MSR read: value, 0 or -EIO.")
    write_msr: sig.WriteMsr = op(27, native_cpu.native_write_msr, "Safe MSR write: 0 or -EIO.")
    read_tsc: sig.ReadTsc = op(28, native_cpu.native_read_tsc, "The time-stamp counter.")
    read_pmc: sig.ReadPmc = op(29, native_cpu.native_read_pmc, "A performance counter.")
    load_tr_desc: sig.LoadTrDesc = op(
        30, native_cpu.native_load_tr_desc, "Load TR with the kernel's TSS."
    )
    load_gdt: sig.LoadDescTable = op(
        31, native_cpu.native_load_gdt, "Load GDTR (Xen: set_gdt reads the frames)."
    )
    load_idt: sig.LoadDescTable = op(
        32,
        native_cpu.native_load_idt,
        "Load IDTR (Xen: set_trap_table; the table's address is ignored).",
    )
    store_gdt: sig.StoreDescTable = op(33, native_cpu.native_store_gdt, "Store GDTR.")
    store_idt: sig.StoreDescTable = op(34, native_cpu.native_store_idt, "Store IDTR.")
    set_ldt: sig.SetLdt = op(35, native_cpu.native_set_ldt, "Install an LDT, or none.")
    store_tr: sig.StoreTr = op(36, native_cpu.native_store_tr, "Store TR's selector.")
    load_tls: sig.LoadTls = op(37, native_cpu.native_load_tls, "Load a thread's TLS descriptors.")
    write_ldt_entry: sig.WriteDescEntry = op(
        38, native_cpu.native_write_ldt_entry, "Write one LDT descriptor."
    )
    write_gdt_entry: sig.WriteDescEntry = op(
        39, native_cpu.native_write_gdt_entry, "Write one GDT descriptor."
    )
    write_idt_entry: sig.WriteDescEntry = op(
        40, native_cpu.native_write_idt_entry, "Write one IDT gate."
    )
    load_esp0: sig.LoadEsp0 = op(
        41, native_cpu.native_load_esp0, "Set the ring-0 stack for the next trap."
    )
    set_iopl_mask: sig.SetIoplMask = op(42, native_cpu.native_set_iopl_mask, "Set EFLAGS.IOPL.")
    io_delay: sig.IoDelay = op(43, native_cpu.native_io_delay, "Wait for a slow ISA device.")
    iret: sig.Iret = op(44, native_cpu.native_iret, "Return from an interrupt (jumped to).")
    lazy_mode: PvLazyOps = nested(60, PvLazyOps)


@attrs.frozen
class PvIrqOps:
    """Interrupt masking and halting: the hottest ops of all."""

    init_IRQ: sig.InitIrq = op(  # noqa: N815 - Linux's name
        64, native_irq.native_init_IRQ, "Set up the interrupt controller."
    )
    save_fl: sig.SaveFl = op(65, native_irq.native_save_fl, "Return the (virtual) EFLAGS.")
    restore_fl: sig.RestoreFl = op(66, native_irq.native_restore_fl, "Restore IF from save_fl.")
    irq_disable: sig.IrqToggle = op(67, native_irq.native_irq_disable, "Mask interrupts.")
    irq_enable: sig.IrqToggle = op(68, native_irq.native_irq_enable, "Unmask interrupts.")
    safe_halt: sig.Halt = op(
        69, native_irq.native_safe_halt, "Enable interrupts and halt, atomically."
    )
    halt: sig.Halt = op(70, native_irq.native_halt, "Halt until an interrupt.")


@attrs.frozen
class PvApicOps:
    """The local APIC and secondary-CPU startup."""

    apic_write: sig.ApicWrite = op(72, native_apic.native_apic_write, "Write an APIC register.")
    apic_write_atomic: sig.ApicWrite = op(
        73, native_apic.native_apic_write_atomic, "Write an APIC register with xchg."
    )
    apic_read: sig.ApicRead = op(74, native_apic.native_apic_read, "Read an APIC register.")
    setup_boot_clock: sig.SetupClock = op(
        75, paravirt_nop, "Start the boot CPU's APIC timer (the PIT ticks here)."
    )
    setup_secondary_clock: sig.SetupClock = op(
        76, paravirt_nop, "Start a secondary CPU's APIC timer (one CPU modeled)."
    )
    startup_ipi_hook: sig.StartupIpiHook = op(
        77, paravirt_nop, "Told a secondary CPU's start state."
    )


@attrs.frozen
class PvMmuOps:
    """Page tables, the TLB and address spaces."""

    pagetable_setup_start: sig.PagetableSetup = op(
        80, paravirt_nop, "The initial page tables are about to be built."
    )
    pagetable_setup_done: sig.PagetableSetup = op(
        81, paravirt_nop, "The initial page tables are built."
    )
    read_cr2: sig.ReadCr2 = op(82, native_mmu.native_read_cr2, "The last page-fault address.")
    write_cr2: sig.WriteCr2 = op(83, native_mmu.native_write_cr2, "Set cr2.")
    read_cr3: sig.ReadCr3 = op(84, native_mmu.native_read_cr3, "The current page directory.")
    write_cr3: sig.WriteCr3 = op(85, native_mmu.native_write_cr3, "Switch page directory.")
    flush_tlb_user: sig.FlushTlb = op(
        86, native_mmu.native_flush_tlb, "Flush non-global TLB entries."
    )
    flush_tlb_kernel: sig.FlushTlb = op(
        87, native_mmu.native_flush_tlb_global, "Flush all TLB entries, global ones too."
    )
    flush_tlb_single: sig.FlushTlbSingle = op(
        88, native_mmu.native_flush_tlb_single, "Flush one page's TLB entry."
    )
    flush_tlb_others: sig.FlushTlbOthers = op(
        89, native_mmu.native_flush_tlb_others, "Flush TLBs of other CPUs."
    )
    alloc_pt: sig.AllocPt = op(90, paravirt_nop, "A frame becomes a page table.")
    alloc_pd: sig.AllocPt = op(91, paravirt_nop, "A frame becomes a page directory.")
    alloc_pd_clone: sig.AllocPdClone = op(
        92, paravirt_nop, "A new directory copies kernel entries from another."
    )
    release_pt: sig.ReleasePt = op(93, paravirt_nop, "A frame stops being a page table.")
    release_pd: sig.ReleasePt = op(94, paravirt_nop, "A frame stops being a page directory.")
    set_pte: sig.SetPte = op(95, native_mmu.native_set_pte, "Write a page-table entry.")
    set_pte_at: sig.SetPteAt = op(
        96, native_mmu.native_set_pte_at, "Write a PTE of a known address space and address."
    )
    set_pmd: sig.SetPmd = op(97, native_mmu.native_set_pmd, "Write a page-directory entry.")
    pte_update: sig.PteUpdate = op(98, paravirt_nop, "A PTE changed behind the ops' back.")
    pte_update_defer: sig.PteUpdate = op(99, paravirt_nop, "As pte_update; a TLB flush follows.")
    pte_val: sig.PteVal = op(100, native_mmu.native_pte_val, "Raw value of a PTE.")
    make_pte: sig.MakePte = op(101, native_mmu.native_make_pte, "A PTE from a raw value.")
    pgd_val: sig.PgdVal = op(102, native_mmu.native_pgd_val, "Raw value of a directory entry.")
    make_pgd: sig.MakePgd = op(103, native_mmu.native_make_pgd, "A directory entry from a value.")
    activate_mm: sig.ActivateMm = op(104, paravirt_nop, "An address space becomes current.")
    dup_mmap: sig.DupMmap = op(105, paravirt_nop, "An address space was copied (fork).")
    exit_mmap: sig.ExitMmap = op(106, paravirt_nop, "An address space is torn down.")
    lazy_mode: PvLazyOps = nested(124, PvLazyOps)


@attrs.frozen
class PvLockOps:
    """Spinlocks, so a hypervisor can replace spinning with blocking."""

    spin_is_locked: sig.SpinQuery = op(
        128, native_lock.native_spin_is_locked, "Whether the lock is held."
    )
    spin_is_contended: sig.SpinQuery = op(
        129, native_lock.native_spin_is_contended, "Whether others wait for the lock."
    )
    spin_lock: sig.SpinLock = op(130, native_lock.native_spin_lock, "Acquire the lock.")
    spin_lock_flags: sig.SpinLockFlags = op(
        131, native_lock.native_spin_lock_flags, "Acquire; irqs may be enabled while spinning."
    )
    spin_trylock: sig.SpinTrylock = op(
        132, native_lock.native_spin_trylock, "Try once to acquire the lock."
    )
    spin_unlock: sig.SpinUnlock = op(133, native_lock.native_spin_unlock, "Release the lock.")


# The groups in template order (Linux's ``struct paravirt_patch_template``).
GROUPS: dict[str, type[Any]] = {
    "init": PvInitOps,
    "time": PvTimeOps,
    "cpu": PvCpuOps,
    "irq": PvIrqOps,
    "apic": PvApicOps,
    "mmu": PvMmuOps,
    "lock": PvLockOps,
}
