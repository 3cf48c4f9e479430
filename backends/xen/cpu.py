"""Xen cpu ops: descriptor tables, stacks and control registers through hypercalls.

X:1300 A ring-1 kernel cannot load GDTR, IDTR or TR, or write cr0/cr4
(``arch/i386/xen/enlighten.c``):

- ``load_gdt`` hands the GDT's frames to ``set_gdt`` (made read-only
  first: Xen refuses descriptor pages anything can write).  Linux keeps
  its GDT in a page of its own with no TSS descriptor Xen would refuse;
  this kernel's shares its page and holds one, so where the platform gave
  the backend a page for it (``Domain.backend_pages["gdt"]``) the op
  writes a sanitized copy there first, as the Xen VMI ROM does;
- ``load_idt`` converts the IDT's gates into a trap table for
  ``set_trap_table``; the table's address means nothing to Xen;
- ``load_esp0`` is ``stack_switch``; descriptor writes are
  ``update_descriptor``; the LDT is ``MMUEXT_SET_LDT``;
- ``clts``/``write_cr0`` touch only TS, through ``fpu_taskswitch``;
- ``iret`` is the ``iret`` hypercall on 3.0.2, which restores the event
  mask from the frame's IF; older releases have none, so the op returns
  natively (ring 1 may iret to ring 1 or 3) and sets the mask itself.

In lazy CPU mode (a context switch) these are queued into one multicall.
"""

from __future__ import annotations

import struct

from pvops.abi import GDT_ENTRY_TLS_ENTRIES, GDT_ENTRY_TLS_MIN
from pvops.backends.xen.models import events
from pvops.backends.xen.xen_ops import (
    Call,
    batch_of,
    domain_of,
    flush,
    hypercall,
    mmuext_call,
    submit,
    update_va_mapping_call,
    virt_to_machine,
)
from pvops.hw import CR0_TS, EFLAGS_IF, Cpu
from pvops.ops.signatures import CpuidResult
from pvops.types import Msr, VirtAddr

EIO = 5
# cpuid leaf 1 EDX bits a Xen guest must not see (Linux 2.6.23 xen_cpuid).
X86_FEATURE_APIC = 9
X86_FEATURE_SEP = 11
X86_FEATURE_ACPI = 22
X86_FEATURE_ACC = 29
MASKED_EDX = ~(
    1 << X86_FEATURE_APIC | 1 << X86_FEATURE_SEP | 1 << X86_FEATURE_ACPI | 1 << X86_FEATURE_ACC
)


def _lazy(cpu: Cpu, op: str) -> bool:
    xen, dom = domain_of(cpu, op)
    return batch_of(xen, dom).lazy_cpu


def xen_cpuid(cpu: Cpu, leaf: int, subleaf: int) -> CpuidResult:
    """cpuid with the APIC, ACPI, SEP and ACC features hidden."""
    domain_of(cpu, "cpu.cpuid")
    eax, ebx, ecx, edx = cpu.cpuid(leaf, subleaf)
    if leaf == 1:
        edx &= MASKED_EDX & 0xFFFFFFFF
    return CpuidResult(eax, ebx, ecx, edx)


def xen_set_debugreg(cpu: Cpu, reg: int, value: int) -> None:
    """HYPERVISOR_set_debugreg."""
    xen, _ = domain_of(cpu, "cpu.set_debugreg")
    hypercall(xen, cpu, "set_debugreg", reg, value)


def xen_get_debugreg(cpu: Cpu, reg: int) -> int:
    """HYPERVISOR_get_debugreg."""
    xen, _ = domain_of(cpu, "cpu.get_debugreg")
    return hypercall(xen, cpu, "get_debugreg", reg) & 0xFFFFFFFF


def _fpu_taskswitch(cpu: Cpu, on: bool, op: str) -> None:
    xen, dom = domain_of(cpu, op)
    nr = xen.abi.number("fpu_taskswitch")
    assert nr is not None
    if xen.abi.major < 3:
        if on:  # 2.0's fpu_taskswitch only sets TS; Xen clears it itself on #NM
            submit(xen, cpu, dom, Call(nr, []), lazy=_lazy(cpu, op))
        return
    submit(xen, cpu, dom, Call(nr, [int(on)]), lazy=_lazy(cpu, op))


def xen_clts(cpu: Cpu) -> None:
    """fpu_taskswitch(0)."""
    _fpu_taskswitch(cpu, False, "cpu.clts")


def xen_write_cr0(cpu: Cpu, value: int) -> None:
    """Only TS means anything: fpu_taskswitch."""
    _fpu_taskswitch(cpu, bool(value & CR0_TS), "cpu.write_cr0")


def xen_write_cr4(cpu: Cpu, value: int) -> None:
    """Xen owns cr4 (PGE and PSE are not the guest's): ignored."""
    domain_of(cpu, "cpu.write_cr4")
    del value


def xen_write_msr(cpu: Cpu, msr: Msr, value: int) -> int:
    """No MSR is writable from ring 1: -EIO, as the safe native write would return."""
    domain_of(cpu, "cpu.write_msr")
    del msr, value
    return -EIO


def xen_iret(cpu: Cpu) -> None:
    """Return from an interrupt, restoring the event mask from the frame's IF."""
    xen, dom = domain_of(cpu, "cpu.iret")
    if xen.abi.number("iret") is not None:
        # The hypercall page's iret stub pushes %eax, then int $0x82.
        esp = (cpu.esp - 4) & 0xFFFFFFFF
        xen.write_guest(dom, esp, struct.pack("<I", cpu.eax))
        cpu.esp = esp
        hypercall(xen, cpu, "iret", jumped=True)
        return
    raw = xen.read_guest(dom, cpu.esp + 8, 4)
    flags = struct.unpack("<I", raw)[0] if isinstance(raw, bytes) else EFLAGS_IF
    cpu.iret()
    events.set_upcall_mask(xen, dom, masked=not flags & EFLAGS_IF, abi=dom.kernel_abi)
    events.deliver_pending(xen, dom)


def xen_set_ldt(cpu: Cpu, addr: VirtAddr, entries: int) -> None:
    """MMUEXT_SET_LDT."""
    xen, dom = domain_of(cpu, "cpu.set_ldt")
    submit(xen, cpu, dom, mmuext_call(xen, "set_ldt", addr, entries), lazy=_lazy(cpu, "cpu"))


def _read_dtr(cpu: Cpu, dtr: VirtAddr) -> tuple[int, int]:
    limit, base = struct.unpack("<HI", cpu.read_virt(dtr, 6))
    return base, limit


def _sanitized(table: bytes) -> bytes:
    """The GDT as Xen will take it: system descriptors left out, DPL 0 made 1."""
    out = bytearray()
    for off in range(0, len(table) - 7, 8):
        low, high = struct.unpack_from("<II", table, off)
        if high & 0x8000 and not high & 0x1000:
            low = high = 0  # TSS, LDT, gates: Xen's own business
        elif high & 0x8000 and not high & 0x6000:
            high |= 0x2000
        out += struct.pack("<II", low, high)
    return bytes(out)


def _copy_gdt(cpu: Cpu, base: int, entries: int, page: int) -> None:
    """Write the sanitized table into the backend's page (writable just for that)."""
    xen, dom = domain_of(cpu, "cpu.load_gdt")
    ma = virt_to_machine(xen, dom, page)
    if ma is None:
        return
    rw = (ma & ~0xFFF) | 0x63
    submit(xen, cpu, dom, update_va_mapping_call(xen, page, rw, xen.abi.uvmf_invlpg), lazy=False)
    cpu.write_virt(VirtAddr(page), _sanitized(cpu.read_virt(VirtAddr(base), entries * 8)))


def xen_load_gdt(cpu: Cpu, dtr: VirtAddr) -> None:
    """set_gdt with the table's frames, mapped read-only first."""
    xen, dom = domain_of(cpu, "cpu.load_gdt")
    base, limit = _read_dtr(cpu, dtr)
    entries = min((limit + 1) // 8, 512)
    page = dom.backend_pages.get("gdt")
    if page is not None:
        _copy_gdt(cpu, base, entries, page)
        base = page
    mfns = []
    for page in range((entries * 8 + 4095) // 4096):
        va = base + page * 4096
        ma = virt_to_machine(xen, dom, va)
        if ma is None:
            return
        mfns.append(ma >> 12)
        ro = (ma & ~0xFFF) | 0x61
        submit(xen, cpu, dom, update_va_mapping_call(xen, va, ro, xen.abi.uvmf_invlpg), lazy=False)
    nr = xen.abi.number("set_gdt")
    assert nr is not None
    call = Call(nr, [0, entries], struct.pack(f"<{len(mfns)}I", *mfns), blob_arg=0)
    submit(xen, cpu, dom, call, lazy=False)


def _gate_to_trap(vector: int, low: int, high: int) -> bytes | None:
    """``cvt_gate_to_trap``: an interrupt or trap gate as a trap_info entry."""
    kind = (high >> 8) & 0x1F
    if not high & 0x8000 or kind not in (0xE, 0xF):
        return None
    address = (high & 0xFFFF0000) | (low & 0xFFFF)
    cs = (low >> 16) & 0xFFFF
    flags = ((high >> 13) & 3) | (4 if kind == 0xE else 0)  # interrupt gates mask events
    return struct.pack("<BBHI", vector, flags, cs, address)


def xen_load_idt(cpu: Cpu, dtr: VirtAddr) -> None:
    """Convert the IDT into a trap table for set_trap_table (its address is ignored by Xen)."""
    xen, dom = domain_of(cpu, "cpu.load_idt")
    base, limit = _read_dtr(cpu, dtr)
    count = min(256, (limit + 1) // 8)
    raw = cpu.read_virt(VirtAddr(base), count * 8)
    table = b""
    for vector in range(count):
        low, high = struct.unpack_from("<II", raw, vector * 8)
        entry = _gate_to_trap(vector, low, high)
        if entry is not None:
            table += entry
    nr = xen.abi.number("set_trap_table")
    assert nr is not None
    submit(xen, cpu, dom, Call(nr, [0], table + bytes(8), blob_arg=0), lazy=False)


def _update_descriptor(cpu: Cpu, va: int, low: int, high: int, op: str) -> None:
    xen, dom = domain_of(cpu, op)
    ma = virt_to_machine(xen, dom, va)
    if ma is None:
        return
    nr = xen.abi.number("update_descriptor")
    assert nr is not None
    args = [ma, 0, low, high] if xen.abi.major >= 3 else [ma, low, high]
    submit(xen, cpu, dom, Call(nr, args), lazy=_lazy(cpu, op))


def xen_load_tls(cpu: Cpu, tls_array: VirtAddr, cpu_index: int) -> None:
    """update_descriptor for the three TLS slots of the current GDT."""
    del cpu_index
    gdt_base, _ = cpu.sgdt()
    raw = cpu.read_virt(tls_array, 8 * GDT_ENTRY_TLS_ENTRIES)
    for i in range(GDT_ENTRY_TLS_ENTRIES):
        low, high = struct.unpack_from("<II", raw, 8 * i)
        _update_descriptor(cpu, gdt_base + 8 * (GDT_ENTRY_TLS_MIN + i), low, high, "cpu.load_tls")


def xen_write_ldt_entry(cpu: Cpu, table: VirtAddr, index: int, low: int, high: int) -> None:
    """update_descriptor on the LDT page."""
    _update_descriptor(cpu, table + 8 * index, low, high, "cpu.write_ldt_entry")


def xen_write_gdt_entry(cpu: Cpu, table: VirtAddr, index: int, low: int, high: int) -> None:
    """update_descriptor on the GDT page."""
    _update_descriptor(cpu, table + 8 * index, low, high, "cpu.write_gdt_entry")


def xen_write_idt_entry(cpu: Cpu, table: VirtAddr, index: int, low: int, high: int) -> None:
    """Write the gate in the kernel's table and give Xen the one trap_info it becomes."""
    xen, dom = domain_of(cpu, "cpu.write_idt_entry")
    cpu.write_virt(VirtAddr(table + 8 * index), struct.pack("<II", low, high))
    entry = _gate_to_trap(index, low, high)
    if entry is not None:
        nr = xen.abi.number("set_trap_table")
        assert nr is not None
        submit(xen, cpu, dom, Call(nr, [0], entry + bytes(8), blob_arg=0), lazy=False)


def xen_load_esp0(cpu: Cpu, tss: VirtAddr, esp0: VirtAddr) -> None:
    """stack_switch(kernel ss, esp0)."""
    xen, dom = domain_of(cpu, "cpu.load_esp0")
    del tss
    nr = xen.abi.number("stack_switch")
    assert nr is not None
    ss = dom.kernel_ss or xen.abi.flat_ring1_ds
    submit(xen, cpu, dom, Call(nr, [ss, esp0]), lazy=_lazy(cpu, "cpu.load_esp0"))


def xen_set_iopl_mask(cpu: Cpu, mask: int) -> None:
    """physdev_op(SET_IOPL) is dom0's business; unprivileged domains get no port access."""
    domain_of(cpu, "cpu.set_iopl_mask")
    del mask


def xen_enter_lazy_cpu(cpu: Cpu) -> None:
    """Start queueing descriptor, stack and TS updates (a context switch)."""
    xen, dom = domain_of(cpu, "cpu.lazy_mode.enter")
    batch = batch_of(xen, dom)
    assert not batch.lazy_cpu, "entering lazy CPU mode twice"
    batch.lazy_cpu = True


def xen_leave_lazy_cpu(cpu: Cpu) -> None:
    """Issue the queue as one multicall and stop queueing."""
    xen, dom = domain_of(cpu, "cpu.lazy_mode.leave")
    batch_of(xen, dom).lazy_cpu = False
    flush(xen, cpu, dom)


def xen_flush_lazy_cpu(cpu: Cpu) -> None:
    """Issue the queue and go on queueing."""
    xen, dom = domain_of(cpu, "cpu.lazy_mode.flush")
    flush(xen, cpu, dom)
