# System instructions: flags control, cli/sti/hlt, control and debug
# registers, descriptor-table registers, invlpg, cpuid, rdtsc, MSRs.
#
# A privileged instruction at CPL > 0 (or an IOPL-sensitive one at
# CPL > IOPL) returns S_PRIV with s.gp_kind set instead of a plain #GP(0):
# the run loop offers it to the trap-and-emulate hook first.
#
# Sensitive instructions (the SK_* kinds of state.pxd, here and in io.pxi,
# stack.pxi, exception.pxi) are counted once per execution, at the start of
# their handler: one that retires, one that faults (its privilege check, or
# an operand) and one an intercept takes all count once; ins/outs count per
# element.  The replay of an instruction (its native run after an intercept
# declined it, its re-run after a watched write was approved) is not counted
# again.  After the privilege check and before any effect, the handler calls
# sensitive(): with an intercept set for the kind it returns S_INTERCEPT and
# the run loop calls the hook (VT-x style: at any CPL, before the
# instruction).  Without one it costs the increment and a byte test.

cdef enum:
    K_CLI = 0
    K_STI
    K_HLT
    K_IN
    K_OUT
    K_INS
    K_OUTS
    K_MOV_TO_CR
    K_MOV_FROM_CR
    K_MOV_DR
    K_LGDT
    K_LIDT
    K_LLDT
    K_LTR
    K_LMSW
    K_INVLPG
    K_CLTS
    K_WBINVD
    K_RDMSR
    K_WRMSR
    K_RDTSC
    K_RDPMC

GP_KINDS = ("cli", "sti", "hlt", "in", "out", "ins", "outs", "mov_to_cr", "mov_from_cr",
            "mov_dr", "lgdt", "lidt", "lldt", "ltr", "lmsw", "invlpg", "clts", "wbinvd",
            "rdmsr", "wrmsr", "rdtsc", "rdpmc")

# Names of the SK_* kinds, in enum order (counted kinds, then intercept-only ones).
SENSITIVE_KINDS = ("cli", "sti", "popf", "pushf", "mov_cr3", "mov_cr", "invlpg", "port_io",
                   "rdtsc", "hlt", "descriptor", "cpuid", "msr", "iret", "int", "clts",
                   "wbinvd", "mov_dr", "rdpmc")
INTERCEPT_KINDS = SENSITIVE_KINDS + ("mov_cr0", "mov_cr4")

cdef enum:
    MSR_TSC = 0x10
    MSR_SYSENTER_CS = 0x174
    MSR_SYSENTER_ESP = 0x175
    MSR_SYSENTER_EIP = 0x176


cdef inline int priv(CpuState *s, int kind, int sens) noexcept nogil:
    # The privilege check failed: counted as an execution of kind `sens`.
    s.c_sens[sens] += 1
    s.gp_kind = kind
    s.exc_vec = 13
    s.exc_code = 0
    return S_PRIV


cdef inline int sensitive_as(CpuState *s, int kind, int fine) noexcept nogil:
    # Counts an execution of `kind` and offers it to the intercept of `fine`
    # (a refinement of kind, or kind itself), else to that of `kind`.
    if s.replay:
        return 0
    s.c_sens[kind] += 1
    if unlikely(s.icpt[fine] | s.icpt[kind]):
        s.icpt_kind = fine if s.icpt[fine] else kind
        return S_INTERCEPT
    return 0


cdef inline int sensitive(CpuState *s, int kind) noexcept nogil:
    return sensitive_as(s, kind, kind)


cdef inline bint iopl_ok(CpuState *s) noexcept nogil:
    return s.cpl <= ((s.eflags >> 12) & 3)


cdef int FLAGOP(CpuState *s, Insn *i) noexcept nogil:
    # i.op is the low nibble of the opcode: F5 cmc, F8 clc, F9 stc, FC cld, FD std.
    materialize(s)
    if i.op == 5:
        s.eflags ^= F_CF
    elif i.op == 8:
        s.eflags &= ~(<uint32_t>F_CF)
    elif i.op == 9:
        s.eflags |= F_CF
    elif i.op == 12:
        s.eflags &= ~(<uint32_t>F_DF)
    else:
        s.eflags |= F_DF
    return 0


cdef int CLI(CpuState *s, Insn *i) noexcept nogil:
    if not iopl_ok(s):
        return priv(s, K_CLI, SK_CLI)
    if sensitive(s, SK_CLI):
        return S_INTERCEPT
    s.eflags &= ~(<uint32_t>F_IF)
    return 0


cdef int STI(CpuState *s, Insn *i) noexcept nogil:
    if not iopl_ok(s):
        return priv(s, K_STI, SK_STI)
    if sensitive(s, SK_STI):
        return S_INTERCEPT
    if s.eflags & F_IF:
        return 0
    s.eflags |= F_IF
    # Interrupts are recognised only after the next instruction.
    s.inhibit_end = s.icount + 2
    return S_BREAK


cdef int HLT(CpuState *s, Insn *i) noexcept nogil:
    if s.cpl != 0:
        return priv(s, K_HLT, SK_HLT)
    if sensitive(s, SK_HLT):
        return S_INTERCEPT
    return S_HALT


cdef int cpl0_only(CpuState *s, int kind, int sens) noexcept nogil:
    # The privilege check and sensitive() of a CPL 0 instruction.
    if s.cpl != 0:
        return priv(s, kind, sens)
    return sensitive(s, sens)


cdef int write_cr(CpuState *s, int n, uint32_t v) noexcept nogil:
    cdef uint32_t old
    if n == 0:
        if (v & CR0_PG) and not (v & CR0_PE):
            return fault(s, 13, 0)
        if not (v & CR0_PE):
            return fault(s, 13, 0)     # real mode is not modeled
        old = s.cr0
        s.cr0 = v | CR0_ET
        if (old ^ s.cr0) & (CR0_PG | CR0_WP | CR0_PE):
            tlb_flush(s, 1)
    elif n == 2:
        s.cr2 = v
    elif n == 3:
        s.cr3 = v
        tlb_flush(s, 0)
    elif n == 4:
        if v & ~(<uint32_t>0x1FF):
            return fault(s, 13, 0)
        old = s.cr4
        s.cr4 = v
        if (old ^ v) & (CR4_PSE | CR4_PGE):
            tlb_flush(s, 1)
    else:
        return fault(s, 6, 0)
    return S_BREAK


cdef inline int cr_kind(int op, int n) noexcept nogil:
    # The SK_* kind of mov to/from cr/dr (op as in MOV_CR_DR).
    if op & 1:
        return SK_MOV_DR
    return SK_MOV_CR3 if (op == 2 and n == 3) else SK_MOV_CR


cdef inline int cr_write_fine(int n) noexcept nogil:
    # The finer intercept kind of a write to control register n.
    return SK_MOV_CR0 if n == 0 else (SK_MOV_CR4 if n == 4 else (SK_MOV_CR3 if n == 3 else SK_MOV_CR))


cdef int MOV_CR_DR(CpuState *s, Insn *i) noexcept nogil:
    # i.op: 0 mov r,cr  1 mov r,dr  2 mov cr,r  3 mov dr,r; i.reg = cr/dr number.
    cdef int n = i.reg
    cdef int kind = cr_kind(i.op, n)
    if (i.op & 1) == 0 and n != 0 and n != 2 and n != 3 and n != 4:
        return fault(s, 6, 0)
    if s.cpl != 0:
        return priv(s, K_MOV_DR if (i.op & 1) else (K_MOV_TO_CR if i.op == 2 else K_MOV_FROM_CR),
                    kind)
    if sensitive_as(s, kind, cr_write_fine(n) if i.op == 2 else kind):
        return S_INTERCEPT
    if n == 4 and (i.op & 1):
        n = 6
    elif n == 5 and (i.op & 1):
        n = 7
    if i.op == 0:
        s.regs[i.rm] = s.cr0 if n == 0 else (s.cr2 if n == 2 else (s.cr3 if n == 3 else s.cr4))
    elif i.op == 1:
        s.regs[i.rm] = s.dr[n]
    elif i.op == 2:
        return write_cr(s, n, s.regs[i.rm])
    else:
        s.dr[n] = s.regs[i.rm]
    return 0


cdef int LGDT_LIDT_M(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t addr = ea(s, i), limit, base
    cdef int st = cpl0_only(s, K_LGDT if i.op == 2 else K_LIDT, SK_DESCRIPTOR)
    if st:
        return st
    st = rd16(s, i.seg, addr, &limit)
    if st == 0:
        st = rd32(s, i.seg, addr + 2, &base)
    if st:
        return st
    if i.osz != 2:
        base &= 0xFFFFFF
    if i.op == 2:
        s.gdt_base = base
        s.gdt_limit = limit
    else:
        s.idt_base = base
        s.idt_limit = limit
    return 0


cdef int SGDT_SIDT_M(CpuState *s, Insn *i) noexcept nogil:
    # Not privileged on i386: the other classic virtualization hole.
    cdef uint32_t addr = ea(s, i)
    cdef int st = sensitive(s, SK_DESCRIPTOR)
    if st:
        return st
    if i.op == 0:
        st = wr16(s, i.seg, addr, s.gdt_limit)
        if st == 0:
            st = wr32(s, i.seg, addr + 2, s.gdt_base)
    else:
        st = wr16(s, i.seg, addr, s.idt_limit)
        if st == 0:
            st = wr32(s, i.seg, addr + 2, s.idt_base)
    return st


cdef int do_lldt(CpuState *s, uint32_t sel) noexcept nogil:
    cdef uint32_t lo, hi
    cdef int st
    if (sel & 0xFFFC) == 0:
        s.ldtr.sel = <uint16_t>sel
        s.ldtr.valid = 0
        return 0
    if sel & 4:
        return fault(s, 13, sel & 0xFFFC)
    st = read_desc(s, sel, &lo, &hi, 13)
    if st:
        return st
    if ((hi >> 8) & 0x1F) != 0x2:
        return fault(s, 13, sel & 0xFFFC)
    if not (hi & 0x8000):
        return fault(s, 11, sel & 0xFFFC)
    desc_to_seg(&s.ldtr, sel, lo, hi)
    return 0


cdef int do_ltr(CpuState *s, uint32_t sel) noexcept nogil:
    cdef uint32_t lo, hi
    cdef int st
    if (sel & 0xFFFC) == 0:
        return fault(s, 13, 0)
    if sel & 4:
        return fault(s, 13, sel & 0xFFFC)
    st = read_desc(s, sel, &lo, &hi, 13)
    if st:
        return st
    if ((hi >> 8) & 0x1F) != 0x9:
        return fault(s, 13, sel & 0xFFFC)
    if not (hi & 0x8000):
        return fault(s, 11, sel & 0xFFFC)
    st = sys_write(s, s.gdt_base + (sel & 0xFFF8) + 4, 4, hi | 0x200)    # busy
    if st:
        return st
    desc_to_seg(&s.tr, sel, lo, hi | 0x200)
    return 0


cdef inline int ew_read(CpuState *s, Insn *i, bint mem, uint32_t *v) noexcept nogil:
    if mem:
        return rd16(s, i.seg, ea(s, i), v)
    v[0] = s.regs[i.rm] & 0xFFFF
    return 0

cdef int LLDT_EwM(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v
    cdef int st = cpl0_only(s, K_LLDT, SK_DESCRIPTOR)
    if st == 0:
        st = ew_read(s, i, 1, &v)
    return st if st else do_lldt(s, v)

cdef int LLDT_EwR(CpuState *s, Insn *i) noexcept nogil:
    cdef int st = cpl0_only(s, K_LLDT, SK_DESCRIPTOR)
    return st if st else do_lldt(s, s.regs[i.rm] & 0xFFFF)

cdef int LTR_EwM(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v
    cdef int st = cpl0_only(s, K_LTR, SK_DESCRIPTOR)
    if st == 0:
        st = ew_read(s, i, 1, &v)
    return st if st else do_ltr(s, v)

cdef int LTR_EwR(CpuState *s, Insn *i) noexcept nogil:
    cdef int st = cpl0_only(s, K_LTR, SK_DESCRIPTOR)
    return st if st else do_ltr(s, s.regs[i.rm] & 0xFFFF)

# sldt/str/smsw store a system register at any CPL (more virtualization holes).
cdef inline int store_ew(CpuState *s, Insn *i, bint mem, int kind, uint32_t v) noexcept nogil:
    cdef int st = sensitive(s, kind)
    if st:
        return st
    if mem:
        return wr16(s, i.seg, ea(s, i), v)
    setr(s, i.osz, i.rm, v)
    return 0

cdef int SLDT_EwM(CpuState *s, Insn *i) noexcept nogil:
    return store_ew(s, i, 1, SK_DESCRIPTOR, s.ldtr.sel)

cdef int SLDT_EwR(CpuState *s, Insn *i) noexcept nogil:
    return store_ew(s, i, 0, SK_DESCRIPTOR, s.ldtr.sel)

cdef int STR_EwM(CpuState *s, Insn *i) noexcept nogil:
    return store_ew(s, i, 1, SK_DESCRIPTOR, s.tr.sel)

cdef int STR_EwR(CpuState *s, Insn *i) noexcept nogil:
    return store_ew(s, i, 0, SK_DESCRIPTOR, s.tr.sel)

cdef int SMSW_EwM(CpuState *s, Insn *i) noexcept nogil:
    return store_ew(s, i, 1, SK_MOV_CR, s.cr0)

cdef int SMSW_EwR(CpuState *s, Insn *i) noexcept nogil:
    return store_ew(s, i, 0, SK_MOV_CR, s.cr0)

cdef inline int lmsw(CpuState *s, Insn *i, bint mem) noexcept nogil:
    # Loads PE MP EM TS; cannot clear PE.  A cr0 write for the intercepts.
    cdef uint32_t v
    cdef int st
    if s.cpl != 0:
        return priv(s, K_LMSW, SK_MOV_CR)
    st = sensitive_as(s, SK_MOV_CR, SK_MOV_CR0)
    if st == 0:
        st = ew_read(s, i, mem, &v)
    if st:
        return st
    return write_cr(s, 0, (s.cr0 & ~(<uint32_t>0xE)) | (v & 0xF) | (s.cr0 & 1))

cdef int LMSW_EwM(CpuState *s, Insn *i) noexcept nogil:
    return lmsw(s, i, 1)

cdef int LMSW_EwR(CpuState *s, Insn *i) noexcept nogil:
    return lmsw(s, i, 0)


cdef int INVLPG_M(CpuState *s, Insn *i) noexcept nogil:
    cdef int st = cpl0_only(s, K_INVLPG, SK_INVLPG)
    if st:
        return st
    tlb_flush_page(s, ea(s, i) + s.seg[i.seg].base)
    s.c_tlb_flush += 1
    return S_BREAK


cdef int CLTS(CpuState *s, Insn *i) noexcept nogil:
    cdef int st = cpl0_only(s, K_CLTS, SK_CLTS)
    if st:
        return st
    s.cr0 &= ~(<uint32_t>CR0_TS)
    return 0


cdef int WBINVD(CpuState *s, Insn *i) noexcept nogil:
    # No caches are modeled: the count is the effect.
    return cpl0_only(s, K_WBINVD, SK_WBINVD)


cdef void cpuid_leaf(uint32_t leaf, uint32_t *r) noexcept nogil:
    # A family-6 CPU without FPU, PAE, APIC or sysenter.
    r[0] = r[1] = r[2] = r[3] = 0
    if leaf == 0:
        r[0] = 1
        r[1] = 0x6F767650      # "Pvop"
        r[3] = 0x62614C73      # "sLab"
        r[2] = 0x36383669      # "i686"
    elif leaf == 1:
        r[0] = 0x610
        r[3] = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 8) | (1 << 13) | (1 << 15)


cdef int CPUID(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t r[4]
    if sensitive(s, SK_CPUID):
        return S_INTERCEPT
    cpuid_leaf(s.regs[0], r)
    s.regs[0] = r[0]
    s.regs[3] = r[1]
    s.regs[1] = r[2]
    s.regs[2] = r[3]
    return 0


cdef inline uint64_t tsc(CpuState *s) noexcept nogil:
    # Deterministic: one tick per retired instruction (plus skipped idle).
    return s.icount + s.idle


cdef int RDTSC(CpuState *s, Insn *i) noexcept nogil:
    cdef uint64_t t
    if (s.cr4 & CR4_TSD) and s.cpl != 0:
        return priv(s, K_RDTSC, SK_RDTSC)
    if sensitive(s, SK_RDTSC):
        return S_INTERCEPT
    t = tsc(s)
    s.regs[0] = <uint32_t>t
    s.regs[2] = <uint32_t>(t >> 32)
    return 0


cdef int RDPMC(CpuState *s, Insn *i) noexcept nogil:
    cdef uint64_t v
    if s.cpl != 0 and not (s.cr4 & 0x100):
        return priv(s, K_RDPMC, SK_RDPMC)
    if sensitive(s, SK_RDPMC):
        return S_INTERCEPT
    if s.regs[1] > 1:
        return fault(s, 13, 0)
    v = (s.icount if s.regs[1] == 0 else 0) & 0xFFFFFFFFFFULL
    s.regs[0] = <uint32_t>v
    s.regs[2] = <uint32_t>(v >> 32)
    return 0


cdef int msr_read(CpuState *s, uint32_t msr, uint64_t *v) noexcept nogil:
    if msr == MSR_TSC:
        v[0] = tsc(s)
    elif msr == MSR_SYSENTER_CS:
        v[0] = s.msr_sysenter_cs
    elif msr == MSR_SYSENTER_ESP:
        v[0] = s.msr_sysenter_esp
    elif msr == MSR_SYSENTER_EIP:
        v[0] = s.msr_sysenter_eip
    else:
        return fault(s, 13, 0)
    return 0


cdef int msr_write(CpuState *s, uint32_t msr, uint64_t v) noexcept nogil:
    if msr == MSR_TSC:
        s.idle = v - s.icount
    elif msr == MSR_SYSENTER_CS:
        s.msr_sysenter_cs = v & 0xFFFF
    elif msr == MSR_SYSENTER_ESP:
        s.msr_sysenter_esp = v & 0xFFFFFFFFU
    elif msr == MSR_SYSENTER_EIP:
        s.msr_sysenter_eip = v & 0xFFFFFFFFU
    else:
        return fault(s, 13, 0)
    return 0


cdef int RDMSR(CpuState *s, Insn *i) noexcept nogil:
    cdef uint64_t v
    cdef int st = cpl0_only(s, K_RDMSR, SK_MSR)
    if st:
        return st
    st = msr_read(s, s.regs[1], &v)
    if st:
        return st
    s.regs[0] = <uint32_t>v
    s.regs[2] = <uint32_t>(v >> 32)
    return 0


cdef int WRMSR(CpuState *s, Insn *i) noexcept nogil:
    cdef int st = cpl0_only(s, K_WRMSR, SK_MSR)
    if st:
        return st
    return msr_write(s, s.regs[1], s.regs[0] | (<uint64_t>s.regs[2] << 32))


cdef int UD(CpuState *s, Insn *i) noexcept nogil:
    return fault(s, 6, 0)


cdef int FPU_ESC(CpuState *s, Insn *i) noexcept nogil:
    # No x87: #NM when CR0.EM/TS ask the kernel to emulate or switch, else #UD.
    if s.cr0 & (CR0_EM | CR0_TS):
        return fault(s, 7, 0)
    return fault(s, 6, 0)


cdef int AAM_AAD(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t al = s.regs[0] & 0xFF, ah = (s.regs[0] >> 8) & 0xFF, r
    if i.op == 0:
        if i.imm == 0:
            return fault(s, 0, 0)
        ah = al // i.imm
        al = al % i.imm
    else:
        al = (al + ah * i.imm) & 0xFF
        ah = 0
    s.regs[0] = (s.regs[0] & 0xFFFF0000U) | (ah << 8) | al
    set_lazy(s, al, 0, 7)
    return 0
