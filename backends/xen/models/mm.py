"""Machine frames, their owners and types, and page-table validation.

X:300 Direct paging: a PV guest's page tables hold *machine* frame numbers
and the CPU walks them as they are.  That is only safe because Xen checks
every entry before it becomes live, and the check is the type system of
``xen/arch/x86/mm.c``: each machine frame has an owner and a type (none,
writable, L1, L2, descriptor table) with a count of the references that
hold it in that type.

- An L1 entry may map only frames its domain owns.  A writable mapping
  takes a *writable* type reference on the target, so a frame that is an
  L1/L2 or a descriptor table cannot be mapped writable, and a frame
  mapped writable cannot become one.  Everything else follows from that:
  no domain can write a live page table, its own or another's.
- An L2 entry may point only at a frame that validates as an L1.
- The L2 slots from HYPERVISOR_VIRT_START up belong to Xen: validation
  fills them with the hypervisor's own mappings and ``mmu_update`` refuses
  to touch them.
- Flags Xen disallows (PSE/PAT and GLOBAL: ``L1_DISALLOW_MASK``) are refused.

Every refusal is ``-EINVAL`` as in Xen (``MEM_LOG("Bad L1 flags")`` and
friends).  Xen itself only logs; the model also counts them per domain
and crashes a domain that keeps trying (:data:`ABUSE_LIMIT`), a policy of
this model, not of Xen, so a fuzzed guest ends cleanly.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable

import attrs

from pvops.backends.xen.models.abi import (
    DOMID_XEN,
    EFAULT,
    EINVAL,
    PTE_FRAME,
    PTE_GLOBAL,
    PTE_PRESENT,
    PTE_PSE,
    PTE_RW,
)
from pvops.types import PAGE_SIZE, Mfn

L1_DISALLOW_MASK = PTE_PSE | PTE_GLOBAL  # bits 7-8 (2.0 and 3.0: 0x180)
L2_DISALLOW_MASK = PTE_PSE | PTE_GLOBAL
ENTRIES = 1024
ABUSE_LIMIT = 64
"""Refused page-table or descriptor updates after which the model crashes a domain."""


class PageType(enum.IntEnum):
    """The type a frame is held in (``PGT_*``)."""

    NONE = 0
    WRITABLE = 1
    L1 = 2
    L2 = 3
    SEG_DESC = 4


@attrs.define
class FrameInfo:
    """``struct page_info``: who owns a machine frame and how it is used."""

    owner: int | None = None  # a domid, DOMID_XEN, or None for a free frame
    type: PageType = PageType.NONE
    type_count: int = 0
    pinned: bool = False


class PhysMemory:
    """Machine memory as the hypervisor reads it: the core's physical memory."""

    def __init__(
        self, read: Callable[[int, int], bytes], write: Callable[[int, bytes], None]
    ) -> None:
        self.read = read
        self.write = write

    def u32(self, ma: int) -> int:
        """Read a little-endian u32 at a machine address."""
        value: int = struct.unpack("<I", self.read(ma, 4))[0]
        return value

    def put_u32(self, ma: int, value: int) -> None:
        """Write a little-endian u32 at a machine address."""
        self.write(ma, struct.pack("<I", value & 0xFFFFFFFF))

    def frame_words(self, mfn: int) -> tuple[int, ...]:
        """The 1024 u32 entries of a page-table frame."""
        return struct.unpack("<1024I", self.read(mfn << 12, PAGE_SIZE))


class FrameTable:
    """Every machine frame's :class:`FrameInfo`, and the type-reference rules."""

    def __init__(self, nframes: int, mem: PhysMemory, hv_slot: int) -> None:
        self.nframes = nframes
        self.mem = mem
        self.hv_slot = hv_slot  # first L2 slot owned by Xen (VIRT_START >> 22)
        self.info = [FrameInfo() for _ in range(nframes)]
        # Filled by the hypervisor: the L2 entries it writes into every
        # validated directory of a domain (m2p and per-domain mappings).
        self.xen_l2_entries: Callable[[int], dict[int, int]] = lambda domid: {}
        self.on_type_change: Callable[[Mfn, PageType], None] = lambda mfn, t: None

    # -- ownership -------------------------------------------------------------------

    def owned_by(self, mfn: int, domid: int) -> bool:
        """Whether ``mfn`` is a real frame owned by ``domid``."""
        return 0 <= mfn < self.nframes and self.info[mfn].owner == domid

    def assign(self, mfn: Mfn, owner: int) -> None:
        """Give a free frame to ``owner`` (a domain or Xen), scrubbed."""
        fi = self.info[mfn]
        if fi.owner is not None:
            msg = f"frame {mfn:#x} is already owned by {fi.owner}"
            raise ValueError(msg)
        fi.owner = owner
        self.mem.write(mfn << 12, bytes(PAGE_SIZE))

    def release(self, mfn: Mfn) -> bool:
        """Return an untyped frame to the free pool (scrubbed); False if it is in use."""
        fi = self.info[mfn]
        if fi.type_count or fi.pinned or fi.owner in (None, DOMID_XEN):
            return False
        self.mem.write(mfn << 12, bytes(PAGE_SIZE))
        self.info[mfn] = FrameInfo()
        return True

    # -- type references (get_page_type / put_page_type) -------------------------------

    def get_type(self, domid: int, mfn: int, want: PageType) -> bool:
        """Take a ``want`` reference on ``mfn`` for ``domid``, validating on first use."""
        if not self.owned_by(mfn, domid):
            return False
        fi = self.info[mfn]
        if fi.type_count:
            if fi.type != want:
                return False
            fi.type_count += 1
            return True
        fi.type = want
        fi.type_count = 1
        ok = True
        if want == PageType.L1:
            ok = self._alloc_l1(domid, Mfn(mfn))
        elif want == PageType.L2:
            ok = self._alloc_l2(domid, Mfn(mfn))
        if not ok:
            fi.type, fi.type_count = PageType.NONE, 0
            return False
        self.on_type_change(Mfn(mfn), want)
        return True

    def put_type(self, mfn: int) -> None:
        """Drop one type reference; the last one of a table releases its entries."""
        fi = self.info[mfn]
        if fi.type_count <= 0:
            return
        fi.type_count -= 1
        if fi.type_count:
            return
        old = fi.type
        if old == PageType.L1:
            for e in self.mem.frame_words(mfn):
                self._put_l1e(e)
        elif old == PageType.L2:
            for slot, e in enumerate(self.mem.frame_words(mfn)[: self.hv_slot]):
                del slot
                self._put_l2e(e)
        fi.type = PageType.NONE
        self.on_type_change(Mfn(mfn), PageType.NONE)

    # -- entries --------------------------------------------------------------------

    def _get_l1e(self, domid: int, pte: int) -> bool:
        if not pte & PTE_PRESENT:
            return True
        if pte & L1_DISALLOW_MASK:
            return False
        mfn = pte >> 12
        if not self.owned_by(mfn, domid):
            return False
        if pte & PTE_RW:
            return self.get_type(domid, mfn, PageType.WRITABLE)
        return True

    def _put_l1e(self, pte: int) -> None:
        if pte & PTE_PRESENT and pte & PTE_RW and (pte >> 12) < self.nframes:
            self.put_type(pte >> 12)

    def _get_l2e(self, domid: int, pde: int) -> bool:
        if not pde & PTE_PRESENT:
            return True
        if pde & L2_DISALLOW_MASK:
            return False
        return self.get_type(domid, pde >> 12, PageType.L1)

    def _put_l2e(self, pde: int) -> None:
        if pde & PTE_PRESENT and (pde >> 12) < self.nframes:
            self.put_type(pde >> 12)

    def _alloc_l1(self, domid: int, mfn: Mfn) -> bool:
        taken: list[int] = []
        for e in self.mem.frame_words(mfn):
            if not self._get_l1e(domid, e):
                for t in taken:
                    self._put_l1e(t)
                return False
            taken.append(e)
        return True

    def _alloc_l2(self, domid: int, mfn: Mfn) -> bool:
        taken: list[int] = []
        for e in self.mem.frame_words(mfn)[: self.hv_slot]:
            if not self._get_l2e(domid, e):
                for t in taken:
                    self._put_l2e(t)
                return False
            taken.append(e)
        # Xen's own slots: written by the hypervisor into every validated directory.
        for slot in range(self.hv_slot, ENTRIES):
            self.mem.put_u32((mfn << 12) + slot * 4, 0)
        for slot, pde in self.xen_l2_entries(domid).items():
            self.mem.put_u32((mfn << 12) + slot * 4, pde)
        return True

    # -- updates (mod_l1_entry / mod_l2_entry) -------------------------------------------

    def update_entry(self, domid: int, ptr: int, val: int) -> int:
        """``MMU_NORMAL_PT_UPDATE``: write ``val`` at machine address ``ptr``; 0 or -errno."""
        mfn = ptr >> 12
        if ptr & 3 or not self.owned_by(mfn, domid):
            return -EINVAL
        fi = self.info[mfn]
        old = self.mem.u32(ptr)
        if fi.type == PageType.L1 and fi.type_count:
            if not self._get_l1e(domid, val):
                return -EINVAL
            self.mem.put_u32(ptr, val)
            self._put_l1e(old)
            return 0
        if fi.type == PageType.L2 and fi.type_count:
            if (ptr & 0xFFF) >> 2 >= self.hv_slot:
                return -EINVAL  # Xen's slots
            if not self._get_l2e(domid, val):
                return -EINVAL
            self.mem.put_u32(ptr, val)
            self._put_l2e(old)
            return 0
        if fi.type == PageType.SEG_DESC and fi.type_count:
            return -EINVAL  # descriptor pages change through update_descriptor only
        # An ordinary page: a plain write, as Xen does for a writable-type frame.
        self.mem.put_u32(ptr, val)
        return 0

    def pin(self, domid: int, mfn: int, kind: PageType) -> int:
        """MMUEXT_PIN_L1/L2_TABLE: 0 or -EINVAL."""
        if not self.owned_by(mfn, domid) or self.info[mfn].pinned:
            return -EINVAL
        if not self.get_type(domid, mfn, kind):
            return -EINVAL
        self.info[mfn].pinned = True
        return 0

    def unpin(self, domid: int, mfn: int) -> int:
        """MMUEXT_UNPIN_TABLE: 0 or -EINVAL."""
        if not self.owned_by(mfn, domid) or not self.info[mfn].pinned:
            return -EINVAL
        self.info[mfn].pinned = False
        self.put_type(mfn)
        return 0


def guest_pte_frame(pte: int) -> int:
    """The machine frame a present entry names."""
    return (pte & PTE_FRAME) >> 12


class GuestAccess:
    """Reads and writes through a domain's page tables: Xen's copy_{from,to}_user.

    Pointers at or above HYPERVISOR_VIRT_START are refused (``access_ok``),
    so a guest can never make Xen read or write the hypervisor's area for it.
    """

    def __init__(self, mem: PhysMemory, virt_start: int) -> None:
        self.mem = mem
        self.virt_start = virt_start

    def translate(self, l2_mfn: int, va: int, *, write: bool) -> int | None:
        """The machine address of ``va`` under the directory at ``l2_mfn``, or None."""
        pde = self.mem.u32((l2_mfn << 12) + (va >> 22) * 4)
        if not pde & PTE_PRESENT or (write and not pde & PTE_RW) or pde & PTE_PSE:
            return None
        pte = self.mem.u32((pde & PTE_FRAME) + ((va >> 12) & 1023) * 4)
        if not pte & PTE_PRESENT or (write and not pte & PTE_RW):
            return None
        return (pte & PTE_FRAME) | (va & 0xFFF)

    def _ok(self, va: int, n: int) -> bool:
        return n >= 0 and va >= 0 and va + n <= self.virt_start

    def read(self, l2_mfn: int, va: int, n: int) -> bytes | int:
        """``n`` bytes at ``va``, or -EFAULT."""
        if not self._ok(va, n):
            return -EFAULT
        out = bytearray()
        while n > 0:
            chunk = min(n, PAGE_SIZE - (va & 0xFFF))
            ma = self.translate(l2_mfn, va, write=False)
            if ma is None:
                return -EFAULT
            out += self.mem.read(ma, chunk)
            va, n = va + chunk, n - chunk
        return bytes(out)

    def write(self, l2_mfn: int, va: int, data: bytes) -> int:
        """Write ``data`` at ``va``: 0 or -EFAULT (nothing written on a fault)."""
        if not self._ok(va, len(data)):
            return -EFAULT
        pieces: list[tuple[int, bytes]] = []
        off = 0
        while off < len(data):
            chunk = min(len(data) - off, PAGE_SIZE - ((va + off) & 0xFFF))
            ma = self.translate(l2_mfn, va + off, write=True)
            if ma is None:
                return -EFAULT
            pieces.append((ma, data[off : off + chunk]))
            off += chunk
        for ma, piece in pieces:
            self.mem.write(ma, piece)
        return 0
