"""Event delivery by upcall, and exceptions bounced through the trap table."""

from __future__ import annotations

import struct

from test_hypercalls import bind_virq
from xenfake import boot, get, hcall, put, u32s

from pvops.backends.xen.models import events, timer
from pvops.backends.xen.models.abi import ABI_2_0, VIRQ_TIMER
from pvops.backends.xen.models.domain import RunState
from pvops.backends.xen.models.hypervisor import GATE_PAGE, IDT_PAGE, INT80_SLOT

CALLBACK = 0xC0001000
HANDLER = 0xC0002000
KSTACK = 0xC0300000


def _setup(release: str):
    xen, dom = boot(release)
    cs = xen.abi.flat_ring1_cs
    assert hcall(xen, 4, cs, CALLBACK, cs, CALLBACK + 0x100) == 0
    assert hcall(xen, 3, xen.abi.flat_ring1_ds, KSTACK) == 0
    xen.host.esp = 0xC0280000
    return xen, dom


def _unmask(xen, dom) -> None:
    """The guest's irq_enable: a store to vcpu_info, no hypercall."""
    xen.mem.write((dom.shared_info_mfn << 12) + 1, b"\0")


class TestEvents:
    """Pending bits at the release's offsets; delivery only when unmasked."""

    def test_pending_bits_at_abi_offsets(self, release: str) -> None:
        """VIRQ_TIMER's port is set in evtchn_pending (260 in 2.0, 2048 in 3.0)."""
        xen, dom = _setup(release)
        port = bind_virq(xen, dom, VIRQ_TIMER)
        xen.host.tsc += timer.MODELED_HZ // 100
        xen.on_timer()
        si = xen.mem.read(dom.shared_info_mfn << 12, 4096)
        off = 260 if xen.abi is ABI_2_0 else 2048
        assert struct.unpack_from("<I", si, off)[0] == 1 << port
        assert si[0] == 1
        assert struct.unpack_from("<I", si, 4)[0] == 1

    def test_masked_events_wait(self, release: str) -> None:
        """With the upcall mask set nothing is delivered; unmasking plus a hypercall delivers."""
        xen, dom = _setup(release)
        bind_virq(xen, dom, VIRQ_TIMER)
        eip = xen.host.eip = 0xC0000100
        xen.host.tsc += timer.MODELED_HZ // 100
        xen.on_timer()
        assert xen.host.eip == eip  # masked: no upcall
        _unmask(xen, dom)
        hcall(xen, 17, 0)  # force_evtchn_callback
        assert xen.host.eip == CALLBACK
        assert events.upcall_mask(xen, dom)
        frame = struct.unpack("<3I", get(xen, dom, xen.host.esp, 12))
        assert frame[0] == eip
        assert frame[1] & 0xFFFF == xen.abi.flat_ring1_cs
        if xen.abi is not ABI_2_0:
            assert frame[1] >> 16 == 0
            assert frame[2] & 0x200

    def test_block_wakes_on_event(self, release: str) -> None:
        """A blocked domain is woken by its timer and gets the upcall."""
        xen, dom = _setup(release)
        bind_virq(xen, dom, VIRQ_TIMER)
        deadline = timer.now_ns(xen) + 1_000_000
        hi, lo = deadline >> 32, deadline & 0xFFFFFFFF
        hcall(xen, 15, *((hi, lo) if xen.abi is ABI_2_0 else (lo, hi)))
        hcall(xen, 6, *((1,) if xen.abi is ABI_2_0 else (1, 0)))
        assert dom.state is RunState.BLOCKED
        xen.host.tsc += timer.MODELED_HZ // 100
        xen.on_timer()
        assert dom.state is RunState.RUNNABLE
        assert xen.host.eip == CALLBACK


class TestTraps:
    """Exceptions: trap table, bounce frame, cr2 the release's way."""

    def _trap_table(self, xen, dom, *entries: tuple[int, int, int]) -> None:
        cs = xen.abi.flat_ring1_cs
        data = b"".join(struct.pack("<BBHI", v, f, cs, a) for v, f, a in entries)
        put(xen, dom, 0xC0210000, data + bytes(8))
        assert hcall(xen, 0, 0xC0210000) == 0

    def test_page_fault_bounce(self, release: str) -> None:
        """3.0 puts cr2 in vcpu_info.arch.cr2; 2.0 pushes it below the error code."""
        xen, dom = _setup(release)
        self._trap_table(xen, dom, (14, 0, HANDLER))
        xen.host.cr2 = 0xDEAD000
        xen.host.eip = 0xC0000200
        esp = xen.host.esp
        xen.on_exception(14, 6, xen.context())
        assert xen.host.eip == HANDLER
        if xen.abi is ABI_2_0:
            words = struct.unpack("<5I", get(xen, dom, xen.host.esp, 20))
            assert words[:3] == (0xDEAD000, 6, 0xC0000200)
            assert xen.host.esp == esp - 20
        else:
            words = struct.unpack("<4I", get(xen, dom, xen.host.esp, 16))
            assert words[:2] == (6, 0xC0000200)
            assert xen.host.esp == esp - 16
            assert xen.mem.u32((dom.shared_info_mfn << 12) + 8) == 0xDEAD000

    def test_fault_from_user_uses_kernel_stack(self, release: str) -> None:
        """From ring 3 the frame goes on the stack_switch stack with ESP/SS."""
        xen, dom = _setup(release)
        self._trap_table(xen, dom, (0, 0, HANDLER))
        host = xen.host
        host.set_segment("cs", xen.abi.selectors.ring3_cs)
        host.set_segment("ss", xen.abi.selectors.ring3_ds)
        host.esp, host.eip = 0xB0000000, 0x08048000
        xen.on_exception(0, 0, xen.context())
        assert host.cpl == 1
        assert host.esp == KSTACK - 20
        words = struct.unpack("<5I", get(xen, dom, host.esp, 20))
        assert words[0] == 0x08048000
        assert words[3:] == (0xB0000000, xen.abi.selectors.ring3_ds)

    def test_no_handler_crashes(self, release: str) -> None:
        """An exception the guest has no handler for crashes the domain."""
        xen, dom = _setup(release)
        xen.on_exception(6, 0, xen.context())
        assert dom.state is RunState.CRASHED
        assert "vector 6" in (dom.crash_reason or "")

    def test_bad_kernel_stack_crashes(self, release: str) -> None:
        """A bounce frame that cannot be written (stack in Xen's area) crashes the domain."""
        xen, dom = _setup(release)
        self._trap_table(xen, dom, (3, 3, HANDLER))
        xen.host.esp = xen.abi.virt_start + 64
        xen.on_exception(3, 0, xen.context())
        assert dom.state is RunState.CRASHED

    def test_int80_direct_gate(self, release: str) -> None:
        """3.0: a non-masking 0x80 entry becomes a DPL-3 trap gate; 2.0 needs set_fast_trap."""
        xen, dom = _setup(release)
        self._trap_table(xen, dom, (0x80, 3, HANDLER))
        lo, hi = struct.unpack("<II", xen.mem.read((xen.idt_frame << 12) + 0x80 * 8, 8))
        if xen.abi is ABI_2_0:
            assert lo >> 16 == xen.abi.selectors.hypervisor_cs  # still Xen's bounce path
            assert hcall(xen, 11, 0x80) == 0
            lo, hi = struct.unpack("<II", xen.mem.read((xen.idt_frame << 12) + 0x80 * 8, 8))
        assert lo >> 16 == xen.abi.flat_ring1_cs
        assert (hi & 0xFFFF0000) | (lo & 0xFFFF) == HANDLER
        assert (hi >> 8) & 0xFF == 0xEF  # present, DPL 3, 32-bit trap gate

    def test_int80_masking_entry_goes_through_xen(self) -> None:
        """An event-masking (IF) 0x80 entry cannot be direct: Xen's gate bounces it."""
        xen, dom = _setup("xen-3.0.2")
        self._trap_table(xen, dom, (0x80, 3 | 4, HANDLER))
        lo, _ = struct.unpack("<II", xen.mem.read((xen.idt_frame << 12) + 0x80 * 8, 8))
        assert lo & 0xFFFF == (xen.perdomain_page_va(GATE_PAGE) + 32 * INT80_SLOT) & 0xFFFF
        assert lo >> 16 == xen.abi.selectors.hypervisor_cs
        assert IDT_PAGE == 16

    def test_software_int_through_gp_path(self, release: str) -> None:
        """`int $0x81` with no IDT gate: #NP(0x81*8+2) bounces to the guest's DPL-3 entry."""
        xen, dom = _setup(release)
        self._trap_table(xen, dom, (0x81, 3, HANDLER))
        host = xen.host
        host.set_segment("cs", xen.abi.selectors.ring3_cs)
        host.set_segment("ss", xen.abi.selectors.ring3_ds)
        host.eip, host.esp = 0x08048010, 0xB0000000
        xen.on_exception(11, 0x81 * 8 + 2, xen.context())
        assert host.eip == HANDLER
        assert struct.unpack("<I", get(xen, dom, host.esp, 4))[0] == 0x08048012

    def test_iret_hypercall(self) -> None:
        """3.0.2 iret pops eax, eip, cs, eflags (ring 1) and sets the mask from IF."""
        xen, dom = _setup("xen-3.0.2")
        host = xen.host
        frame = u32s(0x1234, 0xC0000400, xen.abi.flat_ring1_cs, 0x202)
        put(xen, dom, host.esp, frame)
        esp = host.esp
        hcall(xen, 23)
        assert (host.eax, host.eip, host.esp) == (0x1234, 0xC0000400, esp + 16)
        assert not events.upcall_mask(xen, dom)
