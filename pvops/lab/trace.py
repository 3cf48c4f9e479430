"""``pvops run --trace``: every sensitive event, with its disassembly.

Tracing steps the machine one instruction at a time from Python and shows
each instruction that is sensitive (privileged, or whose behaviour depends
on privilege: the instructions a hypervisor must see) and every gate the
guest enters, with capstone's disassembly. It is slow by design: a
debugging view, not a measurement.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import capstone

from pvops.cpu import StopReason
from pvops.hw import GuestFault
from pvops.platform.model import Session
from pvops.types import VirtAddr

SENSITIVE = frozenset(
    {
        "cli", "sti", "popfd", "pushfd", "hlt", "in", "out", "insb", "insw", "insd",
        "outsb", "outsw", "outsd", "lgdt", "lidt", "lldt", "ltr", "sgdt", "sidt", "str",
        "invlpg", "iretd", "int", "int3", "into", "cpuid", "rdtsc", "rdmsr", "wrmsr",
        "rdpmc", "wbinvd", "clts", "lmsw", "smsw",
    }
)  # fmt: skip
MAX_INSN = 15


@attrs.frozen
class TraceEvent:
    """One sensitive event."""

    index: int  # retired instructions before it
    eip: int
    cpl: int
    text: str  # disassembly, or the op a gate stands for


def _disassembler() -> capstone.Cs:
    return capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_32)


def _describe(session: Session, md: capstone.Cs) -> str | None:
    machine = session.machine
    try:
        code = machine.read_virt(VirtAddr(machine.eip), MAX_INSN)
    except GuestFault:
        return None
    for insn in md.disasm(code, machine.eip, count=1):
        is_control_register = insn.mnemonic == "mov" and any(
            reg in insn.op_str for reg in ("cr0", "cr2", "cr3", "cr4", "dr")
        )
        if insn.mnemonic in SENSITIVE or is_control_register:
            return f"{insn.mnemonic} {insn.op_str}".strip()
    return None


def trace(session: Session, budget: int, emit: Callable[[TraceEvent], None]) -> StopReason:
    """Run ``session`` for up to ``budget`` instructions, emitting each sensitive event."""
    md = _disassembler()
    machine = session.machine
    if session.table is not None:
        session.table.observer = lambda op, via: emit(
            TraceEvent(machine.instructions, machine.eip, machine.cpl, f"{via} call -> {op}")
        )
    stop = StopReason.BUDGET
    for _ in range(budget):
        text = _describe(session, md)
        if text is not None:
            emit(TraceEvent(machine.instructions, machine.eip, machine.cpl, text))
        stop = session.run(1)
        if stop is not StopReason.BUDGET:
            break
    return stop
