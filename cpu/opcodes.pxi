# The opcode table: opcode (0x0F xx as 0x1xx) -> handler, operand size and
# immediates.  Handlers are named in Intel operand notation with an M or R
# suffix for the memory or register form of the ModRM operand (Bochs
# ia_opcodes.def style); the R form of a "G,E" instruction is decoded as the
# "E,G" form with reg and rm swapped, so one handler serves both.
#
# Returns False for an encoding the core does not implement: #UD.

cdef Handler ALU32_EG_M[8]
cdef Handler ALU32_EG_R[8]
cdef Handler ALU32_GE_M[8]
cdef Handler ALU32_EI_M[8]
cdef Handler ALU32_EI_R[8]


cdef inline void mr(Insn *i, int mem, Handler m, Handler r) noexcept nogil:
    i.fn = m if mem else r


cdef inline uint32_t imm_z(Dec *d, Insn *i) noexcept nogil:
    if i.osz == 2:
        return getd(d)
    return getw(d)


cdef inline uint32_t imm_b(Dec *d, Insn *i) noexcept nogil:
    # An 8-bit immediate sign-extended to the operand size.
    return sext8(getb(d)) & SIZE_MASK[i.osz]


cdef inline void swap_reg_rm(Insn *i) noexcept nogil:
    cdef uint8_t t = i.reg
    i.reg = i.rm
    i.rm = t


cdef bint opcode_table(Dec *d, Insn *i, uint32_t op, int mem, int lock, int a16) noexcept nogil:
    cdef uint32_t lo = op & 7
    cdef int lockable = 0
    cdef uint32_t r = i.reg
    if op < 0x40 and lo < 6:
        i.op = <uint8_t>(op >> 3)
        if lo == 0 or lo == 2 or lo == 4:
            i.osz = 0
        if lo <= 1:
            if i.osz == 2:
                mr(i, mem, ALU32_EG_M[i.op], ALU32_EG_R[i.op])
            else:
                mr(i, mem, ALU_EvGvM, ALU_EvGvR)
            lockable = i.op != 7
        elif lo <= 3:
            if mem:
                i.fn = ALU32_GE_M[i.op] if i.osz == 2 else ALU_GvEvM
            else:
                swap_reg_rm(i)
                i.fn = ALU32_EG_R[i.op] if i.osz == 2 else ALU_EvGvR
        else:
            i.rm = 0
            i.imm = getb(d) if lo == 4 else imm_z(d, i)
            i.fn = ALU32_EI_R[i.op] if i.osz == 2 else ALU_EvIvR
    elif op < 0x40:
        if lo == 6 and op < 0x20:
            i.reg = <uint8_t>(op >> 3)
            i.fn = PUSH_Sw
        elif lo == 7 and op < 0x20:
            i.reg = <uint8_t>(op >> 3)
            i.fn = POP_Sw
        elif op == 0x27 or op == 0x2F or op == 0x37 or op == 0x3F:
            i.op = <uint8_t>((op >> 3) & 3)     # 0 daa, 1 das, 2 aaa, 3 aas
            i.fn = BCD_ADJ
        else:
            return False
    elif op < 0x50:
        i.rm = <uint8_t>lo
        if op < 0x48:
            i.fn = INC_ERd if i.osz == 2 else INC_EvR
        else:
            i.fn = DEC_ERd if i.osz == 2 else DEC_EvR
    elif op < 0x58:
        i.reg = <uint8_t>lo
        i.fn = PUSH_ERd if i.osz == 2 else PUSH_Rw
    elif op < 0x60:
        i.reg = <uint8_t>lo
        i.fn = POP_ERd if i.osz == 2 else POP_Rw
    elif op == 0x60:
        i.fn = PUSHA
    elif op == 0x61:
        i.fn = POPA
    elif op == 0x68:
        i.imm = imm_z(d, i)
        i.fn = PUSH_Iv
    elif op == 0x6A:
        i.imm = imm_b(d, i)
        i.fn = PUSH_Iv
    elif op == 0x69 or op == 0x6B:
        i.imm = imm_z(d, i) if op == 0x69 else imm_b(d, i)
        mr(i, mem, IMUL_GvEvIvM, IMUL_GvEvIvR)
    elif 0x6C <= op <= 0x6F:
        if a16:
            return False
        i.osz = 0 if (op & 1) == 0 else i.osz
        i.fn = INS if op < 0x6E else OUTS
    elif op < 0x80:
        i.op = <uint8_t>(op & 0xF)
        i.imm = sext8(getb(d))
        i.fn = JCC_Jd if i.osz == 2 else JCC_Jw
    elif op <= 0x83:
        i.op = <uint8_t>r
        if op != 0x81:
            if op != 0x83:
                i.osz = 0
            i.imm = imm_b(d, i)
        else:
            i.imm = imm_z(d, i)
        if i.osz == 2:
            mr(i, mem, ALU32_EI_M[r], ALU32_EI_R[r])
        else:
            mr(i, mem, ALU_EvIvM, ALU_EvIvR)
        lockable = r != 7
    elif op <= 0x85:
        if op == 0x84:
            i.osz = 0
        mr(i, mem, TEST_EvGvM, TEST_EvGvR)
    elif op <= 0x87:
        if op == 0x86:
            i.osz = 0
        mr(i, mem, XCHG_EvGvM, XCHG_EvGvR)
        lockable = 1
    elif op <= 0x89:
        if op == 0x88:
            i.osz = 0
        if i.osz == 2:
            mr(i, mem, MOV_EdGdM, MOV_EdGdR)
        else:
            mr(i, mem, MOV_EvGvM, MOV_EvGvR)
    elif op <= 0x8B:
        if op == 0x8A:
            i.osz = 0
        if not mem:
            swap_reg_rm(i)
            i.fn = MOV_EdGdR if i.osz == 2 else MOV_EvGvR
        else:
            i.fn = MOV_GdEdM if i.osz == 2 else MOV_GvEvM
    elif op == 0x8C:
        if r > 5:
            return False
        mr(i, mem, MOV_EwSwM, MOV_EwSwR)
    elif op == 0x8D:
        if not mem:
            return False
        i.fn = LEA_GdM if (i.osz == 2 and not a16) else LEA_GvM
    elif op == 0x8E:
        if r > 5 or r == CS:
            return False
        mr(i, mem, MOV_SwEwM, MOV_SwEwR)
    elif op == 0x8F:
        if r != 0:
            return False
        mr(i, mem, POP_EvM, POP_EvR)
    elif op == 0x90:
        i.fn = NOP
    elif op < 0x98:
        i.rm = <uint8_t>lo
        i.reg = 0
        i.fn = XCHG_EvGvR
    elif op == 0x98:
        i.fn = CBW
    elif op == 0x99:
        i.fn = CWD
    elif op == 0x9A:
        i.imm = imm_z(d, i)
        i.imm2 = <uint16_t>getw(d)
        i.fn = CALLF_Ap
    elif op == 0x9B:
        i.fn = NOP
    elif op == 0x9C:
        i.fn = PUSHF
    elif op == 0x9D:
        i.fn = POPF
    elif op == 0x9E:
        i.fn = SAHF
    elif op == 0x9F:
        i.fn = LAHF
    elif op <= 0xA3:
        i.disp = getw(d) if a16 else getd(d)
        i.base = 8
        i.index = 8
        i.reg = 0
        if op == 0xA0 or op == 0xA2:
            i.osz = 0
        i.fn = MOV_GvEvM if op <= 0xA1 else MOV_EvGvM
    elif op <= 0xA7 or 0xAA <= op <= 0xAF:
        if a16:
            return False
        if (op & 1) == 0:
            i.osz = 0
        if op <= 0xA5:
            i.fn = MOVS
        elif op <= 0xA7:
            i.fn = CMPS
        elif op <= 0xAB:
            i.fn = STOS
        elif op <= 0xAD:
            i.fn = LODS
        else:
            i.fn = SCAS
    elif op <= 0xA9:
        if op == 0xA8:
            i.osz = 0
        i.rm = 0
        i.imm = getb(d) if op == 0xA8 else imm_z(d, i)
        i.fn = TEST_EvIvR
    elif op < 0xB8:
        i.osz = 0
        i.rm = <uint8_t>lo
        i.imm = getb(d)
        i.fn = MOV_EvIvR
    elif op < 0xC0:
        i.rm = <uint8_t>lo
        i.imm = imm_z(d, i)
        i.fn = MOV_ERdId if i.osz == 2 else MOV_EvIvR
    elif op <= 0xC1 or 0xD0 <= op <= 0xD3:
        if (op & 1) == 0:
            i.osz = 0
        i.op = <uint8_t>r
        if op <= 0xC1:
            i.imm = getb(d)
            mr(i, mem, GRP2_EvIbM, GRP2_EvIbR)
        elif op <= 0xD1:
            i.imm = 1
            mr(i, mem, GRP2_EvIbM, GRP2_EvIbR)
        else:
            mr(i, mem, GRP2_EvCLM, GRP2_EvCLR)
    elif op == 0xC2:
        i.imm = getw(d)
        i.fn = RET_Iw
    elif op == 0xC3:
        i.fn = RET
    elif op == 0xC4 or op == 0xC5:
        if not mem:
            return False
        i.op = ES if op == 0xC4 else DS
        i.fn = LFP_GvMp
    elif op == 0xC6 or op == 0xC7:
        if r != 0:
            return False
        if op == 0xC6:
            i.osz = 0
            i.imm = getb(d)
        else:
            i.imm = imm_z(d, i)
        mr(i, mem, MOV_EvIvM, MOV_EvIvR)
    elif op == 0xC8:
        i.imm = getw(d)
        i.imm2 = <uint16_t>getb(d)
        i.fn = ENTER
    elif op == 0xC9:
        i.fn = LEAVE
    elif op == 0xCA:
        i.imm = getw(d)
        i.fn = RETF
    elif op == 0xCB:
        i.fn = RETF
    elif op == 0xCC:
        i.imm = 3
        i.op = 1
        i.fn = INT_Ib
    elif op == 0xCD:
        i.imm = getb(d)
        i.fn = INT_Ib
    elif op == 0xCE:
        i.fn = INTO
    elif op == 0xCF:
        i.fn = IRET
    elif op == 0xD4 or op == 0xD5:
        i.imm = getb(d)
        i.op = op & 1
        i.fn = AAM_AAD
    elif op == 0xD7:
        if a16:
            return False
        i.fn = XLAT
    elif 0xD8 <= op <= 0xDF:
        i.fn = FPU_ESC
    elif op <= 0xE3:
        i.imm = sext8(getb(d))
        i.op = <uint8_t>lo
        i.fn = JECXZ if op == 0xE3 else LOOP
    elif op <= 0xE7 or 0xEC <= op <= 0xEF:
        if (op & 1) == 0:
            i.osz = 0
        if op <= 0xE7:
            i.imm = getb(d)
            i.op = 1
        else:
            i.op = 0    # port in DX
        i.fn = IN_ if (op & 2) == 0 else OUT_
    elif op == 0xE8:
        i.imm = getd(d) if i.osz == 2 else sext16(getw(d))
        i.fn = CALL_Jd
    elif op == 0xE9:
        i.imm = getd(d) if i.osz == 2 else sext16(getw(d))
        i.fn = JMP_Jd
    elif op == 0xEA:
        i.imm = imm_z(d, i)
        i.imm2 = <uint16_t>getw(d)
        i.fn = JMPF_Ap
    elif op == 0xEB:
        i.imm = sext8(getb(d))
        i.fn = JMP_Jd
    elif op == 0xF4:
        i.fn = HLT
    elif op == 0xF5 or op == 0xF8 or op == 0xF9 or op == 0xFC or op == 0xFD:
        i.op = <uint8_t>(op & 0xF)
        i.fn = FLAGOP
    elif op == 0xFA:
        i.fn = CLI
    elif op == 0xFB:
        i.fn = STI
    elif op == 0xF6 or op == 0xF7:
        if op == 0xF6:
            i.osz = 0
        if r <= 1:
            i.imm = getb(d) if op == 0xF6 else imm_z(d, i)
            mr(i, mem, TEST_EvIvM, TEST_EvIvR)
        elif r == 2:
            mr(i, mem, NOT_EvM, NOT_EvR)
            lockable = 1
        elif r == 3:
            mr(i, mem, NEG_EvM, NEG_EvR)
            lockable = 1
        else:
            i.op = <uint8_t>(r - 4)     # 0 mul, 1 imul, 2 div, 3 idiv
            mr(i, mem, MULDIV_EvM, MULDIV_EvR)
    elif op == 0xFE or op == 0xFF:
        if op == 0xFE:
            i.osz = 0
            if r > 1:
                return False
        if r == 0:
            mr(i, mem, INC_EvM, INC_EvR)
            lockable = 1
        elif r == 1:
            mr(i, mem, DEC_EvM, DEC_EvR)
            lockable = 1
        elif r == 2:
            mr(i, mem, CALL_EvM, CALL_EvR)
        elif r == 3:
            if not mem:
                return False
            i.fn = CALLF_Ep
        elif r == 4:
            mr(i, mem, JMP_EvM, JMP_EvR)
        elif r == 5:
            if not mem:
                return False
            i.fn = JMPF_Ep
        elif r == 6:
            mr(i, mem, PUSH_EvM, PUSH_EvR)
        else:
            return False
    elif op >= 0x100:
        if not opcode_table_0f(d, i, op & 0xFF, mem, &lockable):
            return False
    else:
        return False
    if lock and not (lockable and mem):
        return False
    return True


cdef bint opcode_table_0f(Dec *d, Insn *i, uint32_t op, int mem, int *lockable) noexcept nogil:
    cdef uint32_t r = i.reg
    if op == 0x00:
        if r == 0:
            mr(i, mem, SLDT_EwM, SLDT_EwR)
        elif r == 1:
            mr(i, mem, STR_EwM, STR_EwR)
        elif r == 2:
            mr(i, mem, LLDT_EwM, LLDT_EwR)
        elif r == 3:
            mr(i, mem, LTR_EwM, LTR_EwR)
        else:
            return False
    elif op == 0x01:
        if r == 4:
            mr(i, mem, SMSW_EwM, SMSW_EwR)
        elif r == 6:
            mr(i, mem, LMSW_EwM, LMSW_EwR)
        elif not mem:
            return False
        elif r <= 3:
            i.op = <uint8_t>r
            i.fn = SGDT_SIDT_M if r <= 1 else LGDT_LIDT_M
        elif r == 7:
            i.fn = INVLPG_M
        else:
            return False
    elif op == 0x06:
        i.fn = CLTS
    elif op == 0x08 or op == 0x09:
        i.fn = WBINVD
    elif op == 0x0D or 0x18 <= op <= 0x1F:
        i.fn = NOP
    elif 0x20 <= op <= 0x23:
        i.op = <uint8_t>(op & 3)
        i.fn = MOV_CR_DR
    elif op == 0x30:
        i.fn = WRMSR
    elif op == 0x31:
        i.fn = RDTSC
    elif op == 0x32:
        i.fn = RDMSR
    elif op == 0x33:
        i.fn = RDPMC
    elif 0x40 <= op <= 0x4F:
        i.op = <uint8_t>(op & 0xF)
        mr(i, mem, CMOV_GvEvM, CMOV_GvEvR)
    elif 0x80 <= op <= 0x8F:
        i.op = <uint8_t>(op & 0xF)
        i.imm = getd(d) if i.osz == 2 else sext16(getw(d))
        i.fn = JCC_Jd if i.osz == 2 else JCC_Jw
    elif 0x90 <= op <= 0x9F:
        i.op = <uint8_t>(op & 0xF)
        i.osz = 0
        mr(i, mem, SETCC_EbM, SETCC_EbR)
    elif op == 0xA0 or op == 0xA8:
        i.reg = FS if op == 0xA0 else GS
        i.fn = PUSH_Sw
    elif op == 0xA1 or op == 0xA9:
        i.reg = FS if op == 0xA1 else GS
        i.fn = POP_Sw
    elif op == 0xA2:
        i.fn = CPUID
    elif op == 0xA3 or op == 0xAB or op == 0xB3 or op == 0xBB:
        i.op = <uint8_t>((op >> 3) & 3)     # 0 bt, 1 bts, 2 btr, 3 btc
        mr(i, mem, BT_EvGvM, BT_EvGvR)
        lockable[0] = i.op != 0
    elif op == 0xA4 or op == 0xA5 or op == 0xAC or op == 0xAD:
        i.op = <uint8_t>((op & 1) | (2 if op >= 0xAC else 0))   # bit 0: count in CL, bit 1: shrd
        if (op & 1) == 0:
            i.imm = getb(d)
        mr(i, mem, SHxD_EvGvM, SHxD_EvGvR)
    elif op == 0xAF:
        mr(i, mem, IMUL_GvEvM, IMUL_GvEvR)
    elif op == 0xB0 or op == 0xB1:
        if op == 0xB0:
            i.osz = 0
        mr(i, mem, CMPXCHG_EvGvM, CMPXCHG_EvGvR)
        lockable[0] = 1
    elif op == 0xB2 or op == 0xB4 or op == 0xB5:
        if not mem:
            return False
        i.op = SS if op == 0xB2 else (FS if op == 0xB4 else GS)
        i.fn = LFP_GvMp
    elif op == 0xB6 or op == 0xB7 or op == 0xBE or op == 0xBF:
        i.op = <uint8_t>(op & 1)     # source width: 0 byte, 1 word
        if op <= 0xB7:
            mr(i, mem, MOVZX_GvEvM, MOVZX_GvEvR)
        else:
            mr(i, mem, MOVSX_GvEvM, MOVSX_GvEvR)
    elif op == 0xBA:
        if r < 4:
            return False
        i.op = <uint8_t>(r - 4)
        i.imm = getb(d)
        mr(i, mem, BT_EvIbM, BT_EvIbR)
        lockable[0] = i.op != 0
    elif op == 0xBC or op == 0xBD:
        i.op = <uint8_t>(op & 1)
        mr(i, mem, BSF_BSR_M, BSF_BSR_R)
    elif op == 0xC0 or op == 0xC1:
        if op == 0xC0:
            i.osz = 0
        mr(i, mem, XADD_EvGvM, XADD_EvGvR)
        lockable[0] = 1
    elif op == 0xC7:
        if r != 1 or not mem:
            return False
        i.fn = CMPXCHG8B_M
        lockable[0] = 1
    elif op >= 0xC8 and op <= 0xCF:
        i.rm = <uint8_t>(op & 7)
        i.fn = BSWAP_ERd
    else:
        return False
    return True
