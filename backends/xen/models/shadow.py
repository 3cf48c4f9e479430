"""Translated domains: the guest's page tables hold its own frame numbers, Xen's shadows the CPU's.

X:350 A VMI kernel writes *physical* frame numbers into its page tables
and reads them back (VMI 3.0 has no PTE-value ops), so it can only run
where the hypervisor translates: Xen 3.0's ``SHADOW=translate`` mode, which
the VMI builder (:mod:`.vmi`) gives its domains.  The guest's tables are
ordinary guest memory; the CPU walks *shadow* tables that Xen builds from
them, in frames Xen owns and no guest can map:

- a shadow L1 translates every entry of one guest L1 (pfn -> the domain's
  mfn, through its p2m); an entry naming a frame outside the domain's
  memory is not present in the shadow, so a guest can reach nothing but
  its own frames, whatever it writes;
- a shadow L2 mirrors one guest directory; its guest slots start empty and
  fill on demand, from the *shadow fault* (:meth:`ShadowPager.fault`): a
  page fault where the guest's own tables allow the access is Xen's to fix,
  and never reaches the guest.  Xen's slots are the hypervisor's own, as in
  every validated directory (:mod:`.mm`);
- the guest changes its tables through ``mmu_update`` (VMI's SetPxE) with
  guest-physical addresses; the shadow entry follows at once.  A plain
  store into a shadowed frame is caught by a watch on the frame (Xen
  write-protects them): into a live table it updates the shadow entry;
  into a table nothing uses any more (a freed page table being reused as
  data) it drops the shadow, so ordinary memory runs at full speed again.
- frames Xen holds in a type a guest may not write (its GDT) are mapped
  read-only in every shadow, the rule :mod:`.mm` enforces for PV domains.

Shadows live in a bounded pool of Xen frames; when it runs out, all of the
domain's shadows are dropped and rebuilt on demand (Xen's
``shadow_blow_tables``).  Xen 2.0 had no translate mode that FACTS found;
giving one to the 2.0 models is a modelling assumption (the VMI README
says so).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

from pvops.backends.xen.models.abi import (
    EINVAL,
    PTE_ACCESSED,
    PTE_DIRTY,
    PTE_FRAME,
    PTE_GLOBAL,
    PTE_PRESENT,
    PTE_PSE,
    PTE_RW,
    PTE_USER,
)
from pvops.backends.xen.models.domain import Domain
from pvops.backends.xen.models.mm import ENTRIES, GuestAccess, PageType
from pvops.types import PAGE_SIZE, Mfn

if TYPE_CHECKING:
    from pvops.backends.xen.models.hypervisor import Xen

POOL_FRAMES = 160
"""Shadow frames per domain before Xen drops them all and starts over."""
PF_PRESENT, PF_WRITE, PF_USER = 1, 2, 4
DROPPED_BITS = PTE_GLOBAL | PTE_PSE  # Xen's L1_DISALLOW_MASK: never in a shadow


class TranslatedAccess(GuestAccess):
    """``copy_{from,to}_user`` for a translated domain: through the guest's own tables."""

    def __init__(self, pager: ShadowPager) -> None:
        super().__init__(pager.xen.mem, pager.xen.abi.virt_start)
        self.pager = pager

    def translate(self, l2_mfn: int, va: int, *, write: bool) -> int | None:
        """The machine address of ``va`` as the guest's tables map it (``l2_mfn`` unused)."""
        del l2_mfn
        return self.pager.guest_translate(va, write=write, user=False)


class ShadowPager:
    """The shadow page tables of one translated domain."""

    def __init__(self, xen: Xen, dom: Domain, *, pool: int = POOL_FRAMES) -> None:
        self.xen = xen
        self.dom = dom
        self.pool = pool
        self.frames: list[Mfn] = []  # every shadow frame this domain has had
        self.spare: list[Mfn] = []
        self.l1: dict[int, Mfn] = {}  # guest pfn of an L1 -> its shadow
        self.l2: dict[int, Mfn] = {}  # guest pfn of a directory -> its shadow
        self.users: dict[int, set[tuple[int, int]]] = {}  # shadow L1 -> (shadow L2, slot)
        self.guest_base: int | None = None  # the guest's cr3, as a guest frame
        self.access = TranslatedAccess(self)
        self.faults_fixed = 0
        self.blown = 0

    # -- frames -------------------------------------------------------------------------

    def mfn(self, pfn: int) -> Mfn | None:
        """The machine frame behind guest frame ``pfn`` (None: not the domain's memory)."""
        return self.dom.mfn(pfn)  # type: ignore[arg-type]

    def _frame(self) -> Mfn:
        if self.spare:
            mfn = self.spare.pop()
        elif len(self.frames) < self.pool:
            mfn = self.xen.xen_frame()
            self.frames.append(mfn)
        else:
            self.blow()
            mfn = self.spare.pop()
        self.xen.mem.write(mfn << 12, bytes(PAGE_SIZE))
        return mfn

    def translate(self, gpte: int) -> int:
        """One guest entry as its shadow: the domain's machine frame, or not present."""
        if not gpte & PTE_PRESENT:
            return 0
        mfn = self.mfn(gpte >> 12)
        if mfn is None:
            return 0
        flags = gpte & 0xFFF & ~DROPPED_BITS
        info = self.xen.frames.info[mfn]
        if info.type_count and info.type not in (PageType.NONE, PageType.WRITABLE):
            flags &= ~PTE_RW  # a descriptor table: Xen's to validate, never the guest's to write
        return (mfn << 12) | flags

    # -- the guest's tables -------------------------------------------------------------

    def guest_entry(self, pfn: int, index: int) -> int | None:
        """Entry ``index`` of guest frame ``pfn`` (None: not the domain's memory)."""
        mfn = self.mfn(pfn)
        return None if mfn is None else self.xen.mem.u32((mfn << 12) + 4 * index)

    def guest_walk(self, va: int) -> tuple[int, int] | None:
        """(directory entry, page entry) the guest's current tables hold for ``va``."""
        if self.guest_base is None:
            return None
        pde = self.guest_entry(self.guest_base, va >> 22)
        if pde is None or not pde & PTE_PRESENT or pde & PTE_PSE:
            return None
        pte = self.guest_entry(pde >> 12, (va >> 12) & 1023)
        if pte is None:
            return None
        return pde, pte

    def guest_translate(self, va: int, *, write: bool, user: bool) -> int | None:
        """The machine address the guest's tables give ``va`` for this access, or None."""
        if self.guest_base is None:
            return self.xen.guest.translate(self.dom.baseptr, va, write=write)  # the boot map
        walk = self.guest_walk(va)
        if walk is None or not _allows(walk, write=write, user=user):
            return None
        shadow = self.translate(walk[1])
        if not shadow & PTE_PRESENT or (write and not shadow & PTE_RW):
            return None
        return (shadow & PTE_FRAME) | (va & 0xFFF)

    # -- shadows ------------------------------------------------------------------------

    def shadow_l1(self, pfn: int) -> Mfn | None:
        """The shadow of guest L1 ``pfn``, built now if there is none."""
        if pfn in self.l1:
            return self.l1[pfn]
        gmfn = self.mfn(pfn)
        if gmfn is None or self.xen.frames.info[gmfn].type == PageType.SEG_DESC:
            return None
        smfn = self._frame()
        words = self.xen.mem.frame_words(gmfn)
        self.xen.mem.write(smfn << 12, struct.pack("<1024I", *(self.translate(w) for w in words)))
        self.l1[pfn] = smfn
        self.users[smfn] = set()
        self._watch(gmfn)
        return smfn

    def shadow_l2(self, pfn: int) -> Mfn | None:
        """The shadow of guest directory ``pfn``: guest slots empty, Xen's filled."""
        if pfn in self.l2:
            return self.l2[pfn]
        gmfn = self.mfn(pfn)
        if gmfn is None or self.xen.frames.info[gmfn].type == PageType.SEG_DESC:
            return None
        smfn = self._frame()
        for slot, pde in self.xen.frames.xen_l2_entries(self.dom.domid).items():
            self.xen.mem.put_u32((smfn << 12) + 4 * slot, pde)
        self.l2[pfn] = smfn
        self._watch(gmfn)
        return smfn

    def boot_map(self, nr_pages: int, virt_offset: int) -> Mfn:
        """A shadow with no guest tables behind it: memory at 0 and at ``virt_offset``.

        What the domain runs on from its first instruction until it loads
        cr3 with tables of its own (the builder's boot map).
        """
        l2 = self._frame()
        for slot, pde in self.xen.frames.xen_l2_entries(self.dom.domid).items():
            self.xen.mem.put_u32((l2 << 12) + 4 * slot, pde)
        prot = PTE_PRESENT | PTE_RW | PTE_ACCESSED | PTE_DIRTY
        for chunk in range(-(-nr_pages // ENTRIES)):
            l1 = self._frame()
            pfns = range(chunk * ENTRIES, min(nr_pages, (chunk + 1) * ENTRIES))
            words = [(self.dom.p2m[p] << 12) | prot for p in pfns]
            self.xen.mem.write(l1 << 12, struct.pack(f"<{len(words)}I", *words))
            for slot in (chunk, (virt_offset >> 22) + chunk):
                self.xen.mem.put_u32((l2 << 12) + 4 * slot, (l1 << 12) | prot)
        return l2

    def set_base(self, pfn: int) -> int:
        """The guest loads cr3 with directory ``pfn`` (MMUEXT_NEW_BASEPTR, translated)."""
        smfn = self.shadow_l2(pfn)
        if smfn is None:
            return -EINVAL
        self.guest_base = pfn
        self.dom.baseptr = smfn
        if self.dom is self.xen.current:
            self.xen.host.cr3 = smfn << 12
        return 0

    def fault(self, va: int, error_code: int) -> bool:
        """A page fault: fix the shadow if the guest's tables allow the access (then retry)."""
        walk = self.guest_walk(va)
        if walk is None:
            return False
        write, user = bool(error_code & PF_WRITE), bool(error_code & PF_USER)
        if not _allows(walk, write=write, user=user) or self.guest_base not in self.l2:
            return False
        pde, pte = walk
        sl2 = self.l2[self.guest_base]
        slot_ma = (sl2 << 12) + 4 * (va >> 22)
        before = self.xen.mem.u32(slot_ma)
        sl1 = self.shadow_l1(pde >> 12)
        if sl1 is None:
            return False
        spde = (sl1 << 12) | (pde & 0xFFF & ~DROPPED_BITS) | PTE_ACCESSED
        spte_ma = (sl1 << 12) + 4 * ((va >> 12) & 1023)
        spte = self.translate(pte)
        if (before, self.xen.mem.u32(spte_ma)) == (spde, spte):
            return False  # the shadow already says what the guest says: the guest's fault
        if not spte & PTE_PRESENT or (write and not spte & PTE_RW):
            return False
        self._link(sl2, va >> 22, spde)
        self.xen.mem.put_u32(spte_ma, spte)
        self.faults_fixed += 1
        return True

    def _link(self, sl2: int, slot: int, spde: int) -> None:
        ma = (sl2 << 12) + 4 * slot
        old = self.xen.mem.u32(ma)
        if old & PTE_PRESENT:
            self.users.get(old >> 12, set()).discard((sl2, slot))
        self.xen.mem.put_u32(ma, spde)
        if spde & PTE_PRESENT:
            self.users.setdefault(spde >> 12, set()).add((sl2, slot))

    # -- keeping up with the guest ------------------------------------------------------

    def guest_update(self, gpa: int, value: int) -> int:
        """``mmu_update`` of a translated domain: the guest's entry at ``gpa``, then its shadow."""
        mfn = self.mfn(gpa >> 12)
        if mfn is None or gpa & 3 or value >> 32:
            return -EINVAL
        if value & PTE_PRESENT and self.mfn(value >> 12) is None:
            return -EINVAL  # Xen refuses a frame the domain does not have
        if self.xen.frames.info[mfn].type == PageType.SEG_DESC:
            return -EINVAL  # descriptor pages change through update_descriptor only
        self.xen.mem.put_u32((mfn << 12) + (gpa & 0xFFF), value)
        self._sync(gpa >> 12, (gpa & 0xFFF) >> 2, value)
        return 0

    def _sync(self, pfn: int, index: int, value: int) -> None:
        if pfn in self.l1:
            self.xen.mem.put_u32((self.l1[pfn] << 12) + 4 * index, self.translate(value))
        if pfn in self.l2 and index < self.xen.hv_slot:
            self._link(self.l2[pfn], index, 0)  # refilled on the next fault through it

    def _watch(self, gmfn: int) -> None:
        watch: Callable[..., object] | None = getattr(self.xen.host, "watch_page", None)
        if watch is not None:
            watch(gmfn << 12, self._written)

    def _unwatch(self, gmfn: int) -> None:
        watch: Callable[..., object] | None = getattr(self.xen.host, "watch_page", None)
        if watch is not None:
            watch(gmfn << 12, None)

    def _written(self, host: object, addr: int, size: int, value: int) -> None:
        """A plain guest store into a shadowed frame (the write then goes ahead)."""
        del host
        pfn = self.xen.m2p(addr >> 12)
        new = bytearray(self.xen.mem.read(addr & ~3, 8))
        off = addr & 3
        new[off : off + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
        words = struct.unpack("<2I", bytes(new))
        index = (addr & 0xFFF) >> 2
        if pfn in self.l1 and not self.users.get(self.l1[pfn]):
            self.drop_l1(pfn)  # nothing walks it: the frame is data again
        if pfn in self.l2 and pfn != self.guest_base:
            self.drop_l2(pfn)
        for k, word in enumerate(words[: 1 + ((off + size - 1) >> 2)]):
            if index + k < ENTRIES:
                self._sync(pfn, index + k, word)

    def drop_l1(self, pfn: int) -> None:
        """Forget the shadow of guest L1 ``pfn``; the directories pointing at it refault."""
        smfn = self.l1.pop(pfn)
        for sl2, slot in list(self.users.pop(smfn, ())):
            self.xen.mem.put_u32((sl2 << 12) + 4 * slot, 0)
        self.spare.append(smfn)
        gmfn = self.mfn(pfn)
        if gmfn is not None and pfn not in self.l2:
            self._unwatch(gmfn)

    def drop_l2(self, pfn: int) -> None:
        """Forget the shadow of a directory that is not loaded."""
        smfn = self.l2.pop(pfn)
        for slot in range(self.xen.hv_slot):
            ma = (smfn << 12) + 4 * slot
            old = self.xen.mem.u32(ma)
            if old & PTE_PRESENT:
                self.users.get(old >> 12, set()).discard((smfn, slot))
        self.spare.append(smfn)
        gmfn = self.mfn(pfn)
        if gmfn is not None and pfn not in self.l1:
            self._unwatch(gmfn)

    def blow(self) -> None:
        """The pool is used up: drop every shadow but the loaded directory's (emptied)."""
        self.blown += 1
        for pfn in list(self.l1):
            self.drop_l1(pfn)
        for pfn in list(self.l2):
            if pfn != self.guest_base:
                self.drop_l2(pfn)
        if self.guest_base in self.l2:
            sl2 = self.l2[self.guest_base]
            for slot in range(self.xen.hv_slot):
                self.xen.mem.put_u32((sl2 << 12) + 4 * slot, 0)
        if self.dom is self.xen.current:
            self.xen.flush_tlb()
        if not self.spare:
            msg = "the shadow pool is too small for one directory"
            raise MemoryError(msg)

    def protect(self, mfns: set[int]) -> None:
        """Frames that just became descriptor tables: read-only in every shadow."""
        for smfn in self.l1.values():
            base = smfn << 12
            for i, e in enumerate(self.xen.mem.frame_words(smfn)):
                if e & PTE_PRESENT and e & PTE_RW and e >> 12 in mfns:
                    self.xen.mem.put_u32(base + 4 * i, e & ~PTE_RW)
        if self.dom is self.xen.current:
            self.xen.flush_tlb()


def _allows(walk: tuple[int, int], *, write: bool, user: bool) -> bool:
    """Whether a guest (directory, page) entry pair permits an access (CR0.WP on)."""
    pde, pte = walk
    for e in (pde, pte):
        if not e & PTE_PRESENT or (write and not e & PTE_RW) or (user and not e & PTE_USER):
            return False
    return True
