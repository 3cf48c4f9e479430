# Shifts and rotates (group 2), shld/shrd.
#
# Shifts set SF/ZF/PF from the result, CF to the last bit out, AF = 0 and OF
# as qemu/unicorn do for counts > 1 (from the value shifted by count-1), so
# differential tests agree on the "undefined" cases too.  Rotates change
# only CF and OF, hence the eager path.  A zero count changes nothing.

cdef inline void set_shift_flags(CpuState *s, uint32_t r, uint32_t cf, uint32_t of, uint32_t sb) noexcept nogil:
    set_lazy(s, r, (cf << sb) | ((cf ^ of) << (sb - 1)), sb)


cdef inline uint32_t do_shift(CpuState *s, int kind, int sz, uint32_t a, uint32_t n) noexcept nogil:
    # n is the count masked to 5 bits and not zero.
    cdef uint32_t bits = 8u << sz
    cdef uint32_t m = smask(sz)
    cdef uint32_t sb = ssb(sz)
    cdef uint32_t r, k, cf, of, src1
    cdef uint64_t t, tm
    if kind == 4 or kind == 6:
        src1 = (a << (n - 1)) & m
        cf = (src1 >> sb) & 1
        r = (a << n) & m
        set_shift_flags(s, r, cf, cf ^ ((r >> sb) & 1), sb)
    elif kind == 5:
        src1 = a >> (n - 1)
        r = a >> n
        set_shift_flags(s, r, src1 & 1, ((src1 ^ r) >> sb) & 1, sb)
    elif kind == 7:
        if sz == 0:
            src1 = <uint32_t>(<int32_t><int8_t>a >> (n - 1))
        elif sz == 1:
            src1 = <uint32_t>(<int32_t><int16_t>a >> (n - 1))
        else:
            src1 = <uint32_t>(<int32_t>a >> (n - 1))
        r = <uint32_t>(<int32_t>src1 >> 1) & m
        set_shift_flags(s, r, src1 & 1, 0, sb)
    elif kind == 0:
        k = n & (bits - 1)
        r = ((a << k) | (a >> (bits - k))) & m if k else a
        cf = r & 1
        set_cf_of(s, cf, ((r >> sb) ^ cf) & 1)
    elif kind == 1:
        k = n & (bits - 1)
        r = ((a >> k) | (a << (bits - k))) & m if k else a
        cf = (r >> sb) & 1
        set_cf_of(s, cf, (cf ^ (r >> (sb - 1))) & 1)
    else:
        k = n % (bits + 1)
        if k == 0:
            return a
        tm = (<uint64_t>1 << (bits + 1)) - 1
        t = <uint64_t>a | (<uint64_t>get_cf(s) << bits)
        if kind == 2:
            t = ((t << k) | (t >> (bits + 1 - k))) & tm
        else:
            t = ((t >> k) | (t << (bits + 1 - k))) & tm
        r = <uint32_t>t & m
        cf = <uint32_t>(t >> bits) & 1
        if kind == 2:
            of = ((r >> sb) ^ cf) & 1
        else:
            of = ((r >> sb) ^ (r >> (sb - 1))) & 1
        set_cf_of(s, cf, of)
    return r


cdef inline int grp2(CpuState *s, Insn *i, bint mem, uint32_t n) noexcept nogil:
    cdef uint32_t a, addr = 0, fl
    cdef int st
    cdef LfSave k
    n &= 31
    if mem:
        addr = ea(s, i)
        st = rdv(s, i.osz, i.seg, addr, &a)
        if unlikely(st):
            return st
        if n == 0:
            return 0
        lf_save(s, &k)
        fl = s.eflags       # rotates write eflags directly
        a = do_shift(s, i.op, i.osz, a, n)
        st = wrv(s, i.osz, i.seg, addr, a)
        if st:
            s.eflags = fl
        return lf_restore(s, &k, st)
    if n:
        setr(s, i.osz, i.rm, do_shift(s, i.op, i.osz, getr(s, i.osz, i.rm), n))
    return 0


cdef int GRP2_EvIbM(CpuState *s, Insn *i) noexcept nogil:
    return grp2(s, i, 1, i.imm)

cdef int GRP2_EvIbR(CpuState *s, Insn *i) noexcept nogil:
    return grp2(s, i, 0, i.imm)

cdef int GRP2_EvCLM(CpuState *s, Insn *i) noexcept nogil:
    return grp2(s, i, 1, s.regs[1])

cdef int GRP2_EvCLR(CpuState *s, Insn *i) noexcept nogil:
    return grp2(s, i, 0, s.regs[1])


cdef inline uint32_t do_shxd(CpuState *s, int sz, bint right, uint32_t d, uint32_t src, uint32_t n) noexcept nogil:
    cdef uint32_t r, cf, src1
    cdef uint64_t t
    if sz == 2:
        if right:
            r = (d >> n) | (src << (32 - n)) if n < 32 else d
            cf = (d >> (n - 1)) & 1
            set_shift_flags(s, r, cf, ((r ^ d) >> 31) & 1, 31)
        else:
            r = (d << n) | (src >> (32 - n))
            src1 = d << (n - 1)
            cf = src1 >> 31
            set_shift_flags(s, r, cf, ((src1 ^ r) >> 31) & 1, 31)
        return r
    if right:
        t = <uint64_t>d | (<uint64_t>src << 16) | (<uint64_t>d << 32)
        r = <uint32_t>(t >> n) & 0xFFFF
        cf = <uint32_t>(t >> (n - 1)) & 1
    else:
        t = (<uint64_t>d << 32) | (<uint64_t>src << 16) | d
        r = <uint32_t>((t << n) >> 32) & 0xFFFF
        cf = <uint32_t>((t << n) >> 48) & 1
    set_shift_flags(s, r, cf, ((r ^ d) >> 15) & 1, 15)
    return r


cdef inline int shxd(CpuState *s, Insn *i, bint mem) noexcept nogil:
    cdef uint32_t n = (s.regs[1] if (i.op & 1) else i.imm) & 31
    cdef uint32_t a, addr = 0
    cdef int st
    cdef LfSave k
    if n == 0:
        if mem:
            return rdv(s, i.osz, i.seg, ea(s, i), &a)   # still faults
        return 0
    if mem:
        addr = ea(s, i)
        st = rdv(s, i.osz, i.seg, addr, &a)
        if unlikely(st):
            return st
        lf_save(s, &k)
        a = do_shxd(s, i.osz, i.op >> 1, a, getr(s, i.osz, i.reg), n)
        return lf_restore(s, &k, wrv(s, i.osz, i.seg, addr, a))
    setr(s, i.osz, i.rm, do_shxd(s, i.osz, i.op >> 1, getr(s, i.osz, i.rm), getr(s, i.osz, i.reg), n))
    return 0


cdef int SHxD_EvGvM(CpuState *s, Insn *i) noexcept nogil:
    return shxd(s, i, 1)

cdef int SHxD_EvGvR(CpuState *s, Insn *i) noexcept nogil:
    return shxd(s, i, 0)
