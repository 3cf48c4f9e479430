"""Gates: compiled and Python slots, faults and host errors from slots,
replacement at run time, and reaching a gate through a virtual mapping."""

from __future__ import annotations

import struct

from core_env import STACK0, identity_paging, load, machine, set_gate

from pvops.cpu import Machine, StopReason
from pvops.cpu._core import CompiledSlot, FaultSlot, SetEaxSlot
from pvops.hw import GuestFault

TABLE = 0x40000
CODE = 0x10000


def caller(m: Machine, source: str) -> None:
    load(m, CODE, source)
    m.eip = CODE


def testCompiledSlot_runsAndReturnsLikeRet():
    """A compiled slot sets EAX and control returns after the call."""
    m = machine()
    m.add_gate_table(TABLE, [SetEaxSlot(7), SetEaxSlot(9)])
    caller(m, f"call {TABLE + 32}\n mov %eax, %ebx\n hlt")
    assert m.run(max_instructions=10) == StopReason.HALT
    assert (m.ebx, m.esp) == (9, STACK0)
    assert m.counters()["gate_dispatches"] == {(0, 1): 1}


def testPythonSlot_readsStackArgumentsAndWritesEax():
    """A Python slot is called with the machine; its stack argument is at ESP+4."""
    seen = []

    def slot(m: Machine) -> None:
        arg = int.from_bytes(m.read(m.esp + 4, 4), "little")
        seen.append(arg)
        m.eax = arg * 2

    m = machine()
    m.add_gate_table(TABLE, [slot])
    caller(m, f"push $21\n call {TABLE}\n add $4, %esp\n hlt")
    m.run(max_instructions=10)
    assert (seen, m.eax, m.esp) == ([21], 42, STACK0)


def testPythonSlotGuestFault_deliveredAtTheGate():
    """GuestFault from a slot is delivered with EIP = the slot, return address kept."""

    def slot(m: Machine) -> None:
        raise GuestFault(13, 0)

    m = machine()
    set_gate(m, 13, 0x20000)
    load(m, 0x20000, "mov 4(%esp), %eax\n mov 16(%esp), %ebx\n hlt")
    m.add_gate_table(TABLE, [slot])
    caller(m, f"call {TABLE}\n hlt")
    assert m.run(max_instructions=10) == StopReason.HALT
    assert (m.eax, m.ebx) == (TABLE, CODE + 5)


def testCompiledFaultSlot_deliversItsVector():
    """A compiled slot returning SLOT_FAULT delivers its exception."""
    m = machine()
    set_gate(m, 6, 0x20000)
    load(m, 0x20000, "mov (%esp), %eax\n hlt")
    m.add_gate_table(TABLE, [FaultSlot(6)])
    caller(m, f"call {TABLE}")
    m.run(max_instructions=10)
    assert m.eax == TABLE


def testPythonSlotError_stopsWithHostError():
    """Any other exception stops the run cleanly and is kept on host_error."""

    def slot(m: Machine) -> None:
        raise KeyError("boom")

    m = machine()
    m.add_gate_table(TABLE, [slot])
    caller(m, f"call {TABLE}\n hlt")
    assert m.run(max_instructions=10) == StopReason.HOST_ERROR
    assert isinstance(m.host_error, KeyError)
    assert m.eip == TABLE


def testSetGateSlot_replacesAtRunTime():
    """A replaced slot is used from the next call on."""
    m = machine()
    t = m.add_gate_table(TABLE, [SetEaxSlot(1)])
    caller(m, f"call {TABLE}\n mov %eax, %ebx\n call {TABLE}\n hlt")
    m.run(max_instructions=2)
    m.set_gate_slot(t, 0, SetEaxSlot(2))
    m.run(max_instructions=10)
    assert (m.ebx, m.eax) == (1, 2)


def testGateReachedThroughVirtualMapping_dispatches():
    """Gates are physical: calling a virtual alias of the table dispatches too."""
    m = machine()
    identity_paging(m)
    m.write(0x4000 + 0x1000 + 4 * 0x3FF, struct.pack("<I", TABLE | 3))  # 0x3FF000 -> TABLE
    m.add_gate_table(TABLE, [SetEaxSlot(5)])
    caller(m, "call 0x3FF000\n hlt")
    assert m.run(max_instructions=10) == StopReason.HALT
    assert m.eax == 5


def testSlotMovingEip_skipsImplicitReturn():
    """A slot that sets EIP itself is not followed by the implicit ret."""

    def slot(m: Machine) -> None:
        m.esp += 4
        m.eip = CODE + 0x40

    m = machine()
    m.add_gate_table(TABLE, [slot])
    caller(m, f"call {TABLE}\n hlt\n .org 0x40\n mov $3, %ecx\n hlt")
    m.run(max_instructions=10)
    assert (m.ecx, m.esp) == (3, STACK0)


def testSlotStop_stopsAfterReturn():
    """m.stop() from a slot ends the run with STOPPED, after the return."""

    def slot(m: Machine) -> None:
        m.stop()

    m = machine()
    m.add_gate_table(TABLE, [slot])
    caller(m, f"call {TABLE}\n hlt")
    assert m.run(max_instructions=10) == StopReason.STOPPED
    assert m.eip == CODE + 5


def testCompiledSlotBase_isSubclassable():
    """CompiledSlot is the public base class for compiled ops."""
    assert issubclass(SetEaxSlot, CompiledSlot)
