# String instructions with rep/repe/repne and DF.
#
# A rep instruction runs at most REP_CHUNK iterations per execution; if
# ECX is not exhausted it leaves EIP on itself and returns S_REPEAT, so
# interrupts, the timer and the budget get a look between chunks, and a
# fault mid-way leaves the registers of the iterations already done (the
# architectural restart state).

cdef enum:
    REP_CHUNK = 1024


cdef inline uint32_t str_delta(CpuState *s, int sz) noexcept nogil:
    cdef uint32_t n = 1u << sz
    return (0 - n) if (s.eflags & F_DF) else n


cdef inline int rep_more(CpuState *s, Insn *i, uint32_t done) noexcept nogil:
    if s.regs[1] != 0 and done >= REP_CHUNK:
        s.eip = s.cur_eip
        return S_REPEAT
    return 0


cdef int MOVS(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v, d = str_delta(s, i.osz), done = 0
    cdef int st
    if i.rep:
        while s.regs[1] != 0 and done < REP_CHUNK:
            st = rdv(s, i.osz, i.seg, s.regs[6], &v)
            if unlikely(st):
                return st
            st = wrv(s, i.osz, ES, s.regs[7], v)
            if unlikely(st):
                return st
            s.regs[6] += d
            s.regs[7] += d
            s.regs[1] -= 1
            done += 1
        return rep_more(s, i, done)
    st = rdv(s, i.osz, i.seg, s.regs[6], &v)
    if unlikely(st):
        return st
    st = wrv(s, i.osz, ES, s.regs[7], v)
    if unlikely(st):
        return st
    s.regs[6] += d
    s.regs[7] += d
    return 0


cdef int STOS(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v = getr(s, i.osz, 0), d = str_delta(s, i.osz), done = 0
    cdef int st
    if i.rep:
        while s.regs[1] != 0 and done < REP_CHUNK:
            st = wrv(s, i.osz, ES, s.regs[7], v)
            if unlikely(st):
                return st
            s.regs[7] += d
            s.regs[1] -= 1
            done += 1
        return rep_more(s, i, done)
    st = wrv(s, i.osz, ES, s.regs[7], v)
    if unlikely(st):
        return st
    s.regs[7] += d
    return 0


cdef int LODS(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v, d = str_delta(s, i.osz), done = 0
    cdef int st
    if i.rep:
        while s.regs[1] != 0 and done < REP_CHUNK:
            st = rdv(s, i.osz, i.seg, s.regs[6], &v)
            if unlikely(st):
                return st
            setr(s, i.osz, 0, v)
            s.regs[6] += d
            s.regs[1] -= 1
            done += 1
        return rep_more(s, i, done)
    st = rdv(s, i.osz, i.seg, s.regs[6], &v)
    if unlikely(st):
        return st
    setr(s, i.osz, 0, v)
    s.regs[6] += d
    return 0


cdef inline bint rep_stop(CpuState *s, Insn *i) noexcept nogil:
    # repe (F3) stops on ZF=0, repne (F2) on ZF=1.
    if i.rep == 0xF3:
        return not get_zf(s)
    return get_zf(s)


cdef int CMPS(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t a, b, d = str_delta(s, i.osz), done = 0
    cdef int st
    while True:
        if i.rep and (s.regs[1] == 0 or done >= REP_CHUNK):
            break
        st = rdv(s, i.osz, i.seg, s.regs[6], &a)
        if unlikely(st):
            return st
        st = rdv(s, i.osz, ES, s.regs[7], &b)
        if unlikely(st):
            return st
        alu(s, OP_CMP, i.osz, a, b)
        s.regs[6] += d
        s.regs[7] += d
        if not i.rep:
            return 0
        s.regs[1] -= 1
        done += 1
        if rep_stop(s, i):
            return 0
    return rep_more(s, i, done)


cdef int SCAS(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t b, a = getr(s, i.osz, 0), d = str_delta(s, i.osz), done = 0
    cdef int st
    while True:
        if i.rep and (s.regs[1] == 0 or done >= REP_CHUNK):
            break
        st = rdv(s, i.osz, ES, s.regs[7], &b)
        if unlikely(st):
            return st
        alu(s, OP_CMP, i.osz, a, b)
        s.regs[7] += d
        if not i.rep:
            return 0
        s.regs[1] -= 1
        done += 1
        if rep_stop(s, i):
            return 0
    return rep_more(s, i, done)
