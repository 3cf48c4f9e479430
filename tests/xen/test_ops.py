"""The xen backend's ops, on a running domain: the hypercalls they make and their effects."""

from __future__ import annotations

import struct

import pytest
from test_hypercalls import bind_virq
from xenfake import SCRATCH, VIRT_BASE, FakeCpu, boot, get, hcall, pte_ma, put

from pvops.backends.xen import cpu as xcpu
from pvops.backends.xen import irq as xirq
from pvops.backends.xen import mmu as xmmu
from pvops.backends.xen import setup as xsetup
from pvops.backends.xen import time as xtime
from pvops.backends.xen.backend import BACKEND
from pvops.backends.xen.models import events, timer
from pvops.backends.xen.models.abi import ABI_2_0, VIRQ_TIMER
from pvops.backends.xen.models.mm import PageType
from pvops.backends.xen.xen_ops import NotXenDomainError
from pvops.patching import PatchKind, PatchSite
from pvops.registry import validate
from pvops.types import IrqFlags, Pfn, PhysAddr, Pte, VirtAddr

RET = 0xC0000555
PAGE = VIRT_BASE + 0x200000


def at_gate(release: str):
    """A booted domain whose kernel has just called an op (return address on its stack)."""
    xen, dom = boot(release)
    host = xen.host
    host.esp = 0xC0280000
    put(xen, dom, host.esp, struct.pack("<I", RET))
    host.eip = 0xFC500000  # a gate
    return xen, dom, host


class TestIrq:
    """The mask in vcpu_info, with no hypercall unless an event is waiting."""

    def test_disable_enable_without_hypercalls(self, release: str) -> None:
        """irq_disable / save_fl / irq_enable touch only the mask."""
        xen, dom, host = at_gate(release)
        before = sum(xen.hypercalls.values())
        xirq.xen_irq_enable(host)
        assert xirq.xen_save_fl(host) == 0x200
        xirq.xen_irq_disable(host)
        assert xirq.xen_save_fl(host) == 0
        assert events.upcall_mask(xen, dom)
        assert sum(xen.hypercalls.values()) == before

    def test_enable_with_pending_event_upcalls(self, release: str) -> None:
        """Unmasking with an event pending forces the upcall, returning after the op."""
        xen, dom, host = at_gate(release)
        cs = xen.abi.flat_ring1_cs
        hcall(xen, 4, cs, 0xC0001000, cs, 0xC0001100)
        bind_virq(xen, dom, VIRQ_TIMER)
        host.tsc += timer.MODELED_HZ // 100
        xen.on_timer()
        host.eip = 0xFC500000
        xirq.xen_restore_fl(host, IrqFlags(0x200))
        assert host.eip == 0xC0001000
        assert xen.hypercalls[17] == 1  # force_evtchn_callback's xen_version
        assert struct.unpack("<I", get(xen, dom, host.esp, 4))[0] == RET

    def test_safe_halt_blocks(self, release: str) -> None:
        """safe_halt is sched_op(block), the release's way."""
        xen, dom, host = at_gate(release)
        bind_virq(xen, dom, VIRQ_TIMER)
        xirq.xen_safe_halt(host)
        assert dom.state.value == "blocked"
        assert xen.hypercalls[6] == 1  # sched_op (2.0, 3.0.1) / sched_op_compat (3.0.2)


class TestMmu:
    """PTE writes through mmu_update, batched in lazy mode; p2m/m2p translation."""

    def test_make_pte_and_pte_val(self, release: str) -> None:
        """make_pte puts the machine frame in; pte_val takes it out; GLOBAL is dropped."""
        _xen, dom, host = at_gate(release)
        pte = xmmu.xen_make_pte(host, (5 << 12) | 0x163)
        assert pte == (dom.p2m[5] << 12) | 0x63
        assert xmmu.xen_pte_val(host, Pte(pte)) == (5 << 12) | 0x63

    def test_set_pte_is_an_mmu_update(self, release: str) -> None:
        """One set_pte, one mmu_update; the mapping changes."""
        xen, dom, host = at_gate(release)
        put(xen, dom, PAGE + 0x5000, b"five")
        pte = xmmu.xen_make_pte(host, ((PAGE + 0x5000 - VIRT_BASE) & ~0xFFF) | 0x63)
        ptep = VirtAddr(_pte_va(xen, dom, PAGE))
        xmmu.xen_set_pte(host, ptep, pte)
        assert xen.hypercalls[1] == 1
        assert get(xen, dom, PAGE, 4) == b"five"

    def test_lazy_mode_batches_into_one_multicall(self, release: str) -> None:
        """Three set_ptes and a flush in lazy mode leave as one multicall."""
        xen, dom, host = at_gate(release)
        xmmu.xen_enter_lazy_mmu(host)
        for i in range(3):
            pfn = (PAGE + 0x10000 - VIRT_BASE) // 4096 + i
            pte = xmmu.xen_make_pte(host, (pfn << 12) | 0x63)
            xmmu.xen_set_pte(host, VirtAddr(_pte_va(xen, dom, PAGE + i * 4096)), pte)
        xmmu.xen_flush_tlb_single(host, VirtAddr(PAGE))
        assert sum(xen.hypercalls.values()) == 0
        xmmu.xen_leave_lazy_mmu(host)
        if xen.abi is ABI_2_0:  # the invlpg is an mmu_update entry too: all coalesced
            assert xen.hypercalls[1] == 1
        else:
            assert xen.hypercalls[13] == 1
        assert xen.m2p(xen.mem.u32(pte_ma(xen, dom, PAGE + 8192)) >> 12) == (
            (PAGE + 0x12000 - VIRT_BASE) >> 12
        )

    def test_write_cr3_is_new_baseptr(self, release: str) -> None:
        """write_cr3 goes through MMUEXT_NEW_BASEPTR (26 in 3.0, an mmu_update in 2.0)."""
        xen, dom, host = at_gate(release)
        pfn = (PAGE - VIRT_BASE) >> 12
        put(xen, dom, PAGE, xen.mem.read(dom.baseptr << 12, xen.hv_slot * 4))
        xmmu.xen_alloc_pd(host, Pfn(pfn))
        xmmu.xen_write_cr3(host, PhysAddr(pfn << 12))
        assert dom.baseptr == dom.p2m[pfn]
        assert xen.frames.info[dom.p2m[pfn]].type == PageType.L2
        assert xmmu.xen_read_cr3(host) == pfn << 12
        assert xen.hypercalls[1 if xen.abi is ABI_2_0 else 26] >= 1


class TestCpu:
    """Descriptor tables and stacks through hypercalls."""

    def test_load_idt_becomes_a_trap_table(self, release: str) -> None:
        """Gates become trap_info entries; interrupt gates mask events."""
        xen, dom, host = at_gate(release)
        cs = xen.abi.flat_ring1_cs
        idt = bytearray(0x81 * 8)
        struct.pack_into("<II", idt, 14 * 8, cs << 16 | 0x2000, 0xC0008E00)
        struct.pack_into("<II", idt, 0x80 * 8, cs << 16 | 0x3000, 0xC000EF00)
        put(xen, dom, SCRATCH, bytes(idt))
        put(xen, dom, SCRATCH + 0x1000, struct.pack("<HI", len(idt) - 1, SCRATCH))
        xcpu.xen_load_idt(host, VirtAddr(SCRATCH + 0x1000))
        assert dom.trap_table[14].address == 0xC0002000
        assert dom.trap_table[14].flags & 4
        assert dom.trap_table[0x80].flags == 3

    def test_load_esp0_is_stack_switch(self, release: str) -> None:
        """The kernel stack reaches Xen (and the TSS) through stack_switch."""
        xen, dom, host = at_gate(release)
        xcpu.xen_load_esp0(host, VirtAddr(0), VirtAddr(0xC0456000))
        assert dom.kernel_sp == 0xC0456000
        assert xen.hypercalls[3] == 1

    def test_cpuid_masks_features(self, release: str) -> None:
        """APIC, SEP, ACPI and ACC are hidden from the guest."""
        _, _, host = at_gate(release)
        host.cpuid = lambda leaf, sub: (0, 0, 0, 0xFFFFFFFF)  # type: ignore[method-assign]
        edx = xcpu.xen_cpuid(host, 1, 0).edx
        assert not edx & (1 << 9 | 1 << 11 | 1 << 22 | 1 << 29)

    def test_iret_on_3_0_2(self) -> None:
        """iret pushes %eax and makes the iret hypercall, as the hypercall page's stub."""
        xen, dom, host = at_gate("xen-3.0.2")
        frame = struct.pack("<3I", 0xC0000600, xen.abi.flat_ring1_cs, 0x202)
        put(xen, dom, host.esp, frame)
        host.eax = 0xABC
        xcpu.xen_iret(host)
        assert (host.eip, host.eax) == (0xC0000600, 0xABC)
        assert xen.hypercalls[23] == 1
        assert not events.upcall_mask(xen, dom)


class TestTimeAndSetup:
    """Clocks from shared memory, the patcher's answers, registration."""

    def test_clock(self, release: str) -> None:
        """sched_clock follows the TSC; cpu_khz is the modeled 3.8 GHz."""
        xen, _, host = at_gate(release)
        t0 = xtime.xen_sched_clock(host)
        host.tsc += timer.MODELED_HZ  # one second
        assert xtime.xen_sched_clock(host) - t0 == pytest.approx(10**9, rel=1e-6)
        assert xtime.xen_cpu_khz(host) == pytest.approx(3_800_000, rel=1e-6)
        assert xtime.xen_get_wallclock(host) >= timer.WALLCLOCK_EPOCH
        xtime.xen_time_init(host)
        assert VIRQ_TIMER in xen.current.virq_port  # type: ignore[union-attr]

    def test_patch_inlines_only_with_a_known_vcpu_info(self) -> None:
        """Without a vcpu_info address every site gets the default; with one, cli inlines."""
        site = PatchSite(VirtAddr(0xC0001000), 16, 67, "irq.irq_disable", 7, VirtAddr(0), print)
        assert xsetup.xen_patch(site).kind is PatchKind.CALL
        xsetup.set_vcpu_info_va(0xFFFFD000)
        try:
            res = xsetup.xen_patch(site)
            assert res.kind is PatchKind.INLINE
            assert res.code == bytes.fromhex("c605") + struct.pack("<I", 0xFFFFD001) + b"\x01"
        finally:
            xsetup.set_vcpu_info_va(None)

    def test_backend_validates(self) -> None:
        """The backend record passes the registry's checks."""
        assert validate(BACKEND) is BACKEND

    def test_ops_need_a_domain(self) -> None:
        """On a CPU with no Xen domain, an op says what it needs."""
        with pytest.raises(NotXenDomainError, match=r"xen: op irq\.irq_disable needs"):
            xirq.xen_irq_disable(FakeCpu())


def _pte_va(xen, dom, va: int) -> int:
    """The kernel virtual address of the PTE mapping ``va`` (page tables are in the region)."""
    ma = pte_ma(xen, dom, va)
    pfn = xen.m2p(ma >> 12)
    return VIRT_BASE + (pfn << 12) + (ma & 0xFFF)
