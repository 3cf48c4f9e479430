"""push/pop in all forms, pusha/popa, pushf/popf, enter/leave.

ESP starts at 0x300000 and EBP at 0x18000 in every row.
"""

# Test names follow the blink style test<Thing>_<condition>_<expectation> (STYLE.md).

from __future__ import annotations

from cpu_oracle.table import Row, check_row

TOP = 0x300000
BP = 0x18000
BASE = {"esp": TOP, "ebp": BP}


def le(*words: int) -> bytes:
    """Little-endian dwords."""
    return b"".join((w & 0xFFFFFFFF).to_bytes(4, "little") for w in words)


def testPushEsp_pushesValueBeforeDecrement() -> None:
    """push esp stores the old ESP."""
    check_row(
        Row(
            name="push esp",
            code=b"\x54",
            regs=BASE,
            expect={"esp": TOP - 4},
            mem_out=[(TOP - 4, le(TOP))],
        )
    )


def testPopEsp_loadsPoppedValue() -> None:
    """pop esp leaves ESP = the popped value (the increment is lost)."""
    check_row(
        Row(
            name="pop esp",
            code=b"\x5c",
            regs=BASE,
            mem_in=[(TOP, le(0x2FF000))],
            expect={"esp": 0x2FF000},
        )
    )


def testPopMemEspRelative_addressAfterIncrement() -> None:
    """pop [esp+4] computes the address with the incremented ESP."""
    check_row(
        Row(
            name="pop [esp+4]",
            code=b"\x8f\x44\x24\x04",
            regs=BASE,
            mem_in=[(TOP, le(0xAAAAAAAA, 0xBBBBBBBB, 0xCCCCCCCC))],
            mem_out=[(TOP + 4, le(0xBBBBBBBB, 0xAAAAAAAA))],
            expect={"esp": TOP + 4},
        )
    )


def testPushImm8_signExtends() -> None:
    """push -128 (6a 80) pushes 0xFFFFFF80."""
    check_row(
        Row(
            name="push imm8",
            code=b"\x6a\x80",
            regs=BASE,
            expect={"esp": TOP - 4},
            mem_out=[(TOP - 4, le(0xFFFFFF80))],
        )
    )


def testPush16_operandSize_movesEspByTwo() -> None:
    """66 push ax / 66 6a push imm8 move ESP by 2 and store words."""
    check_row(
        Row(
            name="pushw",
            code=b"\x66\x50\x66\x6a\xff",
            regs={**BASE, "eax": 0x1234ABCD},
            expect={"esp": TOP - 4},
            mem_out=[(TOP - 4, b"\xff\xff\xcd\xab")],
        )
    )


def testPushMemory_andPop16_roundTrip() -> None:
    """push dword [ebp+8]; pop word: 66 8f leaves the high word on the stack."""
    check_row(
        Row(
            name="push [ebp+8]; pop cx",
            code=b"\xff\x75\x08\x66\x59",
            regs={**BASE, "ecx": 0xFFFFFFFF},
            mem_in=[(BP + 8, le(0x12345678))],
            expect={"ecx": 0xFFFF5678, "esp": TOP - 2},
        )
    )


def testPusha_order_andPopaSkipsEsp() -> None:
    """pusha stores EAX..EDI with the original ESP; popa skips ESP."""
    regs = {"eax": 1, "ecx": 2, "edx": 3, "ebx": 4, "esp": TOP, "ebp": 6, "esi": 7, "edi": 8}
    image = le(8, 7, 6, TOP, 4, 3, 2, 1)
    check_row(
        Row(
            name="pusha",
            code=b"\x60",
            regs=regs,
            expect={"esp": TOP - 32},
            mem_out=[(TOP - 32, image)],
        )
    )
    stack = le(0x18, 0x17, 0x16, 0xDEAD, 0x14, 0x13, 0x12, 0x11)
    check_row(
        Row(
            name="popa",
            code=b"\x61",
            regs={"esp": TOP},
            mem_in=[(TOP, stack)],
            expect={
                "eax": 0x11,
                "ecx": 0x12,
                "edx": 0x13,
                "ebx": 0x14,
                "esp": TOP + 32,
                "ebp": 0x16,
                "esi": 0x17,
                "edi": 0x18,
            },
        )
    )


def testPushaw_16bit_storesWords() -> None:
    """66 60 (pushaw) stores eight words."""
    regs = {
        "eax": 0x10001,
        "ecx": 0x20002,
        "edx": 0x30003,
        "ebx": 0x40004,
        "esp": TOP,
        "ebp": 0x60006,
        "esi": 0x70007,
        "edi": 0x80008,
    }
    words = [8, 7, 6, TOP & 0xFFFF, 4, 3, 2, 1]
    check_row(
        Row(
            name="pushaw",
            code=b"\x66\x60",
            regs=regs,
            expect={"esp": TOP - 16},
            mem_out=[(TOP - 16, b"".join(w.to_bytes(2, "little") for w in words))],
        )
    )


def testPushf_image_hasBit1AndFlags() -> None:
    """pushf stores EFLAGS with bit 1 set."""
    check_row(
        Row(
            name="pushf",
            code=b"\x9c",
            regs=BASE,
            flags_in="c z o",
            expect={"esp": TOP - 4},
            mem_out=[(TOP - 4, le(0x2 | 1 | 0x40 | 0x800))],
        )
    )


def testPopf_cpl0_loadsArithDfIopl() -> None:
    """popf at CPL 0 loads the arithmetic flags, DF and IOPL; TF stays clear."""
    image = 0x2 | 0xFD5 | (3 << 12)
    check_row(
        Row(
            name="popf",
            code=b"\x9d",
            regs=BASE,
            mem_in=[(TOP, le(image & ~0x200))],
            expect={"esp": TOP + 4, "eflags": image & ~0x200},
        )
    )


def testPopf_reservedBits_readAsFixed() -> None:
    """popf of all ones outside TF/IF/VM/RF keeps bit 1 set and bits 3, 5, 15 clear."""
    check_row(
        Row(
            name="popf reserved",
            code=b"\x9d\x9c",
            regs=BASE,
            mem_in=[(TOP, le(0x0000FCFF & ~0x100))],
            mem_out=[(TOP, le(0x00007CD7))],
        )
    )


def testPopf16_word_keepsUpperFlags() -> None:
    """66 9d loads only the low 16 bits of EFLAGS."""
    check_row(
        Row(
            name="popfw",
            code=b"\x66\x9d",
            regs=BASE,
            mem_in=[(TOP, b"\xd5\x08")],
            expect={"esp": TOP + 2},
            flags="c p a z s o",
        )
    )


def testEnter_level0_buildsFrame() -> None:
    """enter 16, 0 = push ebp; mov ebp, esp; sub esp, 16."""
    check_row(
        Row(
            name="enter 16,0",
            code=b"\xc8\x10\x00\x00",
            regs=BASE,
            expect={"ebp": TOP - 4, "esp": TOP - 20},
            mem_out=[(TOP - 4, le(BP))],
            flags="=",
        )
    )


def testEnter_level2_copiesDisplay() -> None:
    """enter 8, 2 copies one outer frame pointer and pushes the new frame."""
    check_row(
        Row(
            name="enter 8,2",
            code=b"\xc8\x08\x00\x02",
            regs=BASE,
            mem_in=[(BP - 4, le(0xAABBCCDD))],
            expect={"ebp": TOP - 4, "esp": TOP - 20},
            mem_out=[(TOP - 12, le(TOP - 4, 0xAABBCCDD, BP))],
        )
    )


def testLeave_restoresFrame() -> None:
    """leave = mov esp, ebp; pop ebp."""
    check_row(
        Row(
            name="leave",
            code=b"\xc9",
            regs={"esp": 0x2FFF00, "ebp": TOP - 8},
            mem_in=[(TOP - 8, le(0x18004))],
            expect={"esp": TOP - 4, "ebp": 0x18004},
        )
    )
