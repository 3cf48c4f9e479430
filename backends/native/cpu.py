"""Native CPU ops: each is the privileged instruction it replaces.

They run on the host against a :class:`pvops.hw.Cpu`, with the effect the
instruction has at the current privilege level: a native op called from a
ring-1 kernel faults (or silently does less) exactly where the instruction
would, which is why a kernel must not run deprivileged on these defaults.
"""

from __future__ import annotations

from pvops.abi import (
    DESCRIPTOR_SIZE,
    GDT_ENTRY_LDT,
    GDT_ENTRY_TLS_ENTRIES,
    GDT_ENTRY_TLS_MIN,
    GDT_ENTRY_TSS,
    IO_DELAY_PORT,
    TSS_ESP0_OFFSET,
    TSS_ESP1_OFFSET,
)
from pvops.hw import EFLAGS_IOPL, VECTOR_GP, Cpu, GuestFault
from pvops.ops.signatures import CpuidResult, MsrRead
from pvops.types import Msr, Selector, VirtAddr

EIO = 5
LDT_DESCRIPTOR_TYPE = 0x82  # present, DPL 0, system type 2 (LDT)


def native_cpuid(cpu: Cpu, leaf: int, subleaf: int) -> CpuidResult:
    """cpuid."""
    return CpuidResult(*cpu.cpuid(leaf, subleaf))


def native_get_debugreg(cpu: Cpu, reg: int) -> int:
    """mov %drN, reg."""
    return cpu.get_debugreg(reg)


def native_set_debugreg(cpu: Cpu, reg: int, value: int) -> None:
    """mov reg, %drN."""
    cpu.set_debugreg(reg, value)


def native_clts(cpu: Cpu) -> None:
    """clts."""
    cpu.clts()


def native_read_cr0(cpu: Cpu) -> int:
    """mov %cr0, reg."""
    return cpu.cr0


def native_write_cr0(cpu: Cpu, value: int) -> None:
    """mov reg, %cr0."""
    cpu.cr0 = value


def native_read_cr4(cpu: Cpu) -> int:
    """mov %cr4, reg."""
    return cpu.cr4


def native_read_cr4_safe(cpu: Cpu) -> int:
    """cr4, or 0 on a CPU without one (every modeled CPU has one)."""
    return cpu.cr4


def native_write_cr4(cpu: Cpu, value: int) -> None:
    """mov reg, %cr4."""
    cpu.cr4 = value


def native_wbinvd(cpu: Cpu) -> None:
    """wbinvd."""
    cpu.wbinvd()


def native_read_msr(cpu: Cpu, msr: Msr) -> MsrRead:
    """rdmsr with the #GP caught, as Linux's rdmsr_safe."""
    try:
        return MsrRead(cpu.rdmsr(msr), 0)
    except GuestFault as fault:
        if fault.vector != VECTOR_GP:
            raise
        return MsrRead(0, -EIO)


def native_write_msr(cpu: Cpu, msr: Msr, value: int) -> int:
    """wrmsr with the #GP caught, as Linux's wrmsr_safe."""
    try:
        cpu.wrmsr(msr, value)
    except GuestFault as fault:
        if fault.vector != VECTOR_GP:
            raise
        return -EIO
    return 0


def native_read_tsc(cpu: Cpu) -> int:
    """rdtsc."""
    return cpu.rdtsc()


def native_read_pmc(cpu: Cpu, counter: int) -> int:
    """rdpmc."""
    return cpu.rdpmc(counter)


def native_load_tr_desc(cpu: Cpu) -> None:
    """ltr of the kernel's TSS slot."""
    cpu.ltr(GDT_ENTRY_TSS * DESCRIPTOR_SIZE)


def _read_dtr(cpu: Cpu, dtr: VirtAddr) -> tuple[VirtAddr, int]:
    raw = cpu.read_virt(dtr, 6)
    return VirtAddr(int.from_bytes(raw[2:6], "little")), int.from_bytes(raw[0:2], "little")


def _write_dtr(cpu: Cpu, dtr: VirtAddr, base: VirtAddr, limit: int) -> None:
    cpu.write_virt(dtr, limit.to_bytes(2, "little") + base.to_bytes(4, "little"))


def native_load_gdt(cpu: Cpu, dtr: VirtAddr) -> None:
    """lgdt."""
    cpu.lgdt(*_read_dtr(cpu, dtr))


def native_load_idt(cpu: Cpu, dtr: VirtAddr) -> None:
    """lidt."""
    cpu.lidt(*_read_dtr(cpu, dtr))


def native_store_gdt(cpu: Cpu, dtr: VirtAddr) -> None:
    """sgdt."""
    _write_dtr(cpu, dtr, *cpu.sgdt())


def native_store_idt(cpu: Cpu, dtr: VirtAddr) -> None:
    """sidt."""
    _write_dtr(cpu, dtr, *cpu.sidt())


def native_store_tr(cpu: Cpu) -> Selector:
    """str."""
    return Selector(cpu.str_())


def _gdt_slot(cpu: Cpu, index: int) -> VirtAddr:
    base, _ = cpu.sgdt()
    return VirtAddr(base + index * DESCRIPTOR_SIZE)


def native_write_gdt_entry(cpu: Cpu, table: VirtAddr, index: int, low: int, high: int) -> None:
    """Store a descriptor into a GDT."""
    cpu.write_virt(VirtAddr(table + index * DESCRIPTOR_SIZE), _descriptor(low, high))


def native_write_ldt_entry(cpu: Cpu, table: VirtAddr, index: int, low: int, high: int) -> None:
    """Store a descriptor into an LDT."""
    cpu.write_virt(VirtAddr(table + index * DESCRIPTOR_SIZE), _descriptor(low, high))


def native_write_idt_entry(cpu: Cpu, table: VirtAddr, index: int, low: int, high: int) -> None:
    """Store a gate into the IDT."""
    cpu.write_virt(VirtAddr(table + index * DESCRIPTOR_SIZE), _descriptor(low, high))


def _descriptor(low: int, high: int) -> bytes:
    return (low & 0xFFFFFFFF).to_bytes(4, "little") + (high & 0xFFFFFFFF).to_bytes(4, "little")


def native_set_ldt(cpu: Cpu, addr: VirtAddr, entries: int) -> None:
    """Write the LDT descriptor into its GDT slot and lldt it (0 entries: no LDT)."""
    if entries == 0:
        cpu.lldt(0)
        return
    limit = entries * DESCRIPTOR_SIZE - 1
    low = ((addr & 0xFFFF) << 16) | (limit & 0xFFFF)
    high = (
        (addr & 0xFF000000) | (limit & 0xF0000) | (LDT_DESCRIPTOR_TYPE << 8) | ((addr >> 16) & 0xFF)
    )
    cpu.write_virt(_gdt_slot(cpu, GDT_ENTRY_LDT), _descriptor(low, high))
    cpu.lldt(GDT_ENTRY_LDT * DESCRIPTOR_SIZE)


def native_load_tls(cpu: Cpu, tls_array: VirtAddr, cpu_index: int) -> None:
    """Copy the thread's TLS descriptors into the GDT (one CPU modeled: index 0)."""
    del cpu_index
    size = GDT_ENTRY_TLS_ENTRIES * DESCRIPTOR_SIZE
    cpu.write_virt(_gdt_slot(cpu, GDT_ENTRY_TLS_MIN), cpu.read_virt(tls_array, size))


def native_load_esp0(cpu: Cpu, tss: VirtAddr, esp0: VirtAddr) -> None:
    """Store the kernel stack into the TSS as esp0 and esp1.

    The same stack for ring 0 and ring 1: an interrupt from user mode
    switches to the ring of its gate's code segment, which is the kernel's
    ring (1 when a hypervisor deprivileges it), so both slots must hold it.
    """
    raw = esp0.to_bytes(4, "little")
    cpu.write_virt(VirtAddr(tss + TSS_ESP0_OFFSET), raw)
    cpu.write_virt(VirtAddr(tss + TSS_ESP1_OFFSET), raw)


def native_set_iopl_mask(cpu: Cpu, mask: int) -> None:
    """pushf; change IOPL; popf (only effective at CPL 0, as on hardware)."""
    cpu.popf((cpu.eflags & ~EFLAGS_IOPL) | (mask & EFLAGS_IOPL))


def native_io_delay(cpu: Cpu) -> None:
    """outb to port 0x80, the classic ISA delay."""
    cpu.port_out(IO_DELAY_PORT, 1, 0)


def native_iret(cpu: Cpu) -> None:
    """iret."""
    cpu.iret()
