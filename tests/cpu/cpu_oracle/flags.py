"""EFLAGS bits and the results the Intel manual leaves undefined.

:func:`undefined_effects` answers, for one decoded instruction and the
register state it ran in, which arithmetic flags (and which destination
registers) the SDM vol. 2 leaves undefined.  The differential harness masks
exactly those when comparing, then copies unicorn's values into the core so
that a later instruction reading them (adc after mul, pushf, setcc) cannot
turn an allowed difference into a spurious one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import capstone
from capstone import x86

CF = 1 << 0
PF = 1 << 2
AF = 1 << 4
ZF = 1 << 6
SF = 1 << 7
TF = 1 << 8
IF = 1 << 9
DF = 1 << 10
OF = 1 << 11
ARITH = CF | PF | AF | ZF | SF | OF

FLAG_BITS = {"c": CF, "p": PF, "a": AF, "z": ZF, "s": SF, "t": TF, "i": IF, "d": DF, "o": OF}


def describe_flags(value: int, mask: int = ARITH | DF | IF | TF) -> str:
    """The names of the flags set in ``value`` (among ``mask``): ``'CF ZF'``, or ``'-'``."""
    names = [f"{ch.upper()}F" for ch in "cpazstdio" if mask & value & FLAG_BITS[ch]]
    return " ".join(names) or "-"


def parse_flags(spec: str, before: int = 0) -> tuple[int, int]:
    """Parse blink-style flags ``'c nz s no =a'`` into (mask, value).

    A letter means the flag is set, ``n``+letter that it is clear, ``=``+letters
    that those flags keep their value from ``before``; ``=`` alone means every
    arithmetic flag keeps it.  Flags not named are not checked.
    """
    mask = value = 0
    for token in spec.split():
        if token.startswith("="):
            bits = ARITH if token == "=" else sum(FLAG_BITS[ch] for ch in token[1:])
            mask |= bits
            value |= before & bits
            continue
        clear = token.startswith("n") and len(token) == 2
        bit = FLAG_BITS[token[1] if clear else token]
        mask |= bit
        if not clear:
            value |= bit
    return mask, value


# Registers by capstone name: (32-bit register, shift, width in bits).
_SUBREGS: dict[str, tuple[str, int, int]] = {}
for _r32, _r16, _lo, _hi in (
    ("eax", "ax", "al", "ah"),
    ("ecx", "cx", "cl", "ch"),
    ("edx", "dx", "dl", "dh"),
    ("ebx", "bx", "bl", "bh"),
):
    _SUBREGS.update(
        {_r32: (_r32, 0, 32), _r16: (_r32, 0, 16), _lo: (_r32, 0, 8), _hi: (_r32, 8, 8)}
    )
for _r32, _r16 in (("esp", "sp"), ("ebp", "bp"), ("esi", "si"), ("edi", "di")):
    _SUBREGS.update({_r32: (_r32, 0, 32), _r16: (_r32, 0, 16)})


def reg_value(name: str, regs: Mapping[str, int]) -> int:
    """The value of a capstone register name (``cl``, ``ax``, ``edi``)."""
    full, shift, width = _SUBREGS[name]
    return (regs[full] >> shift) & ((1 << width) - 1)


def full_reg(name: str) -> str:
    """The 32-bit register that contains ``name``."""
    return _SUBREGS[name][0]


def effective_address(insn: capstone.CsInsn, op: x86.X86Op, regs: Mapping[str, int]) -> int:
    """The linear address of a memory operand (flat segments)."""
    mem = op.mem
    ea = mem.disp
    if mem.base:
        ea += reg_value(insn.reg_name(mem.base), regs)
    if mem.index:
        ea += reg_value(insn.reg_name(mem.index), regs) * mem.scale
    return ea & 0xFFFFFFFF


ReadMem = Callable[[int, int], bytes]


def operand_value(
    insn: capstone.CsInsn, op: x86.X86Op, regs: Mapping[str, int], read: ReadMem
) -> int:
    """The value of an operand before the instruction runs."""
    if op.type == x86.X86_OP_REG:
        return reg_value(insn.reg_name(op.reg), regs)
    if op.type == x86.X86_OP_IMM:
        return op.imm & ((1 << (8 * op.size)) - 1)
    return int.from_bytes(read(effective_address(insn, op, regs), op.size), "little")


_LOGIC = {"and", "or", "xor", "test"}
_SHIFTS = {"shl", "sal", "shr", "sar"}
_ROTATES = {"rol", "ror", "rcl", "rcr"}
_DOUBLE = {"shld", "shrd"}
_MULS = {"mul", "imul"}
_DIVS = {"div", "idiv"}
_BITSCAN = {"bsf", "bsr"}
_BITTEST = {"bt", "bts", "btr", "btc"}


def undefined_effects(
    insn: capstone.CsInsn, regs: Mapping[str, int], read: ReadMem
) -> tuple[int, frozenset[str]]:
    """(undefined EFLAGS bits, undefined 32-bit registers) after ``insn``.

    ``regs`` is the state before the instruction; ``read`` reads memory in
    that state (needed for bsf/bsr of a memory operand).
    """
    name = insn.mnemonic.split()[-1]
    ops = insn.operands
    if name in _LOGIC:
        return AF, frozenset()
    if name in _MULS:
        return SF | ZF | AF | PF, frozenset()
    if name in _DIVS:
        return ARITH, frozenset()
    if name in _BITTEST:
        return OF | SF | AF | PF, frozenset()
    if name in _BITSCAN:
        src = operand_value(insn, ops[1], regs, read)
        dest = frozenset({full_reg(insn.reg_name(ops[0].reg))}) if src == 0 else frozenset()
        return CF | OF | SF | AF | PF, dest
    if name in _SHIFTS | _ROTATES | _DOUBLE:
        width = ops[0].size * 8
        count = 1 if len(ops) == 1 else operand_value(insn, ops[-1], regs, read) & 0x1F
        if count == 0:
            return 0, frozenset()
        undefined = 0 if count == 1 else OF
        if name in _SHIFTS:
            undefined |= AF
            if name in {"shl", "sal", "shr"} and count >= width:
                undefined |= CF
        if name in _DOUBLE:
            undefined |= AF
            if count > width:
                dest = ops[0]
                regs_out = (
                    frozenset({full_reg(insn.reg_name(dest.reg))})
                    if dest.type == x86.X86_OP_REG
                    else frozenset()
                )
                return ARITH, regs_out
        return undefined, frozenset()
    return 0, frozenset()


def writes_memory_undefined(insn: capstone.CsInsn, regs: Mapping[str, int], read: ReadMem) -> bool:
    """True when the instruction leaves a memory destination undefined."""
    name = insn.mnemonic.split()[-1]
    if name in _DOUBLE and insn.operands[0].type == x86.X86_OP_MEM:
        width = insn.operands[0].size * 8
        count = operand_value(insn, insn.operands[-1], regs, read) & 0x1F
        return count > width
    return False
