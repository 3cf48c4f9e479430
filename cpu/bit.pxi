# bt/bts/btr/btc (register and immediate offsets), bsf/bsr.
# bt* set CF and leave the other flags (ZF as documented, the rest as
# unicorn leaves them); bsf/bsr set ZF from the source (flags as a logical
# op on it) and leave the destination alone when the source is 0.

cdef inline uint32_t bt_apply(CpuState *s, int op, uint32_t v, uint32_t bit) noexcept nogil:
    cdef uint32_t m = 1u << bit
    materialize(s)
    s.eflags = (s.eflags & ~(<uint32_t>F_CF)) | ((v >> bit) & 1)
    if op == 1:
        v |= m
    elif op == 2:
        v &= ~m
    elif op == 3:
        v ^= m
    return v


cdef inline int bt_mem(CpuState *s, Insn *i, uint32_t addr, uint32_t bit) noexcept nogil:
    cdef uint32_t v, r, fl
    cdef int st = rdv(s, i.osz, i.seg, addr, &v)
    if unlikely(st):
        return st
    fl = read_eflags(s)
    r = bt_apply(s, i.op, v, bit)
    if i.op != 0:
        st = wrv(s, i.osz, i.seg, addr, r)
        if unlikely(st):
            s.eflags = fl
    return st


cdef int BT_EvGvM(CpuState *s, Insn *i) noexcept nogil:
    # The register offset is signed and may reach outside the operand.
    cdef int32_t off
    cdef uint32_t addr
    if i.osz == 2:
        off = <int32_t>s.regs[i.reg]
        addr = ea(s, i) + <uint32_t>((off >> 5) * 4)
        return bt_mem(s, i, addr, <uint32_t>off & 31)
    off = <int16_t>s.regs[i.reg]
    addr = ea(s, i) + <uint32_t>((off >> 4) * 2)
    return bt_mem(s, i, addr, <uint32_t>off & 15)

cdef int BT_EvGvR(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t bit = getr(s, i.osz, i.reg) & (31 if i.osz == 2 else 15)
    cdef uint32_t r = bt_apply(s, i.op, getr(s, i.osz, i.rm), bit)
    if i.op != 0:
        setr(s, i.osz, i.rm, r)
    return 0

cdef int BT_EvIbM(CpuState *s, Insn *i) noexcept nogil:
    return bt_mem(s, i, ea(s, i), i.imm & (31 if i.osz == 2 else 15))

cdef int BT_EvIbR(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t bit = i.imm & (31 if i.osz == 2 else 15)
    cdef uint32_t r = bt_apply(s, i.op, getr(s, i.osz, i.rm), bit)
    if i.op != 0:
        setr(s, i.osz, i.rm, r)
    return 0


cdef inline void bsf_bsr(CpuState *s, Insn *i, uint32_t v) noexcept nogil:
    cdef int k
    set_lazy(s, v, 0, ssb(i.osz))
    if v == 0:
        return
    if i.op == 0:
        k = 0
        while not ((v >> k) & 1):
            k += 1
    else:
        k = 31
        while not ((v >> k) & 1):
            k -= 1
    setr(s, i.osz, i.reg, <uint32_t>k)

cdef int BSF_BSR_M(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t v
    cdef int st = rdv(s, i.osz, i.seg, ea(s, i), &v)
    if unlikely(st):
        return st
    bsf_bsr(s, i, v)
    return 0

cdef int BSF_BSR_R(CpuState *s, Insn *i) noexcept nogil:
    bsf_bsr(s, i, getr(s, i.osz, i.rm))
    return 0
