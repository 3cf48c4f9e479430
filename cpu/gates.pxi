# Gates: a physical range whose execution dispatches to a host slot.
#
# A gate table is `nslots` slots of GATE_STRIDE (32) bytes at a physical
# base, the layout of VMI ROM call slots and Xen hypercall-page stubs.
# Executing the first byte of slot k (by any virtual mapping: the decoder
# works on physical addresses) decodes to GATE, which returns S_GATE; the
# run loop calls the slot and then returns to the caller as if by `ret`
# (unless the slot moved EIP itself).  Other bytes of the table execute as
# ordinary guest code.  Because gates live in the decoded cache, adding or
# replacing a table only needs the cache entries of its range dropped.

cdef int GATE(CpuState *s, Insn *i) noexcept nogil:
    s.exc_vec = i.op
    s.exc_code = <int>i.imm
    return S_GATE


cdef bint gate_lookup(CpuState *s, uint32_t pa, Insn *i) noexcept nogil:
    cdef int k
    cdef GateTable *g
    for k in range(s.ngates):
        g = &s.gates[k]
        if g.base <= pa < g.base + g.nslots * GATE_STRIDE and (pa - g.base) % GATE_STRIDE == 0:
            i.fn = GATE
            i.op = <uint8_t>k
            i.imm = (pa - g.base) // GATE_STRIDE
            i.len = 1
            return True
    return False


cdef int fetch_refill(CpuState *s, uint32_t lin) noexcept nogil:
    # The fetch page is cached only under a 4 GiB CS limit, so the limit
    # check here is the only one instruction fetch needs.
    cdef uint32_t pa
    cdef int st
    if s.eip > s.seg[CS].limit:
        return fault(s, 13, 0)
    st = xlate(s, lin, 0, s.cpl == 3, &pa)
    if st:
        return st
    s.fetch_phys = pa & 0xFFFFF000U
    s.fetch_lin = (lin & 0xFFFFF000U) if s.seg[CS].limit == 0xFFFFFFFFU else TLB_INVALID
    return 0


cdef Insn *decode_at(CpuState *s, uint32_t lin, uint32_t pa, Insn *i) noexcept nogil:
    # Decodes into the cache slot i; returns the entry to execute (the slot,
    # or s.scratch for an instruction that crosses a page or lies outside
    # memory), or NULL with a fault pending.
    cdef int st
    cdef uint32_t page = pa >> 12
    s.c_dc_decode += 1
    i.tag = DC_INVALID
    if not (pa < s.mem_size and (s.page_flags[page] & PG_GATE) and gate_lookup(s, pa, i)):
        st = decode(s, lin, pa, i)
        if st:
            return NULL
    if pa >= s.mem_size or (pa & 0xFFF) + i.len > 0x1000:
        s.scratch = i[0]
        return &s.scratch
    i.tag = pa
    if not (s.page_flags[page] & PG_CODE):
        s.page_flags[page] |= PG_CODE
        tlb_drop_writes_to(s, pa & 0xFFFFF000U)
    return i


cdef int inner_loop(CpuState *s) noexcept nogil:
    # The hot loop: fetch page check, decoded-cache lookup, one indirect call.
    # CS and the fetch page can only change in handlers that return a status
    # (far transfers, iret, CR and TLB writes), so they live in locals here;
    # the retired count is kept in a local and stored, never reloaded.
    cdef Insn *i
    cdef uint32_t lin, pa, eip
    cdef uint32_t cs_base = s.seg[CS].base
    cdef uint64_t ic = s.icount
    cdef uint64_t stop = s.stop_at
    cdef int st
    while ic < stop:
        eip = s.eip
        s.cur_eip = eip
        lin = eip + cs_base
        if unlikely((lin & 0xFFFFF000U) != s.fetch_lin):
            st = fetch_refill(s, lin)
            if st:
                return st
        pa = s.fetch_phys | (lin & 0xFFF)
        i = &s.dcache[dc_hash(pa)]
        if unlikely(i.tag != pa):
            i = decode_at(s, lin, pa, i)
            if i == NULL:
                return S_FAULT
        s.eip = eip + i.len
        st = i.fn(s, i)
        if unlikely(st != 0):
            s.cur_insn = i
            if st == S_BREAK:
                s.icount = ic + 1
            return st
        ic += 1
        s.icount = ic
    return S_OK
