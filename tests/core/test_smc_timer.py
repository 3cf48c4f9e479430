"""Self-modifying code and the decoded cache; timer and external interrupts."""

from __future__ import annotations

from core_env import load, machine, set_gate

from pvops.cpu import Machine, StopReason

CODE = 0x10000
ISR = 0x20000


class TestSelfModifyingCode:
    def testGuestWriteOverExecutedCode_newCodeRuns(self):
        """Code patched by the guest after it ran once executes the new bytes."""
        m = machine()
        load(
            m,
            CODE,
            """
            mov $2, %ecx
        1:  call 2f
            movb $0x07, 3f + 1       # mov $1 -> mov $7
            dec %ecx
            jnz 1b
            hlt
        2:  add %eax, %ebx
        3:  mov $1, %eax
            ret
        """,
        )
        m.eip = CODE
        m.run(max_instructions=100)
        assert (m.eax, m.ebx) == (7, 1)
        assert m.counters()["decoded_invalidations"] >= 1

    def testHostWriteOverExecutedCode_newCodeRuns(self):
        """m.write over already-decoded code (a patcher) takes effect."""
        m = machine()
        load(m, CODE, "mov $1, %eax\n hlt")
        m.eip = CODE
        m.run(max_instructions=10)
        m.write(CODE + 1, b"\x09")
        m.eip = CODE
        m.run(max_instructions=10)
        assert m.eax == 9

    def testStoreIntoNextInstruction_seenImmediately(self):
        """A store into the very next instruction is executed as stored."""
        m = machine()
        load(m, CODE, "movb $0x05, 1f + 1\n 1: mov $1, %eax\n hlt")
        m.eip = CODE
        m.run(max_instructions=10)
        assert m.eax == 5

    def testRepStosOverCode_invalidates(self):
        """A string store over decoded code replaces it (here by nops)."""
        m = machine()
        load(
            m,
            CODE,
            """
            call 1f
            mov $0x90, %al
            mov $1f, %edi
            mov $5, %ecx
            rep stosb
            call 1f
            hlt
        1:  inc %ebx
            nop
            nop
            nop
            nop
            ret
        """,
        )
        m.eip = CODE
        m.run(max_instructions=100)
        assert m.ebx == 1


def isr_machine(period: int) -> Machine:
    m = machine()
    set_gate(m, 0x20, ISR)
    load(m, ISR, "inc %esi\n iret")
    m.set_timer(period, 0x20)
    return m


class TestTimer:
    def testTimerTicks_countedInRetiredInstructions(self):
        """Ticks arrive every `period` instructions, deterministically."""
        counts = []
        for _ in range(2):
            m = isr_machine(100)
            load(m, CODE, "sti\n 1: inc %ebx\n jmp 1b")
            m.eip = CODE
            m.run(max_instructions=10_000)
            counts.append((m.esi, m.ebx))
        assert counts[0] == counts[1]
        assert 90 <= counts[0][0] <= 100

    def testTimerMasked_whileIfClear(self):
        """No tick is delivered while IF=0."""
        m = isr_machine(10)
        load(m, CODE, "1: inc %ebx\n jmp 1b")
        m.eip = CODE
        m.run(max_instructions=1000)
        assert m.esi == 0

    def testHltWithTimer_skipsAheadToNextTick(self):
        """hlt with IF=1 and the timer armed idles until the next tick."""
        m = isr_machine(1_000_000)
        load(m, CODE, "sti\n 1: hlt\n inc %ebx\n cmp $3, %ebx\n jne 1b\n cli\n hlt")
        m.eip = CODE
        assert m.run(max_instructions=1000) == StopReason.HALT
        assert (m.esi, m.ebx) == (3, 3)
        assert m.rdtsc() >= 3_000_000

    def testHltWithIfClear_stopsWithHalt(self):
        """hlt with IF=0 is a HALT stop even with the timer armed."""
        m = isr_machine(50)
        load(m, CODE, "hlt")
        m.eip = CODE
        assert m.run(max_instructions=1000) == StopReason.HALT


class TestExternalInterrupts:
    def testRaiseIrq_deliveredAfterStiShadow(self):
        """An IRQ pending at sti is taken after the next instruction, not before."""
        m = isr_machine(0)
        load(m, ISR, "mov %ebx, %esi\n iret")
        load(m, CODE, "sti\n inc %ebx\n inc %ebx\n jmp .")
        m.raise_irq(0x20)
        m.eip = CODE
        m.run(max_instructions=20)
        assert m.esi == 1

    def testRaiseIrq_pendingUntilIfSet(self):
        """An IRQ raised while IF=0 stays pending and is taken when IF becomes 1."""
        m = isr_machine(0)
        load(m, CODE, "inc %ebx\n inc %ebx\n sti\n nop\n jmp .")
        m.raise_irq(0x20)
        m.eip = CODE
        m.run(max_instructions=20)
        assert (m.esi, m.ebx) == (1, 2)
        assert m.counters()["exceptions"] == {0x20: 1}
