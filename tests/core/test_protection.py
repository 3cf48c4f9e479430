"""Protection: ring transitions through the IDT and iret, a Xen-style ring-1
kernel, the popf/cli IOPL rules, error codes, double and triple faults."""

from __future__ import annotations

import pytest
from core_env import (
    K_CS,
    R1_CS,
    STACK0,
    STACK1,
    U_CS,
    U_DS,
    enter_ring,
    load,
    machine,
    read32,
    set_gate,
)

from pvops.cpu import Machine, StopReason
from pvops.hw import GuestFault

HANDLER = 0x20000
USER = 0x10000


def testInt80FromRing3_switchesToRing0StackAndIretReturns():
    """int $0x80 at ring 3 enters ring 0 on the TSS stack; iret goes back to ring 3."""
    m = machine()
    set_gate(m, 0x80, HANDLER, dpl=3)
    load(
        m,
        HANDLER,
        """
        mov %cs, %ebx
        mov %esp, %ecx
        mov 12(%esp), %edx      # user ESP from the frame
        iret
    """,
    )
    load(m, USER, "int $0x80\n mov %cs, %esi\n jmp .")
    enter_ring(m, 3, USER, 0xB000)
    assert m.run(max_instructions=20) == StopReason.BUDGET
    assert m.ebx == K_CS
    assert m.ecx == STACK0 - 20  # ss, esp, eflags, cs, eip
    assert m.edx == 0xB000
    assert (m.esi, m.cpl, m.esp) == (U_CS, 3, 0xB000)
    assert read32(m, STACK0 - 4) == U_DS


def testInt80_gateDpl0FromRing3_gpWithGateErrorCode():
    """A software int through a DPL-0 gate from ring 3 is #GP(vector*8+2)."""
    m = machine()
    set_gate(m, 0x80, HANDLER, dpl=0)
    set_gate(m, 13, HANDLER + 0x100)
    load(m, HANDLER + 0x100, "mov (%esp), %eax\n mov 4(%esp), %ebx\n hlt")
    load(m, USER, "int $0x80")
    enter_ring(m, 3, USER, 0xB000)
    assert m.run(max_instructions=20) == StopReason.HALT
    assert m.eax == 0x80 * 8 + 2
    assert m.ebx == USER  # the fault points at the int instruction


class TestXenStyleRing1:
    def setup(self) -> Machine:
        m = machine()
        # int $0x80 from ring 3 lands in the ring-1 kernel through a DPL-3 gate.
        set_gate(m, 0x80, HANDLER, selector=R1_CS, dpl=3)
        load(
            m,
            HANDLER,
            """
            mov %cs, %ebx
            mov %esp, %ecx
            addl $1, %eax
            iret
        """,
        )
        return m

    def testUserIntToRing1_usesEsp1AndIretsBack(self):
        """ring 3 -> ring 1 through the gate uses ss1/esp1; iret returns to ring 3."""
        m = self.setup()
        load(m, USER, "mov $41, %eax\n int $0x80\n mov %cs, %edi\n jmp .")
        enter_ring(m, 3, USER, 0xB000)
        m.run(max_instructions=30)
        assert (m.ebx, m.ecx) == (R1_CS, STACK1 - 20)
        assert (m.eax, m.edi, m.cpl) == (42, U_CS, 3)

    def testRing1IretToRing3_startsUserTask(self):
        """A ring-1 kernel starts a ring-3 task by iret with a built frame."""
        m = self.setup()
        load(
            m,
            0x30000,
            f"""
            push ${U_DS}
            push $0xB000
            push $0x202
            push ${U_CS}
            push ${USER}
            iret
        """,
        )
        load(m, USER, "mov %cs, %edi\n pushf\n pop %esi\n jmp .")
        enter_ring(m, 1, 0x30000, STACK1)
        m.run(max_instructions=30)
        assert (m.edi, m.cpl, m.esi & 0x200) == (U_CS, 3, 0)
        assert m.get_segment("ds")[0] == 0  # the ring-1 DS is nulled on the way out

    def testPopfAtRing1_leavesIfWithoutFault(self):
        """popf at CPL 1 with IOPL 0 silently keeps IF (the virtualization hole)."""
        m = self.setup()
        set_gate(m, 13, HANDLER + 0x100, selector=R1_CS)
        load(
            m,
            0x30000,
            "push $0x202\n popf\n pushf\n pop %eax\n push $0x0\n popf\n pushf\n pop %ebx\n hlt",
        )
        enter_ring(m, 1, 0x30000, STACK1)
        m.run(max_instructions=30)
        assert m.eax & 0x200 == 0
        assert m.ebx & 0x200 == 0
        assert m.counters()["exceptions"].get(13) == 1  # only the final hlt faults

    def testPopfAtRing1WithIopl1_changesIf(self):
        """With IOPL >= CPL popf does change IF."""
        m = self.setup()
        load(m, 0x30000, "push $0x1202\n popf\n pushf\n pop %eax\n jmp .")
        enter_ring(m, 1, 0x30000, STACK1)
        m.eflags = 0x1002
        m.run(max_instructions=10)
        assert m.eax & 0x200


def testCliAtRing3_deliversGp0():
    """cli at CPL 3 with IOPL 0 raises #GP(0) in the guest."""
    m = machine()
    set_gate(m, 13, HANDLER)
    load(m, HANDLER, "mov (%esp), %eax\n mov 4(%esp), %ebx\n hlt")
    load(m, USER, "cli")
    enter_ring(m, 3, USER, 0xB000)
    m.run(max_instructions=10)
    assert (m.eax, m.ebx, m.cpl) == (0, USER, 0)


def testProtocolMethods_followCpl():
    """The Cpu protocol methods act at the current CPL: cli raises, popf keeps IF."""
    m = machine()
    enter_ring(m, 3, USER, 0xB000)
    with pytest.raises(GuestFault) as err:
        m.cli()
    assert (err.value.vector, err.value.error_code) == (13, 0)
    enter_ring(m, 1, USER, STACK1)
    m.popf(0x202)
    assert m.eflags & 0x200 == 0
    enter_ring(m, 0, USER, STACK0)
    m.popf(0x202)
    assert m.eflags & 0x200


def testDivideByZero_deliveredWithoutErrorCode():
    """#DE pushes no error code: the top of the stack is the faulting EIP."""
    m = machine()
    set_gate(m, 0, HANDLER)
    load(m, HANDLER, "mov (%esp), %eax\n hlt")
    load(m, USER, "xor %ecx, %ecx\n div %ecx")
    m.eip = USER
    m.run(max_instructions=10)
    assert m.eax == USER + 2
    assert m.esp == STACK0 - 12


def testGpOnBadSelector_errorCodeIsSelector():
    """Loading DS with a selector past the GDT limit is #GP(selector)."""
    m = machine()
    set_gate(m, 13, HANDLER)
    load(m, HANDLER, "mov (%esp), %eax\n hlt")
    load(m, USER, "mov $0x80, %ecx\n mov %ecx, %ds")
    m.eip = USER
    m.run(max_instructions=10)
    assert m.eax == 0x80


def testFaultWithMissingHandler_becomesDoubleFault():
    """#GP whose gate is not present (#NP, contributory) escalates to #DF(0)."""
    m = machine()
    set_gate(m, 8, HANDLER)
    load(m, HANDLER, "mov (%esp), %eax\n hlt")
    load(m, USER, "mov $0x80, %ecx\n mov %ecx, %ds")
    m.eip = USER
    m.eax = 0x55
    assert m.run(max_instructions=10) == StopReason.HALT
    assert m.eax == 0
    assert m.counters()["exceptions"].get(8) == 1


def testNoIdt_tripleFaultStopsWithDump():
    """With no usable IDT a fault triple-faults; dump() names the last exception."""
    m = machine()
    m.lidt(0, 0)
    load(m, USER, "ud2")
    m.eip = USER
    assert m.run(max_instructions=10) == StopReason.TRIPLE_FAULT
    text = m.dump()
    assert "last exception: vector 8" in text
    assert f"eip={USER:08x}" in text


def testIretToRing3_withRing0DataSegment_nullsIt():
    """Returning to ring 3 nulls data segment registers with DPL < 3."""
    m = machine()
    load(
        m, 0x30000, f"push ${U_DS}\n push $0xB000\n push $0x2\n push ${U_CS}\n push ${USER}\n iret"
    )
    load(m, USER, "jmp .")
    m.eip = 0x30000
    m.run(max_instructions=10)
    assert m.cpl == 3
    assert m.get_segment("es")[0] == 0
    assert m.ss == U_DS


def testIretProtocolMethod_returnsToRing3():
    """Machine.iret() pops a ring-3 frame like the instruction does."""
    m = machine()
    for value in (U_DS, 0xB000, 0x202, U_CS, USER):
        m.esp -= 4
        m.write(m.esp, value.to_bytes(4, "little"))
    m.iret()
    assert (m.eip, m.cpl, m.esp, m.eflags & 0x200) == (USER, 3, 0xB000, 0x200)
