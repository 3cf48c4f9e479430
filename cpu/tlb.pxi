# Guest memory access from instructions: the inline fast path.
#
# The TLB is direct-mapped, one array per privilege class (CPL 3 and CPL
# 0-2) so a ring change only swaps s.tlb.  A hit needs one compare: the tag
# is compared with the page of the access's *last* byte, so an access that
# crosses a page never matches (the entry at the first page's index cannot
# hold the next page) and falls to the slow path in paging.pxi.  Entries of
# pages holding decoded code or watched by a hook have no wtag, so writes to
# them always take the slow path, which invalidates or calls the hook.

cdef extern from *:
    """
    static inline uint32_t pv_load16(const uint8_t *p) { uint16_t v; __builtin_memcpy(&v, p, 2); return v; }
    static inline uint32_t pv_load32(const uint8_t *p) { uint32_t v; __builtin_memcpy(&v, p, 4); return v; }
    static inline void pv_store16(uint8_t *p, uint32_t v) { uint16_t x = (uint16_t)v; __builtin_memcpy(p, &x, 2); }
    static inline void pv_store32(uint8_t *p, uint32_t v) { __builtin_memcpy(p, &v, 4); }
    """
    bint likely(bint) nogil
    bint unlikely(bint) nogil
    uint32_t pv_load16(const uint8_t *p) nogil
    uint32_t pv_load32(const uint8_t *p) nogil
    void pv_store16(uint8_t *p, uint32_t v) nogil
    void pv_store32(uint8_t *p, uint32_t v) nogil


cdef inline int rd8(CpuState *s, int seg, uint32_t off, uint32_t *out) noexcept nogil:
    cdef uint32_t lin = off + s.seg[seg].base
    cdef TlbEntry *e = &s.tlb[(lin >> 12) & TLB_MASK]
    if likely(s.seg[seg].rfast != 0 and e.rtag == (lin & 0xFFFFF000U)):
        out[0] = e.host[lin & 0xFFF]
        return 0
    return read_slow(s, seg, off, 1, out)


cdef inline int rd16(CpuState *s, int seg, uint32_t off, uint32_t *out) noexcept nogil:
    cdef uint32_t lin = off + s.seg[seg].base
    cdef TlbEntry *e = &s.tlb[(lin >> 12) & TLB_MASK]
    if likely(s.seg[seg].rfast != 0 and e.rtag == ((lin + 1) & 0xFFFFF000U)):
        out[0] = pv_load16(e.host + (lin & 0xFFF))
        return 0
    return read_slow(s, seg, off, 2, out)


cdef inline int rd32(CpuState *s, int seg, uint32_t off, uint32_t *out) noexcept nogil:
    cdef uint32_t lin = off + s.seg[seg].base
    cdef TlbEntry *e = &s.tlb[(lin >> 12) & TLB_MASK]
    if likely(s.seg[seg].rfast != 0 and e.rtag == ((lin + 3) & 0xFFFFF000U)):
        out[0] = pv_load32(e.host + (lin & 0xFFF))
        return 0
    return read_slow(s, seg, off, 4, out)


cdef inline int wr8(CpuState *s, int seg, uint32_t off, uint32_t v) noexcept nogil:
    cdef uint32_t lin = off + s.seg[seg].base
    cdef TlbEntry *e = &s.tlb[(lin >> 12) & TLB_MASK]
    if likely(s.seg[seg].wfast != 0 and e.wtag == (lin & 0xFFFFF000U)):
        e.host[lin & 0xFFF] = <uint8_t>v
        return 0
    return write_slow(s, seg, off, 1, v)


cdef inline int wr16(CpuState *s, int seg, uint32_t off, uint32_t v) noexcept nogil:
    cdef uint32_t lin = off + s.seg[seg].base
    cdef TlbEntry *e = &s.tlb[(lin >> 12) & TLB_MASK]
    if likely(s.seg[seg].wfast != 0 and e.wtag == ((lin + 1) & 0xFFFFF000U)):
        pv_store16(e.host + (lin & 0xFFF), v)
        return 0
    return write_slow(s, seg, off, 2, v)


cdef inline int wr32(CpuState *s, int seg, uint32_t off, uint32_t v) noexcept nogil:
    cdef uint32_t lin = off + s.seg[seg].base
    cdef TlbEntry *e = &s.tlb[(lin >> 12) & TLB_MASK]
    if likely(s.seg[seg].wfast != 0 and e.wtag == ((lin + 3) & 0xFFFFF000U)):
        pv_store32(e.host + (lin & 0xFFF), v)
        return 0
    return write_slow(s, seg, off, 4, v)


# Width-generic forms: sz is 0/1/2 (byte/word/dword); constant at most call
# sites, so the compiler folds the switch away.
cdef inline int rdv(CpuState *s, int sz, int seg, uint32_t off, uint32_t *out) noexcept nogil:
    if sz == 2:
        return rd32(s, seg, off, out)
    if sz == 1:
        return rd16(s, seg, off, out)
    return rd8(s, seg, off, out)


cdef inline int wrv(CpuState *s, int sz, int seg, uint32_t off, uint32_t v) noexcept nogil:
    if sz == 2:
        return wr32(s, seg, off, v)
    if sz == 1:
        return wr16(s, seg, off, v)
    return wr8(s, seg, off, v)


# Registers by width.  8-bit numbers 4-7 are AH CH DH BH.
cdef inline uint32_t getr(CpuState *s, int sz, int r) noexcept nogil:
    if sz == 2:
        return s.regs[r]
    if sz == 1:
        return s.regs[r] & 0xFFFF
    if r < 4:
        return s.regs[r] & 0xFF
    return (s.regs[r - 4] >> 8) & 0xFF


cdef inline void setr(CpuState *s, int sz, int r, uint32_t v) noexcept nogil:
    if sz == 2:
        s.regs[r] = v
    elif sz == 1:
        s.regs[r] = (s.regs[r] & 0xFFFF0000U) | (v & 0xFFFF)
    elif r < 4:
        s.regs[r] = (s.regs[r] & 0xFFFFFF00U) | (v & 0xFF)
    else:
        s.regs[r - 4] = (s.regs[r - 4] & 0xFFFF00FFU) | ((v & 0xFF) << 8)


cdef inline uint32_t ea(CpuState *s, Insn *i) noexcept nogil:
    return (i.disp + s.regs[i.base] + (s.regs[i.index] << i.scale)) & i.amask


# Stack (a 32-bit SS is assumed: the B bit of SS is not modeled).
cdef inline int push32(CpuState *s, uint32_t v) noexcept nogil:
    cdef int st = wr32(s, SS, s.regs[4] - 4, v)
    if likely(st == 0):
        s.regs[4] -= 4
    return st


cdef inline int pushv(CpuState *s, int sz, uint32_t v) noexcept nogil:
    cdef uint32_t n = 4 if sz == 2 else 2
    cdef int st = wrv(s, sz, SS, s.regs[4] - n, v)
    if likely(st == 0):
        s.regs[4] -= n
    return st


cdef inline int pop32(CpuState *s, uint32_t *v) noexcept nogil:
    # The caller commits ESP += 4 once nothing else can fault.
    return rd32(s, SS, s.regs[4], v)
