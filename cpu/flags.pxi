# Lazy flags.
#
# An arithmetic instruction stores its result (truncated to its width), the
# carry-out vector of the operation (bit k = carry out of bit k) and the
# number of the sign bit.  Every flag follows from those three words without
# knowing which instruction produced them:
#   CF = cvec[sb]   OF = cvec[sb] ^ cvec[sb-1]   AF = cvec[3]
#   ZF = res == 0   SF = res[sb]                 PF = parity(res[7:0])
# Instructions whose CF/OF are not those of an addition (inc/dec, shifts,
# mul) forge cvec bits sb and sb-1 to give the CF and OF they define; sb-1
# is at least 6, so AF (bit 3) is never disturbed.  lf_sb == 0 means the
# flags are eager: the arithmetic bits of s.eflags are authoritative.

cdef enum:
    F_CF = 0x1
    F_FIXED = 0x2
    F_PF = 0x4
    F_AF = 0x10
    F_ZF = 0x40
    F_SF = 0x80
    F_TF = 0x100
    F_IF = 0x200
    F_DF = 0x400
    F_OF = 0x800
    F_IOPL = 0x3000
    F_NT = 0x4000
    F_RF = 0x10000
    F_VM = 0x20000
    F_AC = 0x40000
    F_ID = 0x200000
    F_ARITH = 0x8D5

cdef uint8_t PARITY[256]
cdef uint32_t SIZE_MASK[3]
cdef uint32_t SIZE_SB[3]
SIZE_MASK[0] = 0xFF
SIZE_MASK[1] = 0xFFFF
SIZE_MASK[2] = 0xFFFFFFFFU
SIZE_SB[0] = 7
SIZE_SB[1] = 15
SIZE_SB[2] = 31


cdef void init_parity() noexcept:
    cdef int v, k, n
    for v in range(256):
        n = 0
        for k in range(8):
            n += (v >> k) & 1
        PARITY[v] = 1 if (n & 1) == 0 else 0


init_parity()


cdef inline void set_lazy(CpuState *s, uint32_t res, uint32_t cvec, uint32_t sb) noexcept nogil:
    s.lf_res = res
    s.lf_cvec = cvec
    s.lf_sb = sb


cdef inline uint32_t get_cf(CpuState *s) noexcept nogil:
    if s.lf_sb:
        return (s.lf_cvec >> s.lf_sb) & 1
    return s.eflags & 1


cdef inline uint32_t get_zf(CpuState *s) noexcept nogil:
    if s.lf_sb:
        return s.lf_res == 0
    return (s.eflags >> 6) & 1


cdef inline uint32_t get_sf(CpuState *s) noexcept nogil:
    if s.lf_sb:
        return (s.lf_res >> s.lf_sb) & 1
    return (s.eflags >> 7) & 1


cdef inline uint32_t get_of(CpuState *s) noexcept nogil:
    if s.lf_sb:
        return ((s.lf_cvec >> s.lf_sb) ^ (s.lf_cvec >> (s.lf_sb - 1))) & 1
    return (s.eflags >> 11) & 1


cdef inline uint32_t get_pf(CpuState *s) noexcept nogil:
    if s.lf_sb:
        return PARITY[s.lf_res & 0xFF]
    return (s.eflags >> 2) & 1


cdef inline uint32_t get_af(CpuState *s) noexcept nogil:
    if s.lf_sb:
        return (s.lf_cvec >> 3) & 1
    return (s.eflags >> 4) & 1


cdef inline uint32_t read_eflags(CpuState *s) noexcept nogil:
    if not s.lf_sb:
        return s.eflags
    return ((s.eflags & ~(<uint32_t>F_ARITH)) | get_cf(s) | (get_pf(s) << 2) | (get_af(s) << 4)
            | (get_zf(s) << 6) | (get_sf(s) << 7) | (get_of(s) << 11))


cdef inline void materialize(CpuState *s) noexcept nogil:
    s.eflags = read_eflags(s)
    s.lf_sb = 0


cdef inline void set_cf_of(CpuState *s, uint32_t cf, uint32_t of) noexcept nogil:
    # For instructions that change CF/OF and leave SF/ZF/AF/PF alone.
    materialize(s)
    s.eflags = (s.eflags & ~(<uint32_t>(F_CF | F_OF))) | cf | (of << 11)


cdef inline bint cond(CpuState *s, int cc) noexcept nogil:
    cdef bint r
    cdef int k = cc >> 1
    if k == 0:
        r = get_of(s)
    elif k == 1:
        r = get_cf(s)
    elif k == 2:
        r = get_zf(s)
    elif k == 3:
        r = get_cf(s) | get_zf(s)
    elif k == 4:
        r = get_sf(s)
    elif k == 5:
        r = get_pf(s)
    elif k == 6:
        r = get_sf(s) != get_of(s)
    else:
        r = get_zf(s) | (get_sf(s) != get_of(s))
    return r ^ (cc & 1)
