"""and/or/xor/test/not: results and exact flags (CF=OF=0, AF undefined).

Rows: (op, width, a, b, result, flags); ``a`` in EAX with junk above the
width, ``b`` in ECX.  Each row runs with the other flags all clear and all set.
"""

# Test names follow the blink style test<Thing>_<condition>_<expectation> (STYLE.md).

from __future__ import annotations

import pytest
from cpu_oracle.encode import EAX, ECX, op_rm
from cpu_oracle.table import Row, check_row

OPS = {"or": 1, "and": 4, "xor": 6, "test": None}
JUNK = {8: 0xDEADBE00, 16: 0xDEAD0000, 32: 0}

LOGIC = [
    ("and", 8, 0xF0, 0x0F, 0x00, "nc z ns no p"),
    ("and", 8, 0xFF, 0x80, 0x80, "nc nz s no np"),
    ("and", 16, 0xFFFF, 0x00FF, 0x00FF, "nc nz ns no p"),
    ("and", 32, 0xFFFFFFFF, 0x80000001, 0x80000001, "nc nz s no np"),
    ("or", 16, 0x8000, 0x0001, 0x8001, "nc nz s no np"),
    ("or", 32, 0x00000000, 0x00000000, 0x00000000, "nc z ns no p"),
    ("or", 8, 0x03, 0x30, 0x33, "nc nz ns no p"),
    ("xor", 32, 0x12345678, 0x12345678, 0x00000000, "nc z ns no p"),
    ("xor", 32, 0x12345678, 0xFFFFFFFF, 0xEDCBA987, "nc nz s no p"),
    ("xor", 8, 0xAA, 0x55, 0xFF, "nc nz s no p"),
    ("test", 8, 0x80, 0x80, 0x80, "nc nz s no np"),
    ("test", 32, 0x00000000, 0xFFFFFFFF, 0x00000000, "nc z ns no p"),
    ("test", 16, 0x8001, 0x0001, 0x8001, "nc nz ns no np"),
]


@pytest.mark.parametrize("others", [False, True], ids=["flagsClear", "flagsSet"])
@pytest.mark.parametrize(
    ("op", "width", "a", "b", "result", "flags"),
    LOGIC,
    ids=[f"{r[0]}{r[1]}-{r[2]:#x}-{r[3]:#x}" for r in LOGIC],
)
def testLogic_tableRow_matchesIntel(
    op: str, width: int, a: int, b: int, result: int, flags: str, others: bool
) -> None:
    """Logic ops clear CF/OF and set SF/ZF/PF from the result (test writes nothing)."""
    w = width != 8
    opcode = bytes([0x84 + w]) if op == "test" else bytes([OPS[op] * 8 + w])  # type: ignore[operator]
    check_row(
        Row(
            name=f"{op}{width}",
            code=op_rm(opcode, ECX, EAX, width),
            regs={"eax": JUNK[width] | a, "ecx": b},
            flags_in="c o s z a p" if others else 0,
            expect={"eax": JUNK[width] | result, "ecx": b},
            flags=flags,
        )
    )


@pytest.mark.parametrize("others", [False, True], ids=["flagsClear", "flagsSet"])
@pytest.mark.parametrize("width", [8, 16, 32])
def testNot_anyWidth_leavesFlagsAlone(width: int, others: bool) -> None:
    """not inverts the operand and changes no flag."""
    mask = (1 << width) - 1
    code = op_rm(bytes([0xF6 + (width != 8)]), 2, EAX, width)
    check_row(
        Row(
            name=f"not{width}",
            code=code,
            regs={"eax": JUNK[width] | (0x0F0F0F0F & mask)},
            flags_in="c o s z a p" if others else 0,
            expect={"eax": JUNK[width] | (0xF0F0F0F0 & mask)},
            flags="=",
        )
    )


def testAnd_signExtendedImm8_masksHighBits() -> None:
    """and eax, 0x80 (83 /4 ib) sign-extends the immediate to 0xFFFFFF80."""
    check_row(
        Row(
            name="and eax,imm8",
            code=b"\x83\xe0\x80",
            regs={"eax": 0xFFFFFFFF},
            expect={"eax": 0xFFFFFF80},
            flags="nc nz s no np",
        )
    )


def testTest_accumulatorImm16_setsParityFromLowByte() -> None:
    """test ax, 0xFF00 (66 a9) takes PF from the low byte of the result only."""
    check_row(
        Row(
            name="test ax,imm16",
            code=b"\x66\xa9\x00\xff",
            regs={"eax": 0x1234FF00},
            expect={"eax": 0x1234FF00},
            flags="nc nz s no p",
        )
    )


def testXor_lockedMemory_updatesDword() -> None:
    """lock xor [ebx], eax works as without the prefix."""
    check_row(
        Row(
            name="lock xor [ebx],eax",
            code=b"\xf0\x31\x03",
            regs={"ebx": 0x18000, "eax": 0xFFFF},
            mem_in=[(0x18000, bytes.fromhex("ff00ff00"))],
            mem_out=[(0x18000, bytes.fromhex("00ffff00"))],
            flags="nc nz ns no p",
        )
    )
