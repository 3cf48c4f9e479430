"""Hypothesis strategies for valid i386 integer instruction sequences.

The register discipline of :mod:`.layout` holds throughout: generated code
writes only the "scratch" registers (EAX, ECX, EDX and their parts) and
memory; EBX, ESI, EDI and EBP stay pointers into the data area (string
instructions and xchg between pointers move them by small amounts), so
memory operands built on them stay mapped.  Division is guarded (the high
half is cleared or sign-extended first) except in the explicit #DE family.

Every family is a function ``family(draw, ctx) -> list[Node]``; ``FAMILIES``
maps names to them and :func:`cases` turns a choice of families into
complete :class:`~.harness.Case` objects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from . import layout
from .encode import (
    EAX,
    EBP,
    EBX,
    ECX,
    EDI,
    EDX,
    ESI,
    ESP,
    Call,
    Indirect,
    Loop,
    Mem,
    Node,
    Operand,
    Raw,
    Skip,
    emit_all,
    flatten,
    imm,
    op_rm,
    prefixes,
    rm,
    size_all,
)
from .flags import ARITH, DF
from .harness import Case

PTRS = (EBX, ESI, EDI, EBP)
SPECIAL = {
    8: (0, 1, 2, 0x7F, 0x80, 0x81, 0xFE, 0xFF),
    16: (0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0x8001, 0xFFFE, 0xFFFF),
    32: (
        0,
        1,
        2,
        0x7F,
        0x80,
        0xFF,
        0x7FFF,
        0x8000,
        0xFFFF,
        0x10000,
        0x7FFFFFFF,
        0x80000000,
        0x80000001,
        0xFFFFFFFE,
        0xFFFFFFFF,
    ),
}
SHIFT_COUNTS = (0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 255)

Draw = Callable[..., Any]


@dataclass(frozen=True)
class Ctx:
    """Which registers generated code may write."""

    dests: tuple[int, ...] = (EAX, ECX, EDX)
    dests8: tuple[int, ...] = (0, 1, 2, 4, 5, 6)  # al cl dl ah ch dh
    nested: bool = True  # may emit control flow

    @property
    def spare(self) -> int:
        """A scratch register for setup moves."""
        return ECX if ECX in self.dests else self.dests[-1]


LOOP_CTX = Ctx(dests=(EAX, EDX), dests8=(0, 2, 4, 6), nested=False)
FLAT_CTX = Ctx(nested=False)


def value(draw: Draw, width: int) -> int:
    """An operand value biased to the edges of ``width`` bits."""
    if draw(st.booleans()):
        return draw(st.sampled_from(SPECIAL[width]))
    return draw(st.integers(0, (1 << width) - 1))


def pick(draw: Draw, items: Sequence[object]) -> object:
    """One of ``items``."""
    return draw(st.sampled_from(list(items)))


def mem(draw: Draw, *, lea: bool = False) -> Mem:
    """A memory operand in mapped data (or any form at all for lea)."""
    form = pick(draw, ("abs", "base", "base", "sib", "sib", "sib_nobase", "eiz"))
    seg = pick(draw, (None, None, None, None, 0x3E, 0x26, 0x36)) if not lea else None
    disp_size = pick(draw, (0, 1, 4))
    if lea:
        regs = tuple(range(8))
        index_regs = (0, 1, 2, 3, 5, 6, 7)
        disp = (
            draw(st.integers(-(1 << 31), (1 << 32) - 1))
            if disp_size == 4
            else draw(st.integers(-128, 127))
        )
    else:
        regs = (*PTRS, ESP)
        index_regs = PTRS
        disp = (
            draw(st.integers(-0x1000, 0x1000)) if disp_size == 4 else draw(st.integers(-128, 127))
        )
    if form == "abs":
        return Mem(
            None, disp=draw(st.integers(layout.DATA_LO, layout.DATA_LO + 0x10000)), segment=seg
        )
    base = pick(draw, regs)
    if form == "base":
        return Mem(base, disp=disp, disp_size=disp_size, segment=seg)
    scale = pick(draw, (1, 2, 4, 8))
    index = pick(draw, index_regs)
    if form == "sib_nobase":
        d = draw(st.integers(layout.DATA_LO, layout.DATA_LO + 0x8000)) if not lea else disp
        return Mem(None, index, scale, d, 4, segment=seg)
    if form == "eiz":
        return Mem(base, None, 1, disp, disp_size, force_sib=True, segment=seg)
    return Mem(base, index, scale, disp, disp_size, segment=seg)


def dest(draw: Draw, ctx: Ctx, width: int, allow_mem: bool = True) -> Operand:
    """A writable operand: a scratch register or memory."""
    if allow_mem and draw(st.integers(0, 2)) == 0:
        return mem(draw)
    return pick(draw, ctx.dests8 if width == 8 else ctx.dests)


def source(draw: Draw, width: int, allow_mem: bool = True) -> Operand:
    """A readable operand: any register or memory."""
    if allow_mem and draw(st.integers(0, 2)) == 0:
        return mem(draw)
    return draw(st.integers(0, 7))


def width_of(draw: Draw, widths: Sequence[int] = (8, 16, 32)) -> int:
    """8, 16 or 32."""
    return pick(draw, widths)


def lock_for(draw: Draw, operand: Operand) -> bool:
    """Sometimes a lock prefix on a memory destination."""
    return isinstance(operand, Mem) and draw(st.integers(0, 4)) == 0


# ---------------------------------------------------------------- families --


def alu(draw: Draw, ctx: Ctx) -> list[Node]:
    """add/or/adc/sbb/and/sub/xor/cmp in every form and width."""
    op = draw(st.integers(0, 7))
    width = width_of(draw)
    w = 0 if width == 8 else 1
    isize = 1 if width == 8 else width // 8
    form = pick(draw, ("rm_r", "r_rm", "acc_imm", "rm_imm", "rm_imm8s", "alias82"))
    names = ("add", "or", "adc", "sbb", "and", "sub", "xor", "cmp")
    text = f"{names[op]}{width} {form}"
    if form == "rm_r":
        d = source(draw, width) if op == 7 else dest(draw, ctx, width)
        lock = op != 7 and lock_for(draw, d)
        code = op_rm(bytes([op * 8 + w]), draw(st.integers(0, 7)), d, width, lock=lock)
    elif form == "r_rm":
        reg = (
            draw(st.integers(0, 7))
            if op == 7
            else pick(draw, ctx.dests8 if width == 8 else ctx.dests)
        )
        code = op_rm(bytes([op * 8 + 2 + w]), reg, source(draw, width), width)
    elif form == "acc_imm":
        if EAX not in ctx.dests and op != 7:
            return []
        code = prefixes(width) + bytes([op * 8 + 4 + w]) + imm(value(draw, width), isize)
    elif form == "rm_imm8s" and width != 8:
        d = source(draw, width) if op == 7 else dest(draw, ctx, width)
        code = op_rm(
            b"\x83", op, d, width, imm(value(draw, 8), 1), lock=op != 7 and lock_for(draw, d)
        )
    elif form == "alias82" and width == 8:
        d = source(draw, 8) if op == 7 else dest(draw, ctx, 8)
        code = op_rm(b"\x82", op, d, 8, imm(value(draw, 8), 1))
    else:
        d = source(draw, width) if op == 7 else dest(draw, ctx, width)
        code = op_rm(
            bytes([0x80 + w]),
            op,
            d,
            width,
            imm(value(draw, width), isize),
            lock=op != 7 and lock_for(draw, d),
        )
    return [Raw(code, text)]


def unary(draw: Draw, ctx: Ctx) -> list[Node]:
    """inc/dec (both encodings), neg, not, test."""
    width = width_of(draw)
    w = 0 if width == 8 else 1
    kind = pick(draw, ("inc", "dec", "neg", "not", "test_rm_r", "test_imm", "test_acc", "short"))
    if kind == "short" and width != 8:
        reg = pick(draw, ctx.dests)
        return [Raw(prefixes(width) + bytes([pick(draw, (0x40, 0x48)) + reg]), "inc/dec short")]
    if kind in {"inc", "dec", "neg", "not", "short"}:
        d = dest(draw, ctx, width)
        reg = {"inc": 0, "dec": 1, "not": 2, "neg": 3, "short": 0}[kind]
        opcode = bytes([(0xFE if kind in {"inc", "dec", "short"} else 0xF6) + w])
        # No lock on neg: unicorn gets the flags of a locked neg wrong (table.UNICORN_BUGS).
        lock = kind != "neg" and lock_for(draw, d)
        return [Raw(op_rm(opcode, reg, d, width, lock=lock), kind)]
    isize = 1 if width == 8 else width // 8
    if kind == "test_rm_r":
        return [
            Raw(
                op_rm(bytes([0x84 + w]), draw(st.integers(0, 7)), source(draw, width), width),
                "test",
            )
        ]
    if kind == "test_acc":
        return [
            Raw(prefixes(width) + bytes([0xA8 + w]) + imm(value(draw, width), isize), "test acc")
        ]
    return [
        Raw(
            op_rm(bytes([0xF6 + w]), 0, source(draw, width), width, imm(value(draw, width), isize)),
            "test imm",
        )
    ]


def mul(draw: Draw, ctx: Ctx) -> list[Node]:
    """mul/imul one-operand, imul two- and three-operand."""
    if EAX not in ctx.dests or EDX not in ctx.dests:
        return []
    kind = pick(draw, ("mul", "imul1", "imul2", "imul3", "imul3s"))
    if kind in {"mul", "imul1"}:
        width = width_of(draw)
        w = 0 if width == 8 else 1
        return [
            Raw(
                op_rm(bytes([0xF6 + w]), 4 if kind == "mul" else 5, source(draw, width), width),
                kind,
            )
        ]
    width = width_of(draw, (16, 32))
    reg = pick(draw, ctx.dests)
    if kind == "imul2":
        return [Raw(op_rm(b"\x0f\xaf", reg, source(draw, width), width), kind)]
    if kind == "imul3":
        return [
            Raw(
                op_rm(
                    b"\x69", reg, source(draw, width), width, imm(value(draw, width), width // 8)
                ),
                kind,
            )
        ]
    return [Raw(op_rm(b"\x6b", reg, source(draw, width), width, imm(value(draw, 8), 1)), kind)]


def div(draw: Draw, ctx: Ctx) -> list[Node]:
    """div/idiv with the dividend's high half prepared (no #DE but for /0)."""
    if EAX not in ctx.dests or EDX not in ctx.dests:
        return []
    width = width_of(draw)
    signed = draw(st.booleans())
    prep = {
        (8, False): b"\xb4\x00",  # mov ah, 0
        (16, False): b"\x66\x31\xd2",  # xor dx, dx
        (32, False): b"\x31\xd2",  # xor edx, edx
        (8, True): b"\x66\x98",  # cbw
        (16, True): b"\x66\x99",  # cwd
        (32, True): b"\x99",  # cdq
    }[(width, signed)]
    banned = {4} if width == 8 else {EDX}
    operand: Operand
    if draw(st.integers(0, 2)) == 0:
        operand = mem(draw)
    else:
        operand = pick(draw, [r for r in range(8) if r not in banned])
    w = 0 if width == 8 else 1
    code = op_rm(bytes([0xF6 + w]), 7 if signed else 6, operand, width)
    return [Raw(prep, "prep"), Raw(code, "idiv" if signed else "div")]


def div_fault(draw: Draw, ctx: Ctx) -> list[Node]:
    """Unguarded div/idiv: #DE whenever the quotient overflows."""
    if EAX not in ctx.dests or EDX not in ctx.dests:
        return []
    width = width_of(draw)
    w = 0 if width == 8 else 1
    return [Raw(op_rm(bytes([0xF6 + w]), pick(draw, (6, 7)), source(draw, width), width), "div?")]


def shift(draw: Draw, ctx: Ctx) -> list[Node]:
    """rol/ror/rcl/rcr/shl/shr/sar by 1, imm8 and cl."""
    width = width_of(draw)
    w = 0 if width == 8 else 1
    op = pick(draw, (0, 1, 2, 3, 4, 5, 7))
    d = dest(draw, ctx, width)
    form = pick(draw, ("one", "imm", "cl"))
    names = ("rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar")
    text = f"{names[op]}{width} {form}"
    if form == "one":
        return [Raw(op_rm(bytes([0xD0 + w]), op, d, width), text)]
    if form == "imm":
        count = draw(st.one_of(st.sampled_from(SHIFT_COUNTS), st.integers(0, 255)))
        return [Raw(op_rm(bytes([0xC0 + w]), op, d, width, imm(count, 1)), text)]
    nodes: list[Node] = []
    if ECX in ctx.dests and draw(st.booleans()):
        nodes.append(Raw(b"\xb1" + imm(draw(st.sampled_from(SHIFT_COUNTS)), 1), "mov cl"))
    return [*nodes, Raw(op_rm(bytes([0xD2 + w]), op, d, width), text)]


def double_shift(draw: Draw, ctx: Ctx) -> list[Node]:
    """shld/shrd by imm8 and cl (16-bit counts kept <= 16 into memory)."""
    width = width_of(draw, (16, 32))
    right = draw(st.booleans())
    d = dest(draw, ctx, width)
    src = draw(st.integers(0, 7))
    limit = 16 if width == 16 and isinstance(d, Mem) else 31
    if draw(st.booleans()) or ECX not in ctx.dests:
        count = draw(st.integers(0, limit))
        opcode = b"\x0f\xac" if right else b"\x0f\xa4"
        return [
            Raw(
                op_rm(opcode, src, d, width, imm(count + 32 * draw(st.integers(0, 7)), 1)),
                "shxd imm",
            )
        ]
    count = draw(st.integers(0, limit))
    opcode = b"\x0f\xad" if right else b"\x0f\xa5"
    setup = Raw(b"\xb1" + imm(count + 32 * draw(st.integers(0, 7)), 1), "mov cl")
    return [setup, Raw(op_rm(opcode, src, d, width), "shxd cl")]


def bits(draw: Draw, ctx: Ctx) -> list[Node]:
    """bt/bts/btr/btc (reg and imm offsets), bsf/bsr, bswap."""
    kind = pick(draw, ("bt_r", "bt_i", "bsf", "bswap"))
    width = width_of(draw, (16, 32))
    if kind == "bswap":
        return [Raw(bytes([0x0F, 0xC8 + pick(draw, ctx.dests)]), "bswap")]
    if kind == "bsf":
        reg = pick(draw, ctx.dests)
        op = pick(draw, (b"\x0f\xbc", b"\x0f\xbd"))
        return [Raw(op_rm(op, reg, source(draw, width), width), "bsf/bsr")]
    sub = draw(st.integers(0, 3))  # bt bts btr btc
    d = source(draw, width) if sub == 0 else dest(draw, ctx, width)
    if kind == "bt_i":
        return [
            Raw(
                op_rm(
                    b"\x0f\xba",
                    4 + sub,
                    d,
                    width,
                    imm(draw(st.integers(0, 255)), 1),
                    lock=sub != 0 and lock_for(draw, d),
                ),
                "bt imm",
            )
        ]
    nodes: list[Node] = []
    offset_reg = draw(st.integers(0, 7))
    if isinstance(d, Mem):
        offset_reg = ctx.spare
        nodes.append(
            Raw(
                b"\xb8"[0:0] + bytes([0xB8 + offset_reg]) + imm(draw(st.integers(-512, 2047)), 4),
                "mov off",
            )
        )
    opcode = (b"\x0f\xa3", b"\x0f\xab", b"\x0f\xb3", b"\x0f\xbb")[sub]
    return [
        *nodes,
        Raw(op_rm(opcode, offset_reg, d, width, lock=sub != 0 and lock_for(draw, d)), "bt reg"),
    ]


def cond(draw: Draw, ctx: Ctx) -> list[Node]:
    """setcc, cmovcc."""
    cc = draw(st.integers(0, 15))
    if draw(st.booleans()):
        return [Raw(op_rm(bytes([0x0F, 0x90 + cc]), 0, dest(draw, ctx, 8), 8), "setcc")]
    width = width_of(draw, (16, 32))
    reg = pick(draw, ctx.dests)
    return [Raw(op_rm(bytes([0x0F, 0x40 + cc]), reg, source(draw, width), width), "cmovcc")]


def moves(draw: Draw, ctx: Ctx) -> list[Node]:
    """mov (all forms), movzx/movsx, lea, xchg, cbw/cwde/cwd/cdq."""
    kind = pick(
        draw,
        (
            "mov_rm_r",
            "mov_r_rm",
            "mov_imm",
            "mov_rm_imm",
            "moffs",
            "movx",
            "lea",
            "xchg",
            "xchg_acc",
            "xchg_ptr",
            "convert",
        ),
    )
    width = width_of(draw)
    w = 0 if width == 8 else 1
    isize = 1 if width == 8 else width // 8
    if kind == "mov_rm_r":
        return [
            Raw(
                op_rm(bytes([0x88 + w]), draw(st.integers(0, 7)), dest(draw, ctx, width), width),
                "mov",
            )
        ]
    if kind == "mov_r_rm":
        reg = pick(draw, ctx.dests8 if width == 8 else ctx.dests)
        return [Raw(op_rm(bytes([0x8A + w]), reg, source(draw, width), width), "mov")]
    if kind == "mov_imm":
        reg = pick(draw, ctx.dests8 if width == 8 else ctx.dests)
        return [
            Raw(
                prefixes(width) + bytes([0xB0 + 8 * w + reg]) + imm(value(draw, width), isize),
                "mov imm",
            )
        ]
    if kind == "mov_rm_imm":
        return [
            Raw(
                op_rm(
                    bytes([0xC6 + w]),
                    0,
                    dest(draw, ctx, width),
                    width,
                    imm(value(draw, width), isize),
                ),
                "mov imm",
            )
        ]
    if kind == "moffs":
        if EAX not in ctx.dests:
            return []
        store = draw(st.booleans())
        addr = draw(st.integers(layout.DATA_LO, layout.DATA_LO + 0x10000))
        return [Raw(prefixes(width) + bytes([0xA0 + 2 * store + w]) + imm(addr, 4), "mov moffs")]
    if kind == "movx":
        sign = draw(st.booleans())
        src16 = draw(st.booleans())
        dwidth = 32 if src16 else width_of(draw, (16, 32))
        op = bytes([0x0F, (0xBE if sign else 0xB6) + src16])
        return [Raw(op_rm(op, pick(draw, ctx.dests), source(draw, 8), dwidth), "movzx/sx")]
    if kind == "lea":
        lw = width_of(draw, (16, 32))
        return [Raw(op_rm(b"\x8d", pick(draw, ctx.dests), mem(draw, lea=True), lw), "lea")]
    if kind == "xchg":
        d = dest(draw, ctx, width)
        reg = pick(draw, ctx.dests8 if width == 8 else ctx.dests)
        return [Raw(op_rm(bytes([0x86 + w]), reg, d, width), "xchg")]
    if kind == "xchg_acc":
        if EAX not in ctx.dests:
            return []
        reg = pick(draw, ctx.dests)
        return [Raw(prefixes(width if width != 8 else 32) + bytes([0x90 + reg]), "xchg eax")]
    if kind == "xchg_ptr":
        a, b = pick(draw, PTRS), pick(draw, PTRS)
        return [Raw(bytes([0x87, 0xC0 | (a << 3) | b]), "xchg ptrs")]
    if EAX not in ctx.dests or EDX not in ctx.dests:
        return []
    return [Raw(pick(draw, (b"\x98", b"\x66\x98", b"\x99", b"\x66\x99")), "convert")]


def xops(draw: Draw, ctx: Ctx) -> list[Node]:
    """cmpxchg and xadd, register and (locked) memory forms."""
    if EAX not in ctx.dests:
        return []
    width = width_of(draw)
    w = 0 if width == 8 else 1
    d = dest(draw, ctx, width)
    lock = lock_for(draw, d)
    if draw(st.booleans()):
        return [
            Raw(
                op_rm(bytes([0x0F, 0xB0 + w]), draw(st.integers(0, 7)), d, width, lock=lock),
                "cmpxchg",
            )
        ]
    reg = pick(draw, ctx.dests8 if width == 8 else ctx.dests)
    return [Raw(op_rm(bytes([0x0F, 0xC0 + w]), reg, d, width, lock=lock), "xadd")]


def flag_ops(draw: Draw, ctx: Ctx) -> list[Node]:
    """clc/stc/cmc/cld/std, lahf/sahf, nop forms."""
    choices: list[bytes] = [
        b"\xf8",
        b"\xf9",
        b"\xf5",
        b"\xfc",
        b"\xfd",
        b"\x90",
        b"\x66\x90",
        b"\x0f\x1f\x00",
        b"\x0f\x1f\x40\x00",
        b"\x0f\x1f\x44\x00\x00",
        b"\x66\x0f\x1f\x44\x00\x00",
        b"\x0f\x1f\x80\x00\x00\x00\x00",
        b"\x0f\x1f\x84\x00\x00\x00\x00\x00",
        b"\x8d\x76\x00",
        b"\x8d\x74\x26\x00",
        b"\x8d\xb4\x26\x00\x00\x00\x00",
        b"\x8d\xbc\x27\x00\x00\x00\x00",
        b"\x89\xf6",
        b"\x8d\xb6\x00\x00\x00\x00",
        b"\xf3\x90",
        b"\x9e",
    ]
    if EAX in ctx.dests:
        choices.append(b"\x9f")
    return [Raw(pick(draw, choices), "flags/nop")]


def stack(draw: Draw, ctx: Ctx) -> list[Node]:
    """push/pop forms, pusha/popa, pushf/popf, enter/leave."""
    kind = pick(
        draw,
        (
            "push_r",
            "push_imm",
            "push_rm",
            "pop_r",
            "pop_rm",
            "pusha",
            "pushf",
            "popf_imm",
            "enter",
            "push_pop_esp",
        ),
    )
    o16 = draw(st.integers(0, 3)) == 0
    p = b"\x66" if o16 else b""
    if kind == "push_r":
        return [Raw(p + bytes([0x50 + draw(st.integers(0, 7))]), "push r")]
    if kind == "push_imm":
        if draw(st.booleans()):
            return [Raw(b"\x6a" + imm(value(draw, 8), 1), "push imm8")]
        return [Raw(p + b"\x68" + imm(value(draw, 32), 2 if o16 else 4), "push imm")]
    if kind == "push_rm":
        return [Raw(op_rm(b"\xff", 6, source(draw, 32), 16 if o16 else 32), "push rm")]
    if kind == "pop_r":
        return [Raw(p + bytes([0x58 + pick(draw, ctx.dests)]), "pop r")]
    if kind == "pop_rm":
        return [Raw(op_rm(b"\x8f", 0, dest(draw, ctx, 32), 16 if o16 else 32), "pop rm")]
    if kind == "push_pop_esp":
        # push esp pushes the old value; pop [esp+d] computes d after the pop.
        return [
            Raw(b"\x54", "push esp"),
            Raw(b"\x8f\x44\x24" + imm(draw(st.integers(-8, 8)) * 4, 1), "pop [esp+d]"),
        ]
    body = tuple(draw(straight(ctx if ctx.nested else FLAT_CTX, 0, 3)))
    if kind == "pusha":
        return [Raw(p + b"\x60", "pusha"), *body, Raw(p + b"\x61", "popa")]
    if kind == "pushf":
        return [Raw(p + b"\x9c", "pushf"), *body, Raw(p + b"\x9d", "popf")]
    if kind == "popf_imm":
        flags = (draw(st.integers(0, 0xFFFF)) & (ARITH | DF)) | 0x2
        return [Raw(b"\x68" + imm(flags, 4) + b"\x9d", "push imm; popf")]
    size = draw(st.one_of(st.sampled_from((0, 4, 8, 0x100)), st.integers(0, 0x400)))
    level = draw(st.one_of(st.sampled_from((0, 0, 1, 2)), st.integers(0, 40)))
    return [Raw(b"\xc8" + imm(size, 2) + imm(level, 1), "enter"), *body, Raw(b"\xc9", "leave")]


def strings(draw: Draw, ctx: Ctx) -> list[Node]:
    """movs/stos/lods/cmps/scas, byte/word/dword, rep/repe/repne, overrides."""
    if ECX not in ctx.dests or EAX not in ctx.dests:
        return []
    op = pick(draw, ("movs", "cmps", "stos", "lods", "scas"))
    base = {"movs": 0xA4, "cmps": 0xA6, "stos": 0xAA, "lods": 0xAC, "scas": 0xAE}[op]
    width = width_of(draw)
    code = b""
    if op in {"cmps", "scas"}:
        code += pick(draw, (b"", b"\xf3", b"\xf2"))
    else:
        code += pick(draw, (b"", b"\xf3"))
    if op in {"movs", "cmps", "lods"} and draw(st.integers(0, 3)) == 0:
        code += pick(draw, (b"\x26", b"\x36", b"\x3e"))
    code += prefixes(width) + bytes([base + (width != 8)])
    count = draw(st.one_of(st.sampled_from((0, 1, 2)), st.integers(0, 40)))
    nodes: list[Node] = [Raw(b"\xb9" + imm(count, 4), "mov ecx")]
    if draw(st.integers(0, 3)) == 0:
        nodes.append(Raw(pick(draw, (b"\xfc", b"\xfd")), "cld/std"))
    return [*nodes, Raw(code, f"{op}{width}")]


def control(draw: Draw, ctx: Ctx) -> list[Node]:
    """jcc/jmp/loop*/jecxz over code, call/ret forms, indirect jumps, loops."""
    if not ctx.nested:
        return []
    kind = pick(draw, ("jcc", "jcc", "jmp", "loopx", "call", "indirect", "loop"))
    if kind == "loop":
        body = tuple(draw(straight(LOOP_CTX, 1, 4)))
        if size_all(body) > 110:
            return list(body)
        return [Loop(draw(st.integers(1, 4)), body, with_dec=draw(st.booleans()))]
    body = tuple(draw(straight(FLAT_CTX, 0, 4)))
    if kind == "jcc":
        return [Skip("jcc", body, cond=draw(st.integers(0, 15)), near=draw(st.booleans()))]
    if kind == "jmp":
        return [Skip("jmp", body, near=draw(st.booleans()))]
    if kind == "loopx":
        if ECX not in ctx.dests:
            return []
        return [Skip(pick(draw, ("loop", "loope", "loopne", "jecxz", "jcxz")), body)]
    if kind == "indirect":
        return [Indirect(body, via=pick(draw, ("reg", "mem")), reg=pick(draw, ctx.dests))]
    ret = pick(draw, ("plain", "imm", "rep"))
    return [
        Call(
            body,
            ret_imm=draw(st.sampled_from((0, 4, 8, 6))) if ret == "imm" else None,
            rep_ret=ret == "rep",
            via=pick(draw, ("rel", "reg", "mem")),
            reg=pick(draw, ctx.dests),
        )
    ]


Family = Callable[[Draw, Ctx], list[Node]]
FAMILIES: dict[str, Family] = {
    "alu": alu,
    "unary": unary,
    "mul": mul,
    "div": div,
    "shift": shift,
    "double_shift": double_shift,
    "bits": bits,
    "cond": cond,
    "moves": moves,
    "xops": xops,
    "flag_ops": flag_ops,
    "stack": stack,
    "strings": strings,
    "control": control,
    "div_fault": div_fault,
}
STRAIGHT = (
    "alu",
    "unary",
    "mul",
    "div",
    "shift",
    "double_shift",
    "bits",
    "cond",
    "moves",
    "xops",
    "flag_ops",
)


@st.composite
def straight(draw: Draw, ctx: Ctx, lo: int, hi: int) -> list[Node]:
    """``lo..hi`` instructions from the straight-line families."""
    out: list[Node] = []
    for _ in range(draw(st.integers(lo, hi))):
        fam = FAMILIES[pick(draw, STRAIGHT)]
        out += fam(draw, ctx)
    return out


@st.composite
def programs(draw: Draw, families: Sequence[str], lo: int = 1, hi: int = 12) -> list[Node]:
    """A sequence of nodes drawn from ``families``."""
    ctx = Ctx()
    out: list[Node] = []
    for _ in range(draw(st.integers(lo, hi))):
        out += FAMILIES[pick(draw, families)](draw, ctx)
    if not out:
        out.append(Raw(b"\x90", "nop"))
    return out


@st.composite
def initial_regs(draw: Draw) -> dict[str, int]:
    """Scratch registers anywhere, pointers into data, ESP on the stack."""
    regs = {r: value(draw, 32) for r in ("eax", "ecx", "edx")}
    for r in ("ebx", "esi", "edi", "ebp"):
        regs[r] = draw(st.integers(layout.PTR_LO, layout.PTR_HI))
    regs["esp"] = (
        layout.STACK_TOP - 4 * draw(st.integers(0, 64)) - draw(st.sampled_from((0, 0, 0, 2)))
    )
    return regs


@st.composite
def initial_eflags(draw: Draw) -> int:
    """Random arithmetic flags and DF."""
    return 0x2 | (
        draw(st.integers(0, 0xFFF)) & (ARITH | (DF if draw(st.integers(0, 3)) == 0 else 0))
    )


@st.composite
def cases(draw: Draw, families: Sequence[str], lo: int = 1, hi: int = 12) -> Case:
    """A complete differential case over ``families``."""
    nodes = draw(programs(families, lo, hi))
    code = emit_all(nodes, layout.CODE_BASE)
    return Case(
        code=code, regs=draw(initial_regs()), eflags=draw(initial_eflags()), note=flatten(nodes)
    )


_ = (rm, EDI, ESI, EBP)
