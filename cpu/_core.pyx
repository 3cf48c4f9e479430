# cython: language_level=3
"""The pvops i386 interpreter core (see cpu/README.md for the architecture).

One compilation unit: this file holds the Machine class (the Python API and
the outer run loop) and includes the instruction families, so every call
between them is a plain C call.
"""

cimport cython
from libc.stdlib cimport calloc, free
from libc.string cimport memcpy, memset

import enum

from pvops.hw import GuestFault

include "flags.pxi"
include "tlb.pxi"
include "paging.pxi"
include "decode.pxi"
include "opcodes.pxi"
include "arith.pxi"
include "logical.pxi"
include "shift.pxi"
include "mult.pxi"
include "data_xfer.pxi"
include "stack.pxi"
include "ctrl_xfer.pxi"
include "string.pxi"
include "bit.pxi"
include "segment.pxi"
include "exception.pxi"
include "system.pxi"
include "io.pxi"
include "gates.pxi"


class StopReason(enum.IntEnum):
    """Why Machine.run() returned."""

    HALT = 0           # hlt with nothing that can wake it (IF=0, or no interrupt source)
    BUDGET = 1         # max_instructions used up
    TRIPLE_FAULT = 2   # a fault while delivering a double fault; see Machine.dump()
    STOPPED = 3        # a hook or slot called Machine.stop()
    HOST_ERROR = 4     # a Python slot or hook raised; the exception is Machine.host_error


cdef tuple REG_NAMES = ("eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi")
cdef tuple SEG_NAMES = ("es", "cs", "ss", "ds", "fs", "gs")


cdef class CompiledSlot:
    """Base of gate slots written in Cython: the core calls ``call`` in C."""

    cdef int call(self, Machine m) noexcept:
        return SLOT_OK


cdef class SetEaxSlot(CompiledSlot):
    """A compiled slot that loads a constant into EAX (tests, benchmarks)."""

    cdef readonly uint32_t value

    def __init__(self, value: int = 0) -> None:
        self.value = value & 0xFFFFFFFFU

    cdef int call(self, Machine m) noexcept:
        m.s.regs[0] = self.value
        return SLOT_OK


cdef class FaultSlot(CompiledSlot):
    """A compiled slot that raises an exception in the guest."""

    cdef readonly int vector
    cdef readonly int error_code

    def __init__(self, vector: int, error_code: int = 0) -> None:
        self.vector = vector
        self.error_code = error_code

    cdef int call(self, Machine m) noexcept:
        return slot_fault(m.s, self.vector, self.error_code)


cdef struct Context:
    # What CpuContext holds: the CPU of one guest, without memory, gates,
    # hooks, counters, the timer or the TSC (those belong to the machine).
    uint32_t regs[8]
    uint32_t eip, eflags
    uint32_t cr0, cr2, cr3, cr4
    uint32_t dr[8]
    Seg seg[6]
    Seg ldtr, tr
    uint32_t gdt_base, gdt_limit, idt_base, idt_limit
    uint32_t cpl
    uint32_t irq[8]         # pending external interrupts
    uint64_t inhibit        # instructions left in an sti / mov ss shadow
    uint64_t msr_sysenter_cs, msr_sysenter_esp, msr_sysenter_eip
    int halted


@cython.final
cdef class CpuContext:
    """The state of one CPU, from Machine.save_context(), for Machine.load_context().

    Registers, EIP/EFLAGS, segment registers with their hidden caches,
    CR0-4, GDTR/IDTR/LDTR/TR, debug registers, the sysenter MSRs, pending
    external interrupts, the interrupt shadow and the halted state.
    Picklable (within one build of the core).
    """

    cdef Context c

    @property
    def eip(self): return self.c.eip
    @property
    def cr3(self): return self.c.cr3
    @property
    def cpl(self): return self.c.cpl

    def __reduce__(self):
        return (_context_from_bytes, ((<char *>&self.c)[:sizeof(Context)],))

    def __repr__(self):
        return f"<CpuContext eip={self.c.eip:#010x} cpl={self.c.cpl} cr3={self.c.cr3:#x}>"


def _context_from_bytes(bytes data):
    cdef CpuContext ctx = CpuContext.__new__(CpuContext)
    if len(data) != sizeof(Context):
        raise ValueError("not a CpuContext of this build of the core")
    memcpy(&ctx.c, <char *>data, sizeof(Context))
    return ctx


cdef inline uint32_t u32(object v):
    return <uint32_t>(int(v) & 0xFFFFFFFFU)


cdef class Machine:
    """One i386 CPU with ``memory_size`` bytes of guest-physical RAM.

    Starts in the Multiboot hand-off state: protected mode, flat 4 GiB
    segments at CPL 0, paging off, EFLAGS = 0x2, EIP = 0.
    """

    # Attributes are declared in _core.pxd.

    def __cinit__(self, unsigned int memory_size=16 << 20):
        cdef CpuState *s
        cdef int k
        if memory_size == 0 or memory_size > 0xFFFFF000U:
            raise ValueError("memory_size must be between 1 and 0xFFFFF000U")
        s = <CpuState *>calloc(1, sizeof(CpuState))
        if s == NULL:
            raise MemoryError("cannot allocate the CPU state")
        self.s = s
        s.mem = <uint8_t *>calloc(memory_size, 1)
        s.npages = (memory_size + 0xFFF) >> 12
        s.page_flags = <uint8_t *>calloc(s.npages, 1)
        s.dcache = <Insn *>calloc(DC_SIZE, sizeof(Insn))
        if s.mem == NULL or s.page_flags == NULL or s.dcache == NULL:
            raise MemoryError("cannot allocate guest memory")
        s.mem_size = memory_size
        self.memory_size = memory_size
        dc_flush(s)
        s.regs[8] = 0
        s.eflags = F_FIXED
        s.cr0 = CR0_PE | CR0_ET
        s.watch_on = 1
        s.timer_next = 0xFFFFFFFFFFFFFFFFULL
        for k in range(6):
            flat_segment(&s.seg[k], 0x10 if k != CS else 0x08, k == CS)
        # Multiboot leaves GDTR/IDTR undefined: an empty IDT makes an
        # unprepared guest's first exception a triple fault.
        s.gdt_limit = 0
        s.idt_limit = 0
        s.ldtr.valid = 0
        s.tr.valid = 0
        s.last_vec = -1
        set_cpl(s, 0)
        tlb_flush(s, 1)
        s.c_tlb_flush = 0
        self._tables = []
        self._port_hooks = {}
        self._int_hooks = {}
        self._watch_hooks = {}
        self._gp_hook = None
        self._hlt_hook = None
        self._intercepts = [None] * len(INTERCEPT_KINDS)
        self._exc_intercepts = {}
        self._loads = 0
        self.host_error = None

    def __dealloc__(self):
        cdef int k
        if self.s != NULL:
            for k in range(self.s.ngates):
                free(self.s.gates[k].slots)
                free(self.s.gates[k].compiled)
                free(self.s.gates[k].count)
            free(self.s.mem)
            free(self.s.page_flags)
            free(self.s.dcache)
            free(self.s)
            self.s = NULL

    # --- memory -------------------------------------------------------------

    def write(self, addr, data):
        """Write guest-physical memory (drops decoded code it overwrites)."""
        cdef const unsigned char[:] view = bytes(data)
        cdef uint64_t a = addr, n = view.shape[0]
        if addr < 0 or a + n > self.s.mem_size:
            raise ValueError(f"write of {n} bytes at {addr:#x} is outside guest memory")
        if n:
            memcpy(self.s.mem + a, &view[0], n)
            dc_invalidate_range(self.s, <uint32_t>a, <uint32_t>n)

    def read(self, addr, n):
        """Read ``n`` bytes of guest-physical memory."""
        if addr < 0 or n < 0 or addr + n > self.s.mem_size:
            raise ValueError(f"read of {n} bytes at {addr:#x} is outside guest memory")
        return bytes((<char *>self.s.mem)[addr:addr + n])

    def read_virt(self, addr, n):
        """Read through the page tables with supervisor rights (GuestFault #PF)."""
        cdef uint32_t v
        cdef int k, st
        out = bytearray(n)
        for k in range(n):
            st = lin_read(self.s, <uint32_t>((addr + k) & 0xFFFFFFFFU), 1, 0, &v)
            if st:
                self._raise_pending()
            out[k] = v
        return bytes(out)

    def write_virt(self, addr, data):
        """Write through the page tables with supervisor rights (GuestFault #PF)."""
        cdef bytes b = bytes(data)
        cdef int k, st
        cdef uint32_t pa
        # Translate every page first so a fault leaves memory unchanged.
        for k in range(len(b)):
            st = xlate(self.s, <uint32_t>((addr + k) & 0xFFFFFFFFU), 1, 0, &pa)
            if st:
                self._raise_pending()
        for k in range(len(b)):
            sys_write(self.s, <uint32_t>((addr + k) & 0xFFFFFFFFU), 1, b[k])

    cdef _raise_pending(self):
        raise GuestFault(self.s.exc_vec,
                         self.s.exc_code if has_error_code(self.s.exc_vec) else None)

    # --- registers ------------------------------------------------------------

    @property
    def eax(self): return self.s.regs[0]
    @eax.setter
    def eax(self, v): self.s.regs[0] = u32(v)
    @property
    def ecx(self): return self.s.regs[1]
    @ecx.setter
    def ecx(self, v): self.s.regs[1] = u32(v)
    @property
    def edx(self): return self.s.regs[2]
    @edx.setter
    def edx(self, v): self.s.regs[2] = u32(v)
    @property
    def ebx(self): return self.s.regs[3]
    @ebx.setter
    def ebx(self, v): self.s.regs[3] = u32(v)
    @property
    def esp(self): return self.s.regs[4]
    @esp.setter
    def esp(self, v): self.s.regs[4] = u32(v)
    @property
    def ebp(self): return self.s.regs[5]
    @ebp.setter
    def ebp(self, v): self.s.regs[5] = u32(v)
    @property
    def esi(self): return self.s.regs[6]
    @esi.setter
    def esi(self, v): self.s.regs[6] = u32(v)
    @property
    def edi(self): return self.s.regs[7]
    @edi.setter
    def edi(self, v): self.s.regs[7] = u32(v)

    @property
    def eip(self): return self.s.eip
    @eip.setter
    def eip(self, v):
        self.s.eip = u32(v)
        self.s.halted = 0

    @property
    def eflags(self): return read_eflags(self.s)
    @eflags.setter
    def eflags(self, v):
        self.s.eflags = (u32(v) | F_FIXED) & ~(<uint32_t>0xFFC08028U)
        self.s.lf_sb = 0
        self.s.stop_at = 0

    # Control registers: each read or write counts as a mov to/from crN
    # (part of the pvops.hw.Cpu protocol, see "instructions" below).
    @property
    def cr0(self): return self._read_cr(0)
    @cr0.setter
    def cr0(self, v): self._write_cr(0, v)
    @property
    def cr2(self): return self._read_cr(2)
    @cr2.setter
    def cr2(self, v): self._write_cr(2, v)
    @property
    def cr3(self): return self._read_cr(3)
    @cr3.setter
    def cr3(self, v): self._write_cr(3, v)
    @property
    def cr4(self): return self._read_cr(4)
    @cr4.setter
    def cr4(self, v): self._write_cr(4, v)

    cdef uint32_t _read_cr(self, int n) noexcept:
        self.s.c_sens[SK_MOV_CR] += 1
        return self.s.cr0 if n == 0 else (self.s.cr2 if n == 2 else (self.s.cr3 if n == 3 else self.s.cr4))

    cdef _write_cr(self, int n, v):
        self.s.c_sens[SK_MOV_CR3 if n == 3 else SK_MOV_CR] += 1
        if write_cr(self.s, n, u32(v)) == S_FAULT:
            self._raise_pending()
        self.s.stop_at = 0

    @property
    def cpl(self): return self.s.cpl

    @property
    def instructions(self): return self.s.icount

    @property
    def halted(self): return bool(self.s.halted)

    # Debug registers.
    @property
    def dr0(self): return self.s.dr[0]
    @dr0.setter
    def dr0(self, v): self.s.dr[0] = u32(v)
    @property
    def dr1(self): return self.s.dr[1]
    @dr1.setter
    def dr1(self, v): self.s.dr[1] = u32(v)
    @property
    def dr2(self): return self.s.dr[2]
    @dr2.setter
    def dr2(self, v): self.s.dr[2] = u32(v)
    @property
    def dr3(self): return self.s.dr[3]
    @dr3.setter
    def dr3(self, v): self.s.dr[3] = u32(v)
    @property
    def dr6(self): return self.s.dr[6]
    @dr6.setter
    def dr6(self, v): self.s.dr[6] = u32(v)
    @property
    def dr7(self): return self.s.dr[7]
    @dr7.setter
    def dr7(self, v): self.s.dr[7] = u32(v)

    # Segments.
    @property
    def cs(self): return self.s.seg[CS].sel
    @property
    def ds(self): return self.s.seg[DS].sel
    @property
    def es(self): return self.s.seg[ES].sel
    @property
    def fs(self): return self.s.seg[FS].sel
    @property
    def gs(self): return self.s.seg[GS].sel
    @property
    def ss(self): return self.s.seg[SS].sel

    def get_segment(self, name):
        """The hidden cache of a segment register: (selector, base, limit, access, flags)."""
        cdef Seg *g = self._seg(name)
        if not g.valid:
            return (g.sel, 0, 0, 0, 0)
        return (g.sel, g.base, g.limit, g.access, g.flags)

    def set_segment(self, name, selector, base=None, limit=None, access=None, flags=None):
        """Load a segment register without privilege checks.

        With only ``selector`` the descriptor is read from the GDT/LDT (a
        missing one raises GuestFault); otherwise the hidden cache is set from
        ``base``/``limit`` (byte granular)/``access``/``flags`` (the 4-bit
        G D/B L AVL nibble).  Setting cs sets the CPL to the selector's RPL.
        """
        cdef Seg *g = self._seg(name)
        cdef uint32_t lo, hi, sel = selector & 0xFFFF
        cdef uint8_t old_cs_flags = self.s.seg[CS].flags
        if base is None and limit is None and access is None and flags is None:
            if name in ("tr", "ldtr") or (sel & 0xFFFC):
                if read_desc(self.s, sel, &lo, &hi, 13):
                    self._raise_pending()
                desc_to_seg(g, sel, lo, hi)
            else:
                g.sel = <uint16_t>sel
                g.valid = 0
                seg_update_fast(g)
        else:
            g.sel = <uint16_t>sel
            g.base = u32(base or 0)
            g.limit = u32(0xFFFFFFFFU if limit is None else limit)
            g.access = <uint8_t>((0x93 if name != "cs" else 0x9B) if access is None else access)
            g.flags = <uint8_t>(0xC if flags is None else flags)
            g.valid = 1
            seg_update_fast(g)
        if name == "cs":
            cs_size_changed(self.s, old_cs_flags)
            set_cpl(self.s, sel & 3)
        self.s.stop_at = 0

    cdef Seg *_seg(self, name) except NULL:
        if name == "tr":
            return &self.s.tr
        if name == "ldtr":
            return &self.s.ldtr
        try:
            return &self.s.seg[SEG_NAMES.index(name)]
        except ValueError:
            raise ValueError(f"no segment register {name!r}") from None

    @property
    def gdtr(self): return (self.s.gdt_base, self.s.gdt_limit)
    @property
    def idtr(self): return (self.s.idt_base, self.s.idt_limit)
    @property
    def tr(self): return self.s.tr.sel
    @property
    def ldtr(self): return self.s.ldtr.sel

    # --- the pvops.hw.Cpu protocol: instructions at the current CPL -------------
    #
    # Each counts as the sensitive instruction it stands for (counters()
    # ["sensitive"]), whether it succeeds or raises.  Intercepts are not
    # consulted: they stand for the exits of guest instructions.

    cdef _op(self, int kind, bint ok):
        # Counts one host op of `kind`; #GP(0) unless its privilege check passed.
        self.s.c_sens[kind] += 1
        if not ok:
            raise GuestFault(13, 0)

    def cli(self):
        self._op(SK_CLI, iopl_ok(self.s))
        self.s.eflags &= ~(<uint32_t>F_IF)

    def sti(self):
        self._op(SK_STI, iopl_ok(self.s))
        if not (self.s.eflags & F_IF):
            self.s.eflags |= F_IF
            self.s.inhibit_end = self.s.icount + 1
            self.s.stop_at = 0

    def popf(self, value):
        self._op(SK_POPF, True)
        materialize(self.s)
        load_eflags(self.s, u32(value), popf_mask(self.s))
        self.s.stop_at = 0

    def hlt(self):
        self._op(SK_HLT, self.s.cpl == 0)
        self.s.halted = 1
        self.s.stop_at = 0

    def iret(self):
        cdef Insn fake
        cdef int st
        memset(&fake, 0, sizeof(Insn))
        fake.osz = 2
        self._op(SK_IRET, True)
        self.s.replay = 1       # counted above; no intercept
        st = IRET(self.s, &fake)
        self.s.replay = 0
        if st == S_FAULT:
            self._raise_pending()
        self.s.stop_at = 0

    def invlpg(self, addr):
        self._op(SK_INVLPG, self.s.cpl == 0)
        tlb_flush_page(self.s, u32(addr))
        self.s.c_tlb_flush += 1

    def flush_tlb(self, *, include_global):
        # Counted as the instructions a native kernel flushes with: a cr3
        # reload (read, write), or a CR4.PGE toggle (read, two writes).
        if include_global and (self.s.cr4 & CR4_PGE):
            self.s.c_sens[SK_MOV_CR] += 3
        else:
            self.s.c_sens[SK_MOV_CR] += 1
            self.s.c_sens[SK_MOV_CR3] += 1
        tlb_flush(self.s, include_global)

    def cpuid(self, leaf, subleaf=0):
        cdef uint32_t r[4]
        self._op(SK_CPUID, True)
        cpuid_leaf(u32(leaf), r)
        return (r[0], r[1], r[2], r[3])

    def rdmsr(self, msr):
        cdef uint64_t v
        self._op(SK_MSR, self.s.cpl == 0)
        if msr_read(self.s, u32(msr), &v):
            self._raise_pending()
        return v

    def wrmsr(self, msr, value):
        self._op(SK_MSR, self.s.cpl == 0)
        if msr_write(self.s, u32(msr), <uint64_t>(value & 0xFFFFFFFFFFFFFFFFULL)):
            self._raise_pending()

    def rdtsc(self):
        self._op(SK_RDTSC, not (self.s.cr4 & CR4_TSD) or self.s.cpl == 0)
        return tsc(self.s)

    def rdpmc(self, counter):
        self._op(SK_RDPMC, self.s.cpl == 0 or (self.s.cr4 & 0x100))
        if counter not in (0, 1):
            raise GuestFault(13, 0)
        return (self.s.icount if counter == 0 else 0) & 0xFFFFFFFFFFULL

    def port_in(self, port, size):
        self._op(SK_PORT_IO, iopl_ok(self.s))
        hook = self._port_hooks.get(port & 0xFFFF)
        if hook is None:
            return (1 << (8 * size)) - 1
        self.s.c_hook_io += 1
        return int(hook(self, port & 0xFFFF, size, None)) & ((1 << (8 * size)) - 1)

    def port_out(self, port, size, value):
        self._op(SK_PORT_IO, iopl_ok(self.s))
        hook = self._port_hooks.get(port & 0xFFFF)
        if hook is not None:
            self.s.c_hook_io += 1
            hook(self, port & 0xFFFF, size, value & ((1 << (8 * size)) - 1))

    def get_debugreg(self, n):
        if not 0 <= n <= 7:
            raise ValueError("debug register number must be 0-7")
        self._op(SK_MOV_DR, self.s.cpl == 0)
        return self.s.dr[n]

    def set_debugreg(self, n, value):
        if not 0 <= n <= 7:
            raise ValueError("debug register number must be 0-7")
        self._op(SK_MOV_DR, self.s.cpl == 0)
        self.s.dr[n] = u32(value)

    def clts(self):
        self._op(SK_CLTS, self.s.cpl == 0)
        self.s.cr0 &= ~(<uint32_t>CR0_TS)

    def wbinvd(self):
        self._op(SK_WBINVD, self.s.cpl == 0)

    def lgdt(self, base, limit):
        self._op(SK_DESCRIPTOR, self.s.cpl == 0)
        self.s.gdt_base = u32(base)
        self.s.gdt_limit = limit & 0xFFFF

    def lidt(self, base, limit):
        self._op(SK_DESCRIPTOR, self.s.cpl == 0)
        self.s.idt_base = u32(base)
        self.s.idt_limit = limit & 0xFFFF

    def sgdt(self):
        self._op(SK_DESCRIPTOR, True)
        return (self.s.gdt_base, self.s.gdt_limit)

    def sidt(self):
        self._op(SK_DESCRIPTOR, True)
        return (self.s.idt_base, self.s.idt_limit)

    def ltr(self, selector):
        self._op(SK_DESCRIPTOR, self.s.cpl == 0)
        if do_ltr(self.s, selector & 0xFFFF):
            self._raise_pending()

    def str_(self):
        self._op(SK_DESCRIPTOR, True)
        return self.s.tr.sel

    def lldt(self, selector):
        self._op(SK_DESCRIPTOR, self.s.cpl == 0)
        if do_lldt(self.s, selector & 0xFFFF):
            self._raise_pending()

    # --- interrupts, timer, stop --------------------------------------------------

    def raise_irq(self, vector):
        """Make external interrupt ``vector`` pending (delivered when IF=1)."""
        if not 0 <= vector <= 255:
            raise ValueError("vector must be 0-255")
        self.s.irq[vector >> 5] |= 1u << (vector & 31)
        self.s.irq_any = 1
        self.s.stop_at = 0

    def set_timer(self, period, vector=0x20):
        """Raise ``vector`` every ``period`` retired instructions (0 disables)."""
        if period < 0 or not 0 <= vector <= 255:
            raise ValueError("bad timer period or vector")
        self.s.timer_period = period
        self.s.timer_vector = vector
        self.s.timer_next = (tsc(self.s) + period) if period else 0xFFFFFFFFFFFFFFFFULL
        self.s.stop_at = 0

    def stop(self):
        """Ask run() to return StopReason.STOPPED at the next instruction boundary."""
        self.s.stop_req = 1
        self.s.stop_at = 0

    # --- gates and hooks --------------------------------------------------------------

    def add_gate_table(self, base, slots):
        """Declare ``len(slots)`` gates of 32 bytes at physical ``base``; returns the table id."""
        cdef CpuState *s = self.s
        cdef GateTable *g
        cdef uint32_t n = len(slots), k
        if s.ngates >= MAX_GATE_TABLES:
            raise ValueError(f"at most {MAX_GATE_TABLES} gate tables")
        if n == 0 or base < 0 or base + n * GATE_STRIDE > s.mem_size:
            raise ValueError("gate table outside guest memory")
        g = &s.gates[s.ngates]
        g.slots = <void **>calloc(n, sizeof(void *))
        g.compiled = <uint8_t *>calloc(n, 1)
        g.count = <uint64_t *>calloc(n, sizeof(uint64_t))
        if g.slots == NULL or g.compiled == NULL or g.count == NULL:
            raise MemoryError()
        g.base = base
        g.nslots = n
        table = list(slots)
        self._tables.append(table)
        s.ngates += 1
        for k in range(n):
            self._install(s.ngates - 1, k, table[k])
        for k in range((base >> 12), ((base + n * GATE_STRIDE - 1) >> 12) + 1):
            s.page_flags[k] |= PG_GATE
        dc_invalidate_range(s, base, n * GATE_STRIDE)
        return s.ngates - 1

    def set_gate_slot(self, table, index, slot):
        """Replace one slot of a gate table (takes effect at the next call)."""
        if not 0 <= table < self.s.ngates or not 0 <= index < self.s.gates[table].nslots:
            raise IndexError("no such gate slot")
        self._install(table, index, slot)

    cdef _install(self, int table, uint32_t k, slot):
        if not callable(slot) and not isinstance(slot, CompiledSlot):
            raise TypeError(f"gate slot {k} is neither a CompiledSlot nor callable")
        self._tables[table][k] = slot
        self.s.gates[table].slots[k] = <void *>slot
        self.s.gates[table].compiled[k] = isinstance(slot, CompiledSlot)

    def gate_address(self, table, index):
        """Physical address of a slot."""
        return self.s.gates[table].base + index * GATE_STRIDE

    def set_int_hook(self, vector, hook):
        """Call ``hook(machine)`` instead of the IDT for ``int $vector`` (None removes)."""
        self._int_hooks[vector] = hook
        if hook is None:
            del self._int_hooks[vector]
            self.s.int_hooked[vector >> 3] &= ~(1 << (vector & 7))
        else:
            self.s.int_hooked[vector >> 3] |= 1 << (vector & 7)

    def set_gp_hook(self, hook):
        """``hook(machine, eip, length, kind) -> bool`` on #GP(0) of a privileged instruction at CPL > 0."""
        self._gp_hook = hook

    def set_port_hook(self, port, hook, count=1):
        """``hook(machine, port, size, value)`` for in (value None, returns the data) and out."""
        cdef int p
        for p in range(port, port + count):
            if hook is None:
                self._port_hooks.pop(p, None)
                self.s.port_hooked[p >> 3] &= ~(1 << (p & 7))
            else:
                self._port_hooks[p] = hook
                self.s.port_hooked[p >> 3] |= 1 << (p & 7)

    def watch_page(self, addr, hook):
        """``hook(machine, addr, size, value)`` before guest writes to the physical page of ``addr``.

        Returning False suppresses the write; raising GuestFault vetoes it
        with that fault.  None removes the watch.
        """
        cdef uint32_t page = addr >> 12
        if not 0 <= addr < self.s.mem_size:
            raise ValueError("watched page outside guest memory")
        if hook is None:
            self._watch_hooks.pop(page, None)
            self.s.page_flags[page] &= ~PG_WATCH
        else:
            self._watch_hooks[page] = hook
            self.s.page_flags[page] |= PG_WATCH
            tlb_drop_writes_to(self.s, page << 12)

    def set_hlt_hook(self, hook):
        """``hook(machine)`` when the guest executes hlt (before it sleeps)."""
        self._hlt_hook = hook

    # --- intercepts: the exits of a hardware-assisted hypervisor ----------------------

    def set_intercept(self, kind, hook):
        """``hook(machine, eip, length, kind) -> bool`` before each guest instruction of ``kind``.

        ``kind`` is one of counters()["sensitive"]'s, or ``mov_cr0`` /
        ``mov_cr4`` for writes to those registers only (taking precedence
        over ``mov_cr``).  The hook runs at any CPL once the instruction's
        privilege check has passed, before it has any effect; True: it was
        emulated (EIP moves past it unless the hook moved EIP), False: it
        executes natively.  A GuestFault from the hook is delivered at the
        instruction; any other exception stops the run with HOST_ERROR.
        None removes the intercept.
        """
        cdef int k
        try:
            k = INTERCEPT_KINDS.index(kind)
        except ValueError:
            raise ValueError(f"no intercept kind {kind!r}") from None
        self._intercepts[k] = hook
        self.s.icpt[k] = hook is not None

    def set_exception_intercept(self, vector, hook):
        """``hook(machine, vector, error_code) -> bool`` before exception ``vector`` is delivered.

        Sees the exceptions guest code raises (faults, the #GP of a
        privilege check once the gp hook declined it, and the software
        exceptions int3 and into), not int n, external interrupts, nor
        faults that hooks and slots inject (GuestFault, FaultSlot).  EIP is
        the return address the delivery would push; ``error_code`` is 0 for
        vectors without one.  True: the hook dealt with it and nothing is
        delivered; False: it is delivered through the IDT.  A GuestFault
        from the hook is delivered instead, at the instruction; any other
        exception stops the run with HOST_ERROR.  None removes.
        """
        if not 0 <= vector <= 255:
            raise ValueError("vector must be 0-255")
        if hook is None:
            self._exc_intercepts.pop(vector, None)
            self.s.exc_icpt[vector >> 3] &= ~(1 << (vector & 7))
        else:
            self._exc_intercepts[vector] = hook
            self.s.exc_icpt[vector >> 3] |= 1 << (vector & 7)

    # --- contexts: several guests on one CPU -------------------------------------------

    def save_context(self):
        """The CPU state of the running guest, as a CpuContext.

        Taken between runs or from a hook, it resumes where the guest would
        go on: after an int hook's int, at an intercepted instruction (which
        is offered again), at a gate whose slot is running (which runs again).
        """
        cdef CpuState *s = self.s
        cdef CpuContext ctx = CpuContext.__new__(CpuContext)
        cdef Context *c = &ctx.c
        memcpy(c.regs, s.regs, sizeof(c.regs))
        c.eip = s.eip
        c.eflags = read_eflags(s)
        c.cr0, c.cr2, c.cr3, c.cr4 = s.cr0, s.cr2, s.cr3, s.cr4
        memcpy(c.dr, s.dr, sizeof(c.dr))
        memcpy(c.seg, s.seg, sizeof(c.seg))
        c.ldtr = s.ldtr
        c.tr = s.tr
        c.gdt_base, c.gdt_limit, c.idt_base, c.idt_limit = (
            s.gdt_base, s.gdt_limit, s.idt_base, s.idt_limit)
        c.cpl = s.cpl
        memcpy(c.irq, s.irq, sizeof(c.irq))
        c.inhibit = s.inhibit_end - s.icount if s.inhibit_end > s.icount else 0
        c.msr_sysenter_cs = s.msr_sysenter_cs
        c.msr_sysenter_esp = s.msr_sysenter_esp
        c.msr_sysenter_eip = s.msr_sysenter_eip
        c.halted = s.halted
        return ctx

    def load_context(self, CpuContext ctx not None):
        """Make ``ctx`` the running guest's CPU state.

        Flushes the whole TLB (global entries too) and, if the default
        operand size of CS changes, the decoded-instruction cache.  Called
        from a hook or slot, the core then leaves the loaded state alone
        (no skip past the instruction, no return from the gate).
        """
        cdef CpuState *s = self.s
        cdef Context *c = &ctx.c
        cdef int k
        cdef uint8_t old_flags = s.seg[CS].flags
        memcpy(s.regs, c.regs, sizeof(c.regs))
        s.eip = c.eip
        s.eflags = c.eflags
        s.lf_sb = 0
        s.cr0, s.cr2, s.cr3, s.cr4 = c.cr0, c.cr2, c.cr3, c.cr4
        memcpy(s.dr, c.dr, sizeof(c.dr))
        memcpy(s.seg, c.seg, sizeof(c.seg))
        s.ldtr = c.ldtr
        s.tr = c.tr
        s.gdt_base, s.gdt_limit, s.idt_base, s.idt_limit = (
            c.gdt_base, c.gdt_limit, c.idt_base, c.idt_limit)
        memcpy(s.irq, c.irq, sizeof(c.irq))
        s.irq_any = 0
        for k in range(8):
            s.irq_any |= s.irq[k] != 0
        s.inhibit_end = s.icount + c.inhibit
        s.msr_sysenter_cs = c.msr_sysenter_cs
        s.msr_sysenter_esp = c.msr_sysenter_esp
        s.msr_sysenter_eip = c.msr_sysenter_eip
        s.halted = c.halted
        set_cpl(s, c.cpl)
        tlb_flush(s, 1)
        cs_size_changed(s, old_flags)
        self._watch_reset()
        s.stop_at = 0
        self._loads += 1

    # --- running ---------------------------------------------------------------------

    def run(self, max_instructions=1_000_000):
        """Execute until a stop condition; see StopReason."""
        if max_instructions < 0:
            raise ValueError("max_instructions must be >= 0")
        self.host_error = None
        self.s.stop_req = 0
        return StopReason(self._run(max_instructions))

    cdef int _run(self, uint64_t budget) except -1:
        cdef CpuState *s = self.s
        cdef int64_t end = <int64_t>(s.icount + budget)    # shrinks by non-retiring steps
        cdef uint64_t clock, stop
        cdef int st, vec
        while True:
            if s.stop_req:
                return 3
            clock = s.icount + s.idle
            if clock >= s.timer_next:
                pend_irq(s, s.timer_vector)
                s.timer_next += s.timer_period
                if s.timer_next <= clock:
                    s.timer_next = clock + s.timer_period
            if s.irq_any and (s.eflags & F_IF) and s.icount >= s.inhibit_end:
                if <int64_t>s.icount >= end:
                    return 1
                end -= 1
                vec = take_irq(s)
                s.halted = 0
                s.cur_eip = s.eip
                if raise_event(s, vec, 0, EV_EXT) == S_TRIPLE:
                    return 2
                continue
            if s.halted:
                if (s.eflags & F_IF) and s.timer_period:
                    s.idle += s.timer_next - clock
                    continue
                return 0
            if <int64_t>s.icount >= end:
                return 1
            stop = <uint64_t>end
            if s.timer_next - s.idle < stop:
                stop = s.timer_next - s.idle
            if s.irq_any and (s.eflags & F_IF) and s.inhibit_end < stop:
                stop = s.inhibit_end
            s.stop_at = stop
            st = inner_loop(s)
            if st == S_OK or st == S_BREAK:
                continue
            st = self._status(st)
            if st >= 0:
                return st
            end -= 1 if st == -2 else 0

    cdef int _status(self, int st) except -3:
        # A non-zero status of the instruction at cur_eip (s.cur_insn).
        # Returns a StopReason, -1 to go on, or -2 to go on after a
        # non-retiring step.
        cdef CpuState *s = self.s
        cdef Insn *i = s.cur_insn
        cdef int r
        cdef uint32_t v
        if s.watch_ok:
            s.watch_ok = 0
            s.watch_seq = 0
            s.watch_drop = 0
        if st == S_FAULT:
            s.eip = s.cur_eip
            r = self._exception(s.exc_vec, s.exc_code, EV_EXC)
            return -2 if r == -1 else r
        if st == S_REPEAT:
            return -2
        if st == S_INTERCEPT:
            return self._intercept()
        if st == S_SOFTINT:
            s.icount += 1
            return self._exception(s.exc_vec, 0, EV_SOFT if s.exc_code == 0 else EV_SOFT_EXC)
        if st == S_HALT:
            s.icount += 1
            s.halted = 1
            if self._hlt_hook is not None:
                s.c_hook_hlt += 1
                return self._call_hook(self._hlt_hook, (self,))
            return -1
        if st == S_GATE:
            return self._gate(s.exc_vec, s.exc_code)
        if st == S_INT_HOOK:
            s.icount += 1
            s.c_hook_int += 1
            return self._call_hook(self._int_hooks[s.exc_vec], (self,))
        if st == S_PRIV:
            s.eip = s.cur_eip
            if self._gp_hook is not None:
                s.c_hook_gp += 1
                try:
                    handled = self._gp_hook(self, s.cur_eip, i.len, GP_KINDS[s.gp_kind])
                except GuestFault as e:
                    return self._guest_fault(e)
                except BaseException as e:
                    self.host_error = e
                    return 4
                if handled:
                    if s.eip == s.cur_eip:
                        s.eip = s.cur_eip + i.len
                    s.icount += 1
                    return -1
            # A fault does not retire: an intercept that consumes it without
            # moving EIP still spends the budget.
            r = self._exception(13, 0, EV_EXC)
            return -2 if r == -1 else r
        if st == S_IO:
            s.c_hook_io += 1
            hook = self._port_hooks[s.io_port]
            try:
                res = hook(self, s.io_port, s.io_size, None if s.io_in else s.io_value)
                v = u32(res) if s.io_in else 0
            except GuestFault as e:
                return self._guest_fault(e)
            except BaseException as e:
                self.host_error = e
                return 4
            r = io_finish(s, i, v)
            if r == S_FAULT:
                s.eip = s.cur_eip
                return self._exception(s.exc_vec, s.exc_code, EV_EXC)
            if r == S_REPEAT:
                return -2
            s.icount += 1
            return -1
        if st == S_WATCH:
            return self._watch()
        if st == S_TRIPLE:
            return 2
        return -1

    cdef int _watch(self) except -3:
        # A write to a watched page (S_WATCH): the hook approves it, then the
        # instruction runs again with the writes approved so far; each
        # further watched write it makes goes through the hook the same way.
        cdef CpuState *s = self.s
        cdef int st = S_WATCH
        while st == S_WATCH:
            s.c_hook_watch += 1
            hook = self._watch_hooks[s.watch_addr >> 12]
            try:
                res = hook(self, s.watch_addr, s.watch_size, s.watch_value)
            except GuestFault as e:
                self._watch_reset()
                return self._guest_fault(e)
            except BaseException as e:
                self._watch_reset()
                self.host_error = e
                return 4
            if res is False:
                s.watch_drop |= 1u << s.watch_seq
            s.watch_ok = s.watch_seq + 1
            s.watch_seq = 0
            st = self._replay()
        self._watch_reset()
        if st == S_OK or st == S_BREAK:
            return -1
        return self._status(st)

    cdef void _watch_reset(self) noexcept:
        self.s.watch_ok = 0
        self.s.watch_seq = 0
        self.s.watch_drop = 0

    cdef int _replay(self) noexcept:
        # Runs the instruction at cur_eip once more, without counting it or
        # offering it to intercepts again; returns its status (retired if 0
        # or S_BREAK).
        cdef CpuState *s = self.s
        cdef int st
        s.eip = s.cur_eip
        s.stop_at = s.icount + 1
        s.replay = 1
        st = inner_loop(s)
        s.replay = 0
        s.stop_at = 0
        return st

    cdef int _intercept(self) except -3:
        # The instruction at cur_eip stopped before any effect for the
        # intercept of s.icpt_kind.
        cdef CpuState *s = self.s
        cdef Insn *i = s.cur_insn
        cdef int kind = s.icpt_kind, st
        cdef uint64_t loads = self._loads
        s.eip = s.cur_eip
        s.c_icpt[kind] += 1
        s.c_hook_icpt += 1
        try:
            handled = self._intercepts[kind](self, s.cur_eip, i.len, INTERCEPT_KINDS[kind])
        except GuestFault as e:
            return self._guest_fault(e)
        except BaseException as e:
            self.host_error = e
            return 4
        if self._loads != loads:
            # The hook switched contexts: leave the loaded one alone.  A
            # non-retiring step, so a hook that keeps switching still ends
            # in the budget.
            return -2
        if handled:
            if s.eip == s.cur_eip:
                s.eip = s.cur_eip + i.len
            s.icount += 1
            return -1
        # Native execution: run the decoded instruction past its intercept.
        # (The same entry: a hook that declines leaves EIP and the code alone.)
        s.eip = s.cur_eip + i.len
        s.replay = 1
        st = i.fn(s, i)
        s.replay = 0
        if st == S_OK or st == S_BREAK:
            s.icount += 1
            return -1
        return self._status(st)

    cdef int _exception(self, int vec, int code, int kind) except -3:
        # An exception raised by guest code (kind EV_EXC or EV_SOFT_EXC), or
        # int n (EV_SOFT): offered to its intercept, then delivered.
        cdef CpuState *s = self.s
        cdef uint64_t loads = self._loads
        if kind != EV_SOFT and (s.exc_icpt[vec >> 3] >> (vec & 7)) & 1:
            s.c_icpt_exc[vec] += 1
            s.c_hook_icpt += 1
            try:
                handled = self._exc_intercepts[vec](
                    self, vec, code if (kind == EV_EXC and has_error_code(vec)) else 0)
            except GuestFault as e:
                return self._guest_fault(e)
            except BaseException as e:
                self.host_error = e
                return 4
            if handled or self._loads != loads:
                return -1
        return self._event(vec, code, EV_SOFT if kind == EV_SOFT_EXC else kind)

    cdef int _event(self, int vec, int code, int kind) except -3:
        if raise_event(self.s, vec, code, kind) == S_TRIPLE:
            return 2
        return -1

    cdef int _guest_fault(self, e) except -3:
        # A GuestFault from a slot or hook: delivered at the instruction.
        self.s.eip = self.s.cur_eip
        vec = getattr(e, "vector", 13)
        code = getattr(e, "error_code", None)
        return self._event(int(vec) & 0xFF, int(code or 0) & 0xFFFFFFFFU, EV_EXC)

    cdef int _call_hook(self, hook, tuple args) except -3:
        try:
            hook(*args)
        except GuestFault as e:
            return self._guest_fault(e)
        except BaseException as e:
            self.host_error = e
            return 4
        if self.s.stop_req:
            return 3
        return -1

    cdef int _gate(self, int table, int k) except -3:
        cdef CpuState *s = self.s
        cdef GateTable *g = &s.gates[table]
        cdef uint32_t at = s.cur_eip, ret
        cdef uint64_t loads = self._loads
        cdef int r
        s.eip = at
        g.count[k] += 1
        if g.compiled[k]:
            r = (<CompiledSlot>g.slots[k]).call(self)
            if r == SLOT_FAULT:
                s.eip = at
                return self._event(s.exc_vec, s.exc_code, EV_EXC)
        else:
            try:
                (<object>g.slots[k])(self)
            except GuestFault as e:
                return self._guest_fault(e)
            except BaseException as e:
                self.host_error = e
                return 4
            r = SLOT_OK
        if s.eip == at and self._loads == loads:
            if pop32(s, &ret):
                s.eip = at
                return self._exception(s.exc_vec, s.exc_code, EV_EXC)
            s.regs[4] += 4
            s.eip = ret
        s.icount += 1
        if r == SLOT_STOP or s.stop_req:
            return 3
        return -1

    # --- reports -------------------------------------------------------------------------

    def counters(self):
        """Event counters kept in C since the machine was created."""
        cdef CpuState *s = self.s
        cdef int k, j
        gates = {}
        for k in range(s.ngates):
            for j in range(s.gates[k].nslots):
                if s.gates[k].count[j]:
                    gates[(k, j)] = s.gates[k].count[j]
        return {
            "instructions": s.icount,
            "gate_dispatches": gates,
            "hook_calls": {"int": s.c_hook_int, "gp": s.c_hook_gp, "io": s.c_hook_io,
                           "watch": s.c_hook_watch, "hlt": s.c_hook_hlt,
                           "intercept": s.c_hook_icpt},
            "exceptions": {k: s.c_exc[k] for k in range(256) if s.c_exc[k]},
            "sensitive": {SENSITIVE_KINDS[k]: s.c_sens[k] for k in range(SK_COUNTED)},
            "intercepts": {INTERCEPT_KINDS[k]: s.c_icpt[k] for k in range(SK_KINDS)},
            "exception_intercepts": {k: s.c_icpt_exc[k] for k in range(256) if s.c_icpt_exc[k]},
            "tlb_flushes": s.c_tlb_flush,
            "tlb_misses": s.c_tlb_miss,
            "page_walks": s.c_walk,
            "decoded": s.c_dc_decode,
            "decoded_invalidations": s.c_dc_inval,
        }

    def dump(self):
        """A readable state dump: registers, segments, control registers, last exception."""
        cdef CpuState *s = self.s
        cdef int k
        lines = []
        regs = [f"{REG_NAMES[k]}={s.regs[k]:08x}" for k in range(8)]
        lines.append(" ".join(regs[:4]))
        lines.append(" ".join(regs[4:]))
        fl = read_eflags(s)
        names = [n for b, n in ((0, "CF"), (2, "PF"), (4, "AF"), (6, "ZF"), (7, "SF"), (8, "TF"),
                                (9, "IF"), (10, "DF"), (11, "OF"), (14, "NT")) if fl >> b & 1]
        lines.append(f"eip={s.eip:08x} eflags={fl:08x} [{' '.join(names)}] iopl={fl >> 12 & 3} "
                     f"cpl={s.cpl}")
        for k in range(6):
            g = &s.seg[k]
            lines.append(f"{SEG_NAMES[k]}={g.sel:04x} base={g.base:08x} limit={g.limit:08x} "
                         f"access={g.access:02x} flags={g.flags:x}{'' if g.valid else ' (null)'}")
        lines.append(f"tr={s.tr.sel:04x} base={s.tr.base:08x} limit={s.tr.limit:08x}  "
                     f"ldtr={s.ldtr.sel:04x} base={s.ldtr.base:08x} limit={s.ldtr.limit:08x}")
        lines.append(f"gdtr={s.gdt_base:08x}/{s.gdt_limit:04x} idtr={s.idt_base:08x}/{s.idt_limit:04x}")
        lines.append(f"cr0={s.cr0:08x} cr2={s.cr2:08x} cr3={s.cr3:08x} cr4={s.cr4:08x}")
        if s.last_vec >= 0:
            code = "" if s.last_code < 0 else f" error code {s.last_code:#x}"
            lines.append(f"last exception: vector {s.last_vec}{code} at eip={s.last_eip:08x}")
        lines.append(f"instructions={s.icount} halted={bool(s.halted)}")
        return "\n".join(lines)

    def __repr__(self):
        return f"<Machine {self.memory_size >> 10} KiB eip={self.s.eip:#010x} cpl={self.s.cpl}>"


cdef void flat_segment(Seg *g, uint16_t sel, bint code) noexcept nogil:
    g.sel = sel
    g.base = 0
    g.limit = 0xFFFFFFFFU
    g.access = 0x9B if code else 0x93
    g.flags = 0xC
    g.valid = 1
    seg_update_fast(g)


cdef inline void pend_irq(CpuState *s, int vec) noexcept nogil:
    s.irq[vec >> 5] |= 1u << (vec & 31)
    s.irq_any = 1


cdef int take_irq(CpuState *s) noexcept nogil:
    # Highest vector first (the local APIC's priority order).
    cdef int w, b
    for w in range(7, -1, -1):
        if s.irq[w]:
            b = 31
            while not ((s.irq[w] >> b) & 1):
                b -= 1
            s.irq[w] &= ~(1u << b)
            s.irq_any = (s.irq[0] | s.irq[1] | s.irq[2] | s.irq[3] | s.irq[4] | s.irq[5]
                         | s.irq[6] | s.irq[7]) != 0
            return w * 32 + b
    s.irq_any = 0
    return 0
