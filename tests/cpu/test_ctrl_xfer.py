"""Control transfer: call/ret (near, indirect, ret imm16, rep ret), jmp forms,
loop/loope/loopne/jecxz/jcxz.  Code starts at 0x4000, ESP at 0x300000.
"""

# Test names follow the blink style test<Thing>_<condition>_<expectation> (STYLE.md).

from __future__ import annotations

import pytest
from cpu_oracle.table import Row, check_row

TOP = 0x300000
CODE = 0x4000


def le(*words: int) -> bytes:
    """Little-endian dwords."""
    return b"".join((w & 0xFFFFFFFF).to_bytes(4, "little") for w in words)


def testCall_relative_pushesReturnAddress() -> None:
    """call +0; pop eax: EAX = the address after the call."""
    check_row(
        Row(
            name="call; pop",
            code=b"\xe8\x00\x00\x00\x00\x58",
            regs={"esp": TOP},
            expect={"eax": CODE + 5, "esp": TOP},
        )
    )


def testCallRet_subroutine_returnsAfterCall() -> None:
    """call sub; inc ecx; jmp end; sub: inc eax; ret."""
    code = b"\xe8\x03\x00\x00\x00" + b"\x41\xeb\x02" + b"\x40\xc3"
    check_row(
        Row(name="call/ret", code=code, regs={"esp": TOP}, expect={"eax": 1, "ecx": 1, "esp": TOP})
    )


@pytest.mark.parametrize("pop", [0, 4, 12])
def testRetImm16_popsExtraBytes(pop: int) -> None:
    """ret n adds n to ESP after popping the return address."""
    code = b"\xe8\x02\x00\x00\x00" + b"\xeb\x03" + b"\xc2" + pop.to_bytes(2, "little")
    check_row(Row(name=f"ret {pop}", code=code, regs={"esp": TOP}, expect={"esp": TOP + pop}))


def testRepRet_amdIdiom_returns() -> None:
    """f3 c3 (the 'repz ret' gcc emitted for K8) is a plain ret."""
    code = b"\xe8\x02\x00\x00\x00" + b"\xeb\x02" + b"\xf3\xc3"
    check_row(Row(name="rep ret", code=code, regs={"esp": TOP}, expect={"esp": TOP}))


def testCallIndirect_register_callsTarget() -> None:
    """mov edx, target; call edx."""
    target = CODE + 7 + 2
    code = b"\xba" + le(target) + b"\xff\xd2" + b"\xeb\x02" + b"\x40\xc3"
    check_row(Row(name="call edx", code=code, regs={"esp": TOP}, expect={"eax": 1, "esp": TOP}))


def testCallIndirect_memory_callsTarget() -> None:
    """call [abs] through a pointer in memory."""
    target = CODE + 6 + 2
    code = b"\xff\x15" + le(0x18000) + b"\xeb\x02" + b"\x40\xc3"
    check_row(
        Row(
            name="call [mem]",
            code=code,
            regs={"esp": TOP},
            mem_in=[(0x18000, le(target))],
            expect={"eax": 1, "esp": TOP},
        )
    )


def testJmpIndirect_memorySib_jumps() -> None:
    """jmp [ebx+esi*4] (a switch jump table)."""
    target = CODE + 3 + 1
    code = b"\xff\x24\xb3" + b"\x40"
    check_row(
        Row(
            name="jmp [ebx+esi*4]",
            code=code,
            regs={"ebx": 0x18000, "esi": 2},
            mem_in=[(0x18008, le(target))],
            expect={"eax": 0},
        )
    )


def testJmp_near_skipsCode() -> None:
    """e9 rel32 and eb rel8 skip over code."""
    code = b"\xe9\x01\x00\x00\x00\x40" + b"\xeb\x01\x40" + b"\x41"
    check_row(Row(name="jmp", code=code, expect={"eax": 0, "ecx": 1}))


def testJmp_backward_rel8() -> None:
    """A backward short jump: inc ecx; cmp ecx, 3; jne back."""
    code = b"\x41\x83\xf9\x03\x75\xfa"
    check_row(Row(name="backward jne", code=code, regs={"ecx": 0}, expect={"ecx": 3}, flags="z"))


# opcode, ecx in, flags in, taken, ecx out
LOOPS = [
    (b"\xe2", 1, "", False, 0),
    (b"\xe2", 2, "", True, 1),
    (b"\xe2", 0, "", True, 0xFFFFFFFF),
    (b"\xe1", 5, "z", True, 4),
    (b"\xe1", 5, "nz", False, 4),
    (b"\xe1", 1, "z", False, 0),
    (b"\xe0", 5, "nz", True, 4),
    (b"\xe0", 5, "z", False, 4),
    (b"\xe3", 0, "", True, 0),
    (b"\xe3", 0x10000, "", False, 0x10000),
    (b"\x67\xe3", 0x10000, "", True, 0x10000),
    (b"\x67\xe3", 1, "", False, 1),
]


@pytest.mark.parametrize(
    ("op", "ecx", "flags", "taken", "ecx_out"),
    LOOPS,
    ids=[f"{r[0].hex()}-ecx{r[1]:#x}-{r[2] or 'any'}" for r in LOOPS],
)
def testLoopFamily_counterAndFlags_decideJump(
    op: bytes, ecx: int, flags: str, taken: bool, ecx_out: int
) -> None:
    """loop/loope/loopne decrement ECX without touching flags; jecxz/jcxz only test it."""
    check_row(
        Row(
            name=f"{op.hex()}",
            code=op + b"\x03\x8d\x40\x01",
            regs={"ecx": ecx, "eax": 0},
            flags_in=flags,
            expect={"eax": 0 if taken else 1, "ecx": ecx_out},
            flags="=",
        )
    )


def testLoop_backward_runsCountTimes() -> None:
    """mov ecx, 5; L: inc eax; loop L."""
    check_row(
        Row(
            name="loop x5",
            code=b"\xb9\x05\x00\x00\x00\x40\xe2\xfd",
            regs={"eax": 0},
            expect={"eax": 5, "ecx": 0},
        )
    )
