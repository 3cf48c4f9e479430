# Data transfer: mov forms, lea, movzx/movsx, xchg, cbw/cwd, lahf/sahf,
# cmovcc/setcc, xlat, bswap.

cdef int MOV_EdGdM(CpuState *s, Insn *i) noexcept nogil:
    return wr32(s, i.seg, ea(s, i), s.regs[i.reg])

cdef int MOV_EdGdR(CpuState *s, Insn *i) noexcept nogil:
    s.regs[i.rm] = s.regs[i.reg]
    return 0

cdef int MOV_GdEdM(CpuState *s, Insn *i) noexcept nogil:
    return rd32(s, i.seg, ea(s, i), &s.regs[i.reg])

cdef int MOV_ERdId(CpuState *s, Insn *i) noexcept nogil:
    s.regs[i.rm] = i.imm
    return 0

cdef int MOV_EvGvM(CpuState *s, Insn *i) noexcept nogil:
    return wrv(s, i.osz, i.seg, ea(s, i), getr(s, i.osz, i.reg))

cdef int MOV_EvGvR(CpuState *s, Insn *i) noexcept nogil:
    setr(s, i.osz, i.rm, getr(s, i.osz, i.reg))
    return 0

cdef int MOV_GvEvM(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v
    cdef int st = rdv(s, i.osz, i.seg, ea(s, i), &v)
    if unlikely(st):
        return st
    setr(s, i.osz, i.reg, v)
    return 0

cdef int MOV_EvIvM(CpuState *s, Insn *i) noexcept nogil:
    return wrv(s, i.osz, i.seg, ea(s, i), i.imm)

cdef int MOV_EvIvR(CpuState *s, Insn *i) noexcept nogil:
    setr(s, i.osz, i.rm, i.imm)
    return 0

cdef int LEA_GdM(CpuState *s, Insn *i) noexcept nogil:
    s.regs[i.reg] = i.disp + s.regs[i.base] + (s.regs[i.index] << i.scale)
    return 0

cdef int LEA_GvM(CpuState *s, Insn *i) noexcept nogil:
    setr(s, i.osz, i.reg, ea(s, i))
    return 0


cdef inline uint32_t extend(Insn *i, uint32_t v, bint signed) noexcept nogil:
    if signed:
        v = <uint32_t>(<int32_t><int16_t>v) if i.op else <uint32_t>(<int32_t><int8_t>v)
    return v

cdef int MOVZX_GvEvM(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v
    cdef int st = rdv(s, i.op, i.seg, ea(s, i), &v)
    if unlikely(st):
        return st
    setr(s, i.osz, i.reg, v)
    return 0

cdef int MOVZX_GvEvR(CpuState *s, Insn *i) noexcept nogil:
    setr(s, i.osz, i.reg, getr(s, i.op, i.rm))
    return 0

cdef int MOVSX_GvEvM(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v
    cdef int st = rdv(s, i.op, i.seg, ea(s, i), &v)
    if unlikely(st):
        return st
    setr(s, i.osz, i.reg, extend(i, v, 1))
    return 0

cdef int MOVSX_GvEvR(CpuState *s, Insn *i) noexcept nogil:
    setr(s, i.osz, i.reg, extend(i, getr(s, i.op, i.rm), 1))
    return 0


cdef int XCHG_EvGvM(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v, addr = ea(s, i)
    cdef int st = rdv(s, i.osz, i.seg, addr, &v)
    if unlikely(st):
        return st
    st = wrv(s, i.osz, i.seg, addr, getr(s, i.osz, i.reg))
    if unlikely(st):
        return st
    setr(s, i.osz, i.reg, v)
    return 0

cdef int XCHG_EvGvR(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v = getr(s, i.osz, i.rm)
    setr(s, i.osz, i.rm, getr(s, i.osz, i.reg))
    setr(s, i.osz, i.reg, v)
    return 0


cdef int CBW(CpuState *s, Insn *i) noexcept nogil:
    if i.osz == 2:
        s.regs[0] = <uint32_t>(<int32_t><int16_t>s.regs[0])
    else:
        setr(s, 1, 0, <uint32_t>(<int32_t><int8_t>s.regs[0]))
    return 0

cdef int CWD(CpuState *s, Insn *i) noexcept nogil:
    if i.osz == 2:
        s.regs[2] = 0xFFFFFFFFU if (s.regs[0] >> 31) else 0
    else:
        setr(s, 1, 2, 0xFFFF if (s.regs[0] & 0x8000) else 0)
    return 0

cdef int LAHF(CpuState *s, Insn *i) noexcept nogil:
    setr(s, 0, 4, (read_eflags(s) & 0xD5) | 2)
    return 0

cdef int SAHF(CpuState *s, Insn *i) noexcept nogil:
    materialize(s)
    s.eflags = (s.eflags & ~(<uint32_t>0xD5)) | ((s.regs[0] >> 8) & 0xD5)
    return 0


cdef int CMOV_GvEvM(CpuState *s, Insn *i) noexcept nogil:
    # The source is read (and may fault) whether or not the move happens.
    cdef uint32_t v
    cdef int st = rdv(s, i.osz, i.seg, ea(s, i), &v)
    if unlikely(st):
        return st
    if cond(s, i.op):
        setr(s, i.osz, i.reg, v)
    return 0

cdef int CMOV_GvEvR(CpuState *s, Insn *i) noexcept nogil:
    if cond(s, i.op):
        setr(s, i.osz, i.reg, getr(s, i.osz, i.rm))
    return 0

cdef int SETCC_EbM(CpuState *s, Insn *i) noexcept nogil:
    return wr8(s, i.seg, ea(s, i), cond(s, i.op))

cdef int SETCC_EbR(CpuState *s, Insn *i) noexcept nogil:
    setr(s, 0, i.rm, cond(s, i.op))
    return 0


cdef int XLAT(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v
    cdef int st = rd8(s, i.seg, s.regs[3] + (s.regs[0] & 0xFF), &v)
    if st:
        return st
    setr(s, 0, 0, v)
    return 0

cdef int BSWAP_ERd(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v = s.regs[i.rm]
    s.regs[i.rm] = (v >> 24) | ((v >> 8) & 0xFF00) | ((v << 8) & 0xFF0000) | (v << 24)
    return 0

cdef int NOP(CpuState *s, Insn *i) noexcept nogil:
    return 0
