"""String instructions: movs/stos/lods/cmps/scas with rep/repe/repne and DF.

ESI/EDI step by the operand size, backwards when DF=1; rep stops when ECX
reaches 0; repe/repne also stop on ZF; a zero count leaves everything,
flags included, unchanged.
"""

# Test names follow the blink style test<Thing>_<condition>_<expectation> (STYLE.md).

from __future__ import annotations

from cpu_oracle.table import Row, check_row

SRC = 0x18000
DST = 0x19000
DF = 1 << 10


def testRepMovsd_forward_copiesAndAdvances() -> None:
    """rep movsd copies ECX dwords upward."""
    data = bytes(range(12))
    check_row(
        Row(
            name="rep movsd",
            code=b"\xf3\xa5",
            regs={"esi": SRC, "edi": DST, "ecx": 3},
            mem_in=[(SRC, data), (DST, bytes(16))],
            mem_out=[(DST, data + bytes(4))],
            expect={"esi": SRC + 12, "edi": DST + 12, "ecx": 0},
            flags="=",
        )
    )


def testRepMovsb_backward_copiesDownward() -> None:
    """With DF=1, rep movsb copies from the top down and decrements."""
    check_row(
        Row(
            name="std rep movsb",
            code=b"\xf3\xa4",
            regs={"esi": SRC + 2, "edi": DST + 2, "ecx": 3},
            flags_in=DF,
            mem_in=[(SRC, b"abc"), (DST, b"xyzw")],
            mem_out=[(DST, b"abcw")],
            expect={"esi": SRC - 1, "edi": DST - 1, "ecx": 0},
        )
    )


def testRepStosw_fill_writesWords() -> None:
    """rep stosw stores AX ECX times."""
    check_row(
        Row(
            name="rep stosw",
            code=b"\xf3\x66\xab",
            regs={"eax": 0x1234BEEF, "edi": DST, "ecx": 4},
            mem_in=[(DST, bytes(10))],
            mem_out=[(DST, b"\xef\xbe" * 4 + b"\x00\x00")],
            expect={"edi": DST + 8, "ecx": 0, "eax": 0x1234BEEF},
        )
    )


def testRepeCmpsb_mismatch_stopsAfterIt() -> None:
    """repe cmpsb stops after the first differing byte with its flags."""
    check_row(
        Row(
            name="repe cmpsb",
            code=b"\xf3\xa6",
            regs={"esi": SRC, "edi": DST, "ecx": 10},
            mem_in=[(SRC, b"abcX"), (DST, b"abcY")],
            expect={"ecx": 6, "esi": SRC + 4, "edi": DST + 4},
            flags="c nz s no a p",
        )
    )


def testRepneScasb_found_stopsOnMatch() -> None:
    """repne scasb finds the terminating zero (strlen as gcc -Os emits it)."""
    check_row(
        Row(
            name="repne scasb",
            code=b"\xf2\xae",
            regs={"eax": 0, "edi": DST, "ecx": 100},
            mem_in=[(DST, b"hello\x00")],
            expect={"ecx": 94, "edi": DST + 6},
            flags="z",
        )
    )


def testRepeCmps_zeroCount_changesNothing() -> None:
    """repe cmpsd with ECX=0 compares nothing and keeps the flags."""
    check_row(
        Row(
            name="repe cmpsd ecx=0",
            code=b"\xf3\xa7",
            regs={"esi": SRC, "edi": DST, "ecx": 0},
            flags_in="c z",
            expect={"ecx": 0, "esi": SRC, "edi": DST},
            flags="=",
        )
    )


def testLodsd_forward_loadsEax() -> None:
    """lodsd loads [esi] and adds 4."""
    check_row(
        Row(
            name="lodsd",
            code=b"\xad",
            regs={"esi": SRC},
            mem_in=[(SRC, b"\x78\x56\x34\x12")],
            expect={"eax": 0x12345678, "esi": SRC + 4},
        )
    )


def testRepLodsb_count_keepsLastByte() -> None:
    """rep lodsb leaves the last byte in AL."""
    check_row(
        Row(
            name="rep lodsb",
            code=b"\xf3\xac",
            regs={"esi": SRC, "ecx": 3, "eax": 0xFFFFFFFF},
            mem_in=[(SRC, b"\x01\x02\x03\x04")],
            expect={"eax": 0xFFFFFF03, "esi": SRC + 3, "ecx": 0},
        )
    )


def testScasw_backward_decrementsByTwo() -> None:
    """scasw with DF=1 compares AX with [edi] and subtracts 2."""
    check_row(
        Row(
            name="std scasw",
            code=b"\x66\xaf",
            regs={"eax": 0x1234, "edi": DST},
            flags_in=DF,
            mem_in=[(DST, b"\x34\x12")],
            expect={"edi": DST - 2},
            flags="z nc",
        )
    )


def testMovsb_segmentOverride_usesFlatSegment() -> None:
    """es: movsb (source override) copies as with ds in flat mode."""
    check_row(
        Row(
            name="es movsb",
            code=b"\x26\xa4",
            regs={"esi": SRC, "edi": DST},
            mem_in=[(SRC, b"Q")],
            mem_out=[(DST, b"Q")],
            expect={"esi": SRC + 1, "edi": DST + 1},
        )
    )


def testRepnzCmpsw_equalWords_stopsAtFirstEqual() -> None:
    """repne cmpsw stops at the first equal pair."""
    check_row(
        Row(
            name="repne cmpsw",
            code=b"\xf2\x66\xa7",
            regs={"esi": SRC, "edi": DST, "ecx": 5},
            mem_in=[(SRC, b"\x01\x00\x02\x00\x07\x00"), (DST, b"\x09\x00\x08\x00\x07\x00")],
            expect={"ecx": 2, "esi": SRC + 6, "edi": DST + 6},
            flags="z",
        )
    )
