"""Table-driven instruction tests: one row, checked against unicorn and the core.

A row gives code, inputs and the outputs the Intel manual prescribes.  The
row is first checked against unicorn, so a wrong table fails loudly ("fix
the table") instead of rotting; then the core runs the same code in lockstep
with unicorn (:func:`~.harness.check_case`), which also catches side effects
the row does not mention.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pytest

from . import layout
from .flags import ARITH, describe_flags, parse_flags
from .harness import (
    Case,
    Mismatch,
    Snapshot,
    check_case,
    core_state,
    format_state,
    listing,
    load_core,
    run_unicorn,
)


@dataclass(frozen=True)
class Row:
    """Code, initial state and expected results of one table row."""

    name: str
    code: bytes
    regs: Mapping[str, int] = field(default_factory=dict)
    flags_in: str | int = 0
    expect: Mapping[str, int | None] = field(default_factory=dict)
    flags: str = ""
    mem_in: Sequence[tuple[int, bytes]] = ()
    mem_out: Sequence[tuple[int, bytes]] = ()
    fault: int | None = None

    def eflags_in(self) -> int:
        """The initial EFLAGS image."""
        if isinstance(self.flags_in, int):
            return self.flags_in | 0x2
        _, value = parse_flags(self.flags_in)
        return value | 0x2

    def case(self) -> Case:
        """The row as a differential case."""
        return Case(
            code=self.code,
            regs=dict(self.regs),
            eflags=self.eflags_in(),
            memory=tuple(self.mem_in),
            note=self.name,
        )


def _value_of(name: str, snap: Snapshot) -> int:
    if name == "eip":
        return snap.eip
    if name == "eflags":
        return snap.eflags
    return snap.regs[name]


def row_problems(row: Row, snap: Snapshot, memory: bytes, fault: int | None) -> list[str]:
    """Where a final state departs from the row's expectations."""
    problems = []
    if fault != row.fault:
        problems.append(
            f"outcome: expected {'no fault' if row.fault is None else f'fault {row.fault}'}, "
            f"got {'fault ' + str(fault) if fault is not None else 'no fault'}"
        )
    for name, want in row.expect.items():
        if want is None:
            continue
        got = _value_of(name, snap)
        if got != want & 0xFFFFFFFF:
            problems.append(f"{name}: expected {want & 0xFFFFFFFF:#010x}, got {got:#010x}")
    mask, value = parse_flags(row.flags, row.eflags_in())
    if (snap.eflags ^ value) & mask:
        bad = (snap.eflags ^ value) & mask
        problems.append(
            f"flags: expected '{row.flags}', got [{describe_flags(snap.eflags, ARITH | mask)}]"
            f" (wrong: {describe_flags(bad, bad)})"
        )
    for addr, data in row.mem_out:
        got_mem = memory[addr : addr + len(data)]
        if got_mem != data:
            problems.append(f"mem[{addr:#x}]: expected {data.hex(' ')}, got {got_mem.hex(' ')}")
    return problems


def check_row(row: Row) -> None:
    """Check ``row`` against unicorn (the table) and then the core (lockstep)."""
    __tracebackhide__ = True
    case = row.case()
    ref = run_unicorn(case)
    snap = ref.fault[1] if ref.fault else ref.final
    problems = row_problems(row, snap, ref.memory, ref.fault[0] if ref.fault else None)
    if problems:
        raise AssertionError(
            f"table row {row.name!r} disagrees with unicorn (fix the table):\n  "
            + "\n  ".join(problems)
            + f"\n  unicorn final: {format_state(snap)}\ncode:\n"
            + listing(case.image(), case.code_base, case.stop)
        )
    try:
        check_case(case, ref=ref)
    except Mismatch as exc:
        raise Mismatch(f"row {row.name!r}: {exc}") from None


# Where unicorn 2.1.4 itself departs from the SDM; rows for these run on the
# core alone, against the table.
UNICORN_BUGS = {
    "lock neg": "unicorn computes SF/PF of a locked neg from the wrong value "
    "(lock neg dword [m]=1 gives CF AF instead of CF PF AF SF)",
}


def check_row_core_only(row: Row, unicorn_bug: str) -> None:
    """Check ``row`` on the core alone (unicorn is known wrong: ``unicorn_bug``)."""
    __tracebackhide__ = True
    if os.environ.get("PVOPS_CPU_SELFTEST") == "1":
        pytest.skip(f"self-test runs on unicorn, which has this bug: {unicorn_bug}")
    case = row.case()
    core = load_core(case)
    m = core.machine
    for _ in range(1000):
        if m.eip == case.stop or layout.handler_vector(m.eip) is not None:
            break
        m.run(max_instructions=1)
    snap = core_state(m)
    fault = layout.handler_vector(snap.eip)
    problems = row_problems(row, snap, bytes(m.read(0, layout.MEM_SIZE)), fault)
    if problems:
        raise AssertionError(
            f"row {row.name!r} (core only; {UNICORN_BUGS.get(unicorn_bug, unicorn_bug)}):\n  "
            + "\n  ".join(problems)
            + f"\n  core final: {format_state(snap)}"
        )
