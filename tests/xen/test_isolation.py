"""Two domains of different flavours on one hypervisor, and what neither can reach."""

from __future__ import annotations

import hashlib
import struct

from test_loader import _notes
from xenfake import PAGE_VA, FakeHost, guest_string, hcall, make_image, mmu_update, pte_ma

from pvops.backends.xen.models.abi import EINVAL
from pvops.backends.xen.models.domain import RunState
from pvops.backends.xen.models.hypervisor import Xen


def two_domains():
    """A xenolinux-3.0 kernel and a pvops kernel (Xen notes) side by side on 3.0.2."""
    xen = Xen(FakeHost(), "xen-3.0.2")
    a = xen.create_domain(make_image(guest_string(xen.abi)), memory=8 << 20, name="xenolinux")
    b = xen.create_domain(
        make_image(None, notes=_notes(), code=b"\x90" * 64), memory=8 << 20, name="pvops"
    )
    xen.start(a)
    return xen, a, b


def frames_digest(xen: Xen, mfns) -> str:
    """A hash of the contents of some machine frames."""
    h = hashlib.sha256()
    for m in mfns:
        h.update(xen.mem.read(m << 12, 4096))
    return h.hexdigest()


class TestTwoDomains:
    """Disjoint frames, separate address spaces, switching by saving vCPU state."""

    def test_disjoint_frames(self) -> None:
        """No machine frame belongs to both domains, or to a domain and Xen."""
        xen, a, b = two_domains()
        assert not set(a.p2m) & set(b.p2m)
        assert all(xen.frames.info[m].owner == b.domid for m in b.p2m)

    def test_cannot_map_the_other(self) -> None:
        """Every frame of the other domain is refused, read-only or not."""
        xen, a, b = two_domains()
        before = frames_digest(xen, b.p2m)
        ma = pte_ma(xen, a, PAGE_VA)
        for mfn in (b.p2m[0], b.pt_base, b.shared_info_mfn, b.perdomain_mfn):
            assert mmu_update(xen, a, (ma, (mfn << 12) | 0x21)) == -EINVAL
            assert mmu_update(xen, a, (ma, (mfn << 12) | 0x23)) == -EINVAL
        assert frames_digest(xen, b.p2m) == before

    def test_yield_switches_vcpu_state(self) -> None:
        """A yields: B runs from its entry with its own cr3; A resumes where it left off."""
        xen, a, b = two_domains()
        host = xen.host
        host.eip, host.ebp = 0xC0000123, 77
        hcall(xen, 6, 0, 0)  # sched_op_compat yield
        assert xen.current is b
        assert host.eip == 0xC0000010
        assert host.cr3 == b.baseptr << 12
        assert host.esi == b.start_info_va
        hcall(xen, 6, 0, 0)
        assert xen.current is a
        assert (host.eip, host.ebp, host.eax) == (0xC0000123, 77, 0)

    def test_crash_of_one_leaves_the_other(self) -> None:
        """A crashed domain is descheduled; the other keeps running."""
        xen, a, b = two_domains()
        xen.on_exception(6, 0, xen.context())  # no trap table: crash
        assert a.state is RunState.CRASHED
        assert xen.current is b
        assert b.alive
        assert not xen.host.stopped

    def test_guest_pointers_stay_in_the_guest(self) -> None:
        """Hypercall pointers above VIRT_START are -EFAULT, whatever is mapped there."""
        xen, a, _ = two_domains()
        assert hcall(xen, 18, 0, 4, xen.m2p_va) == -14
        data = struct.pack("<I", 0)
        assert xen.write_guest(a, xen.perdomain_va, data) == -14
