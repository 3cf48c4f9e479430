# mul/imul (one, two and three operands), div/idiv with #DE.
#
# CF = OF = "the upper half is significant"; SF/ZF/PF follow the low half
# (as unicorn does; the SDM calls them undefined).  div/idiv leave flags.

cdef inline int64_t sextv(int sz, uint32_t v) noexcept nogil:
    if sz == 2:
        return <int32_t>v
    if sz == 1:
        return <int16_t>v
    return <int8_t>v


cdef inline void set_mul_flags(CpuState *s, int sz, uint32_t lo, uint32_t cf) noexcept nogil:
    cdef uint32_t sb = ssb(sz)
    set_lazy(s, lo & smask(sz), cf << sb, sb)


cdef inline int muldiv(CpuState *s, Insn *i, uint32_t src) noexcept nogil:
    cdef int sz = i.osz
    cdef uint64_t u, q, rem
    cdef int64_t sv, sq, sr, sd
    cdef uint32_t lo, hi
    if i.op == 0:           # mul
        if sz == 0:
            u = (s.regs[0] & 0xFF) * <uint64_t>src
            s.regs[0] = (s.regs[0] & 0xFFFF0000U) | <uint32_t>(u & 0xFFFF)
            set_mul_flags(s, 0, <uint32_t>u, (u >> 8) != 0)
        elif sz == 1:
            u = (s.regs[0] & 0xFFFF) * <uint64_t>src
            setr(s, 1, 0, <uint32_t>u)
            setr(s, 1, 2, <uint32_t>(u >> 16))
            set_mul_flags(s, 1, <uint32_t>u, (u >> 16) != 0)
        else:
            u = <uint64_t>s.regs[0] * src
            s.regs[0] = <uint32_t>u
            s.regs[2] = <uint32_t>(u >> 32)
            set_mul_flags(s, 2, <uint32_t>u, (u >> 32) != 0)
    elif i.op == 1:         # imul
        sv = sextv(sz, getr(s, sz, 0)) * sextv(sz, src)
        if sz == 0:
            s.regs[0] = (s.regs[0] & 0xFFFF0000U) | <uint32_t>(sv & 0xFFFF)
        elif sz == 1:
            setr(s, 1, 0, <uint32_t>sv)
            setr(s, 1, 2, <uint32_t>(sv >> 16))
        else:
            s.regs[0] = <uint32_t>sv
            s.regs[2] = <uint32_t>(<uint64_t>sv >> 32)
        set_mul_flags(s, sz, <uint32_t>sv, sv != sextv(sz, <uint32_t>sv))
    elif i.op == 2:         # div
        if src == 0:
            return fault(s, 0, 0)
        if sz == 0:
            u = s.regs[0] & 0xFFFF
        elif sz == 1:
            u = (s.regs[0] & 0xFFFF) | ((s.regs[2] & 0xFFFF) << 16)
        else:
            u = s.regs[0] | (<uint64_t>s.regs[2] << 32)
        q = u / src
        rem = u % src
        if q > smask(sz):
            return fault(s, 0, 0)
        if sz == 0:
            s.regs[0] = (s.regs[0] & 0xFFFF0000U) | <uint32_t>q | (<uint32_t>rem << 8)
        else:
            setr(s, sz, 0, <uint32_t>q)
            setr(s, sz, 2, <uint32_t>rem)
    else:                   # idiv
        sd = sextv(sz, src)
        if sd == 0:
            return fault(s, 0, 0)
        if sz == 0:
            sv = <int16_t>(s.regs[0] & 0xFFFF)
        elif sz == 1:
            sv = <int32_t>((s.regs[0] & 0xFFFF) | ((s.regs[2] & 0xFFFF) << 16))
        else:
            sv = <int64_t>(s.regs[0] | (<uint64_t>s.regs[2] << 32))
        if sd == -1:
            # The host would trap on INT64_MIN / -1: negate in unsigned.
            sq = <int64_t>(0 - <uint64_t>sv)
            sr = 0
            if sv == <int64_t>0x8000000000000000ULL:
                return fault(s, 0, 0)
        else:
            sq = sv / sd
            sr = sv % sd
        if sq != sextv(sz, <uint32_t>sq):
            return fault(s, 0, 0)
        if sz == 0:
            s.regs[0] = ((s.regs[0] & 0xFFFF0000U) | (<uint32_t>sq & 0xFF)
                         | ((<uint32_t>sr & 0xFF) << 8))
        else:
            setr(s, sz, 0, <uint32_t>sq)
            setr(s, sz, 2, <uint32_t>sr)
    return 0


cdef int MULDIV_EvM(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v
    cdef int st = rdv(s, i.osz, i.seg, ea(s, i), &v)
    if unlikely(st):
        return st
    return muldiv(s, i, v)

cdef int MULDIV_EvR(CpuState *s, Insn *i) noexcept nogil:
    return muldiv(s, i, getr(s, i.osz, i.rm))


cdef inline void imul2(CpuState *s, Insn *i, uint32_t a, uint32_t b) noexcept nogil:
    cdef int64_t r = sextv(i.osz, a) * sextv(i.osz, b)
    setr(s, i.osz, i.reg, <uint32_t>r)
    set_mul_flags(s, i.osz, <uint32_t>r, r != sextv(i.osz, <uint32_t>r))


cdef int IMUL_GvEvM(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v
    cdef int st = rdv(s, i.osz, i.seg, ea(s, i), &v)
    if unlikely(st):
        return st
    imul2(s, i, getr(s, i.osz, i.reg), v)
    return 0

cdef int IMUL_GvEvR(CpuState *s, Insn *i) noexcept nogil:
    imul2(s, i, getr(s, i.osz, i.reg), getr(s, i.osz, i.rm))
    return 0

cdef int IMUL_GvEvIvM(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v
    cdef int st = rdv(s, i.osz, i.seg, ea(s, i), &v)
    if unlikely(st):
        return st
    imul2(s, i, v, i.imm)
    return 0

cdef int IMUL_GvEvIvR(CpuState *s, Insn *i) noexcept nogil:
    imul2(s, i, getr(s, i.osz, i.rm), i.imm)
    return 0
