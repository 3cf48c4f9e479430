# Stack: push/pop of registers, memory and immediates, pusha/popa,
# pushf/popf, enter/leave.  ESP is committed last so a faulting access
# leaves it unchanged.

cdef int PUSH_ERd(CpuState *s, Insn *i) noexcept nogil:
    return push32(s, s.regs[i.reg])

cdef int PUSH_Rw(CpuState *s, Insn *i) noexcept nogil:
    return pushv(s, 1, s.regs[i.reg])

cdef int POP_ERd(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v
    cdef int st = pop32(s, &v)
    if unlikely(st):
        return st
    s.regs[4] += 4
    s.regs[i.reg] = v
    return 0

cdef int POP_Rw(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v
    cdef int st = rd16(s, SS, s.regs[4], &v)
    if unlikely(st):
        return st
    s.regs[4] += 2
    setr(s, 1, i.reg, v)
    return 0

cdef int PUSH_Iv(CpuState *s, Insn *i) noexcept nogil:
    return pushv(s, i.osz, i.imm)

cdef int PUSH_EvM(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v
    cdef int st = rdv(s, i.osz, i.seg, ea(s, i), &v)
    if unlikely(st):
        return st
    return pushv(s, i.osz, v)

cdef int PUSH_EvR(CpuState *s, Insn *i) noexcept nogil:
    return pushv(s, i.osz, getr(s, i.osz, i.rm))


cdef inline uint32_t vbytes(int sz) noexcept nogil:
    return 4 if sz == 2 else 2


cdef int POP_EvM(CpuState *s, Insn *i) noexcept nogil:
    # The address is computed with ESP already incremented (SDM POP).
    cdef uint32_t v, old = s.regs[4]
    cdef int st = rdv(s, i.osz, SS, old, &v)
    if unlikely(st):
        return st
    s.regs[4] = old + vbytes(i.osz)
    st = wrv(s, i.osz, i.seg, ea(s, i), v)
    if unlikely(st):
        s.regs[4] = old
    return st

cdef int POP_EvR(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v
    cdef int st = rdv(s, i.osz, SS, s.regs[4], &v)
    if unlikely(st):
        return st
    s.regs[4] += vbytes(i.osz)
    setr(s, i.osz, i.rm, v)
    return 0


cdef int PUSHA(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t n = vbytes(i.osz)
    cdef uint32_t sp = s.regs[4]
    cdef int k, st
    for k in range(8):
        st = wrv(s, i.osz, SS, sp - n * (k + 1), s.regs[k])
        if unlikely(st):
            return st
    s.regs[4] = sp - 8 * n
    return 0

cdef int POPA(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t n = vbytes(i.osz)
    cdef uint32_t sp = s.regs[4]
    cdef uint32_t v[8]
    cdef int k, st
    for k in range(8):
        st = rdv(s, i.osz, SS, sp + n * (7 - k), &v[k])
        if unlikely(st):
            return st
    for k in range(8):
        if k != 4:
            setr(s, i.osz, k, v[k])
    s.regs[4] = sp + 8 * n
    return 0


cdef int PUSHF(CpuState *s, Insn *i) noexcept nogil:
    # Sensitive: it shows the real IF and IOPL at any CPL.
    if sensitive(s, SK_PUSHF):
        return S_INTERCEPT
    return pushv(s, i.osz, read_eflags(s) & ~(<uint32_t>(F_RF | F_VM)))


cdef inline uint32_t popf_mask(CpuState *s) noexcept nogil:
    # IOPL changes only at CPL 0; IF only when CPL <= IOPL, and otherwise
    # is silently kept: no fault, the classic virtualization hole.
    cdef uint32_t mask = (F_CF | F_PF | F_AF | F_ZF | F_SF | F_TF | F_DF | F_OF | F_NT
                          | F_AC | F_ID)
    if s.cpl == 0:
        mask |= F_IOPL | F_IF
    elif s.cpl <= ((s.eflags >> 12) & 3):
        mask |= F_IF
    return mask


cdef inline int load_eflags(CpuState *s, uint32_t v, uint32_t mask) noexcept nogil:
    # Returns S_BREAK when IF went 0 -> 1, so pending interrupts get a look.
    cdef uint32_t old = s.eflags
    s.eflags = (s.eflags & ~mask) | (v & mask) | F_FIXED
    s.lf_sb = 0
    if (s.eflags & ~old) & F_IF:
        return S_BREAK
    return 0


cdef int POPF(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v, mask = popf_mask(s)
    cdef int st = sensitive(s, SK_POPF)
    if st == 0:
        st = rdv(s, i.osz, SS, s.regs[4], &v)
    if unlikely(st):
        return st
    s.regs[4] += vbytes(i.osz)
    if i.osz != 2:
        mask &= 0xFFFF
    materialize(s)
    return load_eflags(s, v, mask)


cdef int ENTER(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t n = vbytes(i.osz)
    cdef uint32_t level = i.imm2 & 31
    cdef uint32_t sp = s.regs[4] - n
    cdef uint32_t bp = s.regs[5]
    cdef uint32_t frame, v
    cdef int st = wrv(s, i.osz, SS, sp, s.regs[5])
    if st:
        return st
    frame = sp
    if level > 0:
        while level > 1:
            bp -= n
            st = rdv(s, i.osz, SS, bp, &v)
            if st:
                return st
            sp -= n
            st = wrv(s, i.osz, SS, sp, v)
            if st:
                return st
            level -= 1
        sp -= n
        st = wrv(s, i.osz, SS, sp, frame)
        if st:
            return st
    setr(s, i.osz, 5, frame)
    s.regs[4] = sp - i.imm
    return 0


cdef int LEAVE(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v
    cdef int st = rdv(s, i.osz, SS, s.regs[5], &v)
    if unlikely(st):
        return st
    s.regs[4] = s.regs[5] + vbytes(i.osz)
    setr(s, i.osz, 5, v)
    return 0
