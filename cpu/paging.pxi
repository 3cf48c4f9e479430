# Physical memory, the page walk and the slow paths of memory access.
#
# X86 registers which affect paging (SDM vol. 3, 4.3):
#   CR0.PG   paging on        CR0.WP  supervisor writes honour R/W
#   CR4.PSE  4 MiB pages      CR4.PGE global pages survive cr3 writes
#   CR3      page directory base (bits 31:12)
# PDE/PTE bits: P=0 R/W=1 U/S=2 A=5 D=6 PS=7 (PDE) G=8.
# #PF error code: P=0 (protection, not absence) W/R=1 U/S=2; CR2 = address.

cdef enum:
    CR0_PE = 1
    CR0_MP = 2
    CR0_EM = 4
    CR0_TS = 8
    CR0_ET = 0x10
    CR0_NE = 0x20
    CR0_WP = 0x10000
    CR0_AM = 0x40000
    CR0_NW = 0x20000000
    CR0_CD = 0x40000000
    CR0_PG = 0x80000000U
    CR4_TSD = 4
    CR4_PSE = 0x10
    CR4_PGE = 0x80


cdef inline int fault(CpuState *s, int vec, int code) noexcept nogil:
    s.exc_vec = vec
    s.exc_code = code
    return S_FAULT


# --- physical memory --------------------------------------------------------

cdef inline uint32_t phys_read(CpuState *s, uint32_t pa, int n) noexcept nogil:
    cdef uint32_t v = 0
    cdef int k
    if likely(<uint64_t>pa + n <= s.mem_size):
        if n == 4:
            return pv_load32(s.mem + pa)
        if n == 2:
            return pv_load16(s.mem + pa)
        return s.mem[pa]
    # Unbacked bus: reads float high.
    for k in range(n):
        if <uint64_t>pa + k < s.mem_size:
            v |= (<uint32_t>s.mem[pa + k]) << (8 * k)
        else:
            v |= (<uint32_t>0xFF) << (8 * k)
    return v


cdef inline uint32_t dc_hash(uint32_t pa) noexcept nogil:
    return (pa ^ (pa >> DC_BITS) ^ (pa >> 22)) & DC_MASK


cdef void dc_invalidate(CpuState *s, uint32_t pa, uint32_t n) noexcept nogil:
    # An instruction starting up to 15 bytes before the write may cover it.
    cdef int64_t a = <int64_t>pa - 15
    cdef int64_t end = <int64_t>pa + n
    cdef Insn *i
    if a < 0:
        a = 0
    while a < end:
        i = &s.dcache[dc_hash(<uint32_t>a)]
        if i.tag == <uint32_t>a:
            i.tag = DC_INVALID
            s.c_dc_inval += 1
        a += 1


cdef void dc_flush(CpuState *s) noexcept nogil:
    # Drops every decoded instruction.
    cdef int k
    for k in range(DC_SIZE):
        s.dcache[k].tag = DC_INVALID


cdef void dc_invalidate_range(CpuState *s, uint32_t pa, uint32_t n) noexcept nogil:
    # Host writes (m.write, the patcher): only pages that hold code matter.
    cdef uint64_t a = pa
    cdef uint64_t end = <uint64_t>pa + n
    cdef uint64_t chunk_end
    while a < end:
        chunk_end = (a | 0xFFF) + 1
        if chunk_end > end:
            chunk_end = end
        if (a >> 12) < s.npages and (s.page_flags[a >> 12] & PG_CODE):
            dc_invalidate(s, <uint32_t>a, <uint32_t>(chunk_end - a))
        a = chunk_end


cdef int phys_write(CpuState *s, uint32_t pa, int n, uint32_t v) noexcept nogil:
    # The only path by which the guest changes memory other than the TLB
    # fast path; callers never let [pa, pa+n) cross a page.
    cdef uint8_t f
    cdef int k
    if unlikely(<uint64_t>pa + n > s.mem_size):
        for k in range(n):
            if <uint64_t>pa + k < s.mem_size:
                phys_write(s, pa + k, 1, v >> (8 * k))
        return 0
    f = s.page_flags[pa >> 12]
    if f:
        if (f & PG_WATCH) and s.watch_on:
            if s.watch_seq < s.watch_ok:
                s.watch_seq += 1
                if (s.watch_drop >> (s.watch_seq - 1)) & 1:
                    return 0
            else:
                s.watch_addr = pa
                s.watch_size = n
                s.watch_value = v
                return S_WATCH
        if f & PG_CODE:
            dc_invalidate(s, pa, n)
    if n == 4:
        pv_store32(s.mem + pa, v)
    elif n == 2:
        pv_store16(s.mem + pa, v)
    else:
        s.mem[pa] = <uint8_t>v
    return 0


cdef void phys_write_raw(CpuState *s, uint32_t pa, int n, uint32_t v) noexcept nogil:
    # Core-internal writes (A/D bits, descriptor busy/accessed bits, frames
    # pushed while delivering an exception): no watch hook.
    cdef int save = s.watch_on
    s.watch_on = 0
    phys_write(s, pa, n, v)
    s.watch_on = save


# --- TLB --------------------------------------------------------------------

cdef void tlb_flush(CpuState *s, bint include_global) noexcept nogil:
    cdef int k
    for k in range(TLB_SIZE):
        if include_global or not s.tlb_sup[k].glob:
            s.tlb_sup[k].rtag = TLB_INVALID
            s.tlb_sup[k].wtag = TLB_INVALID
            s.tlb_sup[k].wperm = TLB_INVALID
        if include_global or not s.tlb_user[k].glob:
            s.tlb_user[k].rtag = TLB_INVALID
            s.tlb_user[k].wtag = TLB_INVALID
            s.tlb_user[k].wperm = TLB_INVALID
    s.fetch_lin = TLB_INVALID
    s.c_tlb_flush += 1


cdef inline void tlb_drop(TlbEntry *e, uint32_t page) noexcept nogil:
    if e.rtag == page or e.wperm == page:
        e.rtag = TLB_INVALID
        e.wtag = TLB_INVALID
        e.wperm = TLB_INVALID


cdef void tlb_flush_page(CpuState *s, uint32_t lin) noexcept nogil:
    cdef uint32_t page = lin & 0xFFFFF000U
    tlb_drop(&s.tlb_sup[(lin >> 12) & TLB_MASK], page)
    tlb_drop(&s.tlb_user[(lin >> 12) & TLB_MASK], page)
    s.fetch_lin = TLB_INVALID


cdef void tlb_drop_writes_to(CpuState *s, uint32_t ppage) noexcept nogil:
    # A page just became code or watched: its writes must see the slow path.
    cdef int k
    for k in range(TLB_SIZE):
        if s.tlb_sup[k].ppage == ppage:
            s.tlb_sup[k].wtag = TLB_INVALID
        if s.tlb_user[k].ppage == ppage:
            s.tlb_user[k].wtag = TLB_INVALID


cdef inline int page_fault(CpuState *s, uint32_t lin, int code) noexcept nogil:
    s.cr2 = lin
    return fault(s, 14, code)


cdef int tlb_fill(CpuState *s, uint32_t lin, int write, int user) noexcept nogil:
    cdef TlbEntry *e = &(&s.tlb_user[0] if user else &s.tlb_sup[0])[(lin >> 12) & TLB_MASK]
    cdef uint32_t page = lin & 0xFFFFF000U
    cdef uint32_t pde_addr, pde, pte_addr, pte, ppage, perm, newe
    cdef uint32_t glob = 0
    cdef bint dirty, writable
    cdef int err = (2 if write else 0) | (4 if user else 0)
    s.c_tlb_miss += 1
    if not (s.cr0 & CR0_PG):
        ppage = page
        writable = 1
        dirty = 1
    else:
        s.c_walk += 1
        pde_addr = (s.cr3 & 0xFFFFF000U) | ((lin >> 20) & 0xFFC)
        pde = phys_read(s, pde_addr, 4)
        if not (pde & 1):
            return page_fault(s, lin, err)
        if (pde & 0x80) and (s.cr4 & CR4_PSE):
            perm = pde
            if user and not (perm & 4):
                return page_fault(s, lin, err | 1)
            writable = (perm & 2) != 0 or (not user and not (s.cr0 & CR0_WP))
            if write and not writable:
                return page_fault(s, lin, err | 1)
            newe = pde | 0x20 | (0x40 if write else 0)
            if newe != pde:
                phys_write_raw(s, pde_addr, 4, newe)
            dirty = (newe & 0x40) != 0
            ppage = (pde & 0xFFC00000U) | (lin & 0x003FF000)
            glob = (pde & 0x100) != 0 and (s.cr4 & CR4_PGE) != 0
        else:
            if not (pde & 0x20):
                pde |= 0x20
                phys_write_raw(s, pde_addr, 4, pde)
            pte_addr = (pde & 0xFFFFF000U) | ((lin >> 10) & 0xFFC)
            pte = phys_read(s, pte_addr, 4)
            if not (pte & 1):
                return page_fault(s, lin, err)
            perm = pde & pte
            if user and not (perm & 4):
                return page_fault(s, lin, err | 1)
            writable = (perm & 2) != 0 or (not user and not (s.cr0 & CR0_WP))
            if write and not writable:
                return page_fault(s, lin, err | 1)
            newe = pte | 0x20 | (0x40 if write else 0)
            if newe != pte:
                phys_write_raw(s, pte_addr, 4, newe)
            dirty = (newe & 0x40) != 0
            ppage = pte & 0xFFFFF000U
            glob = (pte & 0x100) != 0 and (s.cr4 & CR4_PGE) != 0
    e.ppage = ppage
    e.glob = glob
    e.wperm = page if (writable and dirty) else TLB_INVALID
    if <uint64_t>ppage + 0x1000 <= s.mem_size:
        e.host = s.mem + ppage
        e.rtag = page
        e.wtag = e.wperm if s.page_flags[ppage >> 12] == 0 else TLB_INVALID
    else:
        e.host = NULL
        e.rtag = TLB_INVALID
        e.wtag = TLB_INVALID
    return 0


cdef int xlate(CpuState *s, uint32_t lin, int write, int user, uint32_t *pa) noexcept nogil:
    # Linear to physical with the access checks of (write, user).
    cdef TlbEntry *e = &(&s.tlb_user[0] if user else &s.tlb_sup[0])[(lin >> 12) & TLB_MASK]
    cdef uint32_t page = lin & 0xFFFFF000U
    cdef int st
    if (e.wperm if write else e.rtag) != page:
        st = tlb_fill(s, lin, write, user)
        if st:
            return st
    pa[0] = e.ppage | (lin & 0xFFF)
    return 0


cdef int lin_read(CpuState *s, uint32_t lin, int n, int user, uint32_t *out) noexcept nogil:
    cdef uint32_t pa, pa2, v
    cdef int st, k, n1
    st = xlate(s, lin, 0, user, &pa)
    if st:
        return st
    n1 = 0x1000 - (lin & 0xFFF)
    if n <= n1:
        out[0] = phys_read(s, pa, n)
        return 0
    st = xlate(s, lin + <uint32_t>n1, 0, user, &pa2)
    if st:
        return st
    v = 0
    for k in range(n):
        if k < n1:
            v |= phys_read(s, pa + k, 1) << (8 * k)
        else:
            v |= phys_read(s, pa2 + (k - n1), 1) << (8 * k)
    out[0] = v
    return 0


cdef int lin_write(CpuState *s, uint32_t lin, int n, int user, uint32_t v) noexcept nogil:
    cdef uint32_t pa, pa2
    cdef int st, k, n1
    st = xlate(s, lin, 1, user, &pa)
    if st:
        return st
    n1 = 0x1000 - (lin & 0xFFF)
    if n <= n1:
        return phys_write(s, pa, n, v)
    # Both pages must be writable before either is written.
    st = xlate(s, lin + <uint32_t>n1, 1, user, &pa2)
    if st:
        return st
    for k in range(n):
        if k < n1:
            st = phys_write(s, pa + k, 1, v >> (8 * k))
        else:
            st = phys_write(s, pa2 + (k - n1), 1, v >> (8 * k))
        if st:
            return st
    return 0


# --- segment checks and the slow paths of tlb.pxi -----------------------------

cdef int seg_check(CpuState *s, int seg, uint32_t off, int n, int write) noexcept nogil:
    cdef Seg *g = &s.seg[seg]
    cdef int vec = 12 if seg == SS else 13
    cdef uint32_t top, last
    if not g.valid:
        return fault(s, vec, 0)
    if write:
        if (g.access & 0x8) or not (g.access & 0x2):
            return fault(s, vec, 0)
    elif (g.access & 0xA) == 0x8:
        return fault(s, vec, 0)     # execute-only code segment
    last = off + <uint32_t>(n - 1)
    if (g.access & 0xC) == 0x4:
        # Expand-down data: valid offsets are (limit, top].
        top = 0xFFFFFFFFU if (g.flags & 0x4) else 0xFFFF
        if off <= g.limit or last > top or last < off:
            return fault(s, vec, 0)
    elif off > g.limit or last > g.limit or last < off:
        return fault(s, vec, 0)
    return 0


cdef int read_slow(CpuState *s, int seg, uint32_t off, int n, uint32_t *out) noexcept nogil:
    cdef int st
    if not s.seg[seg].rfast:
        st = seg_check(s, seg, off, n, 0)
        if st:
            return st
    return lin_read(s, off + s.seg[seg].base, n, s.cpl == 3, out)


cdef int write_slow(CpuState *s, int seg, uint32_t off, int n, uint32_t v) noexcept nogil:
    cdef int st
    if not s.seg[seg].wfast:
        st = seg_check(s, seg, off, n, 1)
        if st:
            return st
    return lin_write(s, off + s.seg[seg].base, n, s.cpl == 3, v)


# Implicit supervisor accesses (descriptor tables, TSS).
cdef inline int sys_read(CpuState *s, uint32_t lin, int n, uint32_t *out) noexcept nogil:
    return lin_read(s, lin, n, 0, out)


cdef int sys_write(CpuState *s, uint32_t lin, int n, uint32_t v) noexcept nogil:
    cdef int save = s.watch_on
    cdef int st
    s.watch_on = 0
    st = lin_write(s, lin, n, 0, v)
    s.watch_on = save
    return st
