"""mul/imul (one, two and three operands) and div/idiv, including #DE.

mul/imul set CF=OF when the high half is significant; SF/ZF/AF/PF are
undefined and not named.  div/idiv leave every flag undefined; a quotient
that does not fit, or a zero divisor, raises #DE with EIP at the division
and nothing changed.
"""

# Test names follow the blink style test<Thing>_<condition>_<expectation> (STYLE.md).

from __future__ import annotations

import pytest
from cpu_oracle.encode import EAX, ECX, EDX, op_rm
from cpu_oracle.table import Row, check_row

DE = 0

# op ("mul"/"imul"), width, a (EAX), b (ECX), expected EAX, expected EDX (None: unchanged), flags
ONE_OPERAND = [
    ("mul", 8, 0xDEADBE80, 0x02, 0xDEAD0100, None, "c o"),
    ("mul", 8, 0x0000000F, 0x0F, 0x000000E1, None, "nc no"),
    ("mul", 16, 0x0000FFFF, 0xFFFF, 0x00000001, 0x0000FFFE, "c o"),
    ("mul", 32, 0xFFFFFFFF, 0x00000002, 0xFFFFFFFE, 0x00000001, "c o"),
    ("mul", 32, 0x00010000, 0x00010000, 0x00000000, 0x00000001, "c o"),
    ("mul", 32, 0x00000003, 0x00000005, 0x0000000F, 0x00000000, "nc no"),
    ("imul", 8, 0x00000080, 0xFF, 0x00000080, None, "c o"),
    ("imul", 8, 0x000000FF, 0xFF, 0x00000001, None, "nc no"),
    ("imul", 16, 0x0000FFFF, 0x0002, 0x0000FFFE, 0x0000FFFF, "nc no"),
    ("imul", 32, 0x7FFFFFFF, 0x00000002, 0xFFFFFFFE, 0x00000000, "c o"),
    ("imul", 32, 0xFFFFFFFF, 0xFFFFFFFF, 0x00000001, 0x00000000, "nc no"),
    ("imul", 32, 0x80000000, 0x00000001, 0x80000000, 0xFFFFFFFF, "nc no"),
]


@pytest.mark.parametrize(
    ("op", "width", "a", "b", "eax", "edx", "flags"),
    ONE_OPERAND,
    ids=[f"{r[0]}{r[1]}-{r[2]:#x}-{r[3]:#x}" for r in ONE_OPERAND],
)
def testMulOneOperand_tableRow_matchesIntel(
    op: str, width: int, a: int, b: int, eax: int, edx: int | None, flags: str
) -> None:
    """mul/imul r/m: AX, DX:AX or EDX:EAX, with CF=OF for a significant high half."""
    code = op_rm(bytes([0xF6 + (width != 8)]), 4 if op == "mul" else 5, ECX, width)
    edx_in = 0x5555AAAA
    check_row(
        Row(
            name=f"{op}{width}",
            code=code,
            regs={"eax": a, "ecx": b, "edx": edx_in},
            expect={
                "eax": eax,
                "edx": edx_in
                if edx is None
                else (edx_in & 0xFFFF0000) | edx
                if width == 16
                else edx,
                "ecx": b,
            },
            flags=flags,
        )
    )


def testImul2_overflow_setsCfOf() -> None:
    """imul eax, ecx keeps the low half and flags the lost high half."""
    check_row(
        Row(
            name="imul eax,ecx",
            code=b"\x0f\xaf\xc1",
            regs={"eax": 0x40000000, "ecx": 2, "edx": 7},
            expect={"eax": 0x80000000, "edx": 7},
            flags="c o",
        )
    )


def testImul3_negativeImm8_negatesWithOverflow() -> None:
    """imul eax, ecx, -1 overflows only for 0x80000000."""
    check_row(
        Row(
            name="imul eax,ecx,-1",
            code=b"\x6b\xc1\xff",
            regs={"ecx": 0x80000000},
            expect={"eax": 0x80000000},
            flags="c o",
        )
    )


def testImul3_imm16_keepsUpperHalfOfEax() -> None:
    """imul ax, cx, 0x100 writes AX only."""
    check_row(
        Row(
            name="imul ax,cx,0x100",
            code=b"\x66\x69\xc1\x00\x01",
            regs={"eax": 0x12345678, "ecx": 0x0080},
            expect={"eax": 0x12348000},
            flags="c o",
        )
    )


def testImul3_memorySource_noOverflow() -> None:
    """imul edx, [ebx], 3 reads memory."""
    check_row(
        Row(
            name="imul edx,[ebx],3",
            code=b"\x6b\x13\x03",
            regs={"ebx": 0x18000},
            mem_in=[(0x18000, (0xFFFFFFFE).to_bytes(4, "little"))],
            expect={"edx": 0xFFFFFFFA},
            flags="nc no",
        )
    )


# signed?, width, EAX, EDX, ECX (divisor), expected EAX, expected EDX, fault
DIVIDE = [
    (False, 8, 0x0100, 0, 0x02, 0x0080, 0, None),
    (False, 8, 0xFFFF, 0, 0xFF, None, None, DE),
    (False, 16, 0x0000, 0x0001, 0x0002, 0x8000, 0x0000, None),
    (False, 16, 0x0005, 0x0000, 0x0003, 0x0001, 0x0002, None),
    (False, 32, 0x00000000, 0x00000001, 0x00000002, 0x80000000, 0x00000000, None),
    (False, 32, 0x00000007, 0x00000000, 0x00000000, None, None, DE),
    (False, 32, 0xFFFFFFFF, 0x00000001, 0x00000002, 0xFFFFFFFF, 0x00000001, None),
    (False, 32, 0x00000000, 0x00000002, 0x00000002, None, None, DE),
    (False, 32, 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFE, None),
    (True, 8, 0xFF80, 0, 0xFF, None, None, DE),
    (True, 8, 0xFFF9, 0, 0x02, 0xFFFD, 0, None),
    (True, 16, 0xFFF9, 0xFFFF, 0xFFFE, 0x0003, 0xFFFF, None),
    (True, 32, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFF, None, None, DE),
    (True, 32, 0x00000007, 0x00000000, 0xFFFFFFFE, 0xFFFFFFFD, 0x00000001, None),
    (True, 32, 0x80000000, 0xFFFFFFFF, 0x00000001, 0x80000000, 0x00000000, None),
    (True, 32, 0xFFFFFFF9, 0xFFFFFFFF, 0x00000002, 0xFFFFFFFD, 0xFFFFFFFF, None),
]


@pytest.mark.parametrize(
    ("signed", "width", "eax", "edx", "ecx", "q", "r", "fault"),
    DIVIDE,
    ids=[f"{'idiv' if r[0] else 'div'}{r[1]}-{r[3]:#x}:{r[2]:#x}-by-{r[4]:#x}" for r in DIVIDE],
)
def testDivide_tableRow_matchesIntel(
    signed: bool,
    width: int,
    eax: int,
    edx: int,
    ecx: int,
    q: int | None,
    r: int | None,
    fault: int | None,
) -> None:
    """Quotient and remainder truncated toward zero, or #DE with nothing changed."""
    code = op_rm(bytes([0xF6 + (width != 8)]), 7 if signed else 6, ECX, width)
    if fault is not None:
        expect = {"eax": eax, "edx": edx, "ecx": ecx, "eip": 0x4000}
    elif width == 8:
        expect = {"eax": q, "ecx": ecx}
    elif width == 16:
        expect = {"eax": q, "edx": r, "ecx": ecx}
    else:
        expect = {"eax": q, "edx": r, "ecx": ecx}
    check_row(
        Row(
            name=f"{'idiv' if signed else 'div'}{width}",
            code=code,
            regs={"eax": eax, "edx": edx, "ecx": ecx},
            expect=expect,
            fault=fault,
        )
    )


def testDiv8_remainderInAh_quotientInAl() -> None:
    """div cl: AL = AX / CL, AH = AX % CL; the rest of EAX is kept."""
    check_row(
        Row(
            name="div cl",
            code=b"\xf6\xf1",
            regs={"eax": 0xABCD0107, "ecx": 0x10},
            expect={"eax": 0xABCD0710},
        )
    )


def testDiv_memoryDivisorZero_raisesDivideError() -> None:
    """div dword [ebx] with a zero dword faults before touching EAX/EDX."""
    check_row(
        Row(
            name="div [ebx]=0",
            code=b"\xf7\x33",
            regs={"ebx": 0x18000, "eax": 9, "edx": 0},
            mem_in=[(0x18000, bytes(4))],
            expect={"eax": 9, "edx": 0, "eip": 0x4000},
            fault=DE,
        )
    )


def testDivideError_afterInstructions_keepsEarlierEffects() -> None:
    """Instructions before a faulting div retire; the #DE frame points at the div."""
    code = b"\x40\x31\xd2\xf7\xf2"  # inc eax; xor edx, edx; div edx
    check_row(
        Row(
            name="inc; xor; div edx",
            code=code,
            regs={"eax": 1, "edx": 5},
            expect={"eax": 2, "edx": 0, "eip": 0x4003},
            fault=DE,
        )
    )


_ = (EAX, EDX)
