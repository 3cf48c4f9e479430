"""The hardware interface that native ops act on.

Linux's ``native_*`` functions are one privileged instruction each:
``native_irq_disable`` is ``cli``, ``native_write_cr3`` is ``mov %eax,%cr3``.
pvops runs those defaults on the host, so they need something that behaves
like the CPU they would have run on.  :class:`Cpu` is that something: the
interpreter core (:class:`pvops.cpu.Machine`) implements it, and so does the
small fake CPU the registry's unit tests use.

Each method is named after the instruction whose architectural effect it
has, and has that effect *at the current privilege level*: :meth:`Cpu.popf`
at CPL 1 with IOPL 0 leaves IF alone without faulting, exactly as the real
``popf`` does (the hole that made x86 hard to virtualize), and :meth:`Cpu.cli`
at CPL > IOPL raises :class:`GuestFault` with #GP(0).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pvops.types import PhysAddr, Port, VirtAddr

# EFLAGS bits (Intel SDM vol. 1, 3.4.3).
EFLAGS_CF = 1 << 0
EFLAGS_FIXED = 1 << 1  # bit 1 always reads as 1
EFLAGS_PF = 1 << 2
EFLAGS_AF = 1 << 4
EFLAGS_ZF = 1 << 6
EFLAGS_SF = 1 << 7
EFLAGS_TF = 1 << 8
EFLAGS_IF = 1 << 9
EFLAGS_DF = 1 << 10
EFLAGS_OF = 1 << 11
EFLAGS_IOPL_SHIFT = 12
EFLAGS_IOPL = 3 << EFLAGS_IOPL_SHIFT
EFLAGS_NT = 1 << 14

# Control register bits (Intel SDM vol. 3, 2.5).
CR0_PE = 1 << 0
CR0_MP = 1 << 1
CR0_TS = 1 << 3
CR0_WP = 1 << 16
CR0_PG = 1 << 31
CR4_PSE = 1 << 4
CR4_PGE = 1 << 7

# Exception vectors (Intel SDM vol. 3, 6.3.1).
VECTOR_DE = 0
VECTOR_DB = 1
VECTOR_BP = 3
VECTOR_UD = 6
VECTOR_NM = 7
VECTOR_DF = 8
VECTOR_TS = 10
VECTOR_NP = 11
VECTOR_SS = 12
VECTOR_GP = 13
VECTOR_PF = 14


class GuestDeadlock(Exception):  # noqa: N818 - names the guest's state
    """The guest can never make progress (e.g. it spins on a lock it holds).

    Real hardware would spin forever; the core stops the run instead and the
    crash report carries this message.
    """


class GuestFault(Exception):  # noqa: N818 - it is a fault, not an error of the host
    """An architectural exception to deliver to the guest.

    Raised by an op (native or not) when the instruction it stands for would
    fault; the core catches it at the gate and delivers ``vector`` through
    the guest's IDT, with ``error_code`` when the vector has one.
    """

    def __init__(self, vector: int, error_code: int | None = None) -> None:
        self.vector = vector
        self.error_code = error_code
        code = "" if error_code is None else f"({error_code:#x})"
        super().__init__(f"guest fault: vector {vector}{code}")


@runtime_checkable
class Cpu(Protocol):
    """What a native op may touch: one i386 CPU and the memory behind it."""

    # General registers, EIP and EFLAGS, read and written as unsigned 32-bit ints.
    eax: int
    ebx: int
    ecx: int
    edx: int
    esi: int
    edi: int
    ebp: int
    esp: int
    eip: int
    eflags: int

    # Control registers.  Writing cr3 flushes the non-global TLB entries;
    # writing cr0.PG/WP or cr4.PSE/PGE flushes the whole TLB.
    cr0: int
    cr2: int
    cr3: int
    cr4: int

    @property
    def cpl(self) -> int:
        """Current privilege level (the RPL of CS)."""
        ...

    # Memory.
    def read(self, addr: PhysAddr, n: int) -> bytes:
        """Read ``n`` bytes of guest physical memory."""
        ...

    def write(self, addr: PhysAddr, data: bytes) -> None:
        """Write guest physical memory (invalidating decoded code there)."""
        ...

    def read_virt(self, addr: VirtAddr, n: int) -> bytes:
        """Read through the current page tables with supervisor rights.

        Raises :class:`GuestFault` (#PF, with cr2 set) when a page is absent.
        """
        ...

    def write_virt(self, addr: VirtAddr, data: bytes) -> None:
        """Write through the current page tables with supervisor rights."""
        ...

    # Instructions with an effect beyond registers and memory.
    def cli(self) -> None:
        """Clear IF; #GP(0) when CPL > IOPL."""
        ...

    def sti(self) -> None:
        """Set IF; #GP(0) when CPL > IOPL."""
        ...

    def popf(self, value: int) -> None:
        """Load EFLAGS as ``popf`` would at the current CPL and IOPL."""
        ...

    def hlt(self) -> None:
        """Halt until the next interrupt; #GP(0) when CPL > 0."""
        ...

    def iret(self) -> None:
        """Return from an interrupt: pop EIP, CS, EFLAGS (and ESP, SS on a
        privilege change) from the stack, as ``iret`` at the current CPL."""
        ...

    def invlpg(self, addr: VirtAddr) -> None:
        """Drop the TLB entry for one page."""
        ...

    def flush_tlb(self, *, include_global: bool) -> None:
        """Drop every non-global TLB entry, and global ones too if asked."""
        ...

    def cpuid(self, leaf: int, subleaf: int) -> tuple[int, int, int, int]:
        """Return (eax, ebx, ecx, edx) for a cpuid leaf."""
        ...

    def rdmsr(self, msr: int) -> int:
        """Read a 64-bit MSR; #GP(0) for an unknown one."""
        ...

    def wrmsr(self, msr: int, value: int) -> None:
        """Write a 64-bit MSR; #GP(0) for an unknown one."""
        ...

    def rdtsc(self) -> int:
        """The 64-bit time-stamp counter."""
        ...

    def rdpmc(self, counter: int) -> int:
        """A performance-monitoring counter (40 bits on the modeled CPU)."""
        ...

    def port_in(self, port: Port, size: int) -> int:
        """``in`` of ``size`` bytes (1, 2 or 4)."""
        ...

    def port_out(self, port: Port, size: int, value: int) -> None:
        """``out`` of ``size`` bytes (1, 2 or 4)."""
        ...

    def get_debugreg(self, n: int) -> int:
        """Read DR0-DR7."""
        ...

    def set_debugreg(self, n: int, value: int) -> None:
        """Write DR0-DR7."""
        ...

    def clts(self) -> None:
        """Clear CR0.TS."""
        ...

    def wbinvd(self) -> None:
        """Write back and invalidate caches (counted; no cache is modeled)."""
        ...

    # Descriptor-table registers.
    def lgdt(self, base: VirtAddr, limit: int) -> None:
        """Load GDTR."""
        ...

    def lidt(self, base: VirtAddr, limit: int) -> None:
        """Load IDTR."""
        ...

    def sgdt(self) -> tuple[VirtAddr, int]:
        """Store GDTR as (base, limit)."""
        ...

    def sidt(self) -> tuple[VirtAddr, int]:
        """Store IDTR as (base, limit)."""
        ...

    def ltr(self, selector: int) -> None:
        """Load the task register (marks the TSS descriptor busy)."""
        ...

    def str_(self) -> int:
        """Store the task register's selector."""
        ...

    def lldt(self, selector: int) -> None:
        """Load the LDT register (selector 0 leaves no LDT)."""
        ...
