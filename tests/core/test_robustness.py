"""Robustness: any bytes and any register state end in a StopReason within
the budget; the host never crashes and run() never raises."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pvops.cpu import Machine, StopReason

MEM = 64 << 10
u32 = st.integers(0, 0xFFFFFFFF)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    code=st.binary(min_size=1, max_size=256),
    regs=st.lists(u32, min_size=8, max_size=8),
    eflags=u32,
    budget=st.integers(0, 3000),
    paging=st.booleans(),
)
def testRandomBytes_endInStopReasonWithinBudget(code, regs, eflags, budget, paging):
    """Random code, registers and flags: run() returns a StopReason, in budget."""
    m = Machine(memory_size=MEM)
    m.write(0x1000, code * (4096 // len(code)))
    m.write(0x8000, bytes(range(256)) * 32)
    for name, v in zip(("eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"), regs, strict=True):
        setattr(m, name, v)
    m.eflags = eflags
    m.lidt(0x8000, 0x7FF)  # garbage gates: faults must still end cleanly
    if paging:
        m.cr3 = 0x8000
        m.cr0 = m.cr0 | 0x80000000
    m.eip = 0x1000
    reason = m.run(max_instructions=budget)
    assert isinstance(reason, StopReason)
    assert reason != StopReason.HOST_ERROR
    assert m.instructions <= budget
    assert m.dump()


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=16, max_size=64))
def testUnbackedMemory_readsOnesAndDropsWrites(data):
    """Accesses past memory_size read 0xFF and writes vanish, without stopping."""
    m = Machine(memory_size=MEM)
    m.write(0x100, bytes.fromhex("a1 00 00 20 00 a3 00 00 20 00 a1 00 00 20 00 f4"))
    m.eip = 0x100
    assert m.run(max_instructions=10) == StopReason.HALT
    assert m.eax == 0xFFFFFFFF
    assert m.read(0, 16) == bytes(16)
    assert len(data) >= 16


def testBadHostArguments_raiseValueError():
    """Out-of-range host reads and writes are ValueError, not guest events."""
    m = Machine(memory_size=MEM)
    for call in (lambda: m.read(MEM - 1, 2), lambda: m.write(MEM, b"x"), lambda: m.read(-1, 1)):
        try:
            call()
        except ValueError:
            continue
        raise AssertionError("no ValueError")
