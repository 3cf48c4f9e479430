# Near control transfer: jcc, jmp, call, ret, loop, jecxz.  The loop has
# already advanced EIP past the instruction, so relative targets are
# s.eip + imm.  Far transfers and iret are in segment.pxi / exception.pxi.

cdef int JCC_Jd(CpuState *s, Insn *i) noexcept nogil:
    if cond(s, i.op):
        s.eip += i.imm
    return 0

cdef int JCC_Jw(CpuState *s, Insn *i) noexcept nogil:
    if cond(s, i.op):
        s.eip = (s.eip + i.imm) & 0xFFFF
    return 0

cdef int JMP_Jd(CpuState *s, Insn *i) noexcept nogil:
    s.eip += i.imm
    if i.osz != 2:
        s.eip &= 0xFFFF
    return 0

cdef int CALL_Jd(CpuState *s, Insn *i) noexcept nogil:
    cdef int st = pushv(s, i.osz, s.eip)
    if unlikely(st):
        return st
    s.eip += i.imm
    if i.osz != 2:
        s.eip &= 0xFFFF
    return 0


cdef inline int near_ret(CpuState *s, Insn *i, uint32_t extra) noexcept nogil:
    cdef uint32_t v
    cdef int st
    if i.osz == 2:
        st = rd32(s, SS, s.regs[4], &v)
        if unlikely(st):
            return st
        s.regs[4] += 4 + extra
    else:
        st = rd16(s, SS, s.regs[4], &v)
        if unlikely(st):
            return st
        s.regs[4] += 2 + extra
    s.eip = v
    return 0

cdef int RET(CpuState *s, Insn *i) noexcept nogil:
    return near_ret(s, i, 0)

cdef int RET_Iw(CpuState *s, Insn *i) noexcept nogil:
    return near_ret(s, i, i.imm)


cdef int JMP_EvM(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v
    cdef int st = rdv(s, i.osz, i.seg, ea(s, i), &v)
    if unlikely(st):
        return st
    s.eip = v
    return 0

cdef int JMP_EvR(CpuState *s, Insn *i) noexcept nogil:
    s.eip = getr(s, i.osz, i.rm)
    return 0

cdef int CALL_EvM(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v
    cdef int st = rdv(s, i.osz, i.seg, ea(s, i), &v)
    if unlikely(st):
        return st
    st = pushv(s, i.osz, s.eip)
    if unlikely(st):
        return st
    s.eip = v
    return 0

cdef int CALL_EvR(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v = getr(s, i.osz, i.rm)
    cdef int st = pushv(s, i.osz, s.eip)
    if unlikely(st):
        return st
    s.eip = v
    return 0


cdef int LOOP(CpuState *s, Insn *i) noexcept nogil:
    # i.op: 0 loopne, 1 loope, 2 loop.
    cdef uint32_t c
    cdef bint take
    if i.amask == 0xFFFF:
        c = (s.regs[1] - 1) & 0xFFFF      # 0x67: the counter is CX
        s.regs[1] = (s.regs[1] & 0xFFFF0000U) | c
    else:
        c = s.regs[1] - 1
        s.regs[1] = c
    take = c != 0
    if i.op == 0:
        take = take and not get_zf(s)
    elif i.op == 1:
        take = take and get_zf(s)
    if take:
        s.eip += i.imm
        if i.osz != 2:
            s.eip &= 0xFFFF
    return 0

cdef int JECXZ(CpuState *s, Insn *i) noexcept nogil:
    if (s.regs[1] & i.amask) == 0:
        s.eip += i.imm
        if i.osz != 2:
            s.eip &= 0xFFFF
    return 0
