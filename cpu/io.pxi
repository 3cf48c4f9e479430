# Port I/O.  No TSS I/O bitmap: CPL > IOPL is #GP(0) (offered to the gp
# hook as kind in/out/ins/outs).  Then a port_io intercept sees every port;
# then a port with a hook returns S_IO and the run loop calls the hook; any
# other port reads all ones and ignores writes.

cdef inline bint port_hooked(CpuState *s, uint32_t port) noexcept nogil:
    return (s.port_hooked[port >> 3] >> (port & 7)) & 1


cdef int IN_(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t port = i.imm if i.op else (s.regs[2] & 0xFFFF)
    if not iopl_ok(s):
        return priv(s, K_IN, SK_PORT_IO)
    if sensitive(s, SK_PORT_IO):
        return S_INTERCEPT
    if port_hooked(s, port):
        s.io_port = port
        s.io_size = 1u << i.osz
        s.io_in = 1
        s.io_string = 0
        return S_IO
    setr(s, i.osz, 0, 0xFFFFFFFFU)
    return 0


cdef int OUT_(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t port = i.imm if i.op else (s.regs[2] & 0xFFFF)
    if not iopl_ok(s):
        return priv(s, K_OUT, SK_PORT_IO)
    if sensitive(s, SK_PORT_IO):
        return S_INTERCEPT
    if port_hooked(s, port):
        s.io_port = port
        s.io_size = 1u << i.osz
        s.io_value = getr(s, i.osz, 0)
        s.io_in = 0
        s.io_string = 0
        return S_IO
    return 0


# ins/outs do one element per execution; with rep the instruction stays on
# itself (S_REPEAT) until ECX is exhausted.

cdef inline int string_io_next(CpuState *s, Insn *i) noexcept nogil:
    if i.rep:
        s.regs[1] -= 1
        if s.regs[1] != 0:
            s.eip = s.cur_eip
            return S_REPEAT
    return 0


cdef int INS(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t port = s.regs[2] & 0xFFFF
    cdef int st
    if not iopl_ok(s):
        return priv(s, K_INS, SK_PORT_IO)
    if i.rep and s.regs[1] == 0:
        return 0
    if sensitive(s, SK_PORT_IO):
        return S_INTERCEPT
    if port_hooked(s, port):
        s.io_port = port
        s.io_size = 1u << i.osz
        s.io_in = 1
        s.io_string = 1
        return S_IO
    st = wrv(s, i.osz, ES, s.regs[7], 0xFFFFFFFFU)
    if st:
        return st
    s.regs[7] += str_delta(s, i.osz)
    return string_io_next(s, i)


cdef int OUTS(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t port = s.regs[2] & 0xFFFF, v
    cdef int st
    if not iopl_ok(s):
        return priv(s, K_OUTS, SK_PORT_IO)
    if i.rep and s.regs[1] == 0:
        return 0
    if sensitive(s, SK_PORT_IO):
        return S_INTERCEPT
    st = rdv(s, i.osz, i.seg, s.regs[6], &v)
    if st:
        return st
    if port_hooked(s, port):
        s.io_port = port
        s.io_size = 1u << i.osz
        s.io_value = v
        s.io_in = 0
        s.io_string = 1
        return S_IO
    s.regs[6] += str_delta(s, i.osz)
    return string_io_next(s, i)


cdef int io_finish(CpuState *s, Insn *i, uint32_t value) noexcept nogil:
    # After the hook of an S_IO: complete the instruction.
    cdef int st
    if not s.io_string:
        if s.io_in:
            setr(s, i.osz, 0, value)
        return 0
    if s.io_in:
        st = wrv(s, i.osz, ES, s.regs[7], value)
        if st:
            return st
        s.regs[7] += str_delta(s, i.osz)
    else:
        s.regs[6] += str_delta(s, i.osz)
    return string_io_next(s, i)
