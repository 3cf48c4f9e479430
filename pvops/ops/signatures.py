"""The types of the ops: one callback Protocol per op.

This is pvops' ``paravirt_types.h``.  Each Protocol is the exact signature
of one slot, parameter names included: mypy rejects an implementation whose
types *or* names differ, and the registry checks the same at run time.  The
docstring of each Protocol is the op's one-line contract.

Every op but ``init.patch`` takes the :class:`~pvops.hw.Cpu` it runs on as
its first argument: the ops are host-side code standing in for the guest's
CPU-local ``pv_*_ops`` calls, so "the current CPU" is passed explicitly.
Where Linux passes pointers to results (``cpuid``, ``read_msr``'s ``err``)
the Python signature returns a value instead; the guest ABI of each op is
marshalled by the boot-time lowering, not here.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

from pvops.hw import Cpu
from pvops.patching import PatchResult, PatchSite
from pvops.types import IrqFlags, Msr, Pde, Pfn, PhysAddr, Pte, Selector, VirtAddr


class CpuidResult(NamedTuple):
    """The four registers ``cpuid`` returns."""

    eax: int
    ebx: int
    ecx: int
    edx: int


class MsrRead(NamedTuple):
    """A safe MSR read: ``error`` is 0 or -EIO (Linux's ``*err``)."""

    value: int
    error: int


# --- init ---------------------------------------------------------------


class Patch(Protocol):
    """Say what to write over a patch site: native bytes, a call, a jump, nops, or nothing."""

    def __call__(self, site: PatchSite) -> PatchResult: ...


class ArchSetup(Protocol):
    """Architecture setup hook, run once early in boot."""

    def __call__(self, cpu: Cpu) -> None: ...


class PostAllocatorInit(Protocol):
    """Hook run once the kernel's page allocator works."""

    def __call__(self, cpu: Cpu) -> None: ...


# --- time ---------------------------------------------------------------


class TimeInit(Protocol):
    """Start the periodic tick that drives the scheduler."""

    def __call__(self, cpu: Cpu) -> None: ...


class GetWallclock(Protocol):
    """Seconds since the epoch from the platform clock."""

    def __call__(self, cpu: Cpu) -> int: ...


class SetWallclock(Protocol):
    """Set the platform clock; 0 on success, negative errno otherwise."""

    def __call__(self, cpu: Cpu, seconds: int) -> int: ...


class SchedClock(Protocol):
    """Monotonic nanoseconds for the scheduler (64-bit)."""

    def __call__(self, cpu: Cpu) -> int: ...


class GetCpuKhz(Protocol):
    """The TSC frequency in kHz."""

    def __call__(self, cpu: Cpu) -> int: ...


# --- cpu ----------------------------------------------------------------


class Cpuid(Protocol):
    """Execute cpuid for a leaf and subleaf (a hypervisor may mask features)."""

    def __call__(self, cpu: Cpu, leaf: int, subleaf: int) -> CpuidResult: ...


class GetDebugreg(Protocol):
    """Read debug register DR``reg``."""

    def __call__(self, cpu: Cpu, reg: int) -> int: ...


class SetDebugreg(Protocol):
    """Write debug register DR``reg``."""

    def __call__(self, cpu: Cpu, reg: int, value: int) -> None: ...


class Clts(Protocol):
    """Clear CR0.TS (lazy FPU switching)."""

    def __call__(self, cpu: Cpu) -> None: ...


class ReadCr(Protocol):
    """Read a control register (cr0 or cr4)."""

    def __call__(self, cpu: Cpu) -> int: ...


class WriteCr(Protocol):
    """Write a control register (cr0 or cr4)."""

    def __call__(self, cpu: Cpu, value: int) -> None: ...


class Wbinvd(Protocol):
    """Write back and invalidate the caches."""

    def __call__(self, cpu: Cpu) -> None: ...


class ReadMsr(Protocol):
    """Safe MSR read: the value, and an error of 0 or -EIO instead of a #GP."""

    def __call__(self, cpu: Cpu, msr: Msr) -> MsrRead: ...


class WriteMsr(Protocol):
    """Safe MSR write: 0, or -EIO instead of a #GP."""

    def __call__(self, cpu: Cpu, msr: Msr, value: int) -> int: ...


class ReadTsc(Protocol):
    """The 64-bit time-stamp counter."""

    def __call__(self, cpu: Cpu) -> int: ...


class ReadPmc(Protocol):
    """Performance-monitoring counter ``counter``."""

    def __call__(self, cpu: Cpu, counter: int) -> int: ...


class LoadTrDesc(Protocol):
    """Load the task register with the kernel's TSS selector."""

    def __call__(self, cpu: Cpu) -> None: ...


class LoadDescTable(Protocol):
    """Load GDTR or IDTR from the 6-byte pseudo-descriptor at ``dtr``.

    Under Xen ``load_idt`` becomes ``set_trap_table`` and ``load_gdt``
    becomes ``set_gdt``: the hypervisor reads the entries, not the address.
    """

    def __call__(self, cpu: Cpu, dtr: VirtAddr) -> None: ...


class StoreDescTable(Protocol):
    """Store GDTR or IDTR as a 6-byte pseudo-descriptor at ``dtr``."""

    def __call__(self, cpu: Cpu, dtr: VirtAddr) -> None: ...


class SetLdt(Protocol):
    """Install an LDT of ``entries`` descriptors at ``addr`` (0 entries: none)."""

    def __call__(self, cpu: Cpu, addr: VirtAddr, entries: int) -> None: ...


class StoreTr(Protocol):
    """The task register's selector."""

    def __call__(self, cpu: Cpu) -> Selector: ...


class LoadTls(Protocol):
    """Copy the thread's TLS descriptors (``tls_array``) into CPU ``cpu_index``'s GDT."""

    def __call__(self, cpu: Cpu, tls_array: VirtAddr, cpu_index: int) -> None: ...


class WriteDescEntry(Protocol):
    """Write descriptor ``index`` (two words) of the table at ``table`` (GDT, LDT or IDT)."""

    def __call__(self, cpu: Cpu, table: VirtAddr, index: int, low: int, high: int) -> None: ...


class LoadEsp0(Protocol):
    """Set the ring-0 stack used on the next privilege change (TSS.esp0)."""

    def __call__(self, cpu: Cpu, tss: VirtAddr, esp0: VirtAddr) -> None: ...


class SetIoplMask(Protocol):
    """Set EFLAGS.IOPL to the bits in ``mask`` (user port I/O permission)."""

    def __call__(self, cpu: Cpu, mask: int) -> None: ...


class IoDelay(Protocol):
    """Wait long enough for a slow ISA device (an ``outb`` to port 0x80)."""

    def __call__(self, cpu: Cpu) -> None: ...


class Iret(Protocol):
    """Return from an interrupt to the frame on the stack; jumped to, not called."""

    def __call__(self, cpu: Cpu) -> None: ...


class LazyModeChange(Protocol):
    """Enter, leave or flush a lazy (batching) mode; updates queued in it may be deferred."""

    def __call__(self, cpu: Cpu) -> None: ...


# --- irq ----------------------------------------------------------------


class InitIrq(Protocol):
    """Set up the interrupt controller and route the timer."""

    def __call__(self, cpu: Cpu) -> None: ...


class SaveFl(Protocol):
    """The (virtual) EFLAGS image; only IF is meaningful to callers."""

    def __call__(self, cpu: Cpu) -> IrqFlags: ...


class RestoreFl(Protocol):
    """Restore IF from a ``save_fl`` image, delivering interrupts now allowed."""

    def __call__(self, cpu: Cpu, flags: IrqFlags) -> None: ...


class IrqToggle(Protocol):
    """Disable or enable interrupts on this CPU."""

    def __call__(self, cpu: Cpu) -> None: ...


class Halt(Protocol):
    """Stop until an interrupt (``safe_halt`` enables interrupts atomically first)."""

    def __call__(self, cpu: Cpu) -> None: ...


# --- apic ---------------------------------------------------------------


class ApicWrite(Protocol):
    """Write local-APIC register ``reg``."""

    def __call__(self, cpu: Cpu, reg: int, value: int) -> None: ...


class ApicRead(Protocol):
    """Read local-APIC register ``reg``."""

    def __call__(self, cpu: Cpu, reg: int) -> int: ...


class SetupClock(Protocol):
    """Start the local-APIC timer of the boot or a secondary CPU."""

    def __call__(self, cpu: Cpu) -> None: ...


class StartupIpiHook(Protocol):
    """Told the start EIP and ESP of a secondary CPU before its startup IPI."""

    def __call__(self, cpu: Cpu, apicid: int, start_eip: VirtAddr, start_esp: VirtAddr) -> None: ...


# --- mmu ----------------------------------------------------------------


class PagetableSetup(Protocol):
    """Bracket the building of the kernel's initial page tables rooted at ``base``."""

    def __call__(self, cpu: Cpu, base: VirtAddr) -> None: ...


class ReadCr2(Protocol):
    """The faulting address of the last page fault."""

    def __call__(self, cpu: Cpu) -> VirtAddr: ...


class WriteCr2(Protocol):
    """Set the page-fault address register."""

    def __call__(self, cpu: Cpu, value: VirtAddr) -> None: ...


class ReadCr3(Protocol):
    """The physical address of the current page directory."""

    def __call__(self, cpu: Cpu) -> PhysAddr: ...


class WriteCr3(Protocol):
    """Switch to the page directory at ``pgd`` (flushes non-global TLB entries)."""

    def __call__(self, cpu: Cpu, pgd: PhysAddr) -> None: ...


class FlushTlb(Protocol):
    """Flush this CPU's TLB: user (non-global) entries, or kernel ones too."""

    def __call__(self, cpu: Cpu) -> None: ...


class FlushTlbSingle(Protocol):
    """Flush the TLB entry of one page."""

    def __call__(self, cpu: Cpu, addr: VirtAddr) -> None: ...


class FlushTlbOthers(Protocol):
    """Flush ``va`` (or everything if 0) of address space ``mm`` on the CPUs in ``cpumask``."""

    def __call__(self, cpu: Cpu, cpumask: int, mm: VirtAddr, va: VirtAddr) -> None: ...


class AllocPt(Protocol):
    """Frame ``pfn`` is about to become a page table (or directory), as in 2.6.21."""

    def __call__(self, cpu: Cpu, pfn: Pfn) -> None: ...


class AllocPdClone(Protocol):
    """Directory ``pfn`` copies ``count`` kernel entries of ``clonepfn`` from ``start``."""

    def __call__(self, cpu: Cpu, pfn: Pfn, clonepfn: Pfn, start: int, count: int) -> None: ...


class ReleasePt(Protocol):
    """Frame ``pfn`` stops being a page table (or directory)."""

    def __call__(self, cpu: Cpu, pfn: Pfn) -> None: ...


class SetPte(Protocol):
    """Write ``pte`` into the page-table entry at ``ptep``."""

    def __call__(self, cpu: Cpu, ptep: VirtAddr, pte: Pte) -> None: ...


class SetPteAt(Protocol):
    """Write ``pte`` at ``ptep``, the entry mapping ``addr`` in address space ``mm``."""

    def __call__(
        self, cpu: Cpu, mm: VirtAddr, addr: VirtAddr, ptep: VirtAddr, pte: Pte
    ) -> None: ...


class SetPmd(Protocol):
    """Write ``pmd`` into the page-directory entry at ``pmdp``."""

    def __call__(self, cpu: Cpu, pmdp: VirtAddr, pmd: Pde) -> None: ...


class PteUpdate(Protocol):
    """The entry at ``ptep`` mapping ``addr`` in ``mm`` was changed behind the ops' back."""

    def __call__(self, cpu: Cpu, mm: VirtAddr, addr: VirtAddr, ptep: VirtAddr) -> None: ...


class PteVal(Protocol):
    """The raw value of a PTE (a translation hook: machine to physical under Xen)."""

    def __call__(self, cpu: Cpu, pte: Pte) -> int: ...


class MakePte(Protocol):
    """A PTE from a raw value (physical to machine under Xen)."""

    def __call__(self, cpu: Cpu, value: int) -> Pte: ...


class PgdVal(Protocol):
    """The raw value of a page-directory entry."""

    def __call__(self, cpu: Cpu, pgd: Pde) -> int: ...


class MakePgd(Protocol):
    """A page-directory entry from a raw value."""

    def __call__(self, cpu: Cpu, value: int) -> Pde: ...


class ActivateMm(Protocol):
    """Address space ``next_mm`` replaces ``prev_mm`` on this CPU."""

    def __call__(self, cpu: Cpu, prev_mm: VirtAddr, next_mm: VirtAddr) -> None: ...


class DupMmap(Protocol):
    """Address space ``new_mm`` was copied from ``old_mm`` (fork)."""

    def __call__(self, cpu: Cpu, old_mm: VirtAddr, new_mm: VirtAddr) -> None: ...


class ExitMmap(Protocol):
    """Address space ``mm`` is being torn down."""

    def __call__(self, cpu: Cpu, mm: VirtAddr) -> None: ...


# --- lock ---------------------------------------------------------------


class SpinQuery(Protocol):
    """Whether the spinlock at ``lock`` is held (or contended)."""

    def __call__(self, cpu: Cpu, lock: VirtAddr) -> bool: ...


class SpinLock(Protocol):
    """Acquire the spinlock at ``lock``."""

    def __call__(self, cpu: Cpu, lock: VirtAddr) -> None: ...


class SpinLockFlags(Protocol):
    """Acquire the spinlock at ``lock``; ``flags`` says if irqs may be on while spinning."""

    def __call__(self, cpu: Cpu, lock: VirtAddr, flags: IrqFlags) -> None: ...


class SpinTrylock(Protocol):
    """Try once to acquire the spinlock at ``lock``; True if taken."""

    def __call__(self, cpu: Cpu, lock: VirtAddr) -> bool: ...


class SpinUnlock(Protocol):
    """Release the spinlock at ``lock``."""

    def __call__(self, cpu: Cpu, lock: VirtAddr) -> None: ...
