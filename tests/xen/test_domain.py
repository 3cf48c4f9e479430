"""The domain builder: frames, p2m/m2p, page tables, start_info, entry state."""

from __future__ import annotations

import struct

from xenfake import VIRT_BASE, boot, get

from pvops.backends.xen.models.abi import DOMID_XEN, PTE_RW
from pvops.backends.xen.models.mm import PageType


class TestBuild:
    """What a freshly built domain looks like, per release."""

    def test_entry_state(self, release: str) -> None:
        """Ring 1 on the release's flat selectors, ESI -> start_info, events masked."""
        xen, dom = boot(release)
        host = xen.host
        assert host.cpl == 1
        assert host.get_segment("cs")[0] == xen.abi.flat_ring1_cs
        assert host.get_segment("ss")[0] == xen.abi.flat_ring1_ds
        assert host.esi == dom.start_info_va
        assert host.eip == VIRT_BASE
        assert host.cr3 == dom.baseptr << 12
        assert xen.mem.read(dom.shared_info_mfn << 12, 2)[1] == 1  # upcall mask

    def test_start_info_layout(self, release: str) -> None:
        """nr_pages, shared_info and cmd_line at the release's offsets."""
        xen, dom = boot(release)
        si = xen.abi.start_info
        raw = get(xen, dom, dom.start_info_va, si.size)
        assert si.unpack(raw, "nr_pages") == dom.nr_pages
        assert si.unpack(raw, "shared_info") == dom.shared_info_mfn << 12
        assert raw[si.offset("cmd_line") : si.offset("cmd_line") + 3] == b"ro\0"

    def test_p2m_and_m2p(self, release: str) -> None:
        """The mfn_list in guest memory is the p2m; the m2p inverts it; pfn != mfn."""
        xen, dom = boot(release)
        si = xen.abi.start_info
        mfn_list = si.unpack(get(xen, dom, dom.start_info_va, si.size), "mfn_list")
        table = struct.unpack("<16I", get(xen, dom, mfn_list, 64))
        assert list(table) == dom.p2m[:16]
        assert all(xen.m2p(m) == p for p, m in enumerate(dom.p2m))
        assert dom.p2m[0] != 0
        assert all(xen.frames.info[m].owner == dom.domid for m in dom.p2m)

    def test_page_tables_pinned_and_read_only(self, release: str) -> None:
        """The L2 is pinned; page-table frames are mapped without RW; Xen's slots filled."""
        xen, dom = boot(release)
        l2 = xen.frames.info[dom.pt_base]
        assert l2.pinned
        assert l2.type == PageType.L2
        pt_va = xen.abi.start_info.unpack(get(xen, dom, dom.start_info_va, 1104), "pt_base")
        assert xen.guest.translate(dom.baseptr, pt_va, write=False) == dom.pt_base << 12
        assert xen.guest.translate(dom.baseptr, pt_va, write=True) is None
        m2p_pde = xen.mem.u32((dom.pt_base << 12) + xen.hv_slot * 4)
        assert m2p_pde >> 12 == xen.m2p_l1
        assert not m2p_pde & PTE_RW
        assert xen.frames.info[xen.m2p_l1].owner == DOMID_XEN

    def test_hypercall_page_only_on_3_0_2(self) -> None:
        """3.0.2 fills the requested page with stubs; 3.0.1 leaves the kernel's bytes."""
        for rel, expect in (("xen-3.0.2", True), ("xen-3.0.1", False)):
            xen, dom = boot(rel, extra=",HYPERCALL_PAGE=0x2")
            stub = get(xen, dom, VIRT_BASE + 0x2000 + 13 * 32, 8)
            assert (stub == bytes.fromhex("b80d000000cd82c3")) is expect
