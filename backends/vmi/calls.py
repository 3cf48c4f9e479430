"""VMI ops: each a call into the ROM's slot for one VMI call (para_fill / para_wrap)."""

from __future__ import annotations

from pvops.hw import Cpu
from pvops.ops.signatures import CpuidResult
from pvops.patching import PatchResult, PatchSite
from pvops.pending import OpNotModeledError
from pvops.types import IrqFlags, Pde, Pfn, PhysAddr, Pte, Selector, VirtAddr


def vmi_patch(site: PatchSite) -> PatchResult:
    """Choose what replaces one patch site."""
    raise OpNotModeledError("vmi", "init.patch", "a VMI ROM")


def vmi_cpuid(cpu: Cpu, leaf: int, subleaf: int) -> CpuidResult:
    """cpuid, possibly with features masked."""
    raise OpNotModeledError("vmi", "cpu.cpuid", "a VMI ROM")


def vmi_get_debugreg(cpu: Cpu, reg: int) -> int:
    """Read a debug register."""
    raise OpNotModeledError("vmi", "cpu.get_debugreg", "a VMI ROM")


def vmi_set_debugreg(cpu: Cpu, reg: int, value: int) -> None:
    """Write a debug register."""
    raise OpNotModeledError("vmi", "cpu.set_debugreg", "a VMI ROM")


def vmi_clts(cpu: Cpu) -> None:
    """Clear CR0.TS."""
    raise OpNotModeledError("vmi", "cpu.clts", "a VMI ROM")


def vmi_read_cr0(cpu: Cpu) -> int:
    """Read cr0."""
    raise OpNotModeledError("vmi", "cpu.read_cr0", "a VMI ROM")


def vmi_write_cr0(cpu: Cpu, value: int) -> None:
    """Write cr0."""
    raise OpNotModeledError("vmi", "cpu.write_cr0", "a VMI ROM")


def vmi_read_cr4(cpu: Cpu) -> int:
    """Read cr4."""
    raise OpNotModeledError("vmi", "cpu.read_cr4", "a VMI ROM")


def vmi_read_cr4_safe(cpu: Cpu) -> int:
    """Read cr4, or 0 where there is none."""
    raise OpNotModeledError("vmi", "cpu.read_cr4_safe", "a VMI ROM")


def vmi_write_cr4(cpu: Cpu, value: int) -> None:
    """Write cr4."""
    raise OpNotModeledError("vmi", "cpu.write_cr4", "a VMI ROM")


def vmi_wbinvd(cpu: Cpu) -> None:
    """Write back and invalidate caches."""
    raise OpNotModeledError("vmi", "cpu.wbinvd", "a VMI ROM")


def vmi_read_tsc(cpu: Cpu) -> int:
    """The time-stamp counter."""
    raise OpNotModeledError("vmi", "cpu.read_tsc", "a VMI ROM")


def vmi_load_tr_desc(cpu: Cpu) -> None:
    """Load TR with the kernel's TSS."""
    raise OpNotModeledError("vmi", "cpu.load_tr_desc", "a VMI ROM")


def vmi_load_gdt(cpu: Cpu, dtr: VirtAddr) -> None:
    """Load GDTR (Xen: set_gdt reads the frames)."""
    raise OpNotModeledError("vmi", "cpu.load_gdt", "a VMI ROM")


def vmi_load_idt(cpu: Cpu, dtr: VirtAddr) -> None:
    """Load IDTR (Xen: set_trap_table; the table's address is ignored)."""
    raise OpNotModeledError("vmi", "cpu.load_idt", "a VMI ROM")


def vmi_store_gdt(cpu: Cpu, dtr: VirtAddr) -> None:
    """Store GDTR."""
    raise OpNotModeledError("vmi", "cpu.store_gdt", "a VMI ROM")


def vmi_store_idt(cpu: Cpu, dtr: VirtAddr) -> None:
    """Store IDTR."""
    raise OpNotModeledError("vmi", "cpu.store_idt", "a VMI ROM")


def vmi_set_ldt(cpu: Cpu, addr: VirtAddr, entries: int) -> None:
    """Install an LDT, or none."""
    raise OpNotModeledError("vmi", "cpu.set_ldt", "a VMI ROM")


def vmi_store_tr(cpu: Cpu) -> Selector:
    """Store TR's selector."""
    raise OpNotModeledError("vmi", "cpu.store_tr", "a VMI ROM")


def vmi_write_ldt_entry(cpu: Cpu, table: VirtAddr, index: int, low: int, high: int) -> None:
    """Write one LDT descriptor."""
    raise OpNotModeledError("vmi", "cpu.write_ldt_entry", "a VMI ROM")


def vmi_write_gdt_entry(cpu: Cpu, table: VirtAddr, index: int, low: int, high: int) -> None:
    """Write one GDT descriptor."""
    raise OpNotModeledError("vmi", "cpu.write_gdt_entry", "a VMI ROM")


def vmi_write_idt_entry(cpu: Cpu, table: VirtAddr, index: int, low: int, high: int) -> None:
    """Write one IDT gate."""
    raise OpNotModeledError("vmi", "cpu.write_idt_entry", "a VMI ROM")


def vmi_load_esp0(cpu: Cpu, tss: VirtAddr, esp0: VirtAddr) -> None:
    """Set the ring-0 stack for the next trap."""
    raise OpNotModeledError("vmi", "cpu.load_esp0", "a VMI ROM")


def vmi_set_iopl_mask(cpu: Cpu, mask: int) -> None:
    """Set EFLAGS.IOPL."""
    raise OpNotModeledError("vmi", "cpu.set_iopl_mask", "a VMI ROM")


def vmi_io_delay(cpu: Cpu) -> None:
    """Wait for a slow ISA device."""
    raise OpNotModeledError("vmi", "cpu.io_delay", "a VMI ROM")


def vmi_iret(cpu: Cpu) -> None:
    """Return from an interrupt (jumped to)."""
    raise OpNotModeledError("vmi", "cpu.iret", "a VMI ROM")


def vmi_enter_lazy_cpu(cpu: Cpu) -> None:
    """Start queueing updates."""
    raise OpNotModeledError("vmi", "cpu.lazy_mode.enter", "a VMI ROM")


def vmi_leave_lazy_cpu(cpu: Cpu) -> None:
    """Issue queued updates and stop queueing."""
    raise OpNotModeledError("vmi", "cpu.lazy_mode.leave", "a VMI ROM")


def vmi_flush_lazy_cpu(cpu: Cpu) -> None:
    """Issue queued updates and go on queueing."""
    raise OpNotModeledError("vmi", "cpu.lazy_mode.flush", "a VMI ROM")


def vmi_save_fl(cpu: Cpu) -> IrqFlags:
    """Return the (virtual) EFLAGS."""
    raise OpNotModeledError("vmi", "irq.save_fl", "a VMI ROM")


def vmi_restore_fl(cpu: Cpu, flags: IrqFlags) -> None:
    """Restore IF from save_fl."""
    raise OpNotModeledError("vmi", "irq.restore_fl", "a VMI ROM")


def vmi_irq_disable(cpu: Cpu) -> None:
    """Mask interrupts."""
    raise OpNotModeledError("vmi", "irq.irq_disable", "a VMI ROM")


def vmi_irq_enable(cpu: Cpu) -> None:
    """Unmask interrupts."""
    raise OpNotModeledError("vmi", "irq.irq_enable", "a VMI ROM")


def vmi_safe_halt(cpu: Cpu) -> None:
    """Enable interrupts and halt, atomically."""
    raise OpNotModeledError("vmi", "irq.safe_halt", "a VMI ROM")


def vmi_halt(cpu: Cpu) -> None:
    """Halt until an interrupt."""
    raise OpNotModeledError("vmi", "irq.halt", "a VMI ROM")


def vmi_apic_write(cpu: Cpu, reg: int, value: int) -> None:
    """Write an APIC register."""
    raise OpNotModeledError("vmi", "apic.apic_write", "a VMI ROM")


def vmi_apic_write_atomic(cpu: Cpu, reg: int, value: int) -> None:
    """Write an APIC register with xchg."""
    raise OpNotModeledError("vmi", "apic.apic_write_atomic", "a VMI ROM")


def vmi_apic_read(cpu: Cpu, reg: int) -> int:
    """Read an APIC register."""
    raise OpNotModeledError("vmi", "apic.apic_read", "a VMI ROM")


def vmi_startup_ipi_hook(cpu: Cpu, apicid: int, start_eip: VirtAddr, start_esp: VirtAddr) -> None:
    """Told a secondary CPU's start state."""
    raise OpNotModeledError("vmi", "apic.startup_ipi_hook", "a VMI ROM")


def vmi_read_cr2(cpu: Cpu) -> VirtAddr:
    """The last page-fault address."""
    raise OpNotModeledError("vmi", "mmu.read_cr2", "a VMI ROM")


def vmi_write_cr2(cpu: Cpu, value: VirtAddr) -> None:
    """Set cr2."""
    raise OpNotModeledError("vmi", "mmu.write_cr2", "a VMI ROM")


def vmi_read_cr3(cpu: Cpu) -> PhysAddr:
    """The current page directory."""
    raise OpNotModeledError("vmi", "mmu.read_cr3", "a VMI ROM")


def vmi_write_cr3(cpu: Cpu, pgd: PhysAddr) -> None:
    """Switch page directory."""
    raise OpNotModeledError("vmi", "mmu.write_cr3", "a VMI ROM")


def vmi_flush_tlb_user(cpu: Cpu) -> None:
    """Flush non-global TLB entries."""
    raise OpNotModeledError("vmi", "mmu.flush_tlb_user", "a VMI ROM")


def vmi_flush_tlb_kernel(cpu: Cpu) -> None:
    """Flush all TLB entries, global ones too."""
    raise OpNotModeledError("vmi", "mmu.flush_tlb_kernel", "a VMI ROM")


def vmi_flush_tlb_single(cpu: Cpu, addr: VirtAddr) -> None:
    """Flush one page's TLB entry."""
    raise OpNotModeledError("vmi", "mmu.flush_tlb_single", "a VMI ROM")


def vmi_alloc_pt(cpu: Cpu, pfn: Pfn) -> None:
    """A frame becomes a page table."""
    raise OpNotModeledError("vmi", "mmu.alloc_pt", "a VMI ROM")


def vmi_alloc_pd(cpu: Cpu, pfn: Pfn) -> None:
    """A frame becomes a page directory."""
    raise OpNotModeledError("vmi", "mmu.alloc_pd", "a VMI ROM")


def vmi_alloc_pd_clone(cpu: Cpu, pfn: Pfn, clonepfn: Pfn, start: int, count: int) -> None:
    """A new directory copies kernel entries from another."""
    raise OpNotModeledError("vmi", "mmu.alloc_pd_clone", "a VMI ROM")


def vmi_release_pt(cpu: Cpu, pfn: Pfn) -> None:
    """A frame stops being a page table."""
    raise OpNotModeledError("vmi", "mmu.release_pt", "a VMI ROM")


def vmi_release_pd(cpu: Cpu, pfn: Pfn) -> None:
    """A frame stops being a page directory."""
    raise OpNotModeledError("vmi", "mmu.release_pd", "a VMI ROM")


def vmi_set_pte(cpu: Cpu, ptep: VirtAddr, pte: Pte) -> None:
    """Write a page-table entry."""
    raise OpNotModeledError("vmi", "mmu.set_pte", "a VMI ROM")


def vmi_set_pte_at(cpu: Cpu, mm: VirtAddr, addr: VirtAddr, ptep: VirtAddr, pte: Pte) -> None:
    """Write a PTE of a known address space and address."""
    raise OpNotModeledError("vmi", "mmu.set_pte_at", "a VMI ROM")


def vmi_set_pmd(cpu: Cpu, pmdp: VirtAddr, pmd: Pde) -> None:
    """Write a page-directory entry."""
    raise OpNotModeledError("vmi", "mmu.set_pmd", "a VMI ROM")


def vmi_update_pte(cpu: Cpu, mm: VirtAddr, addr: VirtAddr, ptep: VirtAddr) -> None:
    """A PTE changed behind the ops' back."""
    raise OpNotModeledError("vmi", "mmu.pte_update", "a VMI ROM")


def vmi_update_pte_defer(cpu: Cpu, mm: VirtAddr, addr: VirtAddr, ptep: VirtAddr) -> None:
    """As pte_update; a TLB flush follows."""
    raise OpNotModeledError("vmi", "mmu.pte_update_defer", "a VMI ROM")


def vmi_enter_lazy_mmu(cpu: Cpu) -> None:
    """Start queueing updates."""
    raise OpNotModeledError("vmi", "mmu.lazy_mode.enter", "a VMI ROM")


def vmi_leave_lazy_mmu(cpu: Cpu) -> None:
    """Issue queued updates and stop queueing."""
    raise OpNotModeledError("vmi", "mmu.lazy_mode.leave", "a VMI ROM")


def vmi_flush_lazy_mmu(cpu: Cpu) -> None:
    """Issue queued updates and go on queueing."""
    raise OpNotModeledError("vmi", "mmu.lazy_mode.flush", "a VMI ROM")


def vmi_time_init(cpu: Cpu) -> None:
    """Start the periodic tick."""
    raise OpNotModeledError("vmi", "time.time_init", "a VMI ROM")


def vmi_get_wallclock(cpu: Cpu) -> int:
    """Seconds since the epoch."""
    raise OpNotModeledError("vmi", "time.get_wallclock", "a VMI ROM")


def vmi_sched_clock(cpu: Cpu) -> int:
    """Monotonic nanoseconds for the scheduler."""
    raise OpNotModeledError("vmi", "time.sched_clock", "a VMI ROM")


def vmi_cpu_khz(cpu: Cpu) -> int:
    """TSC frequency in kHz."""
    raise OpNotModeledError("vmi", "time.get_cpu_khz", "a VMI ROM")
