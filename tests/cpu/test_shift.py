"""Shifts and rotates (shl/shr/sar/rol/ror/rcl/rcr, shld/shrd): results and flags.

Rows: (op, width, value, count, CF in, result, flags).  The count is in CL
(so counts above 31 test the 5-bit mask).  Flags that the SDM leaves
undefined for the count (OF unless the count is 1, AF, CF of shl/shr at
count >= width) are not named; ``=`` names flags that must keep their value.
"""

# Test names follow the blink style test<Thing>_<condition>_<expectation> (STYLE.md).

from __future__ import annotations

import pytest
from cpu_oracle.encode import EAX, ECX, op_rm
from cpu_oracle.table import Row, check_row

EXT = {"rol": 0, "ror": 1, "rcl": 2, "rcr": 3, "shl": 4, "shr": 5, "sar": 7}
JUNK = {8: 0xDEADBE00, 16: 0xDEAD0000, 32: 0}

SHIFTS = [
    ("shl", 8, 0x81, 1, 0, 0x02, "c o ns nz np"),
    ("shl", 8, 0x40, 1, 1, 0x80, "nc o s nz np"),
    ("shl", 32, 0x80000001, 1, 0, 0x00000002, "c o ns nz np"),
    ("shl", 32, 0x00000001, 31, 1, 0x80000000, "nc s nz p"),
    ("shl", 32, 0x12345678, 0, 1, 0x12345678, "="),
    ("shl", 32, 0x12345678, 32, 0, 0x12345678, "="),
    ("shl", 8, 0xFF, 8, 0, 0x00, "z ns p"),
    ("shl", 16, 0xFFFF, 17, 0, 0x0000, "z ns p"),
    ("shl", 8, 0x01, 7, 0, 0x80, "nc s nz np"),
    ("shr", 8, 0x81, 1, 0, 0x40, "c o ns nz np"),
    ("shr", 32, 0x80000000, 31, 0, 0x00000001, "nc ns nz np"),
    ("shr", 16, 0x8000, 15, 1, 0x0001, "nc ns nz np"),
    ("shr", 32, 0xFFFFFFFF, 33, 0, 0x7FFFFFFF, "c o ns nz p"),
    ("sar", 8, 0x80, 1, 1, 0xC0, "nc no s nz p"),
    ("sar", 8, 0x80, 7, 0, 0xFF, "nc s nz p"),
    ("sar", 8, 0x80, 9, 0, 0xFF, "c s nz p"),
    ("sar", 32, 0x7FFFFFFF, 31, 0, 0x00000000, "c z ns p"),
    ("sar", 16, 0x8001, 1, 0, 0xC000, "c no s nz p"),
    ("rol", 8, 0x81, 1, 0, 0x03, "c o =szap"),
    ("rol", 16, 0x8000, 4, 1, 0x0008, "nc =szap"),
    ("rol", 8, 0x01, 8, 0, 0x01, "c =szap"),
    ("rol", 32, 0x80000000, 1, 0, 0x00000001, "c o =szap"),
    ("ror", 8, 0x81, 1, 0, 0xC0, "c no =szap"),
    ("ror", 32, 0x00000001, 1, 0, 0x80000000, "c o =szap"),
    ("ror", 16, 0x0001, 0, 1, 0x0001, "="),
    ("rcl", 8, 0x80, 1, 0, 0x00, "c o =szap"),
    ("rcl", 8, 0x00, 1, 1, 0x01, "nc no =szap"),
    ("rcl", 8, 0x01, 9, 0, 0x01, "nc =szap"),
    ("rcl", 32, 0x80000000, 1, 1, 0x00000001, "c o =szap"),
    ("rcl", 16, 0x8000, 2, 1, 0x0003, "nc =szap"),
    ("rcr", 8, 0x01, 1, 1, 0x80, "c o =szap"),
    ("rcr", 16, 0x0001, 17, 1, 0x0001, "c =szap"),
    ("rcr", 32, 0x00000001, 2, 0, 0x80000000, "nc =szap"),
    ("rcr", 8, 0x00, 9, 1, 0x00, "c =szap"),
]

# right?, width, dest, src, count, result (None: undefined), flags
DOUBLE = [
    (False, 32, 0x12345678, 0x9ABCDEF0, 4, 0x23456789, "c ns nz np"),
    (True, 32, 0x12345678, 0x9ABCDEF0, 4, 0x01234567, "c ns nz np"),
    (False, 16, 0x8000, 0xFFFF, 1, 0x0001, "c o ns nz np"),
    (True, 16, 0x0001, 0x0000, 1, 0x0000, "c no z ns p"),
    (True, 32, 0x12345678, 0x9ABCDEF0, 0, 0x12345678, "="),
    (False, 32, 0x12345678, 0x9ABCDEF0, 32, 0x12345678, "="),
    (False, 32, 0x00000001, 0x80000000, 31, 0xC0000000, "nc s nz p"),
    (True, 16, 0x1234, 0xABCD, 16, 0xABCD, "nc s nz np"),
    (False, 16, 0x1234, 0xABCD, 20, None, ""),
]


def cf_flags(cf: int) -> str:
    """The initial flags of a row: CF as given, SF/ZF/AF/PF set (to see them kept)."""
    return ("c" if cf else "nc") + " s z a p"


@pytest.mark.parametrize(
    ("op", "width", "value", "count", "cf", "result", "flags"),
    SHIFTS,
    ids=[f"{r[0]}{r[1]}-{r[2]:#x}-by{r[3]}-c{r[4]}" for r in SHIFTS],
)
def testShift_byCl_matchesIntel(
    op: str, width: int, value: int, count: int, cf: int, result: int, flags: str
) -> None:
    """Shift/rotate by CL: result, CF, OF (count 1) and the unaffected flags."""
    code = op_rm(bytes([0xD2 + (width != 8)]), EXT[op], EAX, width)
    check_row(
        Row(
            name=f"{op}{width} by cl={count}",
            code=code,
            regs={"eax": JUNK[width] | value, "ecx": 0xFFFFFF00 | count},
            flags_in=cf_flags(cf),
            expect={"eax": JUNK[width] | result},
            flags=flags,
        )
    )


@pytest.mark.parametrize(
    ("op", "width", "value", "count", "cf", "result", "flags"),
    [r for r in SHIFTS if r[3] < 256],
    ids=[f"{r[0]}{r[1]}-{r[2]:#x}-by{r[3]}-c{r[4]}" for r in SHIFTS],
)
def testShift_byImm8_matchesIntel(
    op: str, width: int, value: int, count: int, cf: int, result: int, flags: str
) -> None:
    """The same rows with the count as an immediate (C0/C1, or D0/D1 for 1)."""
    if count == 1:
        code = op_rm(bytes([0xD0 + (width != 8)]), EXT[op], EAX, width)
    else:
        code = op_rm(bytes([0xC0 + (width != 8)]), EXT[op], EAX, width, bytes([count]))
    check_row(
        Row(
            name=f"{op}{width} by {count}",
            code=code,
            regs={"eax": JUNK[width] | value},
            flags_in=cf_flags(cf),
            expect={"eax": JUNK[width] | result},
            flags=flags,
        )
    )


@pytest.mark.parametrize(
    ("right", "width", "dest", "src", "count", "result", "flags"),
    DOUBLE,
    ids=[f"{'shrd' if r[0] else 'shld'}{r[1]}-by{r[4]}" for r in DOUBLE],
)
def testDoubleShift_byCl_matchesIntel(
    right: bool, width: int, dest: int, src: int, count: int, result: int | None, flags: str
) -> None:
    """shld/shrd dest=EAX, src=EDX, count in CL."""
    code = op_rm(b"\x0f\xad" if right else b"\x0f\xa5", 2, EAX, width)
    check_row(
        Row(
            name=f"{'shrd' if right else 'shld'}{width} by {count}",
            code=code,
            regs={"eax": JUNK[width] | dest, "edx": src, "ecx": count},
            flags_in=cf_flags(0),
            expect={"eax": None if result is None else JUNK[width] | result, "edx": src},
            flags=flags,
        )
    )


def testShl_memoryOperandByCl_shiftsMemory() -> None:
    """shl dword [ebx], cl shifts memory and sets CF from the last bit out."""
    check_row(
        Row(
            name="shl [ebx],cl",
            code=b"\xd3\x23",
            regs={"ebx": 0x18000, "ecx": 4},
            mem_in=[(0x18000, bytes.fromhex("785634f2"))],
            mem_out=[(0x18000, bytes.fromhex("80674523"))],
            flags="c ns nz np",
        )
    )


def testSal_encodingSlash6_isShl() -> None:
    """The rarely used D1 /6 encoding behaves as shl on every x86 (and unicorn)."""
    check_row(
        Row(
            name="sal /6",
            code=b"\xd1\xf0",
            regs={"eax": 0x40000000},
            expect={"eax": 0x80000000},
            flags="nc o s nz p",
        )
    )


_ = ECX
