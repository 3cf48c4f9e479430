# The decoder: bytes at a physical address -> one Insn in the decoded cache.
#
# Decoding happens once per instruction address (until the page is written);
# it resolves everything the handler would otherwise test at run time: the
# operand size, the effective segment, the ModRM/SIB address as base + index
# << scale + disp (regs[8] is a constant 0 standing for "none"), the
# immediate (sign-extended and masked to the operand size) and, through the
# opcode table in opcodes.pxi, the handler, M or R form chosen here.

cdef struct Dec:
    CpuState *s
    uint32_t lin
    uint32_t pa
    uint32_t pa2
    int n1          # bytes of the instruction that lie on the first page
    int have2
    int pos
    int err         # status of a failed fetch
    int user


cdef inline uint32_t getb(Dec *d) noexcept nogil:
    cdef int st
    cdef uint32_t p = <uint32_t>d.pos
    if d.pos >= 15:
        if not d.err:
            d.err = fault(d.s, 13, 0)     # longer than 15 bytes
        return 0
    d.pos += 1
    if <int>p < d.n1:
        return phys_read(d.s, d.pa + p, 1)
    if not d.have2:
        st = xlate(d.s, (d.lin & 0xFFFFF000U) + 0x1000, 0, d.user, &d.pa2)
        if st:
            if not d.err:
                d.err = st
            return 0
        d.have2 = 1
    return phys_read(d.s, d.pa2 + (p - <uint32_t>d.n1), 1)


cdef inline uint32_t getw(Dec *d) noexcept nogil:
    cdef uint32_t lo = getb(d)
    return lo | (getb(d) << 8)


cdef inline uint32_t getd(Dec *d) noexcept nogil:
    cdef uint32_t lo = getw(d)
    return lo | (getw(d) << 16)


cdef inline uint32_t sext8(uint32_t v) noexcept nogil:
    return <uint32_t><int32_t><int8_t>v


cdef inline uint32_t sext16(uint32_t v) noexcept nogil:
    return <uint32_t><int32_t><int16_t>v


cdef void decode_modrm(Dec *d, Insn *i, uint32_t modrm, int a16) noexcept nogil:
    # Fills base/index/scale/disp/seg for a memory operand (mod != 3).
    cdef uint32_t mod = modrm >> 6
    cdef uint32_t rm = modrm & 7
    cdef uint32_t sib
    i.base = 8
    i.index = 8
    i.scale = 0
    i.disp = 0
    if a16:
        i.amask = 0xFFFF
        if rm == 0:
            i.base = 3
            i.index = 6
        elif rm == 1:
            i.base = 3
            i.index = 7
        elif rm == 2:
            i.base = 5
            i.index = 6
        elif rm == 3:
            i.base = 5
            i.index = 7
        elif rm == 4:
            i.base = 6
        elif rm == 5:
            i.base = 7
        elif rm == 6:
            if mod == 0:
                i.disp = getw(d)
            else:
                i.base = 5
        else:
            i.base = 3
        if mod == 1:
            i.disp = sext8(getb(d))
        elif mod == 2:
            i.disp = getw(d)
        if i.seg == SEG_NONE:
            i.seg = SS if i.base == 5 else DS
        return
    i.amask = 0xFFFFFFFFU
    if rm == 4:
        sib = getb(d)
        i.scale = sib >> 6
        i.index = (sib >> 3) & 7
        if i.index == 4:
            i.index = 8
        i.base = sib & 7
        if i.base == 5 and mod == 0:
            i.base = 8
            i.disp = getd(d)
    elif rm == 5 and mod == 0:
        i.disp = getd(d)
    else:
        i.base = rm
    if mod == 1:
        i.disp = sext8(getb(d))
    elif mod == 2:
        i.disp = getd(d)
    if i.seg == SEG_NONE:
        i.seg = SS if (i.base == 4 or i.base == 5) else DS


cdef int decode(CpuState *s, uint32_t lin, uint32_t pa, Insn *i) noexcept nogil:
    # Returns 0 with *i filled (tag not set), or a fault status.
    cdef Dec d
    cdef uint32_t b, op, modrm = 0
    cdef int osz32 = (s.seg[CS].flags & 0x4) != 0
    cdef int a16 = not osz32
    cdef int lock = 0
    cdef int mem = 0
    d.s = s
    d.lin = lin
    d.pa = pa
    d.n1 = 0x1000 - <int>(lin & 0xFFF)
    d.have2 = 0
    d.pos = 0
    d.err = 0
    d.user = s.cpl == 3
    i.seg = SEG_NONE
    i.rep = 0
    i.imm = 0
    i.imm2 = 0
    i.op = 0
    i.reg = 0
    i.rm = 0
    i.base = 8
    i.index = 8
    i.scale = 0
    i.disp = 0
    i.amask = 0xFFFFFFFFU
    while True:
        b = getb(&d)
        if b == 0x66:
            osz32 = not ((s.seg[CS].flags & 0x4) != 0)
        elif b == 0x67:
            a16 = (s.seg[CS].flags & 0x4) != 0
        elif b == 0xF0:
            lock = 1
        elif b == 0xF2 or b == 0xF3:
            i.rep = <uint8_t>b
        elif b == 0x26:
            i.seg = ES
        elif b == 0x2E:
            i.seg = CS
        elif b == 0x36:
            i.seg = SS
        elif b == 0x3E:
            i.seg = DS
        elif b == 0x64:
            i.seg = FS
        elif b == 0x65:
            i.seg = GS
        else:
            break
        if d.err:
            return d.err
    op = b
    if b == 0x0F:
        op = 0x100 | getb(&d)
    i.osz = 2 if osz32 else 1
    if has_modrm(op):
        modrm = getb(&d)
        i.reg = (modrm >> 3) & 7
        mem = (modrm >> 6) != 3
        if 0x120 <= op <= 0x123:
            mem = 0     # mov to/from cr/dr: mod is ignored, always a register
        if mem:
            decode_modrm(&d, i, modrm, a16)
        else:
            i.rm = modrm & 7
    if i.seg == SEG_NONE:
        i.seg = DS
    if a16:
        i.amask = 0xFFFF
    if not opcode_table(&d, i, op, mem, lock, a16):
        i.fn = UD
    if d.err:
        return d.err
    i.len = <uint8_t>d.pos
    return 0


cdef bint has_modrm(uint32_t op) noexcept nogil:
    if op < 0x100:
        if op < 0x40:
            return (op & 7) < 4
        return (op == 0x62 or op == 0x63 or op == 0x69 or op == 0x6B or 0x80 <= op <= 0x8F
                or op == 0xC0 or op == 0xC1 or 0xC4 <= op <= 0xC7 or 0xD0 <= op <= 0xD3
                or 0xD8 <= op <= 0xDF or op == 0xF6 or op == 0xF7 or op == 0xFE or op == 0xFF)
    op &= 0xFF
    return (op <= 0x03 or op == 0x0D or 0x18 <= op <= 0x23 or 0x40 <= op <= 0x4F
            or 0x90 <= op <= 0x9F or op in (0xA3, 0xA4, 0xA5, 0xAB, 0xAC, 0xAD, 0xAF)
            or 0xB0 <= op <= 0xB7 or 0xBA <= op <= 0xBF or op == 0xC0 or op == 0xC1
            or op == 0xC7)
