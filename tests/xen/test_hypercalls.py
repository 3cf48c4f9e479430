"""Hypercall semantics per release, argument layouts included."""

from __future__ import annotations

import struct

import pytest
from xenfake import SCRATCH, boot, get, hcall, put, u32s

from pvops.backends.xen.models import timer
from pvops.backends.xen.models.abi import (
    ABI_2_0,
    EINVAL,
    ENOSYS,
    SHUTDOWN_REBOOT,
    VIRQ_TIMER,
)
from pvops.backends.xen.models.domain import RunState
from pvops.backends.xen.models.hypervisor import TSS_ESP1, TSS_SS1


class TestDispatch:
    """Numbers, unknown numbers and per-release meanings."""

    @pytest.mark.parametrize("nr", [11, 12, 23, 24, 26, 29, 40, 255, 0xFFFFFFFF])
    def test_numbers_outside_the_release(self, release: str, nr: int) -> None:
        """Numbers a release does not define (or leaves unmodeled) return -ENOSYS or an error."""
        xen, dom = boot(release)
        name = xen.abi.name_of(nr)
        rc = hcall(xen, nr, 0, 0, 0, 0, 0)
        if name is None:
            assert rc == -ENOSYS
        else:
            assert rc <= 0 or not dom.alive  # iret of a zero frame crashes the domain

    def test_iret_only_in_3_0_2(self) -> None:
        """23 is iret on 3.0.2 and switch_vm86 (unmodeled: -ENOSYS) before."""
        xen, _ = boot("xen-3.0.1")
        assert hcall(xen, 23) == -ENOSYS

    def test_xen_version(self, release: str) -> None:
        """2.0 answers 2.0 and refuses other commands; 3.0 answers 3.0 and XENVER_extraversion."""
        xen, dom = boot(release)
        assert hcall(xen, 17, 0) == xen.version.major << 16
        rc = hcall(xen, 17, 1, SCRATCH)
        if xen.abi is ABI_2_0:
            assert rc == -ENOSYS
        else:
            assert rc == 0
            assert get(xen, dom, SCRATCH, 2) == xen.version.extraversion.encode()

    def test_counts(self, release: str) -> None:
        """Every hypercall is counted by number, per domain too."""
        xen, dom = boot(release)
        hcall(xen, 17, 0)
        hcall(xen, 17, 0)
        assert xen.hypercalls[17] == 2
        assert xen.hypercalls_by_domain[dom.domid, 17] == 2


class TestTimerOp:
    """set_timer_op: the 64-bit deadline's halves swap places between 2.0 and 3.0."""

    def test_hi_lo_order(self, release: str) -> None:
        """The release's own order arms the intended deadline."""
        xen, dom = boot(release)
        deadline = 5 << 32 | 0x1234
        hi, lo = deadline >> 32, deadline & 0xFFFFFFFF
        args = (hi, lo) if xen.abi is ABI_2_0 else (lo, hi)
        assert hcall(xen, 15, *args) == 0
        assert dom.timer_deadline == deadline

    def test_wrong_order_arms_the_wrong_time(self) -> None:
        """A 2.0 kernel's (hi, lo) on 3.0 sets a deadline far in the future."""
        xen, dom = boot("xen-3.0.2")
        hcall(xen, 15, 5, 0x1234)
        assert dom.timer_deadline == 0x1234 << 32 | 5

    def test_past_deadline_fires_now(self, release: str) -> None:
        """A deadline already passed raises VIRQ_TIMER at once."""
        xen, dom = boot(release)
        bind_virq(xen, dom, VIRQ_TIMER)
        xen.host.tsc = 10**9
        hcall(xen, 15, *((0, 1) if xen.abi is ABI_2_0 else (1, 0)))
        assert dom.timer_deadline is None
        port = dom.virq_port[VIRQ_TIMER]
        from pvops.backends.xen.models import events

        assert events.is_pending(xen, dom, port)
        assert timer.now_ns(xen) > 1


class TestMulticall:
    """multicall: where each result lands."""

    def test_result_slot(self, release: str) -> None:
        """2.0 writes args[5] (+24), 3.0 the result field (+4)."""
        xen, dom = boot(release)
        layout = xen.abi.multicall
        entries = bytearray(64)
        struct.pack_into("<I", entries, 0, 17)  # xen_version(0)
        struct.pack_into("<I", entries, 32, 200)  # no such call
        put(xen, dom, SCRATCH, bytes(entries))
        assert hcall(xen, 13, SCRATCH, 2) == 0
        out = get(xen, dom, SCRATCH, 64)
        slot = layout.offset("result")
        assert struct.unpack_from("<I", out, slot)[0] == xen.version.major << 16
        assert struct.unpack_from("<i", out, 32 + slot)[0] == -ENOSYS
        assert slot == (24 if xen.abi is ABI_2_0 else 4)

    def test_arguments_shift(self, release: str) -> None:
        """3.0 entries carry args from +8: a console write issued the release's way works."""
        xen, dom = boot(release)
        put(xen, dom, SCRATCH + 0x400, b"mc!")
        entry = bytearray(32)
        args_at = xen.abi.multicall.offset("args")
        struct.pack_into("<IIII", entry, 0, 18, 0, 0, 0)
        struct.pack_into("<III", entry, args_at, 0, 3, SCRATCH + 0x400)
        put(xen, dom, SCRATCH, bytes(entry))
        assert hcall(xen, 13, SCRATCH, 1) == 0
        assert bytes(dom.console) == b"mc!"


class TestSchedOp:
    """sched_op's argument conventions."""

    def test_shutdown(self, release: str) -> None:
        """2.0 packs the reason into one word; 3.0.1 passes it; 3.0.2's 29 points at it."""
        xen, dom = boot(release)
        if xen.abi is ABI_2_0:
            hcall(xen, 6, 2 | SHUTDOWN_REBOOT << 8)
        elif xen.version.name == "xen-3.0.1":
            hcall(xen, 6, 2, SHUTDOWN_REBOOT)
        else:
            put(xen, dom, SCRATCH, u32s(SHUTDOWN_REBOOT))
            hcall(xen, 29, 2, SCRATCH)
        assert dom.state is RunState.SHUTDOWN
        assert dom.shutdown_reason == SHUTDOWN_REBOOT
        assert xen.host.stopped

    def test_block_unmasks_and_idles(self, release: str) -> None:
        """Block enables event delivery; with a timer bound the CPU halts until it fires."""
        xen, dom = boot(release)
        bind_virq(xen, dom, VIRQ_TIMER)
        hcall(
            xen, xen.abi.number("sched_op_compat") or 6, *((1,) if xen.abi is ABI_2_0 else (1, 0))
        )
        assert dom.state is RunState.BLOCKED
        assert xen.host.halted
        assert xen.mem.read(dom.shared_info_mfn << 12, 2)[1] == 0
        xen.host.tsc += timer.MODELED_HZ // 100  # 10 ms later
        xen.on_timer()
        assert dom.state is RunState.RUNNABLE


class TestMisc:
    """The smaller calls."""

    def test_console_io(self, release: str) -> None:
        """CONSOLEIO_write appends to the domain's console; a bad buffer is -EFAULT."""
        xen, dom = boot(release)
        put(xen, dom, SCRATCH, b"hello")
        assert hcall(xen, 18, 0, 5, SCRATCH) == 0
        assert dom.console == b"hello"
        assert hcall(xen, 18, 0, 5, xen.abi.virt_start) == -14

    def test_vm_assist(self, release: str) -> None:
        """Types 0-2 only."""
        xen, dom = boot(release)
        assert hcall(xen, 21, 0, 2) == 0
        assert dom.vm_assist == 4
        assert hcall(xen, 21, 0, 3) == -EINVAL

    def test_stack_switch(self, release: str) -> None:
        """The kernel stack goes to TSS ss1:esp1 (used by direct traps)."""
        xen, _dom = boot(release)
        ds = xen.abi.flat_ring1_ds
        assert hcall(xen, 3, ds, 0xC0123000) == 0
        tss = xen.mem.read(xen.tss_frame << 12, 104)
        assert struct.unpack_from("<I", tss, TSS_ESP1)[0] == 0xC0123000
        assert struct.unpack_from("<I", tss, TSS_SS1)[0] == ds

    def test_bind_virq_port_offset(self, release: str) -> None:
        """The port comes back at +8 (2.0) or +12 (3.0) of evtchn_op_t."""
        xen, dom = boot(release)
        port = bind_virq(xen, dom, VIRQ_TIMER)
        assert port == 1
        assert dom.virq_port[VIRQ_TIMER] == 1
        assert hcall(xen, 16, SCRATCH) == -17  # bound twice: -EEXIST

    def test_set_gdt_checks_descriptors(self, release: str) -> None:
        """A ring-0 code descriptor is refused (2.0) or demoted to DPL 1 (3.0)."""
        xen, dom = boot(release)
        gdt_va = 0xC0200000
        put(xen, dom, gdt_va, u32s(0, 0, 0x0000FFFF, 0x00CF9A00))  # flat ring-0 code at entry 1
        mfn = dom.p2m[(gdt_va - 0xC0000000) >> 12]
        from xenfake import mmu_update, pte_ma

        assert mmu_update(xen, dom, (pte_ma(xen, dom, gdt_va), (mfn << 12) | 0x21)) == 0
        put(xen, dom, SCRATCH, u32s(mfn))
        rc = hcall(xen, 2, SCRATCH, 2)
        if xen.abi is ABI_2_0:
            assert rc == -EINVAL
        else:
            assert rc == 0
            hi = xen.mem.u32((mfn << 12) + 12)
            assert (hi >> 13) & 3 == 1  # DPL 1
            assert (hi >> 16) & 0xF | xen.mem.u32((mfn << 12) + 8) & 0xFFFF != 0xFFFFF  # truncated

    def test_set_gdt_refuses_writable_frames(self, release: str) -> None:
        """GDT frames still mapped writable cannot become descriptor pages."""
        xen, dom = boot(release)
        put(xen, dom, SCRATCH, u32s(dom.p2m[600]))
        assert hcall(xen, 2, SCRATCH, 16) == -EINVAL


def bind_virq(xen, dom, virq: int) -> int:
    """EVTCHNOP_bind_virq the release's way; the port."""
    put(xen, dom, SCRATCH, u32s(1, virq, 0, 0, 0))
    assert hcall(xen, 16, SCRATCH) == 0
    off = xen.abi.evtchn_op.offset("virq_port")
    return struct.unpack("<I", get(xen, dom, SCRATCH + off, 4))[0]
