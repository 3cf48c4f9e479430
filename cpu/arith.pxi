# Arithmetic: add/adc/sub/sbb/cmp, inc/dec/neg, cmpxchg/xadd, BCD adjusts.

cdef enum:
    OP_ADD = 0
    OP_OR = 1
    OP_ADC = 2
    OP_SBB = 3
    OP_AND = 4
    OP_SUB = 5
    OP_XOR = 6
    OP_CMP = 7


# Constant-foldable size helpers (SIZE_MASK[] is not, being an array).
cdef inline uint32_t smask(int sz) noexcept nogil:
    return 0xFFFFFFFFU if sz == 2 else (0xFFFF if sz == 1 else 0xFF)


cdef inline uint32_t ssb(int sz) noexcept nogil:
    return 31 if sz == 2 else (15 if sz == 1 else 7)


cdef struct LfSave:
    uint32_t res, cvec, sb


cdef inline void lf_save(CpuState *s, LfSave *k) noexcept nogil:
    # Memory forms set flags before their write; a faulting write must not
    # leave them changed.
    k.res = s.lf_res
    k.cvec = s.lf_cvec
    k.sb = s.lf_sb


cdef inline int lf_restore(CpuState *s, LfSave *k, int st) noexcept nogil:
    if st:
        s.lf_res = k.res
        s.lf_cvec = k.cvec
        s.lf_sb = k.sb
    return st


cdef inline uint32_t alu(CpuState *s, int op, int sz, uint32_t a, uint32_t b) noexcept nogil:
    cdef uint32_t m = smask(sz)
    cdef uint32_t r, c
    if op == OP_ADD:
        r = (a + b) & m
        set_lazy(s, r, (a & b) | ((a | b) & ~r), ssb(sz))
    elif op == OP_SUB or op == OP_CMP:
        r = (a - b) & m
        set_lazy(s, r, (~a & b) | ((~a | b) & r), ssb(sz))
    elif op == OP_AND:
        r = a & b
        set_lazy(s, r, 0, ssb(sz))
    elif op == OP_OR:
        r = a | b
        set_lazy(s, r, 0, ssb(sz))
    elif op == OP_XOR:
        r = a ^ b
        set_lazy(s, r, 0, ssb(sz))
    elif op == OP_ADC:
        c = get_cf(s)
        r = (a + b + c) & m
        set_lazy(s, r, (a & b) | ((a | b) & ~r), ssb(sz))
    else:
        c = get_cf(s)
        r = (a - b - c) & m
        set_lazy(s, r, (~a & b) | ((~a | b) & r), ssb(sz))
    return r


cdef inline int alu_EG(CpuState *s, Insn *i, bint mem, int sz, int op) noexcept nogil:
    cdef uint32_t a, r, addr
    cdef int st
    cdef LfSave k
    if mem:
        addr = ea(s, i)
        st = rdv(s, sz, i.seg, addr, &a)
        if unlikely(st):
            return st
        if op == OP_CMP:
            alu(s, op, sz, a, getr(s, sz, i.reg))
            return 0
        lf_save(s, &k)
        r = alu(s, op, sz, a, getr(s, sz, i.reg))
        return lf_restore(s, &k, wrv(s, sz, i.seg, addr, r))
    r = alu(s, op, sz, getr(s, sz, i.rm), getr(s, sz, i.reg))
    if op != OP_CMP:
        setr(s, sz, i.rm, r)
    return 0


cdef inline int alu_GE_M(CpuState *s, Insn *i, int sz, int op) noexcept nogil:
    cdef uint32_t b, r
    cdef int st = rdv(s, sz, i.seg, ea(s, i), &b)
    if unlikely(st):
        return st
    r = alu(s, op, sz, getr(s, sz, i.reg), b)
    if op != OP_CMP:
        setr(s, sz, i.reg, r)
    return 0


cdef inline int alu_EI(CpuState *s, Insn *i, bint mem, int sz, int op) noexcept nogil:
    cdef uint32_t a, r, addr
    cdef int st
    cdef LfSave k
    if mem:
        addr = ea(s, i)
        st = rdv(s, sz, i.seg, addr, &a)
        if unlikely(st):
            return st
        if op == OP_CMP:
            alu(s, op, sz, a, i.imm)
            return 0
        lf_save(s, &k)
        r = alu(s, op, sz, a, i.imm)
        return lf_restore(s, &k, wrv(s, sz, i.seg, addr, r))
    r = alu(s, op, sz, getr(s, sz, i.rm), i.imm)
    if op != OP_CMP:
        setr(s, sz, i.rm, r)
    return 0


# Any width, operation in i.op.
cdef int ALU_EvGvM(CpuState *s, Insn *i) noexcept nogil:
    return alu_EG(s, i, 1, i.osz, i.op)

cdef int ALU_EvGvR(CpuState *s, Insn *i) noexcept nogil:
    return alu_EG(s, i, 0, i.osz, i.op)

cdef int ALU_GvEvM(CpuState *s, Insn *i) noexcept nogil:
    return alu_GE_M(s, i, i.osz, i.op)

cdef int ALU_EvIvM(CpuState *s, Insn *i) noexcept nogil:
    return alu_EI(s, i, 1, i.osz, i.op)

cdef int ALU_EvIvR(CpuState *s, Insn *i) noexcept nogil:
    return alu_EI(s, i, 0, i.osz, i.op)


# 32-bit forms specialised per operation (the hot ones in gcc output).
cdef int ADD_EdGdM(CpuState *s, Insn *i) noexcept nogil:
    return alu_EG(s, i, 1, 2, OP_ADD)
cdef int ADD_EdGdR(CpuState *s, Insn *i) noexcept nogil:
    return alu_EG(s, i, 0, 2, OP_ADD)
cdef int ADD_GdEdM(CpuState *s, Insn *i) noexcept nogil:
    return alu_GE_M(s, i, 2, OP_ADD)
cdef int ADD_EdIdM(CpuState *s, Insn *i) noexcept nogil:
    return alu_EI(s, i, 1, 2, OP_ADD)
cdef int ADD_EdIdR(CpuState *s, Insn *i) noexcept nogil:
    return alu_EI(s, i, 0, 2, OP_ADD)

cdef int ADC_EdGdM(CpuState *s, Insn *i) noexcept nogil:
    return alu_EG(s, i, 1, 2, OP_ADC)
cdef int ADC_EdGdR(CpuState *s, Insn *i) noexcept nogil:
    return alu_EG(s, i, 0, 2, OP_ADC)
cdef int ADC_GdEdM(CpuState *s, Insn *i) noexcept nogil:
    return alu_GE_M(s, i, 2, OP_ADC)
cdef int ADC_EdIdM(CpuState *s, Insn *i) noexcept nogil:
    return alu_EI(s, i, 1, 2, OP_ADC)
cdef int ADC_EdIdR(CpuState *s, Insn *i) noexcept nogil:
    return alu_EI(s, i, 0, 2, OP_ADC)

cdef int SBB_EdGdM(CpuState *s, Insn *i) noexcept nogil:
    return alu_EG(s, i, 1, 2, OP_SBB)
cdef int SBB_EdGdR(CpuState *s, Insn *i) noexcept nogil:
    return alu_EG(s, i, 0, 2, OP_SBB)
cdef int SBB_GdEdM(CpuState *s, Insn *i) noexcept nogil:
    return alu_GE_M(s, i, 2, OP_SBB)
cdef int SBB_EdIdM(CpuState *s, Insn *i) noexcept nogil:
    return alu_EI(s, i, 1, 2, OP_SBB)
cdef int SBB_EdIdR(CpuState *s, Insn *i) noexcept nogil:
    return alu_EI(s, i, 0, 2, OP_SBB)

cdef int SUB_EdGdM(CpuState *s, Insn *i) noexcept nogil:
    return alu_EG(s, i, 1, 2, OP_SUB)
cdef int SUB_EdGdR(CpuState *s, Insn *i) noexcept nogil:
    return alu_EG(s, i, 0, 2, OP_SUB)
cdef int SUB_GdEdM(CpuState *s, Insn *i) noexcept nogil:
    return alu_GE_M(s, i, 2, OP_SUB)
cdef int SUB_EdIdM(CpuState *s, Insn *i) noexcept nogil:
    return alu_EI(s, i, 1, 2, OP_SUB)
cdef int SUB_EdIdR(CpuState *s, Insn *i) noexcept nogil:
    return alu_EI(s, i, 0, 2, OP_SUB)

cdef int CMP_EdGdM(CpuState *s, Insn *i) noexcept nogil:
    return alu_EG(s, i, 1, 2, OP_CMP)
cdef int CMP_EdGdR(CpuState *s, Insn *i) noexcept nogil:
    return alu_EG(s, i, 0, 2, OP_CMP)
cdef int CMP_GdEdM(CpuState *s, Insn *i) noexcept nogil:
    return alu_GE_M(s, i, 2, OP_CMP)
cdef int CMP_EdIdM(CpuState *s, Insn *i) noexcept nogil:
    return alu_EI(s, i, 1, 2, OP_CMP)
cdef int CMP_EdIdR(CpuState *s, Insn *i) noexcept nogil:
    return alu_EI(s, i, 0, 2, OP_CMP)


# inc/dec keep CF: forge cvec so CF reads the old CF and OF stays right.
cdef inline void set_incdec(CpuState *s, uint32_t r, uint32_t c, uint32_t sb) noexcept nogil:
    cdef uint32_t oldcf = get_cf(s)
    cdef uint32_t of = ((c >> sb) ^ (c >> (sb - 1))) & 1
    c = (c & ~(<uint32_t>3 << (sb - 1))) | (oldcf << sb) | ((oldcf ^ of) << (sb - 1))
    set_lazy(s, r, c, sb)


cdef inline uint32_t inc_dec(CpuState *s, int sz, uint32_t a, bint dec) noexcept nogil:
    cdef uint32_t r
    if dec:
        r = (a - 1) & smask(sz)
        set_incdec(s, r, (~a & 1) | ((~a | 1) & r), ssb(sz))
    else:
        r = (a + 1) & smask(sz)
        set_incdec(s, r, (a & 1) | ((a | 1) & ~r), ssb(sz))
    return r


cdef inline int incdec_E(CpuState *s, Insn *i, bint mem, bint dec) noexcept nogil:
    cdef uint32_t a, addr
    cdef int st
    cdef LfSave k
    if mem:
        addr = ea(s, i)
        st = rdv(s, i.osz, i.seg, addr, &a)
        if unlikely(st):
            return st
        lf_save(s, &k)
        a = inc_dec(s, i.osz, a, dec)
        return lf_restore(s, &k, wrv(s, i.osz, i.seg, addr, a))
    setr(s, i.osz, i.rm, inc_dec(s, i.osz, getr(s, i.osz, i.rm), dec))
    return 0


cdef int INC_ERd(CpuState *s, Insn *i) noexcept nogil:
    s.regs[i.rm] = inc_dec(s, 2, s.regs[i.rm], 0)
    return 0

cdef int DEC_ERd(CpuState *s, Insn *i) noexcept nogil:
    s.regs[i.rm] = inc_dec(s, 2, s.regs[i.rm], 1)
    return 0

cdef int INC_EvM(CpuState *s, Insn *i) noexcept nogil:
    return incdec_E(s, i, 1, 0)

cdef int INC_EvR(CpuState *s, Insn *i) noexcept nogil:
    return incdec_E(s, i, 0, 0)

cdef int DEC_EvM(CpuState *s, Insn *i) noexcept nogil:
    return incdec_E(s, i, 1, 1)

cdef int DEC_EvR(CpuState *s, Insn *i) noexcept nogil:
    return incdec_E(s, i, 0, 1)


cdef inline int neg_E(CpuState *s, Insn *i, bint mem) noexcept nogil:
    cdef uint32_t a, addr = 0
    cdef int st
    cdef LfSave k
    if mem:
        addr = ea(s, i)
        st = rdv(s, i.osz, i.seg, addr, &a)
        if unlikely(st):
            return st
        lf_save(s, &k)
        a = alu(s, OP_SUB, i.osz, 0, a)
        return lf_restore(s, &k, wrv(s, i.osz, i.seg, addr, a))
    setr(s, i.osz, i.rm, alu(s, OP_SUB, i.osz, 0, getr(s, i.osz, i.rm)))
    return 0

cdef int NEG_EvM(CpuState *s, Insn *i) noexcept nogil:
    return neg_E(s, i, 1)

cdef int NEG_EvR(CpuState *s, Insn *i) noexcept nogil:
    return neg_E(s, i, 0)


cdef inline int cmpxchg_E(CpuState *s, Insn *i, bint mem) noexcept nogil:
    cdef uint32_t d, addr = 0, acc
    cdef int st
    cdef int sz = i.osz
    cdef LfSave k
    if mem:
        addr = ea(s, i)
        st = rdv(s, sz, i.seg, addr, &d)
        if unlikely(st):
            return st
    else:
        d = getr(s, sz, i.rm)
    acc = getr(s, sz, 0)
    lf_save(s, &k)
    alu(s, OP_CMP, sz, acc, d)
    if acc == d:
        if mem:
            return lf_restore(s, &k, wrv(s, sz, i.seg, addr, getr(s, sz, i.reg)))
        setr(s, sz, i.rm, getr(s, sz, i.reg))
    else:
        # The destination is written back unchanged, as the locked bus cycle does.
        if mem:
            st = lf_restore(s, &k, wrv(s, sz, i.seg, addr, d))
            if st:
                return st
        setr(s, sz, 0, d)
    return 0

cdef int CMPXCHG_EvGvM(CpuState *s, Insn *i) noexcept nogil:
    return cmpxchg_E(s, i, 1)

cdef int CMPXCHG_EvGvR(CpuState *s, Insn *i) noexcept nogil:
    return cmpxchg_E(s, i, 0)


cdef int CMPXCHG8B_M(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t addr = ea(s, i)
    cdef uint32_t lo, hi
    cdef int st = rd32(s, i.seg, addr, &lo)
    if st:
        return st
    st = rd32(s, i.seg, addr + 4, &hi)
    if st:
        return st
    materialize(s)
    if lo == s.regs[0] and hi == s.regs[2]:
        st = wr32(s, i.seg, addr, s.regs[3])
        if st == 0:
            st = wr32(s, i.seg, addr + 4, s.regs[1])
        if st:
            return st
        s.eflags |= F_ZF
    else:
        st = wr32(s, i.seg, addr, lo)
        if st == 0:
            st = wr32(s, i.seg, addr + 4, hi)
        if st:
            return st
        s.regs[0] = lo
        s.regs[2] = hi
        s.eflags &= ~(<uint32_t>F_ZF)
    return 0


cdef inline int xadd_E(CpuState *s, Insn *i, bint mem) noexcept nogil:
    # op1 and op2 may be the same register: the sum wins.
    cdef uint32_t d, addr = 0, src, r
    cdef int st
    cdef int sz = i.osz
    cdef LfSave k
    src = getr(s, sz, i.reg)
    if mem:
        addr = ea(s, i)
        st = rdv(s, sz, i.seg, addr, &d)
        if unlikely(st):
            return st
        lf_save(s, &k)
        r = alu(s, OP_ADD, sz, d, src)
        st = lf_restore(s, &k, wrv(s, sz, i.seg, addr, r))
        if st:
            return st
        setr(s, sz, i.reg, d)
    else:
        d = getr(s, sz, i.rm)
        r = alu(s, OP_ADD, sz, d, src)
        setr(s, sz, i.reg, d)
        setr(s, sz, i.rm, r)
    return 0

cdef int XADD_EvGvM(CpuState *s, Insn *i) noexcept nogil:
    return xadd_E(s, i, 1)

cdef int XADD_EvGvR(CpuState *s, Insn *i) noexcept nogil:
    return xadd_E(s, i, 0)


cdef int BCD_ADJ(CpuState *s, Insn *i) noexcept nogil:
    # daa/das/aaa/aas (SDM pseudo-code).
    cdef uint32_t al = s.regs[0] & 0xFF
    cdef uint32_t old_al = al, cf = get_cf(s), af = get_af(s), ncf = 0, naf = 0
    cdef uint32_t ax
    materialize(s)
    if i.op <= 1:
        if (al & 0xF) > 9 or af:
            naf = 1
            if i.op == 0:
                ncf = cf or al > 0xF9
                al = (al + 6) & 0xFF
            else:
                ncf = cf or al < 6
                al = (al - 6) & 0xFF
        if old_al > 0x99 or cf:
            al = (al + 0x60) & 0xFF if i.op == 0 else (al - 0x60) & 0xFF
            ncf = 1
        s.regs[0] = (s.regs[0] & 0xFFFFFF00U) | al
        s.eflags = ((s.eflags & ~(<uint32_t>F_ARITH)) | ncf | (naf << 4) | (PARITY[al] << 2)
                    | ((al == 0) << 6) | ((al >> 7) << 7))
        return 0
    ax = s.regs[0] & 0xFFFF
    if (al & 0xF) > 9 or af:
        if i.op == 2:
            ax = (ax + 0x106) & 0xFFFF
        else:
            ax = (ax - 6) & 0xFFFF
            ax = (ax - 0x100) & 0xFFFF
        naf = 1
        ncf = 1
    ax &= 0xFF0F
    s.regs[0] = (s.regs[0] & 0xFFFF0000U) | ax
    s.eflags = (s.eflags & ~(<uint32_t>(F_CF | F_AF))) | ncf | (naf << 4)
    return 0
