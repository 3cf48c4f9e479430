# Logical: or/and/xor (via alu() in arith.pxi), test, not.
# Logical results leave cvec = 0: CF = OF = AF = 0.

cdef int OR_EdGdM(CpuState *s, Insn *i) noexcept nogil:
    return alu_EG(s, i, 1, 2, OP_OR)
cdef int OR_EdGdR(CpuState *s, Insn *i) noexcept nogil:
    return alu_EG(s, i, 0, 2, OP_OR)
cdef int OR_GdEdM(CpuState *s, Insn *i) noexcept nogil:
    return alu_GE_M(s, i, 2, OP_OR)
cdef int OR_EdIdM(CpuState *s, Insn *i) noexcept nogil:
    return alu_EI(s, i, 1, 2, OP_OR)
cdef int OR_EdIdR(CpuState *s, Insn *i) noexcept nogil:
    return alu_EI(s, i, 0, 2, OP_OR)

cdef int AND_EdGdM(CpuState *s, Insn *i) noexcept nogil:
    return alu_EG(s, i, 1, 2, OP_AND)
cdef int AND_EdGdR(CpuState *s, Insn *i) noexcept nogil:
    return alu_EG(s, i, 0, 2, OP_AND)
cdef int AND_GdEdM(CpuState *s, Insn *i) noexcept nogil:
    return alu_GE_M(s, i, 2, OP_AND)
cdef int AND_EdIdM(CpuState *s, Insn *i) noexcept nogil:
    return alu_EI(s, i, 1, 2, OP_AND)
cdef int AND_EdIdR(CpuState *s, Insn *i) noexcept nogil:
    return alu_EI(s, i, 0, 2, OP_AND)

cdef int XOR_EdGdM(CpuState *s, Insn *i) noexcept nogil:
    return alu_EG(s, i, 1, 2, OP_XOR)
cdef int XOR_EdGdR(CpuState *s, Insn *i) noexcept nogil:
    return alu_EG(s, i, 0, 2, OP_XOR)
cdef int XOR_GdEdM(CpuState *s, Insn *i) noexcept nogil:
    return alu_GE_M(s, i, 2, OP_XOR)
cdef int XOR_EdIdM(CpuState *s, Insn *i) noexcept nogil:
    return alu_EI(s, i, 1, 2, OP_XOR)
cdef int XOR_EdIdR(CpuState *s, Insn *i) noexcept nogil:
    return alu_EI(s, i, 0, 2, OP_XOR)


cdef inline int test_E(CpuState *s, Insn *i, bint mem, bint imm) noexcept nogil:
    cdef uint32_t a, b
    cdef int st
    if mem:
        st = rdv(s, i.osz, i.seg, ea(s, i), &a)
        if unlikely(st):
            return st
    else:
        a = getr(s, i.osz, i.rm)
    b = i.imm if imm else getr(s, i.osz, i.reg)
    set_lazy(s, a & b, 0, ssb(i.osz))
    return 0

cdef int TEST_EvGvM(CpuState *s, Insn *i) noexcept nogil:
    return test_E(s, i, 1, 0)

cdef int TEST_EvGvR(CpuState *s, Insn *i) noexcept nogil:
    return test_E(s, i, 0, 0)

cdef int TEST_EvIvM(CpuState *s, Insn *i) noexcept nogil:
    return test_E(s, i, 1, 1)

cdef int TEST_EvIvR(CpuState *s, Insn *i) noexcept nogil:
    return test_E(s, i, 0, 1)


cdef int NOT_EvM(CpuState *s, Insn *i) noexcept nogil:
    cdef uint32_t a, addr = ea(s, i)
    cdef int st = rdv(s, i.osz, i.seg, addr, &a)
    if unlikely(st):
        return st
    return wrv(s, i.osz, i.seg, addr, ~a)

cdef int NOT_EvR(CpuState *s, Insn *i) noexcept nogil:
    setr(s, i.osz, i.rm, ~getr(s, i.osz, i.rm))
    return 0


cdef void init_alu_tables() noexcept:
    ALU32_EG_M[0] = ADD_EdGdM
    ALU32_EG_R[0] = ADD_EdGdR
    ALU32_GE_M[0] = ADD_GdEdM
    ALU32_EI_M[0] = ADD_EdIdM
    ALU32_EI_R[0] = ADD_EdIdR
    ALU32_EG_M[1] = OR_EdGdM
    ALU32_EG_R[1] = OR_EdGdR
    ALU32_GE_M[1] = OR_GdEdM
    ALU32_EI_M[1] = OR_EdIdM
    ALU32_EI_R[1] = OR_EdIdR
    ALU32_EG_M[2] = ADC_EdGdM
    ALU32_EG_R[2] = ADC_EdGdR
    ALU32_GE_M[2] = ADC_GdEdM
    ALU32_EI_M[2] = ADC_EdIdM
    ALU32_EI_R[2] = ADC_EdIdR
    ALU32_EG_M[3] = SBB_EdGdM
    ALU32_EG_R[3] = SBB_EdGdR
    ALU32_GE_M[3] = SBB_GdEdM
    ALU32_EI_M[3] = SBB_EdIdM
    ALU32_EI_R[3] = SBB_EdIdR
    ALU32_EG_M[4] = AND_EdGdM
    ALU32_EG_R[4] = AND_EdGdR
    ALU32_GE_M[4] = AND_GdEdM
    ALU32_EI_M[4] = AND_EdIdM
    ALU32_EI_R[4] = AND_EdIdR
    ALU32_EG_M[5] = SUB_EdGdM
    ALU32_EG_R[5] = SUB_EdGdR
    ALU32_GE_M[5] = SUB_GdEdM
    ALU32_EI_M[5] = SUB_EdIdM
    ALU32_EI_R[5] = SUB_EdIdR
    ALU32_EG_M[6] = XOR_EdGdM
    ALU32_EG_R[6] = XOR_EdGdR
    ALU32_GE_M[6] = XOR_GdEdM
    ALU32_EI_M[6] = XOR_EdIdM
    ALU32_EI_R[6] = XOR_EdIdR
    ALU32_EG_M[7] = CMP_EdGdM
    ALU32_EG_R[7] = CMP_EdGdR
    ALU32_GE_M[7] = CMP_GdEdM
    ALU32_EI_M[7] = CMP_EdIdM
    ALU32_EI_R[7] = CMP_EdIdR


init_alu_tables()
