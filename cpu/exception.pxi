# Exceptions and interrupts: delivery through the IDT, escalation to double
# and triple fault, int n/int3/into, iret.
#
# Gate (SDM vol. 3, 6.11): lo = offset[15:0] | selector << 16;
# hi = offset[31:16] << 16 | P << 15 | DPL << 13 | type << 8, with type 0xE
# (32-bit interrupt gate: clears IF) or 0xF (trap gate).  Task gates and
# 16-bit gates are not modeled (#GP).  On a privilege change the new SS:ESP
# comes from the 32-bit TSS (esp0/ss0 at +4/+8, esp1/ss1 at +12/+16,
# esp2/ss2 at +20/+24) and the old SS:ESP is pushed first.

cdef enum:
    EV_EXC = 0      # CPU exception (error code for 8, 10-14, 17)
    EV_SOFT = 1     # int n / int3 / into: gate DPL checked against CPL
    EV_EXT = 2      # external interrupt
    EV_SOFT_EXC = 3 # int3 / into, for the intercepts (delivered as EV_SOFT)


cdef inline bint has_error_code(int vec) noexcept nogil:
    return vec == 8 or (10 <= vec <= 14) or vec == 17


cdef inline bint contributory(int vec) noexcept nogil:
    return vec == 0 or (10 <= vec <= 13)


cdef int deliver(CpuState *s, int vec, int code, int kind, int ext) noexcept nogil:
    # Pushes the frame with s.eip as the return address and enters the
    # handler, or returns the fault that prevented it (nothing committed).
    cdef uint32_t lo, hi, clo, chi, slo, shi, acc, dpl, new_cpl, sel, off
    cdef uint32_t nesp = 0, nss = 0, sp, ssbase, fl, k
    cdef uint32_t frame[7]
    cdef int n = 0, st, user
    cdef uint32_t gate_code = <uint32_t>vec * 8 + 2 + <uint32_t>ext
    if <uint32_t>vec * 8 + 7 > s.idt_limit:
        return fault(s, 13, gate_code)
    st = sys_read(s, s.idt_base + <uint32_t>vec * 8, 4, &lo)
    if st == 0:
        st = sys_read(s, s.idt_base + <uint32_t>vec * 8 + 4, 4, &hi)
    if st:
        return st
    if ((hi >> 8) & 0x1E) != 0xE:
        return fault(s, 13, gate_code)
    if kind == EV_SOFT and desc_dpl(hi) < s.cpl:
        return fault(s, 13, gate_code)
    if not (hi & 0x8000):
        return fault(s, 11, gate_code)
    sel = lo >> 16
    off = (lo & 0xFFFF) | (hi & 0xFFFF0000U)
    if (sel & 0xFFFC) == 0:
        return fault(s, 13, ext)
    st = read_desc(s, sel, &clo, &chi, 13)
    if st:
        return st
    acc = (chi >> 8) & 0xFF
    dpl = desc_dpl(chi)
    if (acc & 0x18) != 0x18 or dpl > s.cpl:
        return fault(s, 13, (sel & 0xFFFC) | <uint32_t>ext)
    if not (acc & 0x80):
        return fault(s, 11, (sel & 0xFFFC) | <uint32_t>ext)
    new_cpl = s.cpl if (acc & 0x4) else dpl
    fl = read_eflags(s)
    if new_cpl < s.cpl:
        if not s.tr.valid or s.tr.limit < 8 * new_cpl + 9:
            return fault(s, 10, (s.tr.sel & 0xFFFC) | <uint32_t>ext)
        st = sys_read(s, s.tr.base + 4 + 8 * new_cpl, 4, &nesp)
        if st == 0:
            st = sys_read(s, s.tr.base + 8 + 8 * new_cpl, 2, &nss)
        if st:
            return st
        if (nss & 0xFFFC) == 0:
            return fault(s, 10, <uint32_t>ext)
        if (nss & 3) != new_cpl:
            return fault(s, 10, (nss & 0xFFFC) | <uint32_t>ext)
        st = read_desc(s, nss, &slo, &shi, 10)
        if st:
            return st
        if ((shi >> 8) & 0x1A) != 0x12 or desc_dpl(shi) != new_cpl:
            return fault(s, 10, (nss & 0xFFFC) | <uint32_t>ext)
        if not (shi & 0x8000):
            return fault(s, 12, (nss & 0xFFFC) | <uint32_t>ext)
        frame[n] = s.seg[SS].sel
        n += 1
        frame[n] = s.regs[4]
        n += 1
        sp = nesp
        ssbase = (slo >> 16) | ((shi & 0xFF) << 16) | (shi & 0xFF000000U)
    else:
        sp = s.regs[4]
        ssbase = s.seg[SS].base
    frame[n] = fl
    frame[n + 1] = s.seg[CS].sel
    frame[n + 2] = s.eip
    n += 3
    if kind == EV_EXC and has_error_code(vec):
        frame[n] = <uint32_t>code
        n += 1
    user = new_cpl == 3
    for k in range(n):
        st = lin_write(s, ssbase + sp - 4 * (k + 1), 4, user, frame[k])
        if st:
            return st
    # Committed from here on.
    if new_cpl < s.cpl:
        desc_to_seg(&s.seg[SS], nss & 0xFFFF, slo, shi)
    s.regs[4] = sp - 4 * <uint32_t>n
    load_cs(s, sel, clo, chi, new_cpl)
    s.eflags = fl & ~(<uint32_t>(F_TF | F_NT | F_RF | F_VM))
    if ((hi >> 8) & 0x1F) == 0xE:
        s.eflags &= ~(<uint32_t>F_IF)
    s.lf_sb = 0
    s.eip = off
    return 0


cdef int raise_event(CpuState *s, int vec, int code, int kind) noexcept nogil:
    # Delivers, escalating nested faults to #DF and then to a triple fault.
    # Returns 0, or S_TRIPLE.
    cdef int tries = 0, b, st, ext = kind == EV_EXT
    s.watch_on = 0
    while tries < 6:
        s.c_exc[vec & 0xFF] += 1
        s.last_vec = vec
        s.last_code = code if (kind == EV_EXC and has_error_code(vec)) else -1
        s.last_eip = s.eip
        st = deliver(s, vec, code, kind, ext)
        if st == 0:
            s.watch_on = 1
            return 0
        if st != S_FAULT:
            break
        b = s.exc_vec
        if vec == 8 and kind == EV_EXC:
            break
        if kind == EV_EXC and ((contributory(vec) and contributory(b))
                               or (vec == 14 and (contributory(b) or b == 14))):
            vec = 8
            code = 0
        else:
            # A fault raised by int n itself (DPL, not present...) points at
            # the int instruction; one raised by an external event carries EXT.
            if kind == EV_SOFT:
                s.eip = s.cur_eip
            vec = b
            code = s.exc_code
        kind = EV_EXC
        ext = 1
        tries += 1
    s.watch_on = 1
    return S_TRIPLE


# int n, int3 and into return S_SOFTINT with the vector in exc_vec and, in
# exc_code, 1 for the two that are software *exceptions* (int3, into: the
# exception intercepts see them, as VT-x's exception bitmap does) and 0 for
# int n (a software interrupt).

cdef int INT_Ib(CpuState *s, Insn *i) noexcept nogil:
    if sensitive(s, SK_INT):
        return S_INTERCEPT
    s.exc_vec = i.imm
    s.exc_code = i.op       # 1 for int3
    if s.int_hooked[i.imm >> 3] & (1 << (i.imm & 7)):
        return S_INT_HOOK
    return S_SOFTINT

cdef int INTO(CpuState *s, Insn *i) noexcept nogil:
    if sensitive(s, SK_INT):
        return S_INTERCEPT
    if get_of(s):
        s.exc_vec = 4
        s.exc_code = 1
        return S_SOFTINT
    return 0


cdef int IRET(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t n = 4 if i.osz == 2 else 2
    cdef uint32_t sp = s.regs[4]
    cdef uint32_t off, sel, fl, lo, hi, nesp, nss, slo, shi, rpl, mask, old_cpl
    cdef int st = sensitive(s, SK_IRET)
    if st:
        return st
    if s.eflags & F_NT:
        return fault(s, 13, 0)      # task return: not modeled
    st = rdv(s, i.osz, SS, sp, &off)
    if st == 0:
        st = rdv(s, i.osz, SS, sp + n, &sel)
    if st == 0:
        st = rdv(s, i.osz, SS, sp + 2 * n, &fl)
    if st:
        return st
    sel &= 0xFFFF
    rpl = sel & 3
    if i.osz != 2:
        fl = (read_eflags(s) & 0xFFFF0000U) | fl
    if (fl & F_VM) and s.cpl == 0:
        return fault(s, 13, 0)      # virtual-8086 mode: not modeled
    if rpl < s.cpl:
        return fault(s, 13, sel & 0xFFFC)
    st = check_code_seg(s, sel, &lo, &hi, rpl, 1)
    if st:
        return st
    old_cpl = s.cpl
    mask = popf_mask(s) | F_RF
    if rpl == s.cpl:
        load_cs(s, sel, lo, hi, rpl)
        s.regs[4] = sp + 3 * n
    else:
        st = rdv(s, i.osz, SS, sp + 3 * n, &nesp)
        if st == 0:
            st = rdv(s, i.osz, SS, sp + 4 * n, &nss)
        if st:
            return st
        st = check_outer_ss(s, nss & 0xFFFF, rpl, &slo, &shi)
        if st:
            return st
        load_cs(s, sel, lo, hi, rpl)
        desc_to_seg(&s.seg[SS], nss & 0xFFFF, slo, shi)
        s.regs[4] = nesp
        null_outer_segs(s)
    s.eip = off
    if i.osz != 2:
        mask &= 0xFFFF
    materialize(s)
    load_eflags(s, fl, mask)
    return S_BREAK
