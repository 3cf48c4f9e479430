"""Page-table validation: what a guest may and may not map."""

from __future__ import annotations

import pytest
from xenfake import SCRATCH, VIRT_BASE, boot, get, hcall, mmu_update, mmuext, pte_ma, put

from pvops.backends.xen.models.abi import (
    ABI_2_0,
    EINVAL,
    PTE_PRESENT,
    PTE_RW,
    SIF_AUTO_FLUSH,
    WHAT_IF,
)
from pvops.backends.xen.models.domain import RunState
from pvops.backends.xen.models.mm import ABUSE_LIMIT, PageType

RW = PTE_PRESENT | PTE_RW | 0x20
RO = PTE_PRESENT | 0x20
PAGE = VIRT_BASE + 0x200000  # an ordinary page of the bootstrap region


class TestMmuUpdate:
    """MMU_NORMAL_PT_UPDATE through mmu_update."""

    def test_remap_own_frame(self, release: str) -> None:
        """Pointing a PTE at another of the domain's frames works and is visible."""
        xen, dom = boot(release)
        put(xen, dom, PAGE + 0x1000, b"other page")
        target = dom.p2m[(PAGE + 0x1000 - VIRT_BASE) >> 12]
        assert mmu_update(xen, dom, (pte_ma(xen, dom, PAGE), (target << 12) | RW)) == 0
        assert get(xen, dom, PAGE, 10) == b"other page"
        assert get(xen, dom, SCRATCH + 0x800, 4) == b"\1\0\0\0"  # success count

    def test_hypervisor_frame_refused(self, release: str) -> None:
        """A Xen-owned frame (the IDT) cannot be mapped, even read-only."""
        xen, dom = boot(release)
        assert mmu_update(xen, dom, (pte_ma(xen, dom, PAGE), (xen.idt_frame << 12) | RO)) == -EINVAL

    def test_foreign_frame_refused(self, release: str) -> None:
        """Another domain's frame cannot be mapped."""
        xen, dom = boot(release)
        other = xen.create_domain(dom_image(xen), memory=8 << 20)
        assert mmu_update(xen, dom, (pte_ma(xen, dom, PAGE), (other.p2m[5] << 12) | RO)) == -EINVAL

    def test_writable_mapping_of_page_table_refused(self, release: str) -> None:
        """The pinned L2 may be mapped read-only, never writable."""
        xen, dom = boot(release)
        ma = pte_ma(xen, dom, PAGE)
        assert mmu_update(xen, dom, (ma, (dom.pt_base << 12) | RW)) == -EINVAL
        assert mmu_update(xen, dom, (ma, (dom.pt_base << 12) | RO)) == 0

    def test_xen_slots_refused(self, release: str) -> None:
        """The L2 slots from VIRT_START up are Xen's."""
        xen, dom = boot(release)
        ma = (dom.baseptr << 12) + xen.hv_slot * 4
        assert mmu_update(xen, dom, (ma, (dom.p2m[3] << 12) | RW)) == -EINVAL

    def test_disallowed_flags(self, release: str) -> None:
        """_PAGE_GLOBAL in a guest PTE is refused (L1_DISALLOW_MASK)."""
        xen, dom = boot(release)
        assert (
            mmu_update(xen, dom, (pte_ma(xen, dom, PAGE), (dom.p2m[9] << 12) | RW | 0x100))
            == -EINVAL
        )

    def test_repeated_abuse_crashes_the_domain(self, release: str) -> None:
        """After ABUSE_LIMIT refusals the domain is crashed cleanly and stops."""
        xen, dom = boot(release)
        ma = pte_ma(xen, dom, PAGE)
        for _ in range(ABUSE_LIMIT):
            if not dom.alive:
                break
            mmu_update(xen, dom, (ma, (xen.idt_frame << 12) | RW))
        assert dom.state is RunState.CRASHED
        assert "refused" in (dom.crash_reason or "")
        assert xen.host.stopped  # nothing else to run

    def test_machphys_command_number(self, release: str) -> None:
        """MMU_MACHPHYS_UPDATE is ptr[1:0]=2 in 2.0 and 1 in 3.0; the other value fails."""
        xen, dom = boot(release)
        mfn = dom.p2m[7]
        good, bad = (2, 1) if xen.abi is ABI_2_0 else (1, 2)
        assert mmu_update(xen, dom, ((mfn << 12) | good, 1234)) == 0
        assert xen.m2p(mfn) == 1234
        assert mmu_update(xen, dom, ((mfn << 12) | bad, 99)) == -EINVAL

    def test_extended_command_only_in_2_0(self, release: str) -> None:
        """ptr[1:0]=3 carries MMUEXT commands in 2.0; 3.0 refuses it (they moved to #26)."""
        xen, dom = boot(release)
        rc = mmu_update(
            xen, dom, (3, xen.abi.mmuext["tlb_flush" if xen.abi is ABI_2_0 else "tlb_flush_local"])
        )
        assert rc == (0 if xen.abi is ABI_2_0 else -EINVAL)


class TestPinning:
    """Type rules: a page table is never writable, a writable page never a page table."""

    def _fresh_l1(self, xen, dom) -> int:
        """A frame (mapped at PAGE) filled as an L1 that maps one page read-only."""
        put(xen, dom, PAGE, (dom.p2m[300] << 12 | RO).to_bytes(4, "little"))
        return dom.p2m[(PAGE - VIRT_BASE) >> 12]

    def test_pin_refused_while_mapped_writable(self, release: str) -> None:
        """Pinning a frame still mapped writable fails; mapped read-only, it works."""
        xen, dom = boot(release)
        mfn = self._fresh_l1(xen, dom)
        assert mmuext(xen, dom, "pin_l1_table", mfn) == -EINVAL
        assert mmu_update(xen, dom, (pte_ma(xen, dom, PAGE), (mfn << 12) | RO)) == 0
        assert mmuext(xen, dom, "pin_l1_table", mfn) == 0
        assert xen.frames.info[mfn].type == PageType.L1
        assert xen.frames.info[mfn].pinned
        # Now no writable mapping of it can be made anywhere.
        assert mmu_update(xen, dom, (pte_ma(xen, dom, PAGE + 0x1000), (mfn << 12) | RW)) == -EINVAL
        assert mmuext(xen, dom, "unpin_table", mfn) == 0
        assert mmu_update(xen, dom, (pte_ma(xen, dom, PAGE + 0x1000), (mfn << 12) | RW)) == 0

    def test_pinned_l1_validates_entries(self, release: str) -> None:
        """An L1 naming a Xen frame fails validation when pinned."""
        xen, dom = boot(release)
        put(xen, dom, PAGE, (xen.gate_frame << 12 | RO).to_bytes(4, "little"))
        mfn = dom.p2m[(PAGE - VIRT_BASE) >> 12]
        assert mmu_update(xen, dom, (pte_ma(xen, dom, PAGE), (mfn << 12) | RO)) == 0
        assert mmuext(xen, dom, "pin_l1_table", mfn) == -EINVAL

    def test_new_baseptr(self, release: str) -> None:
        """A copy of the kernel's L2 validates as a new base; cr3 follows; Xen slots are Xen's."""
        xen, dom = boot(release)
        l2 = xen.mem.read(dom.baseptr << 12, 4096)
        put(xen, dom, PAGE, l2[: xen.hv_slot * 4])
        mfn = dom.p2m[(PAGE - VIRT_BASE) >> 12]
        assert mmu_update(xen, dom, (pte_ma(xen, dom, PAGE), (mfn << 12) | RO)) == 0
        old = dom.baseptr
        assert mmuext(xen, dom, "new_baseptr", mfn) == 0
        assert dom.baseptr == mfn
        assert xen.host.cr3 == mfn << 12
        assert xen.mem.read(mfn << 12, 4096)[xen.hv_slot * 4 :] == l2[xen.hv_slot * 4 :]
        assert xen.frames.info[old].pinned  # the old base is still pinned by the builder

    def test_baseptr_must_validate(self, release: str) -> None:
        """A base whose entries point at Xen frames is refused."""
        xen, dom = boot(release)
        put(xen, dom, PAGE, (xen.idt_frame << 12 | RW).to_bytes(4, "little"))
        mfn = dom.p2m[(PAGE - VIRT_BASE) >> 12]
        mmu_update(xen, dom, (pte_ma(xen, dom, PAGE), (mfn << 12) | RO))
        assert mmuext(xen, dom, "new_baseptr", mfn) == -EINVAL


class TestUpdateVaMapping:
    """update_va_mapping: a page number in 2.0, an address and a 64-bit PTE in 3.0."""

    def test_argument_layouts(self, release: str) -> None:
        """Each ABI's own argument order remaps the page."""
        xen, dom = boot(release)
        put(xen, dom, PAGE + 0x3000, b"third")
        new = (dom.p2m[(PAGE + 0x3000 - VIRT_BASE) >> 12] << 12) | RW
        if xen.abi is ABI_2_0:
            rc = hcall(xen, 14, PAGE >> 12, new, 2)
        else:
            rc = hcall(xen, 14, PAGE, new, 0, 2)
        assert rc == 0
        assert get(xen, dom, PAGE, 5) == b"third"

    def test_3_0_arguments_on_2_0(self) -> None:
        """A 3.0-style call (address, not page number) misses on 2.0: refused."""
        xen, dom = boot("xen-2.0.2")
        assert hcall(xen, 14, PAGE, (dom.p2m[3] << 12) | RW, 0, 2) == -EINVAL

    def test_hypervisor_address_refused(self, release: str) -> None:
        """No PTE above VIRT_START can be touched."""
        xen, _dom = boot(release)
        va = xen.abi.virt_start
        args = (va >> 12, RO, 0) if xen.abi is ABI_2_0 else (va, RO, 0, 0)
        assert hcall(xen, 14, *args) == -EINVAL


def dom_image(xen):
    """A second kernel image for the same release."""
    from xenfake import guest_string, make_image

    return make_image(guest_string(xen.abi))


@pytest.fixture(autouse=True)
def _no_leaks():
    """Tests build their own machines."""
    return


class TestAutoFlush:
    """The what-if xen-3.0.1-autoflush: mmu_update invalidates what it unmapped."""

    @pytest.mark.parametrize("what", ["xen-3.0.1", "xen-3.0.1-autoflush"])
    def test_changed_present_entry_is_invalidated(self, what: str) -> None:
        """Remapping a present page invalidates its address, and only on the what-if release."""
        xen, dom = boot(WHAT_IF.get(what, what))
        target = dom.p2m[(PAGE + 0x1000 - VIRT_BASE) >> 12]
        xen.host.tlb_flushes.clear()  # type: ignore[attr-defined]
        assert mmu_update(xen, dom, (pte_ma(xen, dom, PAGE), (target << 12) | RW)) == 0
        flushes = list(xen.host.tlb_flushes)  # type: ignore[attr-defined]
        assert flushes == ([f"invlpg {PAGE:#x}"] if what.endswith("autoflush") else [])

    def test_new_entry_needs_no_invalidation(self) -> None:
        """A TLB never holds a not-present entry: filling one flushes nothing."""
        xen, dom = boot(WHAT_IF["xen-3.0.1-autoflush"])
        ptr = pte_ma(xen, dom, PAGE)
        assert mmu_update(xen, dom, (ptr, 0)) == 0
        xen.host.tlb_flushes.clear()  # type: ignore[attr-defined]
        assert mmu_update(xen, dom, (ptr, (dom.p2m[0x200] << 12) | RW)) == 0
        assert xen.host.tlb_flushes == []  # type: ignore[attr-defined]

    def test_start_info_says_so(self) -> None:
        """Guests learn of it from start_info.flags (SIF_AUTO_FLUSH)."""
        for what, want in (("xen-3.0.1", 0), ("xen-3.0.1-autoflush", SIF_AUTO_FLUSH)):
            xen, dom = boot(WHAT_IF.get(what, what))
            flags = get(xen, dom, dom.start_info_va + xen.abi.start_info.offset("flags"), 4)
            assert int.from_bytes(flags, "little") & SIF_AUTO_FLUSH == want
