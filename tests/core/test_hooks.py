"""Hooks for hypervisor models: int vectors, #GP trap-and-emulate, ports,
watched pages, hlt; and the counters they update."""

from __future__ import annotations

from core_env import STACK1, enter_ring, load, machine, read32, set_gate

from pvops.cpu import Machine, StopReason
from pvops.hw import GuestFault

CODE = 0x10000
GP_HANDLER = 0x20000


def start(m: Machine, source: str) -> None:
    load(m, CODE, source)
    m.eip = CODE


def testIntHook_handlesHypercallInsteadOfIdt():
    """int $0x82 with a hook calls it (registers are the ABI), not the IDT."""
    calls = []

    def hypercall(m: Machine) -> None:
        calls.append((m.eax, m.ebx, m.eip))
        m.eax = 0

    m = machine()
    m.set_int_hook(0x82, hypercall)
    start(m, "mov $17, %eax\n mov $3, %ebx\n int $0x82\n hlt")
    assert m.run(max_instructions=10) == StopReason.HALT
    assert calls == [(17, 3, CODE + 12)]
    assert m.eax == 0
    assert m.counters()["hook_calls"]["int"] == 1


def testGpHook_emulatesPrivilegedInstruction():
    """A #GP hook may emulate cli at ring 1 and skip it."""
    seen = []

    def on_gp(m: Machine, eip: int, length: int, kind: str) -> bool:
        seen.append((eip, length, kind))
        m.ecx = 99
        return True

    m = machine()
    m.set_gp_hook(on_gp)
    load(m, CODE, "cli\n mov $1, %edx\n jmp .")
    enter_ring(m, 1, CODE, STACK1)
    m.run(max_instructions=5)
    assert seen == [(CODE, 1, "cli")]
    assert (m.ecx, m.edx) == (99, 1)
    assert m.counters()["exceptions"].get(13) is None


def testGpHookDeclines_gpGoesToGuest():
    """A hook returning False lets the #GP reach the guest's IDT."""
    m = machine()
    m.set_gp_hook(lambda m, eip, length, kind: False)
    set_gate(m, 13, GP_HANDLER)
    load(m, GP_HANDLER, "mov 4(%esp), %eax\n hlt")
    load(m, CODE, "mov %eax, %cr3")
    enter_ring(m, 1, CODE, STACK1)
    m.run(max_instructions=10)
    assert m.eax == CODE
    assert m.counters()["hook_calls"]["gp"] == 1


def testPortHook_inAndOut():
    """in/out on a hooked port call the hook; other ports read all ones."""
    log = []

    def port(m: Machine, p: int, size: int, value: int | None) -> int | None:
        log.append((p, size, value))
        return 0x1234 if value is None else None

    m = machine()
    m.set_port_hook(0x3F8, port)
    start(
        m,
        "mov $0x3f8, %dx\n mov $0x41, %al\n outb %al, %dx\n inw %dx, %ax\n"
        " mov %eax, %ebx\n inb $0x60, %al\n hlt",
    )
    m.run(max_instructions=20)
    assert log == [(0x3F8, 1, 0x41), (0x3F8, 2, None)]
    assert m.ebx & 0xFFFF == 0x1234
    assert m.eax & 0xFF == 0xFF


def testInAtRing3_gpWhenIoplLow():
    """in at CPL 3 with IOPL 0 is #GP(0)."""
    m = machine()
    set_gate(m, 13, GP_HANDLER)
    load(m, GP_HANDLER, "mov (%esp), %eax\n hlt")
    load(m, CODE, "inb $0x60, %al")
    enter_ring(m, 3, CODE, 0xB000)
    m.eax = 7
    m.run(max_instructions=10)
    assert m.eax == 0


class TestWatch:
    def testWatchHook_seesWriteAndAllowsIt(self):
        """A watched page's hook sees address, size and value; the write proceeds."""
        log = []
        m = machine()
        m.watch_page(0x50000, lambda m, a, n, v: log.append((a, n, v)))
        start(m, "movl $0xabcd, 0x50010\n movw $7, 0x50020\n hlt")
        m.run(max_instructions=10)
        assert log == [(0x50010, 4, 0xABCD), (0x50020, 2, 7)]
        assert read32(m, 0x50010) == 0xABCD

    def testWatchHookReturnsFalse_suppressesWrite(self):
        """Returning False drops the write (the hook applied or refused it)."""
        m = machine()
        m.watch_page(0x50000, lambda m, a, n, v: False)
        start(m, "movl $0xabcd, 0x50010\n mov $1, %ebx\n hlt")
        m.run(max_instructions=10)
        assert (read32(m, 0x50010), m.ebx) == (0, 1)

    def testWatchHookRaises_vetoesWithFault(self):
        """A GuestFault from the hook is delivered at the writing instruction."""

        def veto(m: Machine, a: int, n: int, v: int) -> None:
            raise GuestFault(14, 3)

        m = machine()
        set_gate(m, 14, GP_HANDLER)
        load(m, GP_HANDLER, "mov (%esp), %eax\n mov 4(%esp), %ebx\n hlt")
        m.watch_page(0x50000, veto)
        start(m, "movl $0xabcd, 0x50010\n hlt")
        m.run(max_instructions=10)
        assert (m.eax, m.ebx, read32(m, 0x50010)) == (3, CODE, 0)

    def testWatchedPush_commitsOnce(self):
        """A push onto a watched stack page happens exactly once, ESP moved once."""
        log = []
        m = machine()
        m.watch_page(0x50000, lambda m, a, n, v: log.append(v))
        start(m, "mov $0x50100, %esp\n push $5\n hlt")
        m.run(max_instructions=10)
        assert (log, m.esp, read32(m, 0x500FC)) == ([5], 0x500FC, 5)
        assert m.counters()["hook_calls"]["watch"] == 1


def testHltHook_calledAndCanWakeGuest():
    """The hlt hook runs when the guest halts; a raised IRQ wakes it."""
    m = machine()
    set_gate(m, 0x30, GP_HANDLER)
    load(m, GP_HANDLER, "mov $1, %ebx\n cli\n hlt")
    calls = []

    def on_hlt(m: Machine) -> None:
        calls.append(m.eip)
        if len(calls) == 1:
            m.raise_irq(0x30)

    m.set_hlt_hook(on_hlt)
    start(m, "sti\n hlt\n jmp .")
    assert m.run(max_instructions=20) == StopReason.HALT
    assert (m.ebx, len(calls)) == (1, 2)


def testHookHostError_stopsRun():
    """A non-GuestFault exception from a hook stops with HOST_ERROR."""
    m = machine()

    def bad(m: Machine) -> None:
        raise RuntimeError("model bug")

    m.set_int_hook(0x82, bad)
    start(m, "int $0x82\n hlt")
    assert m.run(max_instructions=10) == StopReason.HOST_ERROR
    assert isinstance(m.host_error, RuntimeError)
