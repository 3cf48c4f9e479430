"""save_context / load_context: several guests taking turns on one CPU.

A context is the CPU (registers, segment caches, control and descriptor-table
registers, interrupt state, halted); memory, gates, hooks and counters stay
with the machine.
"""

from __future__ import annotations

import pickle
import struct

from core_env import STACK3, U_CS, enter_ring, load, machine, set_gate

from pvops.cpu import Machine, StopReason

CODE_A, CODE_B = 0x10000, 0x18000
PD_A, PD_B = 0x40000, 0x44000  # each guest's page directory, its table after it
DATA = 0x400000 - 0x1000  # the linear page both guests use, mapped apart
FRAME_A, FRAME_B = 0x60000, 0x61000
HANDLER = 0x20000

# Sums 1..ecx into the word at DATA (through the guest's own mapping), then halts.
PROGRAM = """
    movl $0, 0x3ff000
1:  add %ecx, 0x3ff000
    pushf
    popf
    loop 1b
    mov 0x3ff000, %eax
    hlt
"""


def page_tables(m: Machine, pd: int, frame: int) -> None:
    """Identity-map 4 MiB, except DATA -> ``frame``."""
    pt = pd + 0x1000
    m.write(pd, struct.pack("<I", pt | 7) + bytes(4092))
    m.write(pt, b"".join(struct.pack("<I", (k << 12) | 7) for k in range(1024)))
    m.write(pt + 4 * (DATA >> 12), struct.pack("<I", frame | 7))


def two_guests() -> tuple[Machine, object, object]:
    """Guest A at ring 0 and guest B at ring 3, each with its own page tables."""
    m = machine()
    page_tables(m, PD_A, FRAME_A)
    page_tables(m, PD_B, FRAME_B)
    load(m, CODE_A, PROGRAM)
    load(m, CODE_B, PROGRAM)
    m.cr3 = PD_B
    m.cr0 = m.cr0 | 0x80000000
    enter_ring(m, 3, CODE_B, STACK3)
    m.ecx = 300
    m.eflags = 0x3202  # IOPL 3: B's pushf/popf run unfaulted
    b = m.save_context()
    m.cr3 = PD_A
    enter_ring(m, 0, CODE_A, 0x9000)
    m.ecx = 200
    m.eflags = 0x2
    a = m.save_context()
    return m, a, b


def testTwoContexts_alternateOnOneMachine():
    """Two programs in small slices, switching contexts: each gets its own result."""
    m, a, b = two_guests()
    set_gate(m, 13, HANDLER)  # B's hlt at ring 3 is a #GP: its handler halts at ring 0
    load(m, HANDLER, "hlt")
    ctx = {"a": a, "b": b}
    done = {}
    turn = "a"
    for _ in range(1000):
        if len(done) == 2:
            break
        m.load_context(ctx[turn])
        if m.run(max_instructions=37) == StopReason.HALT:
            done[turn] = m.eax
            ctx[turn] = m.save_context()
        else:
            ctx[turn] = m.save_context()
        other = "b" if turn == "a" else "a"
        turn = other if other not in done else turn
    assert done == {"a": 200 * 201 // 2, "b": 300 * 301 // 2}
    assert m.read(FRAME_A, 4) == struct.pack("<I", 200 * 201 // 2)
    assert m.read(FRAME_B, 4) == struct.pack("<I", 300 * 301 // 2)
    assert m.counters()["sensitive"]["popf"] == 500


def testLoadContext_restoresCpuState():
    """Registers, segments with caches, CPL, control and table registers come back."""
    m, a, b = two_guests()
    m.load_context(b)
    assert (m.cpl, m.cs, m.eip, m.ecx) == (3, U_CS, CODE_B, 300)
    assert (m.get_segment("cs")[0], m.cr3, m.eflags) == (U_CS, PD_B, 0x3202)
    m.load_context(a)
    assert (m.cpl, m.eip, m.ecx, m.cr3) == (0, CODE_A, 200, PD_A)
    assert (m.gdtr, m.tr) == ((0x1000, 8 * 8 - 1), 0x38)


def testLoadContext_flushesTlb():
    """The same linear page reads each guest's frame right after a switch."""
    m, a, b = two_guests()
    m.write(FRAME_A, b"AAAA")
    m.write(FRAME_B, b"BBBB")
    m.load_context(a)
    assert m.read_virt(DATA, 4) == b"AAAA"
    m.load_context(b)
    assert m.read_virt(DATA, 4) == b"BBBB"


def testPendingInterrupt_belongsToContext():
    """An interrupt raised for A waits in A's context; B (IF=1) does not take it."""
    m, a, b = two_guests()
    set_gate(m, 0x30, HANDLER)
    load(m, HANDLER, "mov $0x30, %edx\n hlt")
    m.load_context(a)
    m.raise_irq(0x30)  # A has IF=0: stays pending
    a = m.save_context()
    m.load_context(b)
    m.edx = 0
    m.run(max_instructions=5)
    assert m.edx == 0
    m.load_context(a)
    m.eflags = m.eflags | 0x200
    m.run(max_instructions=5)
    assert m.edx == 0x30


def testHalted_keptInContext():
    """A halted guest stays halted across a switch away and back."""
    m, a, b = two_guests()
    m.load_context(a)
    assert m.run(max_instructions=10_000) == StopReason.HALT
    a = m.save_context()
    m.load_context(b)
    assert not m.halted
    m.load_context(a)
    assert m.halted


def testSwitchFromIntercept_leavesLoadedContextAlone():
    """A hook that switches to B and returns True: B resumes exactly where it was saved."""
    m, a, b = two_guests()
    m.load_context(b)
    m.run(max_instructions=3)
    b = m.save_context()
    b_eip = b.eip  # type: ignore[attr-defined]
    m.load_context(a)

    def schedule(m: Machine, eip: int, length: int, kind: str) -> bool:
        m.load_context(b)
        return True

    m.set_intercept("popf", schedule)
    m.run(max_instructions=4)  # A: movl, add, pushf, popf -> switch to B
    m.set_intercept("popf", None)
    assert (m.cpl, m.eip) == (3, b_eip)


def testContext_picklesAndReprs():
    """A context survives pickling and says where it is."""
    m, _, b = two_guests()
    again = pickle.loads(pickle.dumps(b))
    m.load_context(again)
    assert (m.eip, m.cpl, m.ecx) == (CODE_B, 3, 300)
    assert repr(again).startswith("<CpuContext eip=0x00018000 cpl=3")
