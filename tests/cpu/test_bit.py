"""bt/bts/btr/btc, bsf/bsr, bswap.

bt*: CF is the selected bit, ZF is unaffected, OF/SF/AF/PF are undefined.
A register bit offset addresses memory beyond the operand (signed, in
bytes = offset >> 3); an immediate offset is taken modulo the width.
bsf/bsr: ZF=1 and the destination undefined for a zero source.
"""

# Test names follow the blink style test<Thing>_<condition>_<expectation> (STYLE.md).

from __future__ import annotations

import pytest
from cpu_oracle.encode import EAX, EBX, ECX, Mem, op_rm
from cpu_oracle.table import Row, check_row

SUB = {"bt": 0, "bts": 1, "btr": 2, "btc": 3}
REG_OPCODE = {"bt": b"\x0f\xa3", "bts": b"\x0f\xab", "btr": b"\x0f\xb3", "btc": b"\x0f\xbb"}
BASE = 0x18000

# op, width, value (EAX), offset (ECX), result, CF
REGISTER = [
    ("bt", 32, 0x80000000, 31, 0x80000000, 1),
    ("bt", 32, 0x80000000, 63, 0x80000000, 1),
    ("bt", 16, 0x12340002, 0x11, 0x12340002, 1),
    ("bts", 16, 0x00000000, 0x11, 0x00000002, 0),
    ("bts", 32, 0x00000001, 0, 0x00000001, 1),
    ("btr", 32, 0xFFFFFFFF, 0, 0xFFFFFFFE, 1),
    ("btr", 32, 0x00000000, 7, 0x00000000, 0),
    ("btc", 32, 0x00000000, 5, 0x00000020, 0),
    ("btc", 16, 0xFFFF8000, 31, 0xFFFF0000, 1),
]


@pytest.mark.parametrize("zf", [0, 1], ids=["zfClear", "zfSet"])
@pytest.mark.parametrize(
    ("op", "width", "value", "offset", "result", "cf"),
    REGISTER,
    ids=[f"{r[0]}{r[1]}-{r[2]:#x}-bit{r[3]}" for r in REGISTER],
)
def testBitTest_registerOperand_offsetModuloWidth(
    op: str, width: int, value: int, offset: int, result: int, cf: int, zf: int
) -> None:
    """bt* reg, reg: CF = bit (offset mod width); ZF keeps its value."""
    code = op_rm(REG_OPCODE[op], ECX, EAX, width)
    check_row(
        Row(
            name=f"{op}{width} bit {offset}",
            code=code,
            regs={"eax": value, "ecx": offset},
            flags_in="z" if zf else 0,
            expect={"eax": result},
            flags=("c" if cf else "nc") + " =z",
        )
    )


# op, offset (ECX), byte address touched, byte before, byte after, CF
MEMORY = [
    ("bt", 100, BASE + 12, 0x10, 0x10, 1),
    ("bt", -1, BASE - 1, 0x80, 0x80, 1),
    ("bts", -9, BASE - 2, 0x00, 0x80, 0),
    ("btr", 1000, BASE + 125, 0xFF, 0xFE, 1),
    ("btc", 35, BASE + 4, 0x00, 0x08, 0),
]


@pytest.mark.parametrize(
    ("op", "offset", "addr", "before", "after", "cf"),
    MEMORY,
    ids=[f"{r[0]}-off{r[1]}" for r in MEMORY],
)
def testBitTest_memoryWithRegisterOffset_addressesBeyondOperand(
    op: str, offset: int, addr: int, before: int, after: int, cf: int
) -> None:
    """bt* [ebx], ecx: the signed offset selects byte ebx + (offset >> 3)."""
    code = op_rm(REG_OPCODE[op], ECX, Mem(EBX, disp_size=0), 32)
    check_row(
        Row(
            name=f"{op} [ebx],{offset}",
            code=code,
            regs={"ebx": BASE, "ecx": offset & 0xFFFFFFFF},
            mem_in=[(addr, bytes([before]))],
            mem_out=[(addr, bytes([after]))],
            flags="c" if cf else "nc",
        )
    )


def testBitTest_memoryWithImmediate_offsetModuloWidth() -> None:
    """bt dword [ebx], 35 tests bit 3 of [ebx], not a bit of [ebx+4]."""
    check_row(
        Row(
            name="bt [ebx],35",
            code=b"\x0f\xba\x23\x23",
            regs={"ebx": BASE},
            mem_in=[(BASE, bytes([0x08, 0, 0, 0, 0]))],
            flags="c",
        )
    )


def testBts_immediateOnWord_setsBitModulo16() -> None:
    """bts ax, 17 sets bit 1 of AX."""
    check_row(
        Row(
            name="bts ax,17",
            code=b"\x66\x0f\xba\xe8\x11",
            regs={"eax": 0xFFFF0000},
            expect={"eax": 0xFFFF0002},
            flags="nc",
        )
    )


# op, width, source, result (None: undefined), zf
SCAN = [
    ("bsf", 32, 0x00010000, 16, 0),
    ("bsf", 32, 0x80000001, 0, 0),
    ("bsf", 16, 0x00008000, 15, 0),
    ("bsr", 32, 0x00010001, 16, 0),
    ("bsr", 32, 0xFFFFFFFF, 31, 0),
    ("bsr", 16, 0x00000001, 0, 0),
    ("bsf", 32, 0x00000000, None, 1),
    ("bsr", 16, 0xFFFF0000, None, 1),
]


@pytest.mark.parametrize(
    ("op", "width", "src", "result", "zf"), SCAN, ids=[f"{r[0]}{r[1]}-{r[2]:#x}" for r in SCAN]
)
def testBitScan_tableRow_matchesIntel(
    op: str, width: int, src: int, result: int | None, zf: int
) -> None:
    """bsf/bsr eax, ecx: index of the lowest/highest set bit; ZF for zero."""
    code = op_rm(b"\x0f\xbc" if op == "bsf" else b"\x0f\xbd", EAX, ECX, width)
    check_row(
        Row(
            name=f"{op}{width}",
            code=code,
            regs={"eax": 0x77777777, "ecx": src},
            expect={
                "eax": None if result is None else (0x77770000 if width == 16 else 0) | result,
                "ecx": src,
            },
            flags="z" if zf else "nz",
        )
    )


@pytest.mark.parametrize(
    "reg", range(8), ids=["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"]
)
def testBswap_eachRegister_reversesBytes(reg: int) -> None:
    """bswap r32 reverses the four bytes of any register."""
    names = ("eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi")
    code = bytes([0x0F, 0xC8 + reg])
    check_row(
        Row(
            name=f"bswap {names[reg]}",
            code=code,
            regs={names[reg]: 0x12345678},
            expect={names[reg]: 0x78563412},
            flags="=",
        )
    )
