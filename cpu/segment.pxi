# Segmentation: descriptor fetch, segment register loads with their
# protection checks, far jmp/call/ret, and the CPL (which selects the TLB).
#
# Descriptor (SDM vol. 3, 3.4.5): lo = limit[15:0] | base[15:0] << 16;
# hi = base[23:16] | access << 8 | limit[19:16] << 16 | flags << 20 | base[31:24] << 24.
# access = P DPL(2) S type(4): code if type & 8 (C=4 conforming, R=2),
# data otherwise (E=4 expand-down, W=2).  Call gates and task switches are
# not modeled: far transfers through them raise #GP(selector).

cdef inline uint32_t desc_dpl(uint32_t hi) noexcept nogil:
    return (hi >> 13) & 3


cdef int read_desc(CpuState *s, uint32_t sel, uint32_t *lo, uint32_t *hi, int vec) noexcept nogil:
    cdef uint32_t idx = sel & 0xFFF8
    cdef uint32_t base, limit
    cdef int st
    if sel & 4:
        if not s.ldtr.valid:
            return fault(s, vec, sel & 0xFFFC)
        base = s.ldtr.base
        limit = s.ldtr.limit
    else:
        base = s.gdt_base
        limit = s.gdt_limit
    if idx + 7 > limit:
        return fault(s, vec, sel & 0xFFFC)
    st = sys_read(s, base + idx, 4, lo)
    if st == 0:
        st = sys_read(s, base + idx + 4, 4, hi)
    return st


cdef void set_accessed(CpuState *s, uint32_t sel, uint32_t hi) noexcept nogil:
    cdef uint32_t base = s.ldtr.base if (sel & 4) else s.gdt_base
    if not (hi & 0x100):
        sys_write(s, base + (sel & 0xFFF8) + 4, 4, hi | 0x100)


cdef void seg_update_fast(Seg *g) noexcept nogil:
    cdef bint full = g.valid and g.limit == 0xFFFFFFFFU
    cdef bint code = (g.access & 0x8) != 0
    cdef bint expdown = not code and (g.access & 0x4) != 0
    g.rfast = full and not expdown and (not code or (g.access & 0x2) != 0)
    g.wfast = full and not code and not expdown and (g.access & 0x2) != 0


cdef void desc_to_seg(Seg *g, uint32_t sel, uint32_t lo, uint32_t hi) noexcept nogil:
    cdef uint32_t limit = (lo & 0xFFFF) | (hi & 0xF0000)
    if hi & 0x800000:
        limit = (limit << 12) | 0xFFF
    g.sel = <uint16_t>sel
    g.base = (lo >> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF000000U)
    g.limit = limit
    g.access = <uint8_t>((hi >> 8) & 0xFF)
    g.flags = <uint8_t>((hi >> 20) & 0xF)
    g.valid = 1
    seg_update_fast(g)


cdef void set_cpl(CpuState *s, uint32_t cpl) noexcept nogil:
    s.cpl = cpl
    s.tlb = &s.tlb_user[0] if cpl == 3 else &s.tlb_sup[0]
    s.fetch_lin = TLB_INVALID


cdef int load_seg(CpuState *s, int seg, uint32_t sel) noexcept nogil:
    # mov/pop/lds to DS ES FS GS SS (not CS).
    cdef uint32_t lo, hi, dpl, acc
    cdef uint32_t rpl = sel & 3
    cdef int st
    sel &= 0xFFFF
    if (sel & 0xFFFC) == 0:
        if seg == SS:
            return fault(s, 13, 0)
        s.seg[seg].sel = <uint16_t>sel
        s.seg[seg].valid = 0
        s.seg[seg].rfast = 0
        s.seg[seg].wfast = 0
        return 0
    st = read_desc(s, sel, &lo, &hi, 13)
    if st:
        return st
    acc = (hi >> 8) & 0xFF
    dpl = desc_dpl(hi)
    if seg == SS:
        if rpl != s.cpl or (acc & 0x1A) != 0x12 or dpl != s.cpl:
            return fault(s, 13, sel & 0xFFFC)
        if not (acc & 0x80):
            return fault(s, 12, sel & 0xFFFC)
    else:
        if not (acc & 0x10) or (acc & 0xA) == 0x8:
            return fault(s, 13, sel & 0xFFFC)
        # Data and non-conforming code: DPL >= max(CPL, RPL).
        if (acc & 0xC) != 0xC and (dpl < s.cpl or dpl < rpl):
            return fault(s, 13, sel & 0xFFFC)
        if not (acc & 0x80):
            return fault(s, 11, sel & 0xFFFC)
    set_accessed(s, sel, hi)
    desc_to_seg(&s.seg[seg], sel, lo, hi | 0x100)
    return 0


cdef void null_outer_segs(CpuState *s) noexcept nogil:
    # After a return to an outer ring, data segments it may not use are nulled.
    cdef int k
    cdef Seg *g
    for k in range(6):
        if k == CS or k == SS:
            continue
        g = &s.seg[k]
        if g.valid and ((g.access & 0xC) != 0xC) and ((g.access >> 5) & 3) < s.cpl:
            g.sel = 0
            g.valid = 0
            g.rfast = 0
            g.wfast = 0


cdef int check_code_seg(CpuState *s, uint32_t sel, uint32_t *lo, uint32_t *hi, uint32_t rpl_ref, bint ret) noexcept nogil:
    # Target of a far jmp/call (ret=0: DPL vs CPL) or ret/iret (ret=1: vs RPL).
    cdef uint32_t acc, dpl
    cdef int st
    if (sel & 0xFFFC) == 0:
        return fault(s, 13, 0)
    st = read_desc(s, sel, lo, hi, 13)
    if st:
        return st
    acc = (hi[0] >> 8) & 0xFF
    dpl = desc_dpl(hi[0])
    if (acc & 0x18) != 0x18:
        return fault(s, 13, sel & 0xFFFC)
    if acc & 0x4:
        if dpl > rpl_ref:
            return fault(s, 13, sel & 0xFFFC)
    elif ret:
        if dpl != rpl_ref:
            return fault(s, 13, sel & 0xFFFC)
    elif dpl != s.cpl or (sel & 3) > s.cpl:
        return fault(s, 13, sel & 0xFFFC)
    if not (acc & 0x80):
        return fault(s, 11, sel & 0xFFFC)
    return 0


cdef inline void cs_size_changed(CpuState *s, uint8_t old_flags) noexcept nogil:
    # Decoded instructions depend on the default operand size (CS.D).
    if (old_flags ^ s.seg[CS].flags) & 0x4:
        dc_flush(s)


cdef void load_cs(CpuState *s, uint32_t sel, uint32_t lo, uint32_t hi, uint32_t cpl) noexcept nogil:
    cdef uint8_t old_flags = s.seg[CS].flags
    desc_to_seg(&s.seg[CS], (sel & 0xFFFC) | cpl, lo, hi)
    cs_size_changed(s, old_flags)
    set_cpl(s, cpl)


cdef int far_jump(CpuState *s, uint32_t sel, uint32_t off, bint call, int osz) noexcept nogil:
    cdef uint32_t lo, hi, n = 4 if osz == 2 else 2
    cdef int st = check_code_seg(s, sel, &lo, &hi, s.cpl, 0)
    cdef Seg tmp
    if st:
        return st
    desc_to_seg(&tmp, sel, lo, hi)
    if off > tmp.limit:
        return fault(s, 13, 0)
    if call:
        st = wrv(s, osz, SS, s.regs[4] - n, s.seg[CS].sel)
        if st == 0:
            st = wrv(s, osz, SS, s.regs[4] - 2 * n, s.eip)
        if st:
            return st
        s.regs[4] -= 2 * n
    set_accessed(s, sel, hi)
    load_cs(s, sel, lo, hi, s.cpl)
    s.eip = off
    return S_BREAK


cdef int JMPF_Ap(CpuState *s, Insn *i) noexcept nogil:
    return far_jump(s, i.imm2, i.imm, 0, i.osz)

cdef int CALLF_Ap(CpuState *s, Insn *i) noexcept nogil:
    return far_jump(s, i.imm2, i.imm, 1, i.osz)


cdef inline int read_farptr(CpuState *s, Insn *i, uint32_t *off, uint32_t *sel) noexcept nogil:
    cdef uint32_t addr = ea(s, i)
    cdef int st = rdv(s, i.osz, i.seg, addr, off)
    if st == 0:
        st = rd16(s, i.seg, addr + (4 if i.osz == 2 else 2), sel)
    return st

cdef int JMPF_Ep(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t off, sel
    cdef int st = read_farptr(s, i, &off, &sel)
    if st:
        return st
    return far_jump(s, sel, off, 0, i.osz)

cdef int CALLF_Ep(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t off, sel
    cdef int st = read_farptr(s, i, &off, &sel)
    if st:
        return st
    return far_jump(s, sel, off, 1, i.osz)

cdef int LFP_GvMp(CpuState *s, Insn *i) noexcept nogil:
    # lds/les/lss/lfs/lgs: the segment load may fault before GPR is written.
    cdef uint32_t off, sel
    cdef int st = read_farptr(s, i, &off, &sel)
    if st:
        return st
    st = load_seg(s, i.op, sel)
    if st:
        return st
    setr(s, i.osz, i.reg, off)
    if i.op == SS:
        s.inhibit_end = s.icount + 2
        return S_BREAK
    return 0


cdef int RETF(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t n = 4 if i.osz == 2 else 2
    cdef uint32_t sp = s.regs[4]
    cdef uint32_t off, sel, lo, hi, nesp, nss, slo, shi, rpl
    cdef int st = rdv(s, i.osz, SS, sp, &off)
    if st == 0:
        st = rdv(s, i.osz, SS, sp + n, &sel)
    if st:
        return st
    sel &= 0xFFFF
    rpl = sel & 3
    if rpl < s.cpl:
        return fault(s, 13, sel & 0xFFFC)
    st = check_code_seg(s, sel, &lo, &hi, rpl, 1)
    if st:
        return st
    if rpl == s.cpl:
        load_cs(s, sel, lo, hi, rpl)
        s.eip = off
        s.regs[4] = sp + 2 * n + i.imm
        return S_BREAK
    st = rdv(s, i.osz, SS, sp + 2 * n + i.imm, &nesp)
    if st == 0:
        st = rdv(s, i.osz, SS, sp + 3 * n + i.imm, &nss)
    if st:
        return st
    st = check_outer_ss(s, nss & 0xFFFF, rpl, &slo, &shi)
    if st:
        return st
    load_cs(s, sel, lo, hi, rpl)
    desc_to_seg(&s.seg[SS], nss & 0xFFFF, slo, shi)
    s.eip = off
    s.regs[4] = nesp + i.imm
    null_outer_segs(s)
    return S_BREAK


cdef int check_outer_ss(CpuState *s, uint32_t sel, uint32_t rpl, uint32_t *lo, uint32_t *hi) noexcept nogil:
    cdef int st
    if (sel & 0xFFFC) == 0:
        return fault(s, 13, 0)
    if (sel & 3) != rpl:
        return fault(s, 13, sel & 0xFFFC)
    st = read_desc(s, sel, lo, hi, 13)
    if st:
        return st
    if ((hi[0] >> 8) & 0x1A) != 0x12 or desc_dpl(hi[0]) != rpl:
        return fault(s, 13, sel & 0xFFFC)
    if not (hi[0] & 0x8000):
        return fault(s, 12, sel & 0xFFFC)
    return 0


cdef int MOV_SwEwM(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v
    cdef int st = rd16(s, i.seg, ea(s, i), &v)
    if st:
        return st
    return mov_to_seg(s, i.reg, v)

cdef int MOV_SwEwR(CpuState *s, Insn *i) noexcept nogil:
    return mov_to_seg(s, i.reg, s.regs[i.rm] & 0xFFFF)

cdef inline int mov_to_seg(CpuState *s, int seg, uint32_t v) noexcept nogil:
    cdef int st = load_seg(s, seg, v)
    if st:
        return st
    if seg == SS:
        # mov ss blocks interrupts for one instruction (the esp load after it).
        s.inhibit_end = s.icount + 2
        return S_BREAK
    return 0

cdef int MOV_EwSwM(CpuState *s, Insn *i) noexcept nogil:
    return wr16(s, i.seg, ea(s, i), s.seg[i.reg].sel)

cdef int MOV_EwSwR(CpuState *s, Insn *i) noexcept nogil:
    setr(s, i.osz, i.rm, s.seg[i.reg].sel)
    return 0

cdef int PUSH_Sw(CpuState *s, Insn *i) noexcept nogil:
    return pushv(s, i.osz, s.seg[i.reg].sel)

cdef int POP_Sw(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v
    cdef int st = rdv(s, i.osz, SS, s.regs[4], &v)
    if st:
        return st
    st = load_seg(s, i.reg, v & 0xFFFF)
    if st:
        return st
    s.regs[4] += 4 if i.osz == 2 else 2
    if i.reg == SS:
        s.inhibit_end = s.icount + 2
        return S_BREAK
    return 0
