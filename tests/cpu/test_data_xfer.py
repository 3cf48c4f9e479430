"""Data movement: mov forms, movzx/movsx, lea (every ModRM/SIB form), xchg,
cmpxchg, xadd, cbw/cwde/cwd/cdq, lahf/sahf.
"""

# Test names follow the blink style test<Thing>_<condition>_<expectation> (STYLE.md).

from __future__ import annotations

import pytest
from cpu_oracle.encode import EAX, EBP, EBX, ECX, EDI, EDX, ESI, ESP, Mem, op_rm
from cpu_oracle.table import Row, check_row

REGS = {
    "eax": 0x11111111,
    "ecx": 0x00000100,
    "edx": 0x33333333,
    "ebx": 0x00001000,
    "esp": 0x00300000,
    "ebp": 0x00002000,
    "esi": 0x00000020,
    "edi": 0x80000000,
}

# operand, operand size, expected EAX
LEA = [
    (Mem(EBX, disp_size=0), 32, 0x1000),
    (Mem(EBX, disp=-1, disp_size=1), 32, 0x0FFF),
    (Mem(EBX, disp=0x12345, disp_size=4), 32, 0x13345),
    (Mem(EBP, disp_size=0), 32, 0x2000),
    (Mem(None, disp=0xCAFEBABE), 32, 0xCAFEBABE),
    (Mem(EBX, ESI, 4, 0x10, 1), 32, 0x1090),
    (Mem(ESP, None, 1, 8, 1), 32, 0x300008),
    (Mem(ESP, EBP, 8, -1, 4), 32, 0x30FFFF),
    (Mem(None, ESI, 8, 0x100, 4), 32, 0x200),
    (Mem(EBP, ECX, 2, 0, 0), 32, 0x2200),
    (Mem(EBX, None, 1, 0, 0, force_sib=True), 32, 0x1000),
    (Mem(EDI, EDI, 2, 0, 0), 32, 0x80000000),
    (Mem(EBX, disp=-0x2000, disp_size=4), 32, 0xFFFFF000),
    (Mem(EBX, ESI, 4, 0x10, 1), 16, 0x11111090),
    (Mem(EDI, None, 1, 0x12345, 4), 16, 0x11112345),
]


@pytest.mark.parametrize(
    ("operand", "width", "result"), LEA, ids=[f"lea{w}-{i}" for i, (_, w, _) in enumerate(LEA)]
)
def testLea_addressingForm_computesAddressWithoutAccess(
    operand: Mem, width: int, result: int
) -> None:
    """lea computes base + index*scale + disp modulo 2^32 (2^16 with 66)."""
    check_row(
        Row(
            name=f"lea{width}",
            code=op_rm(b"\x8d", EAX, operand, width),
            regs=REGS,
            expect={"eax": result},
            flags="=",
        )
    )


def testMov_absoluteMoffs_loadsAndStores() -> None:
    """mov eax, [moffs]; mov [moffs+4], al."""
    code = b"\xa1\x00\x80\x01\x00" + b"\xa2\x04\x80\x01\x00"
    check_row(
        Row(
            name="moffs",
            code=code,
            mem_in=[(0x18000, b"\x78\x56\x34\x12\x00")],
            expect={"eax": 0x12345678},
            mem_out=[(0x18004, b"\x78")],
        )
    )


def testMov_immediateToMemory16_writesTwoBytes() -> None:
    """mov word [ebx+2], 0xBEEF writes exactly two bytes."""
    check_row(
        Row(
            name="mov word [ebx+2]",
            code=b"\x66\xc7\x43\x02\xef\xbe",
            regs={"ebx": 0x18000},
            mem_in=[(0x18000, b"\x00" * 6)],
            mem_out=[(0x18000, b"\x00\x00\xef\xbe\x00\x00")],
        )
    )


@pytest.mark.parametrize(
    ("code", "src", "result"),
    [
        (b"\x0f\xb6\xc1", 0x000000F0, 0x000000F0),  # movzx eax, cl
        (b"\x0f\xbe\xc1", 0x000000F0, 0xFFFFFFF0),  # movsx eax, cl
        (b"\x0f\xb7\xc1", 0x12348001, 0x00008001),  # movzx eax, cx
        (b"\x0f\xbf\xc1", 0x12348001, 0xFFFF8001),  # movsx eax, cx
        (b"\x66\x0f\xb6\xc1", 0x00000080, 0xAAAA0080),  # movzx ax, cl
        (b"\x66\x0f\xbe\xc1", 0x00000080, 0xAAAAFF80),  # movsx ax, cl
        (b"\x0f\xbe\xc5", 0x00007F00, 0x0000007F),  # movsx eax, ch
    ],
    ids=["movzx-b", "movsx-b", "movzx-w", "movsx-w", "movzx16-b", "movsx16-b", "movsx-ch"],
)
def testMovx_source_extendsCorrectly(code: bytes, src: int, result: int) -> None:
    """movzx/movsx zero- or sign-extend into 16 or 32 bits."""
    check_row(
        Row(
            name="movx",
            code=code,
            regs={"eax": 0xAAAAAAAA, "ecx": src},
            expect={"eax": result},
            flags="=",
        )
    )


@pytest.mark.parametrize(
    ("code", "eax", "result"),
    [
        (b"\x98", 0x1234FF80, 0xFFFFFF80),  # cwde
        (b"\x66\x98", 0x12345680, 0x1234FF80),  # cbw
        (b"\x99", 0x80000000, None),  # cdq
        (b"\x66\x99", 0x00008000, None),  # cwd
    ],
    ids=["cwde", "cbw", "cdq", "cwd"],
)
def testConvert_signBit_extends(code: bytes, eax: int, result: int | None) -> None:
    """cbw/cwde extend within EAX; cwd/cdq fill DX/EDX with the sign."""
    expect = {"eax": eax if result is None else result}
    if code == b"\x99":
        expect["edx"] = 0xFFFFFFFF
    if code == b"\x66\x99":
        expect["edx"] = 0x5555FFFF
    check_row(Row(name="convert", code=code, regs={"eax": eax, "edx": 0x55555555}, expect=expect))


def testXchg_registerPair_swaps() -> None:
    """xchg ecx, edx (87 /r) and xchg eax, ecx (91) swap."""
    check_row(
        Row(
            name="xchg",
            code=b"\x87\xca\x91",
            regs={"eax": 1, "ecx": 2, "edx": 3},
            expect={"eax": 3, "ecx": 1, "edx": 2},
        )
    )


def testXchg_memoryByte_swapsWithRegister() -> None:
    """xchg [ebx], ah swaps one byte."""
    check_row(
        Row(
            name="xchg [ebx],ah",
            code=b"\x86\x23",
            regs={"ebx": 0x18000, "eax": 0xAB00},
            mem_in=[(0x18000, b"\x12\x34")],
            mem_out=[(0x18000, b"\xab\x34")],
            expect={"eax": 0x1200},
        )
    )


@pytest.mark.parametrize(
    ("eax", "dest", "eax_out", "dest_out", "flags"),
    [
        (5, 5, 5, 9, "z nc ns no na p"),
        (5, 7, 7, 7, "nz c s no a np"),
        (0x80000000, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF, "nz nc ns o a np"),
    ],
    ids=["equal", "less", "overflow"],
)
def testCmpxchg_register_comparesWithEax(
    eax: int, dest: int, eax_out: int, dest_out: int, flags: str
) -> None:
    """cmpxchg edx, ecx: equal -> edx=ecx, else eax=edx; flags as cmp eax, edx."""
    check_row(
        Row(
            name="cmpxchg",
            code=b"\x0f\xb1\xca",
            regs={"eax": eax, "edx": dest, "ecx": 9},
            expect={"eax": eax_out, "edx": dest_out, "ecx": 9},
            flags=flags,
        )
    )


def testCmpxchg_lockedMemory_equal_storesSource() -> None:
    """lock cmpxchg [ebx], ecx stores ECX when [ebx] == EAX."""
    check_row(
        Row(
            name="lock cmpxchg",
            code=b"\xf0\x0f\xb1\x0b",
            regs={"ebx": 0x18000, "eax": 0x42, "ecx": 0x99},
            mem_in=[(0x18000, b"\x42\x00\x00\x00")],
            mem_out=[(0x18000, b"\x99\x00\x00\x00")],
            expect={"eax": 0x42},
            flags="z",
        )
    )


def testCmpxchg8_byteAccumulator_loadsAl() -> None:
    """cmpxchg cl, dl with AL != CL loads CL into AL."""
    check_row(
        Row(
            name="cmpxchg8",
            code=b"\x0f\xb0\xd1",
            regs={"eax": 0x11111101, "ecx": 0x02, "edx": 0x03},
            expect={"eax": 0x11111102, "ecx": 0x02},
            flags="nz c s",
        )
    )


def testXadd_register_exchangesAndAdds() -> None:
    """xadd ecx, edx: ecx = ecx+edx, edx = old ecx; flags of the add."""
    check_row(
        Row(
            name="xadd",
            code=b"\x0f\xc1\xd1",
            regs={"ecx": 0xFFFFFFFF, "edx": 1},
            expect={"ecx": 0, "edx": 0xFFFFFFFF},
            flags="c z ns no a p",
        )
    )


def testXadd_lockedMemory_returnsOldValue() -> None:
    """lock xadd [ebx], eax (the atomic fetch-and-add gcc emits)."""
    check_row(
        Row(
            name="lock xadd",
            code=b"\xf0\x0f\xc1\x03",
            regs={"ebx": 0x18000, "eax": 3},
            mem_in=[(0x18000, b"\x05\x00\x00\x00")],
            mem_out=[(0x18000, b"\x08\x00\x00\x00")],
            expect={"eax": 5},
            flags="nc nz ns no na np",
        )
    )


def testLahf_flags_loadAh() -> None:
    """lahf loads SF ZF AF PF CF (and bit 1) into AH."""
    check_row(
        Row(
            name="lahf",
            code=b"\x9f",
            regs={"eax": 0xFFFF00FF},
            flags_in="s z a p c o",
            expect={"eax": 0xFFFFD7FF},
            flags="=",
        )
    )


def testSahf_ah_storesFiveFlags() -> None:
    """sahf sets SF ZF AF PF CF from AH and leaves OF alone."""
    check_row(
        Row(name="sahf", code=b"\x9e", regs={"eax": 0x0000D500}, flags_in="o", flags="s z a p c o")
    )
    check_row(
        Row(
            name="sahf clear",
            code=b"\x9e",
            regs={"eax": 0},
            flags_in="s z a p c",
            flags="ns nz na np nc no",
        )
    )


_ = (ECX, EDX, ESI)
