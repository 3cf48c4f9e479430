"""Condition codes: setcc, cmovcc and jcc for all sixteen conditions.

One table (Intel SDM vol. 1, appendix B) drives all three: each row is a
condition, input flags and whether the condition holds.
"""

# Test names follow the blink style test<Thing>_<condition>_<expectation> (STYLE.md).

from __future__ import annotations

import pytest
from cpu_oracle.encode import CONDITIONS
from cpu_oracle.table import Row, check_row

# condition, flags in, holds
CONDITION_ROWS = [
    ("o", "o", 1),
    ("o", "no", 0),
    ("no", "no", 1),
    ("no", "o", 0),
    ("b", "c", 1),
    ("b", "nc", 0),
    ("ae", "nc", 1),
    ("ae", "c", 0),
    ("e", "z", 1),
    ("e", "nz", 0),
    ("ne", "nz", 1),
    ("ne", "z", 0),
    ("be", "c nz", 1),
    ("be", "nc z", 1),
    ("be", "nc nz", 0),
    ("a", "nc nz", 1),
    ("a", "c nz", 0),
    ("a", "nc z", 0),
    ("s", "s", 1),
    ("s", "ns", 0),
    ("ns", "ns", 1),
    ("ns", "s", 0),
    ("p", "p", 1),
    ("p", "np", 0),
    ("np", "np", 1),
    ("np", "p", 0),
    ("l", "s no", 1),
    ("l", "ns o", 1),
    ("l", "s o", 0),
    ("l", "ns no", 0),
    ("ge", "s o", 1),
    ("ge", "ns no", 1),
    ("ge", "s no", 0),
    ("le", "z s o", 1),
    ("le", "nz s no", 1),
    ("le", "nz s o", 0),
    ("le", "nz ns no", 0),
    ("g", "nz ns no", 1),
    ("g", "nz s o", 1),
    ("g", "z ns no", 0),
    ("g", "nz s no", 0),
]
IDS = [f"{r[0]}-{r[1].replace(' ', '')}" for r in CONDITION_ROWS]


@pytest.mark.parametrize(("cc", "flags", "holds"), CONDITION_ROWS, ids=IDS)
def testSetcc_condition_writesOneOrZero(cc: str, flags: str, holds: int) -> None:
    """setcc al writes 1 or 0 into AL only."""
    code = bytes([0x0F, 0x90 + CONDITIONS.index(cc), 0xC0])
    check_row(
        Row(
            name=f"set{cc}",
            code=code,
            regs={"eax": 0xAAAAAAAA},
            flags_in=flags,
            expect={"eax": 0xAAAAAA00 | holds},
            flags="=",
        )
    )


@pytest.mark.parametrize(("cc", "flags", "holds"), CONDITION_ROWS, ids=IDS)
def testCmovcc_condition_movesOrKeeps(cc: str, flags: str, holds: int) -> None:
    """cmovcc eax, ecx moves only when the condition holds."""
    code = bytes([0x0F, 0x40 + CONDITIONS.index(cc), 0xC1])
    check_row(
        Row(
            name=f"cmov{cc}",
            code=code,
            regs={"eax": 0x11111111, "ecx": 0x22222222},
            flags_in=flags,
            expect={"eax": 0x22222222 if holds else 0x11111111},
            flags="=",
        )
    )


@pytest.mark.parametrize("near", [False, True], ids=["short", "near"])
@pytest.mark.parametrize(("cc", "flags", "holds"), CONDITION_ROWS, ids=IDS)
def testJcc_condition_jumpsOrFallsThrough(cc: str, flags: str, holds: int, near: bool) -> None:
    """jcc over ``inc eax``: EAX stays 0 when taken."""
    n = CONDITIONS.index(cc)
    jump = bytes([0x0F, 0x80 + n, 1, 0, 0, 0]) if near else bytes([0x70 + n, 1])
    check_row(
        Row(
            name=f"j{cc}",
            code=jump + b"\x40",
            regs={"eax": 0},
            flags_in=flags,
            expect={"eax": 0 if holds else 1},
        )
    )


def testCmov16_falseCondition_keepsUpperAndLower() -> None:
    """cmovne ax, cx with ZF=1 leaves all of EAX unchanged."""
    check_row(
        Row(
            name="cmovne ax,cx",
            code=b"\x66\x0f\x45\xc1",
            regs={"eax": 0x12345678, "ecx": 0xFFFF},
            flags_in="z",
            expect={"eax": 0x12345678},
        )
    )


def testSetcc_memoryDestination_writesByte() -> None:
    """setb byte [ebx] stores 1 or 0 into memory."""
    check_row(
        Row(
            name="setb [ebx]",
            code=b"\x0f\x92\x03",
            regs={"ebx": 0x18000},
            flags_in="c",
            mem_in=[(0x18000, b"\xff\xff")],
            mem_out=[(0x18000, b"\x01\xff")],
        )
    )
