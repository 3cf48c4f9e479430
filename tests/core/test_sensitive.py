"""Sensitive-instruction counters: counters()["sensitive"], by kind, kept in C.

Each execution of a sensitive instruction counts once, whether guest code
ran it (retired, faulted or intercepted) or a host op performed it through
the pvops.hw.Cpu methods of Machine.
"""

from __future__ import annotations

import pytest
from core_env import (
    STACK1,
    enter_ring,
    identity_paging,
    load,
    machine,
    pte_addr,
    set_gate,
    write32,
)

from pvops.cpu import Machine, StopReason

CODE = 0x10000
HANDLER = 0x20000
SCRATCH = 0x50000

KINDS = (
    "cli", "sti", "popf", "pushf", "mov_cr3", "mov_cr", "invlpg", "port_io", "rdtsc", "hlt",
    "descriptor", "cpuid", "msr", "iret", "int", "clts", "wbinvd", "mov_dr", "rdpmc",
)  # fmt: skip


def sensitive(m: Machine) -> dict[str, int]:
    """The sensitive counts, as a plain dict."""
    return dict(m.counters()["sensitive"])


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Kinds whose count changed, with the change."""
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


def run_counted(source: str, setup: str = "") -> dict[str, int]:
    """Run ``source`` then hlt at ring 0; the sensitive counts it added."""
    m = machine()
    set_gate(m, 0x40, HANDLER)
    set_gate(m, 3, HANDLER)
    load(m, HANDLER, "iret")
    load(m, CODE, f"{setup}\n{source}\n hlt")
    m.eip = CODE
    m.ecx = 0
    before = sensitive(m)
    assert m.run(max_instructions=100) == StopReason.HALT, m.dump()
    return delta(before, sensitive(m))


# Each program adds exactly these counts (the final hlt adds one "hlt").
GUEST = [
    ("cli", {"cli": 1}),
    ("sti", {"sti": 1}),
    ("pushf\n popf", {"pushf": 1, "popf": 1}),
    ("mov %cr3, %eax\n mov %eax, %cr3", {"mov_cr": 1, "mov_cr3": 1}),
    ("mov %cr0, %eax\n mov %eax, %cr0\n mov %cr4, %eax\n mov %eax, %cr2", {"mov_cr": 4}),
    ("smsw %ax\n lmsw %ax", {"mov_cr": 2}),
    ("invlpg 0x1000", {"invlpg": 1}),
    ("inb $0x80, %al\n outb %al, $0x80\n mov $0x80, %dx\n inw %dx, %ax", {"port_io": 3}),
    ("mov $3, %ecx\n mov $0x50000, %esi\n mov $0x80, %dx\n rep outsb", {"port_io": 3}),
    ("rep outsb", {}),  # ecx = 0: no element
    ("rdtsc", {"rdtsc": 1}),
    ("rdpmc", {"rdpmc": 1}),
    ("sgdt 0x50000\n lgdt 0x50000\n sidt 0x50008\n lidt 0x50008", {"descriptor": 4}),
    ("str %ax\n sldt %ax\n lldt %ax", {"descriptor": 3}),
    ("cpuid", {"cpuid": 1}),
    ("mov $0x174, %ecx\n rdmsr\n wrmsr", {"msr": 2}),
    ("int $0x40", {"int": 1, "iret": 1}),
    ("int3", {"int": 1, "iret": 1}),
    ("into", {"int": 1}),  # OF = 0: nothing delivered, still executed
    ("clts\n wbinvd", {"clts": 1, "wbinvd": 1}),
    ("mov %dr7, %eax\n mov %eax, %dr0", {"mov_dr": 2}),
    ("add %eax, %ebx\n push %eax\n pop %eax\n mov %ss, %ax", {}),
]


class TestGuestCounts:
    @pytest.mark.parametrize(("source", "expected"), GUEST, ids=[s for s, _ in GUEST])
    def testGuestInstruction_countedOnceByKind(self, source: str, expected: dict[str, int]):
        """Every sensitive instruction the guest runs adds one to its kind, nothing else."""
        assert run_counted(source) == {**expected, "hlt": expected.get("hlt", 0) + 1}

    def testCountersReport_everyKind(self):
        """counters()["sensitive"] has every kind, zeros included."""
        assert tuple(Machine().counters()["sensitive"]) == KINDS

    def testPrivilegeFault_countsOnce(self):
        """A cli at ring 1 (IOPL 0) #GPs, and counts as one cli."""
        m = machine()
        set_gate(m, 13, HANDLER)
        load(m, HANDLER, "hlt")
        load(m, CODE, "cli")
        enter_ring(m, 1, CODE, STACK1)
        before = sensitive(m)
        m.run(max_instructions=10)
        assert m.counters()["exceptions"] == {13: 1}
        assert delta(before, sensitive(m)) == {"cli": 1, "hlt": 1}

    def testOperandFault_countsEachExecution(self):
        """lgdt from a non-present page faults (one count); its retry counts again."""
        m = machine()
        identity_paging(m)
        write32(m, pte_addr(0x70000), 0)
        m.write(0x70000, bytes.fromhex("ff0f00100000"))  # limit 0xfff, base 0x1000
        set_gate(m, 14, HANDLER)
        # The #PF handler maps the page and returns to the lgdt.
        load(m, HANDLER, f"movl $0x70007, {pte_addr(0x70000):#x}\n add $4, %esp\n iret")
        load(m, CODE, "lgdt 0x70000\n hlt")
        m.eip = CODE
        before = sensitive(m)
        assert m.run(max_instructions=50) == StopReason.HALT
        assert m.counters()["exceptions"] == {14: 1}
        assert delta(before, sensitive(m)) == {"descriptor": 2, "iret": 1, "hlt": 1}
        assert m.gdtr == (0x1000, 0xFFF)


class TestHostOps:
    def testCpuMethods_countAsTheirInstruction(self):
        """The pvops.hw.Cpu methods count like the instruction they stand for."""
        m = machine()
        before = sensitive(m)
        m.cli()
        m.sti()
        m.popf(m.eflags)
        m.cr3 = m.cr3  # read (mov_cr) + write (mov_cr3)
        m.cr0 = m.cr0 | 8  # read + write
        m.clts()
        m.invlpg(0x1000)
        m.port_out(0x80, 1, 0)
        m.port_in(0x80, 1)
        m.cpuid(0)
        m.wrmsr(0x174, 8)
        m.rdmsr(0x174)
        m.rdtsc()
        m.rdpmc(0)
        m.wbinvd()
        m.set_debugreg(7, 0)
        m.get_debugreg(7)
        m.sgdt()
        m.sidt()
        m.str_()
        m.lldt(0)
        m.hlt()
        assert delta(before, sensitive(m)) == {
            "cli": 1, "sti": 1, "popf": 1, "mov_cr": 3, "mov_cr3": 1, "clts": 1, "invlpg": 1,
            "port_io": 2, "cpuid": 1, "msr": 2, "rdtsc": 1, "rdpmc": 1, "wbinvd": 1,
            "mov_dr": 2, "descriptor": 4, "hlt": 1,
        }  # fmt: skip

    def testFlushTlb_countsTheNativeSequence(self):
        """flush_tlb is a cr3 reload, or a CR4.PGE toggle when PGE is on."""
        m = machine()
        before = sensitive(m)
        m.flush_tlb(include_global=False)
        assert delta(before, sensitive(m)) == {"mov_cr": 1, "mov_cr3": 1}
        m.cr4 = 0x80
        before = sensitive(m)
        m.flush_tlb(include_global=True)
        assert delta(before, sensitive(m)) == {"mov_cr": 3}

    def testHostOpThatFaults_stillCounts(self):
        """cli at ring 1 raises GuestFault and counts."""
        m = machine()
        enter_ring(m, 1, CODE, STACK1)
        before = sensitive(m)
        with pytest.raises(Exception, match="vector 13"):
            m.cli()
        assert delta(before, sensitive(m)) == {"cli": 1}


def testWatchedReplay_countsOnce():
    """A pushf onto a watched page runs twice (hook, then replay) and counts once."""
    m = machine()
    m.watch_page(SCRATCH, lambda m, a, n, v: None)
    load(m, CODE, "mov $0x50100, %esp\n pushf\n hlt")
    m.eip = CODE
    before = sensitive(m)
    m.run(max_instructions=10)
    assert delta(before, sensitive(m)) == {"pushf": 1, "hlt": 1}
    assert m.esp == 0x500FC
