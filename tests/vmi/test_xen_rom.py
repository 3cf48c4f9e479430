"""The Xen ROMs' code against a fake hypervisor: which hypercalls, with which layouts."""

from __future__ import annotations

import struct

import pytest
from romfake import SHARED_INFO, STUB, TIMER_PORT, FakeXen

from pvops.backends.vmi.rom import ROM_BASE

DOMID_SELF = 0x7FF0
EVTCHN = {200: (260, 388), 300: (2048, 2176)}  # shared_info evtchn_pending, evtchn_mask
IDT, GDT, HANDLERS = 0x20000, 0x21000, 0x30000
DESC = 0x22000  # a struct desc_ptr


@pytest.fixture(params=["xen-2.0", "xen-3.0"])
def xen(request: pytest.FixtureRequest) -> FakeXen:
    """A Xen ROM after vmi_init."""
    x = FakeXen(str(request.param))
    mask = EVTCHN[x.abi][1]
    x.m.write(SHARED_INFO + mask, b"\xff\xff\xff\xff")
    assert x.init() == 0
    return x


def gate(offset: int, selector: int, kind: int, dpl: int) -> bytes:
    """An IDT gate: kind 0xE interrupt, 0xF trap."""
    hi = (offset & 0xFFFF0000) | 0x8000 | (dpl << 13) | (kind << 8)
    return struct.pack("<II", (selector << 16) | (offset & 0xFFFF), hi)


def set_idt(x: FakeXen) -> list[tuple[int, int, int, int]]:
    """Load an IDT (0 int, 14 int, 0x20 int, 0x80 trap DPL 3); the trap table Xen got."""
    x.take()
    for v, kind, dpl in ((0, 0xE, 0), (14, 0xE, 0), (0x20, 0xE, 0), (0x80, 0xF, 3)):
        x.m.write(IDT + 8 * v, gate(HANDLERS + 0x100 * v, 0x09, kind, dpl))
        x.m.write(HANDLERS + 0x100 * v, b"\xf4")  # each handler: hlt
    x.m.write(DESC, struct.pack("<HI", 256 * 8 - 1, IDT))
    x.call(x.slot("SetIDT"), eax=DESC)
    calls = x.take()
    assert calls[0].nr == 0
    table = []
    raw = x.m.read(calls[0].args[0], 8 * 8)
    for off in range(0, len(raw), 8):
        entry = struct.unpack_from("<BBHI", raw, off)
        if not entry[3]:
            break
        table.append(entry)
    if x.abi == 200:
        assert [(c.nr, c.args[0]) for c in calls[1:]] == [(11, 0x80)]  # set_fast_trap
    else:
        assert len(calls) == 1
    return table


class TestInit:
    def test_init_registers_callbacks_binds_the_timer_and_asks_for_io(self, xen: FakeXen) -> None:
        """vmi_init: set_callbacks, bind_virq(VIRQ_TIMER), physdev set_iopl(1), in that order."""
        x = FakeXen("xen-3.0" if xen.abi == 300 else "xen-2.0")
        assert x.init() == 0
        calls = x.take()
        assert [c.nr for c in calls] == [4, 16, 19]
        cs, event, cs2, failsafe, _ = calls[0].args
        assert cs == cs2 == x.m.cs
        assert ROM_BASE < event < ROM_BASE + len(x.image)
        assert ROM_BASE < failsafe < ROM_BASE + len(x.image)
        assert calls[1].words(2) == (1, 0)  # EVTCHNOP_bind_virq, VIRQ_TIMER
        assert calls[2].words(2) == (6, 1)  # PHYSDEVOP_SET_IOPL, 1

    def test_init_masks_events_and_unmasks_the_timer_port(self, xen: FakeXen) -> None:
        """Events stay off (vmi_init runs with interrupts disabled); the timer port is unmasked."""
        assert xen.vcpu()[1] == 1
        mask = struct.unpack("<I", xen.m.read(SHARED_INFO + EVTCHN[xen.abi][1], 4))[0]
        assert mask == 0xFFFFFFFF & ~(1 << TIMER_PORT)

    def test_init_twice_is_harmless(self, xen: FakeXen) -> None:
        """A second vmi_init does not relocate the ROM again."""
        assert xen.init() == 0
        xen.call(xen.slot("DisableInterrupts"))
        assert xen.vcpu()[1] == 1


class TestInterruptFlag:
    def test_disable_enable_are_the_mask_byte(self, xen: FakeXen) -> None:
        """cli/sti: one byte of vcpu_info, no hypercall."""
        xen.take()
        xen.call(xen.slot("EnableInterrupts"))
        assert xen.vcpu()[1] == 0
        assert xen.call(xen.slot("GetInterruptMask")).eax == 0x200
        xen.call(xen.slot("DisableInterrupts"))
        assert xen.vcpu()[1] == 1
        assert xen.call(xen.slot("GetInterruptMask")).eax == 0
        xen.call(xen.slot("SetInterruptMask"), eax=0x200)
        assert xen.vcpu()[1] == 0
        xen.call(xen.slot("SetInterruptMask"), eax=0x46)
        assert xen.vcpu()[1] == 1
        assert xen.take() == []

    def test_enable_with_an_event_pending_forces_the_upcall(self, xen: FakeXen) -> None:
        """Unmasking with upcall_pending set makes a hypercall (xen_version(0)) so Xen delivers."""
        xen.take()
        xen.set_vcpu(pending=1)
        xen.call(xen.slot("EnableInterrupts"))
        calls = xen.take()
        assert [(c.nr, c.args[0]) for c in calls] == [(17, 0)]


class TestMmu:
    def test_set_cr3(self, xen: FakeXen) -> None:
        """SetCR3: 3.0 mmuext_op NEW_BASEPTR(pfn); 2.0 mmu_update {pa | 3, MMUEXT_NEW_BASEPTR}."""
        xen.take()
        xen.call(xen.slot("SetCR3"), eax=0x123000)
        (c,) = xen.take()
        if xen.abi == 300:
            assert (c.nr, c.args[1], c.args[2], c.args[3]) == (26, 1, 0, DOMID_SELF)
            assert c.words(3) == (5, 0x123, 0)
        else:
            assert (c.nr, c.args[1], c.args[2]) == (1, 1, 0)
            assert c.words(2) == (0x123003, 5)
        assert xen.call(xen.slot("GetCR3")).eax == 0x123000

    def test_set_pxe_updates_the_entry_by_physical_address(self, xen: FakeXen) -> None:
        """SetPxE(value, ptep): mmu_update of one entry, 16 bytes in 3.0, 8 in 2.0."""
        xen.take()
        xen.call(xen.slot("SetPxE"), eax=0x5067, edx=0x4008)
        (c,) = xen.take()
        assert (c.nr, c.args[1], c.args[2]) == (1, 1, 0)
        if xen.abi == 300:
            assert c.args[3] == DOMID_SELF
            assert struct.unpack_from("<QQ", c.block) == (0x4008, 0x5067)
        else:
            assert c.words(2) == (0x4008, 0x5067)

    def test_lazy_mmu_window_is_one_mmu_update(self, xen: FakeXen) -> None:
        """SetLazyMode(MMU): SetPxE queues; leaving the window issues every entry at once."""
        xen.take()
        xen.call(xen.slot("SetLazyMode"), eax=1)
        for k in range(5):
            xen.call(xen.slot("SetPxE"), eax=0x5067 + (k << 12), edx=0x4000 + 4 * k)
        assert xen.take() == []  # nothing trapped yet
        xen.call(xen.slot("SetLazyMode"), eax=0)
        (c,) = xen.take()
        assert (c.nr, c.args[1], c.args[2]) == (1, 5, 0)
        size = 16 if xen.abi == 300 else 8
        raw = xen.m.read(c.args[0], 5 * size)
        fmt = "<QQ" if xen.abi == 300 else "<II"
        entries = [struct.unpack_from(fmt, raw, size * k) for k in range(5)]
        assert entries == [(0x4000 + 4 * k, 0x5067 + (k << 12)) for k in range(5)]

    def test_directory_entry_goes_down_at_once_after_the_queue(self, xen: FakeXen) -> None:
        """A page directory's entry (AllocatePage PD) is not queued: the queue, then it."""
        xen.call(xen.slot("AllocatePage"), eax=0x9, edx=2)  # frame 9 is a directory
        xen.call(xen.slot("SetLazyMode"), eax=1)
        xen.take()
        xen.call(xen.slot("SetPxE"), eax=0x5067, edx=0x4000)  # a table's entry: queued
        xen.call(xen.slot("SetPxE"), eax=0x4067, edx=0x9004)  # the directory's: now
        queue, now = xen.take()
        assert (queue.nr, queue.args[1]) == (1, 1)
        assert (now.nr, now.args[1]) == (1, 1)
        assert now.block[:4] == (0x9004).to_bytes(4, "little")
        xen.call(xen.slot("ReleasePage"), eax=0x9, edx=2)  # no longer a directory
        xen.call(xen.slot("SetPxE"), eax=0, edx=0x9004)
        assert xen.take() == []  # queued again
        xen.call(xen.slot("SetLazyMode"), eax=0)

    def test_full_queue_and_invalidation_flush_first(self, xen: FakeXen) -> None:
        """32 queued entries go down at once; an InvalPage first issues what is queued."""
        xen.call(xen.slot("SetLazyMode"), eax=1)
        xen.take()
        for k in range(33):
            xen.call(xen.slot("SetPxE"), eax=0x67, edx=0x4000 + 4 * k)
        (full,) = xen.take()
        assert full.args[1] == 32
        xen.call(xen.slot("InvalPage"), eax=0x40001000)
        queued, inv = xen.take()
        assert (queued.nr, queued.args[1]) == (1, 1)
        assert inv.nr == (26 if xen.abi == 300 else 1)
        xen.call(xen.slot("SetLazyMode"), eax=0)
        assert xen.take() == []

    def test_invlpg_and_flush(self, xen: FakeXen) -> None:
        """InvalPage / FlushTLB: 3.0 INVLPG_LOCAL 7 / TLB_FLUSH_LOCAL 6; 2.0 extended commands."""
        xen.take()
        xen.call(xen.slot("InvalPage"), eax=0x40001000)
        xen.call(xen.slot("FlushTLB"), eax=1)
        inv, flush = xen.take()
        if xen.abi == 300:
            assert (inv.nr, inv.words(2)) == (26, (7, 0x40001000))
            assert (flush.nr, flush.words(1)) == (26, (6,))
        else:
            assert (inv.nr, inv.words(2)) == (1, (0x40001003, 7))
            assert (flush.nr, flush.words(2)) == (1, (3, 6))


class TestCpu:
    def test_update_kernel_stack_is_stack_switch(self, xen: FakeXen) -> None:
        """UpdateKernelStack(tss, esp0): TSS esp0/esp1 written, then stack_switch(SS, esp0)."""
        xen.take()
        xen.call(xen.slot("UpdateKernelStack"), eax=0x6000, edx=0x7FF0)
        (c,) = xen.take()
        assert (c.nr, c.args[0], c.args[1]) == (3, xen.m.ss, 0x7FF0)
        assert struct.unpack("<III", xen.m.read(0x6004, 12)) == (0x7FF0, 0, 0x7FF0)

    def test_halt_blocks_or_powers_off(self, xen: FakeXen) -> None:
        """Halt: sched_op(block) with events on; with events off nothing wakes it: shutdown."""
        xen.take()
        xen.set_vcpu(mask=0)
        xen.call(xen.slot("Halt"))
        xen.set_vcpu(mask=1)
        xen.call(xen.slot("Halt"))
        block, off = xen.take()
        assert (block.nr, block.args[0]) == (6, 1)
        assert (off.nr, off.args[0]) == (6, 2)
        if xen.abi == 300:
            assert off.args[1] == 0  # SHUTDOWN_poweroff

    def test_cr0_shadow_and_ts(self, xen: FakeXen) -> None:
        """SetCR0 keeps a shadow; setting TS is fpu_taskswitch."""
        xen.take()
        cr0 = xen.call(xen.slot("GetCR0")).eax
        xen.call(xen.slot("SetCR0"), eax=cr0 | 8)
        assert xen.call(xen.slot("GetCR0")).eax == cr0 | 8
        (c,) = xen.take()
        assert c.nr == 5
        if xen.abi == 300:
            assert c.args[0] == 1

    def test_set_gdt_gives_xen_a_sanitized_copy(self, xen: FakeXen) -> None:
        """SetGDT: the TSS descriptor dropped, DPL 0 raised to 1, one ROM frame to set_gdt."""
        code1 = 0x00CFBA000000FFFF  # DPL 1 code
        data0 = 0x00CF92000000FFFF  # DPL 0 data
        tss = 0x0000890000000067
        xen.m.write(GDT, struct.pack("<4Q", 0, code1, data0, tss))
        xen.m.write(DESC, struct.pack("<HI", 4 * 8 - 1, GDT))
        xen.take()
        xen.call(xen.slot("SetGDT"), eax=DESC)
        (c,) = xen.take()
        frame = c.words(1)[0]
        assert (c.nr, c.args[1]) == (2, 4)
        assert ROM_BASE >> 12 < frame < (ROM_BASE + len(xen.image)) >> 12
        copy = struct.unpack("<4Q", xen.m.read(frame << 12, 32))
        assert copy == (0, code1, data0 | 1 << 45, 0)
        assert struct.unpack("<4Q", xen.m.read(GDT, 32))[3] == tss  # the kernel's own is untouched


class TestTraps:
    def test_set_idt_becomes_a_trap_table(self, xen: FakeXen) -> None:
        """Present gates become trap_info; interrupt gates mask events (3.0) or trampoline (2.0)."""
        table = {v: (flags, cs, addr) for v, flags, cs, addr in set_idt(xen)}
        assert set(table) == {0, 14, 0x20, 0x80}
        assert table[0x80] == (3, 0x09, HANDLERS + 0x8000)  # DPL 3 trap gate: direct
        for v in (0, 14, 0x20):
            flags, cs, addr = table[v]
            assert cs == 0x09
            if xen.abi == 300:
                assert (flags, addr) == (4, HANDLERS + 0x100 * v)
            else:
                assert flags == 0
                assert ROM_BASE < addr < ROM_BASE + len(xen.image)

    def test_get_cr2(self, xen: FakeXen) -> None:
        """3.0 reads cr2 from vcpu_info.arch.cr2."""
        if xen.abi != 300:
            pytest.skip("2.0 gets cr2 from the fault frame (test_page_fault_trampoline_2_0)")
        xen.m.write(SHARED_INFO + 8, struct.pack("<I", 0xDEAD000))
        assert xen.call(xen.slot("GetCR2")).eax == 0xDEAD000

    def test_page_fault_trampoline_2_0(self) -> None:
        """2.0: the trampoline keeps cr2 for GetCR2 and hands the kernel a native frame."""
        x = FakeXen("xen-2.0")
        assert x.init() == 0
        table = {v: addr for v, _, _, addr in set_idt(x)}
        x.set_vcpu(mask=0)
        m = x.m
        frame = struct.pack("<6I", 0xBAD000, 6, 0x1234, m.cs, 0x202, 0)
        m.write(0x7000, frame)
        m.esp, m.eip = 0x7000, table[14]
        m.run(max_instructions=1000)
        assert m.eip == HANDLERS + 0x100 * 14 + 1  # the kernel's handler (hlt) ran
        assert m.esp == 0x7004
        assert struct.unpack("<4I", m.read(0x7004, 16)) == (6, 0x1234, m.cs, 0x202)
        assert x.vcpu()[1] == 1  # an interrupt gate: events off
        assert x.call(x.slot("GetCR2")).eax == 0xBAD000

    def test_iret_restores_the_mask_from_the_frame(self, xen: FakeXen) -> None:
        """IRET: the frame's IF decides the mask; then the CPU's iret."""
        m = xen.m
        for eflags, mask in ((0x202, 0), (0x002, 1)):
            xen.set_vcpu(mask=1 - mask)
            m.write(0x7000, struct.pack("<3I", STUB + 5, m.cs, eflags))
            m.write(STUB + 5, b"\xf4")
            m.esp, m.eip = 0x7000, xen.slot("IRET")
            m.run(max_instructions=1000)
            assert (m.eip, m.esp) == (STUB + 6, 0x700C)
            assert xen.vcpu()[1] == mask

    def test_timer_event_enters_the_kernels_timer_vector(self, xen: FakeXen) -> None:
        """The callback acknowledges the timer port and jumps to IDT[0x20], events still off."""
        callback = xen.calls[0].args[1]  # vmi_init's set_callbacks: the event entry
        set_idt(xen)
        m = xen.m
        pending = SHARED_INFO + EVTCHN[xen.abi][0]
        m.write(pending, struct.pack("<I", 1 << TIMER_PORT))
        xen.set_vcpu(pending=1, mask=1)
        m.write(0x7000, struct.pack("<3I", 0x4444, m.cs, 0x202))
        m.esp, m.eip = 0x7000, callback
        m.run(max_instructions=1000)
        assert m.eip == HANDLERS + 0x100 * 0x20 + 1
        assert m.esp == 0x7000  # the frame Xen built is the kernel's interrupt frame
        assert struct.unpack("<I", m.read(pending, 4))[0] == 0
        assert xen.vcpu() == (0, 1, 0)
