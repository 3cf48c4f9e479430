"""Raw i386 encodings for the generators: ModRM/SIB, immediates, code layout.

Instructions are bytes; control flow is built from nodes that know their
size before their address, so a program lays out in two passes:
:class:`Block` (straight code), :class:`Skip` (jcc/jmp/loop/jecxz forward
over a body), :class:`Call` (call, body, ret), :class:`Loop` (a bounded
backward loop) and :class:`Indirect` (jmp/call through a register or memory
to an absolute address).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI = range(8)
REG32 = ("eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi")
REG16 = ("ax", "cx", "dx", "bx", "sp", "bp", "si", "di")
REG8 = ("al", "cl", "dl", "bl", "ah", "ch", "dh", "bh")

CONDITIONS = (
    "o",
    "no",
    "b",
    "ae",
    "e",
    "ne",
    "be",
    "a",
    "s",
    "ns",
    "p",
    "np",
    "l",
    "ge",
    "le",
    "g",
)


def imm(value: int, size: int) -> bytes:
    """Little-endian immediate of ``size`` bytes (value wrapped)."""
    return (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")


def fits8(value: int) -> bool:
    """True if ``value`` is a signed 8-bit displacement."""
    return -128 <= value <= 127


@dataclass(frozen=True)
class Mem:
    """A memory operand: [base + index*scale + disp] with a chosen encoding.

    ``disp_size`` is 0, 1 or 4 bytes; ``force_sib`` encodes a SIB byte even
    when none is needed (``[eax+eiz*1]``-style forms gas uses for padding).
    """

    base: int | None
    index: int | None = None
    scale: int = 1
    disp: int = 0
    disp_size: int = 4
    force_sib: bool = False
    segment: int | None = None  # a segment-override prefix byte

    def encode(self, reg_field: int) -> bytes:
        """ModRM (+SIB, +disp) for this operand with ``reg_field``."""
        assert self.index != ESP, "esp cannot be an index"
        scale_bits = {1: 0, 2: 1, 4: 2, 8: 3}[self.scale]
        disp_size = self.disp_size
        if self.base is None:
            disp_size = 4
            mod = 0
        elif disp_size == 0 and self.base == EBP:
            disp_size = 1
            mod = 1
        else:
            mod = {0: 0, 1: 1, 4: 2}[disp_size]
        disp = imm(self.disp, disp_size) if disp_size else b""
        need_sib = self.index is not None or self.base == ESP or self.force_sib
        if not need_sib:
            if self.base is None:
                return bytes([(reg_field << 3) | 5]) + disp
            return bytes([(mod << 6) | (reg_field << 3) | self.base]) + disp
        index = ESP if self.index is None else self.index
        base = EBP if self.base is None else self.base
        modrm = (mod << 6) | (reg_field << 3) | 4
        sib = (scale_bits << 6) | (index << 3) | base
        return bytes([modrm, sib]) + disp


Operand = int | Mem  # a register number (mod=11) or memory


def rm(reg_field: int, operand: Operand) -> bytes:
    """ModRM bytes for a register or memory r/m operand."""
    if isinstance(operand, Mem):
        return operand.encode(reg_field)
    return bytes([0xC0 | (reg_field << 3) | operand])


def prefixes(width: int, operand: Operand | None = None, lock: bool = False) -> bytes:
    """Operand-size and segment prefixes for a ``width``-bit operation."""
    out = b""
    if lock:
        out += b"\xf0"
    if isinstance(operand, Mem) and operand.segment is not None:
        out += bytes([operand.segment])
    if width == 16:
        out += b"\x66"
    return out


def op_rm(
    opcode: bytes,
    reg_field: int,
    operand: Operand,
    width: int,
    tail: bytes = b"",
    lock: bool = False,
) -> bytes:
    """``[prefixes] opcode modrm [sib] [disp] [tail]``."""
    return prefixes(width, operand, lock) + opcode + rm(reg_field, operand) + tail


# ------------------------------------------------------------------ layout --


class Node:
    """A piece of code that can be laid out at an address."""

    def size(self) -> int:
        """Byte length (independent of the address)."""
        return len(self.emit(0x4000))

    def emit(self, addr: int) -> bytes:
        """The bytes of this node placed at ``addr``."""
        raise NotImplementedError

    def describe(self) -> str:
        """Short text for failure messages."""
        return type(self).__name__


@dataclass(frozen=True)
class Raw(Node):
    """Straight-line bytes."""

    code: bytes
    text: str = ""

    def emit(self, addr: int) -> bytes:
        """The bytes themselves."""
        return self.code

    def describe(self) -> str:
        """The generator's name for it."""
        return self.text or self.code.hex()


def emit_all(nodes: Sequence[Node], addr: int) -> bytes:
    """Lay ``nodes`` out one after another from ``addr``."""
    out = bytearray()
    for node in nodes:
        out += node.emit(addr + len(out))
    return bytes(out)


def size_all(nodes: Sequence[Node]) -> int:
    """Total size of ``nodes``."""
    return len(emit_all(nodes, 0x4000))


@dataclass(frozen=True)
class Skip(Node):
    """``kind`` forward over ``body``; kind is jcc/jmp/loop*/jecxz."""

    kind: str  # "jcc", "jmp", "loop", "loope", "loopne", "jecxz", "jcxz"
    body: tuple[Node, ...]
    cond: int = 0
    near: bool = False

    def emit(self, addr: int) -> bytes:
        """Jump over the body when taken."""
        n = size_all(self.body)
        short = {
            "jmp": b"\xeb",
            "loop": b"\xe2",
            "loope": b"\xe1",
            "loopne": b"\xe0",
            "jecxz": b"\xe3",
            "jcxz": b"\x67\xe3",
        }
        if self.kind == "jcc":
            head = (
                (b"\x0f" + bytes([0x80 | self.cond]) + imm(n, 4))
                if self.near or n > 127
                else bytes([0x70 | self.cond, n])
            )
        elif self.kind == "jmp" and (self.near or n > 127):
            head = b"\xe9" + imm(n, 4)
        else:
            assert n <= 127, f"{self.kind} body too long ({n})"
            head = short[self.kind] + bytes([n])
        return head + emit_all(self.body, addr + len(head))

    def describe(self) -> str:
        """Kind and body."""
        inner = "; ".join(b.describe() for b in self.body)
        return f"{self.kind}{CONDITIONS[self.cond] if self.kind == 'jcc' else ''} over [{inner}]"


@dataclass(frozen=True)
class Call(Node):
    """``call L; jmp over; L: body; ret[ imm16] | rep ret; over:``."""

    body: tuple[Node, ...]
    ret_imm: int | None = None
    rep_ret: bool = False
    via: str = "rel"  # "rel", "reg", "mem"
    reg: int = EAX
    slot: int = 0x1F000  # memory slot for "mem"

    def emit(self, addr: int) -> bytes:
        """The call, the subroutine and the return."""
        ret = (
            b"\xf3\xc3"
            if self.rep_ret
            else (b"\xc3" if self.ret_imm is None else b"\xc2" + imm(self.ret_imm, 2))
        )
        body_len = size_all(self.body)
        if self.via == "rel":
            call_len, jmp_len = 5, 2 if body_len + len(ret) <= 127 else 5
            target = addr + call_len + jmp_len
            call = b"\xe8" + imm(target - (addr + 5), 4)
        elif self.via == "reg":
            # mov reg, target; call reg
            call_len, jmp_len = 7, 2 if body_len + len(ret) <= 127 else 5
            target = addr + call_len + jmp_len
            call = bytes([0xB8 | self.reg]) + imm(target, 4) + b"\xff" + bytes([0xD0 | self.reg])
        else:
            # mov dword [slot], target; call [slot]
            call_len, jmp_len = 16, 2 if body_len + len(ret) <= 127 else 5
            target = addr + call_len + jmp_len
            call = (
                b"\xc7\x05" + imm(self.slot, 4) + imm(target, 4) + b"\xff\x15" + imm(self.slot, 4)
            )
        skip = body_len + len(ret)
        jmp = bytes([0xEB, skip]) if jmp_len == 2 else b"\xe9" + imm(skip, 4)
        out = call + jmp + emit_all(self.body, target) + ret
        assert len(call) == call_len
        return out

    def describe(self) -> str:
        """Call form and body."""
        inner = "; ".join(b.describe() for b in self.body)
        ret = "" if self.ret_imm is None else f" {self.ret_imm}"
        return f"call/{self.via} [{inner}] ret{ret}"


@dataclass(frozen=True)
class Indirect(Node):
    """``jmp`` through a register or memory to just past a dead ``body``."""

    body: tuple[Node, ...]
    via: str = "reg"
    reg: int = EAX
    slot: int = 0x1F010

    def emit(self, addr: int) -> bytes:
        """mov target; jmp indirect; dead body; target:"""
        body = size_all(self.body)
        if self.via == "reg":
            head_len = 7
            target = addr + head_len + body
            head = bytes([0xB8 | self.reg]) + imm(target, 4) + b"\xff" + bytes([0xE0 | self.reg])
        else:
            head_len = 16
            target = addr + head_len + body
            head = (
                b"\xc7\x05" + imm(self.slot, 4) + imm(target, 4) + b"\xff\x25" + imm(self.slot, 4)
            )
        assert len(head) == head_len
        return head + emit_all(self.body, addr + head_len)

    def describe(self) -> str:
        """Form."""
        return f"jmp/{self.via} over {len(self.body)} nodes"


@dataclass(frozen=True)
class Loop(Node):
    """``mov ecx, n; L: body; loop L`` (or ``dec ecx; jnz L``); body keeps ecx."""

    count: int
    body: tuple[Node, ...]
    with_dec: bool = False

    def emit(self, addr: int) -> bytes:
        """A bounded backward loop."""
        head = b"\xb9" + imm(self.count, 4)
        body = emit_all(self.body, addr + len(head))
        if self.with_dec:
            back = -(len(body) + 3)  # dec ecx; jnz rel8
            tail = b"\x49\x75" + imm(back, 1)
        else:
            back = -(len(body) + 2)
            tail = b"\xe2" + imm(back, 1)
        assert fits8(back), "loop body too long"
        return head + body + tail

    def describe(self) -> str:
        """Count and body."""
        inner = "; ".join(b.describe() for b in self.body)
        return f"loop x{self.count} [{inner}]"


def flatten(nodes: Sequence[Node]) -> str:
    """One-line description of a node list."""
    return "; ".join(n.describe() for n in nodes)


def pack32(*values: int) -> bytes:
    """Little-endian dwords."""
    return struct.pack(f"<{len(values)}I", *(v & 0xFFFFFFFF for v in values))
