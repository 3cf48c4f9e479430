"""Xen cpu ops: descriptor tables, stacks and control registers through hypercalls."""

from __future__ import annotations

from pvops.hw import Cpu
from pvops.ops.signatures import CpuidResult
from pvops.pending import OpNotModeledError
from pvops.types import Msr, VirtAddr


def xen_cpuid(cpu: Cpu, leaf: int, subleaf: int) -> CpuidResult:
    """cpuid, possibly with features masked."""
    raise OpNotModeledError("xen", "cpu.cpuid", "the Xen hypervisor model")


def xen_set_debugreg(cpu: Cpu, reg: int, value: int) -> None:
    """Write a debug register."""
    raise OpNotModeledError("xen", "cpu.set_debugreg", "the Xen hypervisor model")


def xen_get_debugreg(cpu: Cpu, reg: int) -> int:
    """Read a debug register."""
    raise OpNotModeledError("xen", "cpu.get_debugreg", "the Xen hypervisor model")


def xen_clts(cpu: Cpu) -> None:
    """Clear CR0.TS."""
    raise OpNotModeledError("xen", "cpu.clts", "the Xen hypervisor model")


def xen_write_cr0(cpu: Cpu, value: int) -> None:
    """Write cr0."""
    raise OpNotModeledError("xen", "cpu.write_cr0", "the Xen hypervisor model")


def xen_write_cr4(cpu: Cpu, value: int) -> None:
    """Write cr4."""
    raise OpNotModeledError("xen", "cpu.write_cr4", "the Xen hypervisor model")


def xen_write_msr(cpu: Cpu, msr: Msr, value: int) -> int:
    """Safe MSR write: 0 or -EIO."""
    raise OpNotModeledError("xen", "cpu.write_msr", "the Xen hypervisor model")


def xen_iret(cpu: Cpu) -> None:
    """Return from an interrupt (jumped to)."""
    raise OpNotModeledError("xen", "cpu.iret", "the Xen hypervisor model")


def xen_set_ldt(cpu: Cpu, addr: VirtAddr, entries: int) -> None:
    """Install an LDT, or none."""
    raise OpNotModeledError("xen", "cpu.set_ldt", "the Xen hypervisor model")


def xen_load_gdt(cpu: Cpu, dtr: VirtAddr) -> None:
    """Load GDTR (Xen: set_gdt reads the frames)."""
    raise OpNotModeledError("xen", "cpu.load_gdt", "the Xen hypervisor model")


def xen_load_idt(cpu: Cpu, dtr: VirtAddr) -> None:
    """Load IDTR (Xen: set_trap_table; the table's address is ignored)."""
    raise OpNotModeledError("xen", "cpu.load_idt", "the Xen hypervisor model")


def xen_load_tls(cpu: Cpu, tls_array: VirtAddr, cpu_index: int) -> None:
    """Load a thread's TLS descriptors."""
    raise OpNotModeledError("xen", "cpu.load_tls", "the Xen hypervisor model")


def xen_write_ldt_entry(cpu: Cpu, table: VirtAddr, index: int, low: int, high: int) -> None:
    """Write one LDT descriptor."""
    raise OpNotModeledError("xen", "cpu.write_ldt_entry", "the Xen hypervisor model")


def xen_write_gdt_entry(cpu: Cpu, table: VirtAddr, index: int, low: int, high: int) -> None:
    """Write one GDT descriptor."""
    raise OpNotModeledError("xen", "cpu.write_gdt_entry", "the Xen hypervisor model")


def xen_write_idt_entry(cpu: Cpu, table: VirtAddr, index: int, low: int, high: int) -> None:
    """Write one IDT gate."""
    raise OpNotModeledError("xen", "cpu.write_idt_entry", "the Xen hypervisor model")


def xen_load_esp0(cpu: Cpu, tss: VirtAddr, esp0: VirtAddr) -> None:
    """Set the ring-0 stack for the next trap."""
    raise OpNotModeledError("xen", "cpu.load_esp0", "the Xen hypervisor model")


def xen_set_iopl_mask(cpu: Cpu, mask: int) -> None:
    """Set EFLAGS.IOPL."""
    raise OpNotModeledError("xen", "cpu.set_iopl_mask", "the Xen hypervisor model")


def xen_enter_lazy_cpu(cpu: Cpu) -> None:
    """Start queueing updates."""
    raise OpNotModeledError("xen", "cpu.lazy_mode.enter", "the Xen hypervisor model")


def xen_leave_lazy_cpu(cpu: Cpu) -> None:
    """Issue queued updates and stop queueing."""
    raise OpNotModeledError("xen", "cpu.lazy_mode.leave", "the Xen hypervisor model")


def xen_flush_lazy_cpu(cpu: Cpu) -> None:
    """Issue queued updates and go on queueing."""
    raise OpNotModeledError("xen", "cpu.lazy_mode.flush", "the Xen hypervisor model")
