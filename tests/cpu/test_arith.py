"""add/adc/sub/sbb/cmp/inc/dec/neg: results and exact flags (Intel SDM vol. 2).

Rows: (op, width, a, b, CF in, result, flags).  ``a`` is in EAX (AL/AX) with
junk above the operand width, ``b`` in ECX; the result must land in the low
``width`` bits with the junk intact.  Each row runs with all other arithmetic
flags clear and again with all set, and is checked against unicorn first.
"""

# Test names follow the blink style test<Thing>_<condition>_<expectation> (STYLE.md).

from __future__ import annotations

import pytest
from cpu_oracle.encode import EAX, ECX, op_rm
from cpu_oracle.table import Row, check_row, check_row_core_only

OPS = {"add": 0, "or": 1, "adc": 2, "sbb": 3, "and": 4, "sub": 5, "xor": 6, "cmp": 7}
UNARY = {"inc": (0xFE, 0), "dec": (0xFE, 1), "not": (0xF6, 2), "neg": (0xF6, 3)}
JUNK = {8: 0xDEADBE00, 16: 0xDEAD0000, 32: 0}

# op, width, a, b, cf_in, result, flags
BINARY = [
    ("add", 8, 0x7F, 0x01, 0, 0x80, "nc nz s o a np"),
    ("add", 8, 0xFF, 0x01, 0, 0x00, "c z ns no a p"),
    ("add", 8, 0x80, 0x80, 0, 0x00, "c z ns o na p"),
    ("add", 8, 0x00, 0x00, 0, 0x00, "nc z ns no na p"),
    ("add", 8, 0x0F, 0x01, 0, 0x10, "nc nz ns no a np"),
    ("add", 8, 0x12, 0x34, 0, 0x46, "nc nz ns no na np"),
    ("add", 16, 0x7FFF, 0x0001, 0, 0x8000, "nc nz s o a p"),
    ("add", 16, 0xFFFF, 0xFFFF, 0, 0xFFFE, "c nz s no a np"),
    ("add", 32, 0x7FFFFFFF, 1, 0, 0x80000000, "nc nz s o a p"),
    ("add", 32, 0xFFFFFFFF, 1, 0, 0, "c z ns no a p"),
    ("add", 32, 0x80000000, 0x80000000, 0, 0, "c z ns o na p"),
    ("add", 32, 0x12345678, 0x11111111, 0, 0x23456789, "nc nz ns no na np"),
    ("adc", 8, 0xFF, 0x00, 1, 0x00, "c z ns no a p"),
    ("adc", 8, 0x7F, 0x00, 1, 0x80, "nc nz s o a np"),
    ("adc", 8, 0x01, 0x01, 0, 0x02, "nc nz ns no na np"),
    ("adc", 16, 0x0000, 0xFFFF, 1, 0x0000, "c z ns no a p"),
    ("adc", 32, 0xFFFFFFFF, 0xFFFFFFFF, 1, 0xFFFFFFFF, "c nz s no a p"),
    ("adc", 32, 0x7FFFFFFF, 0x00000000, 1, 0x80000000, "nc nz s o a p"),
    ("sub", 8, 0x00, 0x01, 0, 0xFF, "c nz s no a p"),
    ("sub", 8, 0x80, 0x01, 0, 0x7F, "nc nz ns o a np"),
    ("sub", 8, 0x05, 0x05, 0, 0x00, "nc z ns no na p"),
    ("sub", 16, 0x8000, 0x0001, 0, 0x7FFF, "nc nz ns o a p"),
    ("sub", 32, 0x00000000, 0x80000000, 0, 0x80000000, "c nz s o na p"),
    ("sub", 32, 0x12345678, 0x12345679, 0, 0xFFFFFFFF, "c nz s no a p"),
    ("sbb", 8, 0x00, 0x00, 1, 0xFF, "c nz s no a p"),
    ("sbb", 8, 0x80, 0x00, 1, 0x7F, "nc nz ns o a np"),
    ("sbb", 16, 0x0000, 0xFFFF, 1, 0x0000, "c z ns no a p"),
    ("sbb", 32, 0x00000001, 0x00000000, 1, 0x00000000, "nc z ns no na p"),
    ("sbb", 32, 0x00000000, 0xFFFFFFFF, 1, 0x00000000, "c z ns no a p"),
    ("sbb", 32, 0x80000000, 0x7FFFFFFF, 1, 0x00000000, "nc z ns o a p"),
    ("cmp", 32, 5, 7, 0, 5, "c nz s no a np"),
    ("cmp", 8, 0x80, 0x7F, 0, 0x80, "nc nz ns o a np"),
    ("cmp", 16, 0x1234, 0x1234, 0, 0x1234, "nc z ns no na p"),
]

# op, width, a, cf_in, result, flags
UNARY_ROWS = [
    ("inc", 8, 0x7F, 1, 0x80, "c nz s o a np"),
    ("inc", 8, 0xFF, 0, 0x00, "nc z ns no a p"),
    ("inc", 32, 0xFFFFFFFF, 1, 0x00000000, "c z ns no a p"),
    ("dec", 16, 0x8000, 1, 0x7FFF, "c nz ns o a p"),
    ("dec", 32, 0x00000001, 0, 0x00000000, "nc z ns no na p"),
    ("dec", 8, 0x00, 0, 0xFF, "nc nz s no a p"),
    ("neg", 8, 0x00, 1, 0x00, "nc z ns no na p"),
    ("neg", 8, 0x80, 0, 0x80, "c nz s o na np"),
    ("neg", 32, 0x00000001, 0, 0xFFFFFFFF, "c nz s no a p"),
    ("neg", 16, 0x8000, 0, 0x8000, "c nz s o na p"),
]

ALL_SET = "o s z a p"  # plus CF from the row


def flags_in(cf: int, others: bool) -> str:
    """Initial flags: CF as the row says, the rest all clear or all set."""
    return ("c " if cf else "nc ") + (ALL_SET if others else "")


def binary_row(
    op: str, width: int, a: int, b: int, cf: int, result: int, flags: str, others: bool
) -> Row:
    """``op eax/ax/al, ecx/cx/cl`` as a row."""
    code = op_rm(bytes([OPS[op] * 8 + (width != 8)]), ECX, EAX, width)
    return Row(
        name=f"{op}{width} {a:#x},{b:#x} cf={cf}",
        code=code,
        regs={"eax": JUNK[width] | a, "ecx": 0xCAFE0000 * (width == 16) | b},
        flags_in=flags_in(cf, others),
        expect={"eax": JUNK[width] | result, "ecx": 0xCAFE0000 * (width == 16) | b},
        flags=flags,
    )


@pytest.mark.parametrize("others", [False, True], ids=["flagsClear", "flagsSet"])
@pytest.mark.parametrize(
    ("op", "width", "a", "b", "cf", "result", "flags"),
    BINARY,
    ids=[f"{r[0]}{r[1]}-{r[2]:#x}-{r[3]:#x}-c{r[4]}" for r in BINARY],
)
def testBinary_tableRow_matchesIntel(
    op: str, width: int, a: int, b: int, cf: int, result: int, flags: str, others: bool
) -> None:
    """Two-operand arithmetic gives the SDM's result and flags."""
    check_row(binary_row(op, width, a, b, cf, result, flags, others))


@pytest.mark.parametrize("others", [False, True], ids=["flagsClear", "flagsSet"])
@pytest.mark.parametrize(
    ("op", "width", "a", "cf", "result", "flags"),
    UNARY_ROWS,
    ids=[f"{r[0]}{r[1]}-{r[2]:#x}-c{r[3]}" for r in UNARY_ROWS],
)
def testUnary_tableRow_matchesIntel(
    op: str, width: int, a: int, cf: int, result: int, flags: str, others: bool
) -> None:
    """inc/dec keep CF; neg sets CF unless the operand is zero."""
    opcode, ext = UNARY[op]
    code = op_rm(bytes([opcode + (width != 8)]), ext, EAX, width)
    check_row(
        Row(
            name=f"{op}{width} {a:#x}",
            code=code,
            regs={"eax": JUNK[width] | a},
            flags_in=flags_in(cf, others),
            expect={"eax": JUNK[width] | result},
            flags=flags,
        )
    )


def testAdd_highByteRegisters_writeBits8to15() -> None:
    """add ah, ch works on bits 8..15 and leaves AL/CL alone."""
    code = bytes([0x00, 0xEC])  # add ah, ch
    check_row(
        Row(
            name="add ah,ch",
            code=code,
            regs={"eax": 0x11227F33, "ecx": 0x55660144},
            expect={"eax": 0x11228033, "ecx": 0x55660144},
            flags="nc nz s o a np",
        )
    )


def testAdd_memoryDestination_writesMemoryOnly() -> None:
    """add [ebx+4], ecx updates the dword in memory and the flags."""
    addr = 0x18004
    code = bytes([0x01, 0x4B, 0x04])  # add [ebx+4], ecx
    check_row(
        Row(
            name="add [ebx+4],ecx",
            code=code,
            regs={"ebx": addr - 4, "ecx": 1},
            mem_in=[(addr, (0xFFFFFFFF).to_bytes(4, "little"))],
            mem_out=[(addr, bytes(4))],
            expect={"ecx": 1},
            flags="c z ns no a p",
        )
    )


def testSub_signExtendedImm8_subtractsNegative() -> None:
    """sub eax, -1 (83 /5 ff) adds one."""
    check_row(
        Row(
            name="sub eax,-1",
            code=b"\x83\xe8\xff",
            regs={"eax": 0x7FFFFFFF},
            expect={"eax": 0x80000000},
            flags="c nz s o na p",
        )
    )


def testCmp_immediateAlias82_comparesByte() -> None:
    """82 /7 ib (the 80 alias valid in 32-bit code) compares AL."""
    check_row(
        Row(
            name="cmp al,imm (82)",
            code=b"\x82\xf8\x10",
            regs={"eax": 0x0F},
            expect={"eax": 0x0F},
            flags="c nz s no na p",
        )
    )


@pytest.mark.parametrize(
    ("value", "result", "flags"),
    [
        (0x00000001, 0xFFFFFFFF, "c nz s no a p"),
        (0x80000000, 0x80000000, "c nz s o na p"),
        (0x00000000, 0x00000000, "nc z ns no na p"),
    ],
    ids=["one", "min", "zero"],
)
def testNeg_lockedMemory_flagsAsUnlocked(value: int, result: int, flags: str) -> None:
    """lock neg [ebx] sets the flags of neg (checked on the core only: unicorn is wrong here)."""
    row = Row(
        name="lock neg [ebx]",
        code=b"\xf0\xf7\x1b",
        regs={"ebx": 0x18000},
        mem_in=[(0x18000, value.to_bytes(4, "little"))],
        mem_out=[(0x18000, result.to_bytes(4, "little"))],
        flags=flags,
    )
    check_row_core_only(row, "lock neg")
    check_row(
        Row(
            name="neg [ebx]",
            code=b"\xf7\x1b",
            regs={"ebx": 0x18000},
            mem_in=row.mem_in,
            mem_out=row.mem_out,
            flags=flags,
        )
    )
