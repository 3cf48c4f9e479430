"""Intercepts: the VM exits of a hardware-assisted hypervisor model.

set_intercept(kind, hook) offers every guest instruction of a kind to the
hook before it executes (True: emulated and skipped, False: run natively);
set_exception_intercept(vector, hook) offers exceptions before delivery.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from core_asm import assemble
from core_env import (
    STACK1,
    STACK3,
    enter_ring,
    identity_paging,
    load,
    machine,
    pte_addr,
    read32,
    set_gate,
    write32,
)

from pvops.cpu import Machine, StopReason
from pvops.hw import GuestFault

CODE = 0x10000
HANDLER = 0x20000
SCRATCH = 0x50000


@dataclass
class Run:
    """A machine running one case, and what its port 0x99 saw."""

    m: Machine
    ports: list[tuple[int, int]]


@dataclass
class Case:
    """One intercept kind: a program whose instruction ``insn`` is of that kind."""

    kind: str
    setup: str  # runs first (nothing of the kind in it)
    insn: str
    done: Callable[[Run], bool]  # did the instruction take effect?
    prepare: Callable[[Machine], None] = lambda m: None

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.insn.split()[0]}"


def _prepare_int(m: Machine) -> None:
    set_gate(m, 0x40, HANDLER)
    load(m, HANDLER, "mov $7, %ebx\n iret")


def _set_ts(m: Machine) -> None:
    m.cr0 = m.cr0 | 8


def _set_if(m: Machine) -> None:
    m.eflags = m.eflags | 0x200


CASES = [
    Case("cli", "", "cli", lambda r: not r.m.eflags & 0x200, _set_if),
    Case("sti", "", "sti", lambda r: bool(r.m.eflags & 0x200)),
    Case("popf", "push $0x202", "popf", lambda r: bool(r.m.eflags & 0x200)),
    Case("pushf", "", "pushf", lambda r: r.m.esp == 0x8FFC),
    Case("mov_cr3", "mov $0x7000, %eax", "mov %eax, %cr3", lambda r: r.m.cr3 == 0x7000),
    Case("mov_cr", "xor %ebx, %ebx", "mov %cr0, %ebx", lambda r: r.m.ebx != 0),
    Case("mov_cr0", "mov %cr0, %eax\n or $8, %eax", "mov %eax, %cr0", lambda r: r.m.cr0 & 8 != 0),
    Case("mov_cr0", "mov $8, %ax", "lmsw %ax", lambda r: r.m.cr0 & 8 != 0),
    Case("mov_cr4", "mov $0x10, %eax", "mov %eax, %cr4", lambda r: r.m.cr4 == 0x10),
    Case("invlpg", "", "invlpg 0x1000", lambda r: r.m.counters()["tlb_flushes"] == 1),
    Case("port_io", "mov $0x7f, %al", "outb %al, $0x99", lambda r: r.ports == [(0x99, 0x7F)]),
    Case("port_io", "mov $0x99, %dx", "inb %dx, %al", lambda r: r.m.eax & 0xFF == 0x42),
    Case("rdtsc", "xor %eax, %eax", "rdtsc", lambda r: r.m.eax != 0),
    Case("rdpmc", "xor %ecx, %ecx\n xor %eax, %eax", "rdpmc", lambda r: r.m.eax != 0),
    Case("hlt", "", "hlt", lambda r: r.m.halted),
    Case("descriptor", "", "sgdt 0x50000", lambda r: read32(r.m, SCRATCH) != 0),
    Case("descriptor", "", "lidt 0x50000", lambda r: r.m.idtr == (0, 0)),
    Case("cpuid", "xor %eax, %eax\n xor %ebx, %ebx", "cpuid", lambda r: r.m.ebx == 0x6F767650),
    Case(
        "msr",
        "mov $0x174, %ecx\n mov $0x10, %eax\n xor %edx, %edx",
        "wrmsr",
        lambda r: r.m.rdmsr(0x174) == 0x10,
    ),
    Case("iret", "pushf\n push %cs\n push $1f", "iret\n 1:", lambda r: r.m.esp == 0x9000),
    Case("int", "", "int $0x40", lambda r: r.m.ebx == 7, _prepare_int),
    Case("clts", "", "clts", lambda r: not r.m.cr0 & 8, _set_ts),
    Case("mov_dr", "mov $0x55, %eax", "mov %eax, %dr0", lambda r: r.m.dr0 == 0x55),
]


def build(case: Case) -> tuple[Run, int, int]:
    """A ring-0 machine with ``case``'s program at CODE; returns (run, eip, length)."""
    m = machine()
    run = Run(m, [])

    def port(m: Machine, p: int, size: int, value: int | None) -> int | None:
        if value is None:
            return 0x42
        run.ports.append((p, value))
        return None

    m.set_port_hook(0x99, port)
    case.prepare(m)
    # A setup may name the label after the instruction (1f): give it one.
    head = assemble(f"{case.setup}\n1:", CODE) if case.setup else b""
    length = len(assemble(case.insn.split("\n")[0], CODE + len(head)))
    load(m, CODE, f"{case.setup}\n {case.insn}\n mov $1, %esi\n jmp .")
    m.eip = CODE
    return run, CODE + len(head), length


class TestInstructionIntercepts:
    @pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
    def testHookReturnsFalse_instructionRunsNatively(self, case: Case):
        """The hook sees (eip, length, kind) once; the instruction then takes effect."""
        run, eip, length = build(case)
        calls = []
        run.m.set_intercept(case.kind, lambda m, e, n, k: calls.append((e, n, k)) is not None)
        run.m.run(max_instructions=30)
        assert calls == [(eip, length, case.kind)]
        assert case.done(run)
        assert run.m.counters()["intercepts"][case.kind] == 1  # type: ignore[literal-required]
        assert run.m.counters()["hook_calls"]["intercept"] == 1

    @pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
    def testHookReturnsTrue_instructionSkipped(self, case: Case):
        """An emulating hook: the instruction has no effect and the guest goes on after it."""
        run, eip, _ = build(case)
        calls = []
        run.m.set_intercept(case.kind, lambda m, e, n, k: calls.append(m.eip) is None)
        run.m.run(max_instructions=30)
        assert calls == [eip]
        assert not case.done(run)
        assert run.m.esi == 1

    def testWbinvd_offeredAndCountedOnce(self):
        """wbinvd has no effect to see: the hook is called, the count is one either way."""
        for answer in (True, False):
            m = machine()
            calls: list[str] = []

            def hook(m: Machine, e: int, n: int, k: str, calls=calls, answer=answer) -> bool:
                calls.append(k)
                return answer

            m.set_intercept("wbinvd", hook)
            load(m, CODE, "wbinvd\n hlt")
            m.eip = CODE
            m.run(max_instructions=10)
            assert calls == ["wbinvd"]
            assert m.counters()["sensitive"]["wbinvd"] == 1

    def testPassedThrough_countedOnce(self):
        """The native run after a declining hook is not counted a second time."""
        m = machine()
        m.set_intercept("cli", lambda *a: False)
        load(m, CODE, "cli\n cli\n hlt")
        m.eip = CODE
        m.run(max_instructions=10)
        assert m.counters()["sensitive"]["cli"] == 2
        assert m.counters()["intercepts"]["cli"] == 2
        assert m.instructions == 3

    def testNoIntercept_sameRunAsWithout(self):
        """A program runs the same with intercepts set on kinds it never executes, or removed."""
        source = "mov $5, %ecx\n 1: add %ecx, %eax\n push %eax\n pop %ebx\n loop 1b\n cli\n hlt"

        def run(configure: Callable[[Machine], None]) -> str:
            m = machine()
            configure(m)
            load(m, CODE, source)
            m.eip = CODE
            assert m.run(max_instructions=100) == StopReason.HALT
            c = m.counters()
            assert c["hook_calls"]["intercept"] == 0
            return m.dump() + repr(c["sensitive"])

        def unused(m: Machine) -> None:
            m.set_intercept("cpuid", lambda *a: True)
            m.set_exception_intercept(14, lambda *a: True)

        def removed(m: Machine) -> None:
            m.set_intercept("cli", lambda *a: True)
            m.set_intercept("cli", None)
            m.set_exception_intercept(13, lambda *a: True)
            m.set_exception_intercept(13, None)

        plain = run(lambda m: None)
        assert run(unused) == plain
        assert run(removed) == plain

    def testRing3Cli_gpNotIntercept(self):
        """The privilege check comes first: a ring-3 cli #GPs and the intercept is not called."""
        m = machine()
        calls = []
        m.set_intercept("cli", lambda *a: calls.append(a) is None)
        set_gate(m, 13, HANDLER)
        load(m, HANDLER, "mov $9, %ebx\n hlt")
        load(m, CODE, "cli")
        enter_ring(m, 3, CODE, STACK3)
        m.run(max_instructions=10)
        assert (calls, m.ebx) == ([], 9)

    def testRing1_interceptedAtAnyCpl(self):
        """At ring 1 with IOPL 1, cli passes its check and reaches the intercept."""
        m = machine()
        kinds = []
        m.set_intercept("cli", lambda m, e, n, k: kinds.append(k) is not None)  # run it
        load(m, CODE, "cli\n jmp .")
        enter_ring(m, 1, CODE, STACK1)
        m.eflags = 0x1202  # IOPL 1, IF
        m.run(max_instructions=10)
        assert kinds == ["cli"]
        assert not m.eflags & 0x200

    def testFineKind_takesPrecedenceOverMovCr(self):
        """A write to cr4 goes to the mov_cr4 intercept, a read of cr4 to mov_cr."""
        m = machine()
        log = []
        m.set_intercept("mov_cr", lambda m, e, n, k: log.append(k) is not None)
        m.set_intercept("mov_cr4", lambda m, e, n, k: log.append(k) is not None)
        load(m, CODE, "mov %cr4, %eax\n mov %eax, %cr4\n mov %eax, %cr0\n mov %eax, %cr3\n hlt")
        m.eip = CODE
        m.eax = 0
        m.run(max_instructions=10)
        assert log == ["mov_cr", "mov_cr4", "mov_cr"]

    def testHookRaisesGuestFault_deliveredAtInstruction(self):
        """A GuestFault from the hook is delivered with EIP at the instruction."""

        def deny(m: Machine, e: int, n: int, k: str) -> bool:
            raise GuestFault(13, 0)

        m = machine()
        m.set_intercept("cpuid", deny)
        set_gate(m, 13, HANDLER)
        load(m, HANDLER, "mov 4(%esp), %ebx\n hlt")
        load(m, CODE, "nop\n cpuid\n hlt")
        m.eip = CODE
        m.run(max_instructions=10)
        assert m.ebx == CODE + 1

    def testHookRaises_hostError(self):
        """Any other exception stops the run with HOST_ERROR."""

        def bug(m: Machine, e: int, n: int, k: str) -> bool:
            raise KeyError("model bug")

        m = machine()
        m.set_intercept("hlt", bug)
        load(m, CODE, "hlt")
        m.eip = CODE
        assert m.run(max_instructions=10) == StopReason.HOST_ERROR
        assert isinstance(m.host_error, KeyError)

    def testHookMovesEip_keptWhenEmulated(self):
        """An emulating hook that sets EIP itself is not overridden."""
        m = machine()

        def jump(m: Machine, e: int, n: int, k: str) -> bool:
            m.eip = CODE + 0x100
            return True

        m.set_intercept("cpuid", jump)
        load(m, CODE, "cpuid\n hlt")
        load(m, CODE + 0x100, "mov $3, %ecx\n hlt")
        m.eip = CODE
        m.run(max_instructions=10)
        assert (m.ecx, m.eip) == (3, CODE + 0x106)

    def testUnknownKind_valueError(self):
        """Kinds are checked when the intercept is set."""
        with pytest.raises(ValueError, match="intercept kind"):
            Machine().set_intercept("mov_cr8", lambda *a: True)


class TestPortIo:
    def testPortIoIntercept_seesEveryPortBeforePortHook(self):
        """The port_io intercept sees unhooked ports too, and runs before a port hook."""
        m = machine()
        order = []
        m.set_port_hook(0x3F8, lambda m, p, size, v: order.append(("port", p)))
        m.set_intercept("port_io", lambda m, e, n, k: order.append(("exit", e)) is not None)
        load(m, CODE, "mov $0x3f8, %dx\n outb %al, %dx\n outb %al, $0x80\n hlt")
        m.eip = CODE
        m.run(max_instructions=10)
        assert order == [("exit", CODE + 4), ("port", 0x3F8), ("exit", CODE + 5)]

    def testEmulatedIn_portHookNotCalled(self):
        """An emulated in leaves the port hook alone; the hook supplies AL."""
        m = machine()
        hooked = []
        m.set_port_hook(0x60, lambda m, p, size, v: hooked.append(p) or 0)

        def emulate(m: Machine, e: int, n: int, k: str) -> bool:
            m.eax = 0x1C
            return True

        m.set_intercept("port_io", emulate)
        load(m, CODE, "inb $0x60, %al\n hlt")
        m.eip = CODE
        m.run(max_instructions=10)
        assert (hooked, m.eax) == ([], 0x1C)

    def testRepOuts_eachElementOffered(self):
        """rep outsb passed through: every element is one exit and one count."""
        m = machine()
        exits = []
        m.set_intercept("port_io", lambda m, e, n, k: exits.append(m.ecx) is not None)
        m.write(SCRATCH, b"abc")
        load(m, CODE, "mov $3, %ecx\n mov $0x50000, %esi\n mov $0xe9, %dx\n rep outsb\n hlt")
        m.eip = CODE
        before = m.counters()["sensitive"]["port_io"]
        m.run(max_instructions=20)
        assert exits == [3, 2, 1]
        assert m.counters()["sensitive"]["port_io"] - before == 3
        assert m.esi == SCRATCH + 3


class TestExceptionIntercepts:
    def testPageFaultIntercept_countsThenDelivers(self):
        """A #PF intercept sees vector and error code, returns False: the guest handler runs."""
        m = machine()
        seen = []
        identity_paging(m)
        write32(m, pte_addr(0x30000), 0)  # one page not present
        m.set_exception_intercept(14, lambda m, v, code: seen.append((v, code, m.eip)) is not None)
        set_gate(m, 14, HANDLER)
        load(m, HANDLER, "hlt")
        m.eip = 0x30010  # the fetch faults
        m.run(max_instructions=10)
        assert seen == [(14, 0, 0x30010)]  # not present, supervisor read (no I/D bit on i386)
        assert m.cr2 == 0x30010
        assert (m.eip, m.counters()["exceptions"]) == (HANDLER + 1, {14: 1})
        assert m.counters()["exception_intercepts"] == {14: 1}
        assert m.counters()["hook_calls"]["intercept"] == 1

    def testGpIntercept_consumesAndSkips(self):
        """A #GP intercept that returns True delivers nothing; it may move EIP."""
        m = machine()

        def skip_cli(m: Machine, v: int, code: int) -> bool:
            m.eip += 1
            return True

        m.set_exception_intercept(13, skip_cli)
        load(m, CODE, "cli\n mov $1, %ebx\n hlt")
        enter_ring(m, 3, CODE, STACK3)
        m.run(max_instructions=10)
        assert (m.ebx, m.counters()["exceptions"]) == (1, {})

    def testGpHookFirst_thenExceptionIntercept(self):
        """A privileged instruction's #GP goes to the gp hook, then (declined) the intercept."""
        m = machine()
        order = []
        m.set_gp_hook(lambda m, e, n, k: order.append("gp") is not None)
        m.set_exception_intercept(13, lambda m, v, c: order.append(("exc", c)) is not None)
        set_gate(m, 13, HANDLER)
        load(m, HANDLER, "hlt")
        load(m, CODE, "cli")
        enter_ring(m, 3, CODE, STACK3)
        m.run(max_instructions=10)
        assert order == ["gp", ("exc", 0)]

    def testInt3AndInto_areExceptions_intNIsNot(self):
        """int3 and into reach the exception intercepts (EIP after them); CD 03 does not."""
        m = machine()
        seen = []
        m.set_exception_intercept(3, lambda m, v, c: seen.append((v, c, m.eip)) is not None)
        m.set_exception_intercept(4, lambda m, v, c: seen.append((v, c, m.eip)) is not None)
        for vec in (3, 4):
            set_gate(m, vec, HANDLER, dpl=3)
        load(m, HANDLER, "iret")
        load(m, CODE, "int3\n .byte 0xcd, 3\n mov $0x7fffffff, %eax\n inc %eax\n into\n hlt")
        m.eip = CODE
        m.run(max_instructions=20)
        assert seen == [(3, 0, CODE + 1), (4, 0, CODE + 10)]
        assert m.counters()["exceptions"] == {3: 2, 4: 1}

    def testInjectedFault_notIntercepted(self):
        """A GuestFault a hook raises is delivered as is, not offered to the intercept."""
        m = machine()
        seen = []
        m.set_exception_intercept(13, lambda *a: seen.append(a) is None)

        def inject(m: Machine) -> None:
            raise GuestFault(13, 0)

        m.set_int_hook(0x82, inject)
        set_gate(m, 13, HANDLER)
        load(m, HANDLER, "hlt")
        load(m, CODE, "int $0x82")
        m.eip = CODE
        m.run(max_instructions=10)
        assert (seen, m.counters()["exceptions"]) == ([], {13: 1})

    def testIntInterceptThenIntHook(self):
        """The int intercept comes before an int hook; declining it reaches the hook."""
        m = machine()
        order = []
        m.set_intercept("int", lambda m, e, n, k: order.append("exit") is not None)
        m.set_int_hook(0x82, lambda m: order.append("hook"))
        load(m, CODE, "int $0x82\n hlt")
        m.eip = CODE
        m.run(max_instructions=10)
        assert order == ["exit", "hook"]

    def testConsumedWithoutProgress_spendsTheBudget(self):
        """An intercept that swallows a fault and leaves EIP on it cannot hang the host."""
        for vector, program in ((13, "cli"), (6, "ud2")):
            m = machine()
            calls: list[int] = []

            def consume(m: Machine, v: int, c: int, calls=calls) -> bool:
                calls.append(v)
                return True

            m.set_exception_intercept(vector, consume)
            load(m, CODE, program)
            enter_ring(m, 3, CODE, STACK3)
            assert m.run(max_instructions=50) == StopReason.BUDGET
            assert len(calls) == 50

    def testVectorRange_checked(self):
        """Vectors are 0-255."""
        with pytest.raises(ValueError, match="vector"):
            Machine().set_exception_intercept(256, lambda *a: True)
