"""Guest-physical layout shared by every differential test.

::

    0x000000  IDT: 256 interrupt gates, vector v -> HANDLERS + 4*v
    0x000800  GDT: null, 0x08 flat code, 0x10 flat data
    0x000900  GDTR and IDTR pseudo-descriptors (lgdt/lidt operands)
    0x001000  exception handlers: 0x400 bytes of ``hlt``
    0x002000  prologue run on the core only: lgdt; lidt
    0x004000  code under test (CODE_BASE .. CODE_LIMIT)
    0x010000  data: pointer registers hold PTR_LO..PTR_HI, effective
              addresses stay below ~0x120000 (random background bytes)
    0x2F0000  stack: ESP starts at STACK_TOP, filled with pointer-like words
    0x400000  end of memory (MEM_SIZE)

Generated code keeps EBX, ESI, EDI and EBP as pointers into the data area
and only writes EAX, ECX, EDX, so every memory operand lands in mapped
memory; when one does not, unicorn reports the unmapped access and the
example is rejected rather than compared.
"""

from __future__ import annotations

import random
import struct
from functools import cache

MEM_SIZE = 4 << 20
IDT_BASE = 0x0
GDT_BASE = 0x800
GDTR_ADDR = 0x900
IDTR_ADDR = 0x908
HANDLERS = 0x1000
HANDLER_STRIDE = 4
PROLOGUE = 0x2000
CODE_BASE = 0x4000
CODE_LIMIT = 0x10000
DATA_LO = 0x10000
DATA_HI = 0x140000
PTR_LO = 0x18000
PTR_HI = 0x1C000
STACK_LO = 0x2F0000
STACK_TOP = 0x300000
STACK_HI = 0x310000
CODE_SEL = 0x08

# lgdt [GDTR_ADDR]; lidt [IDTR_ADDR]
PROLOGUE_CODE = bytes([0x0F, 0x01, 0x15]) + struct.pack("<I", GDTR_ADDR)
PROLOGUE_CODE += bytes([0x0F, 0x01, 0x1D]) + struct.pack("<I", IDTR_ADDR)
PROLOGUE_INSNS = 2

# Vectors that push an error code (Intel SDM vol. 3, table 6-1).
ERROR_CODE_VECTORS = frozenset({8, 10, 11, 12, 13, 14, 17})
VECTOR_NAMES = {
    0: "#DE",
    1: "#DB",
    3: "#BP",
    4: "#OF",
    5: "#BR",
    6: "#UD",
    7: "#NM",
    8: "#DF",
    10: "#TS",
    11: "#NP",
    12: "#SS",
    13: "#GP",
    14: "#PF",
    16: "#MF",
    17: "#AC",
}


def vector_name(vector: int) -> str:
    """#DE, #GP, ... or ``int 0xNN``."""
    return VECTOR_NAMES.get(vector, f"int {vector:#04x}")


def handler_vector(eip: int) -> int | None:
    """The vector whose handler contains ``eip`` (at or just after its hlt)."""
    if HANDLERS <= eip <= HANDLERS + 256 * HANDLER_STRIDE:
        return min((eip - HANDLERS) // HANDLER_STRIDE, 255)
    return None


def _descriptor(base: int, limit: int, access: int, flags: int) -> bytes:
    return struct.pack(
        "<HHBBBB",
        limit & 0xFFFF,
        base & 0xFFFF,
        (base >> 16) & 0xFF,
        access,
        ((limit >> 16) & 0xF) | (flags << 4),
        (base >> 24) & 0xFF,
    )


def _gate(offset: int, selector: int) -> bytes:
    # 32-bit interrupt gate, present, DPL 0.
    return struct.pack("<HHBBH", offset & 0xFFFF, selector, 0, 0x8E, offset >> 16)


@cache
def base_image() -> bytes:
    """The initial contents of all of memory, before the code is placed."""
    mem = bytearray(MEM_SIZE)
    for v in range(256):
        mem[IDT_BASE + 8 * v : IDT_BASE + 8 * v + 8] = _gate(
            HANDLERS + HANDLER_STRIDE * v, CODE_SEL
        )
    gdt = bytes(8) + _descriptor(0, 0xFFFFF, 0x9A, 0xC) + _descriptor(0, 0xFFFFF, 0x92, 0xC)
    mem[GDT_BASE : GDT_BASE + len(gdt)] = gdt
    mem[GDTR_ADDR : GDTR_ADDR + 6] = struct.pack("<HI", len(gdt) - 1, GDT_BASE)
    mem[IDTR_ADDR : IDTR_ADDR + 6] = struct.pack("<HI", 256 * 8 - 1, IDT_BASE)
    mem[HANDLERS : HANDLERS + 256 * HANDLER_STRIDE + 16] = b"\xf4" * (256 * HANDLER_STRIDE + 16)
    mem[PROLOGUE : PROLOGUE + len(PROLOGUE_CODE)] = PROLOGUE_CODE
    mem[PROLOGUE + len(PROLOGUE_CODE)] = 0xF4
    rng = random.Random(0x9E3779B9)
    mem[DATA_LO:DATA_HI] = rng.randbytes(DATA_HI - DATA_LO)
    # Stack words look like pointers so that a stray pop into a pointer
    # register still leaves it pointing at data.
    words = [rng.randrange(PTR_LO, PTR_HI) & ~3 for _ in range((STACK_HI - STACK_LO) // 4)]
    mem[STACK_LO:STACK_HI] = struct.pack(f"<{len(words)}I", *words)
    return bytes(mem)
