"""The hypervisor: machine memory, domains, the vCPU switch, and Xen's entry points.

X:100 One :class:`Xen` per machine speaks one release's ABI.  It owns the
core's physical memory (machine memory): frames go to Xen's own use from
the bottom and to domains from the top, each frame with exactly one owner
(:mod:`.mm`).  It enters guests through the core's hooks:

- ``int $0x82`` (the hypercall trap) is an int hook: :meth:`Xen.hypercall_entry`;
- exceptions and the timer interrupt go through Xen's IDT to gates at ring
  0 in the per-domain area (Xen's handlers are host code), which bounce
  them to the guest as ``create_bounce_frame`` does (:mod:`.traps`);
- the backend's ops issue hypercalls through :meth:`Xen.issue`, which runs
  the same entry as a guest ``int $0x82``, so every hypercall is counted
  in one place, :attr:`Xen.hypercalls`.

The virtual layout every domain shares above HYPERVISOR_VIRT_START:

========================  ==========================================
``VIRT_START``            the machine-to-phys table, read-only
``VIRT_START + 4M``       per-domain: GDT window (16 pages), IDT,
                          TSS, Xen stack (2 pages), exception gates
========================  ==========================================

Guests' flat segments end at the m2p table (limit ``VIRT_START+4M-1``,
"ring 1 3.95GB" in Xen's GDT), which keeps ring 1 out of the rest.
"""

from __future__ import annotations

import collections
import struct
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from pvops.backends.xen.models import emulate, events, timer, traps
from pvops.backends.xen.models.abi import (
    DOMID_XEN,
    ENOSYS,
    HYPERCALL_VECTOR,
    PTE_ACCESSED,
    PTE_DIRTY,
    PTE_PRESENT,
    PTE_RW,
    SIF_AUTO_FLUSH,
    XenVersion,
    hypercall_stub,
    version,
)
from pvops.backends.xen.models.domain import (
    INVALID_MFN,
    REGS,
    SEGS,
    Channel,
    Domain,
    RunState,
    VcpuContext,
    build_page_tables,
    plan_layout,
    ring1_entry,
)
from pvops.backends.xen.models.host import XenHost
from pvops.backends.xen.models.loader import GuestInfo, check_image
from pvops.backends.xen.models.mm import FrameTable, GuestAccess, PageType, PhysMemory
from pvops.hw import CR0_PE, CR0_PG, CR0_TS, CR0_WP, EFLAGS_IF, GuestFault
from pvops.image import GuestImage
from pvops.types import PAGE_SIZE, Mfn, Pfn, PhysAddr

# Pages of the per-domain area (X:100 table).
GDT_PAGES = 16
IDT_PAGE = 16
TSS_PAGE = 17
STACK_PAGE = 18
STACK_PAGES = 2
GATE_PAGE = 20
TIMER_VECTOR = 0xF0
EXCEPTION_VECTORS = tuple(range(20))
INT80_SLOT = len(EXCEPTION_VECTORS) + 1  # gate for int $0x80 without a direct trap
TSS_ESP0, TSS_SS0, TSS_ESP1, TSS_SS1, TSS_IOMAP = 4, 8, 12, 16, 102

_HOSTS: weakref.WeakKeyDictionary[Any, Xen] = weakref.WeakKeyDictionary()


def xen_of(cpu: object) -> Xen | None:
    """The hypervisor model running on ``cpu``, if any (how backend ops find theirs)."""
    try:
        return _HOSTS.get(cpu)
    except TypeError:
        return None


def seg_desc(base: int, limit: int, access: int, flags: int = 0xC) -> tuple[int, int]:
    """A segment descriptor's two words (``limit`` in units of the granularity)."""
    lo = (limit & 0xFFFF) | ((base & 0xFFFF) << 16)
    hi = ((base >> 16) & 0xFF) | (access << 8) | (limit & 0xF0000) | (flags << 20)
    return lo, hi | (base & 0xFF000000)


def gate_desc(selector: int, offset: int, dpl: int, *, trap: bool) -> tuple[int, int]:
    """An IDT gate's two words: interrupt gate (IF cleared) or trap gate."""
    lo = (selector << 16) | (offset & 0xFFFF)
    hi = (offset & 0xFFFF0000) | (0x8F00 if trap else 0x8E00) | (dpl << 13)
    return lo, hi


@attrs.define
class Interrupted:
    """The guest context a trap or hypercall interrupted (what iret would restore)."""

    eip: int
    cs: int
    eflags: int
    esp: int
    ss: int


class Xen:
    """One hypervisor of one release, on one machine.

    Args:
        host: the machine (the core, or a fake with the same hooks).
        release: ``"xen-3.0.2"`` or a :class:`XenVersion`.
        tick_ns: the period of Xen's per-CPU timer (VIRQ_TIMER to the current domain).
    """

    def __init__(
        self, host: XenHost, release: str | XenVersion, *, tick_ns: int = 10_000_000
    ) -> None:
        self.host = host
        self.version = version(release) if isinstance(release, str) else release
        self.abi = self.version.abi
        self.tick_ns = tick_ns
        self.mem = PhysMemory(
            lambda a, n: host.read(PhysAddr(a), n), lambda a, d: host.write(PhysAddr(a), d)
        )
        nframes = self._memory_size(host) >> 12
        self.hv_slot = self.abi.virt_start >> 22
        self.frames = FrameTable(nframes, self.mem, self.hv_slot)
        self.frames.xen_l2_entries = self._xen_l2_entries
        self.frames.on_type_change = self._type_changed
        self.guest = GuestAccess(self.mem, self.abi.virt_start)
        self.domains: dict[int, Domain] = {}
        self.current: Domain | None = None
        self.hypercalls: collections.Counter[int] = collections.Counter()
        self.hypercalls_by_domain: collections.Counter[tuple[int, int]] = collections.Counter()
        self.exceptions: collections.Counter[int] = collections.Counter()
        # Privileged instructions and selector loads emulated for guests (.emulate).
        self.emulated: collections.Counter[str] = collections.Counter()
        self.log: list[str] = []
        self._next_xen_frame = 0
        self._next_dom_frame = nframes - 1
        self._next_domid = 1
        self._entered = False
        self._in_op = False
        self._ctx_changed = False
        self.last_tick_ns = 0
        # Xen's own frames: the m2p table and its L1, the shared pages of the per-domain area.
        m2p_frames = (nframes * 4 + PAGE_SIZE - 1) // PAGE_SIZE
        self.m2p_frames = [self._xen_frame() for _ in range(m2p_frames)]
        for mfn in self.m2p_frames:
            self.mem.write(mfn << 12, b"\xff" * PAGE_SIZE)
        self.m2p_l1 = self._xen_frame()
        for i, mfn in enumerate(self.m2p_frames):
            self.mem.put_u32((self.m2p_l1 << 12) + 4 * i, (mfn << 12) | PTE_PRESENT | PTE_ACCESSED)
        self.zero_frame = self._xen_frame()
        self.gdt_xen = self._xen_frame()  # the page holding Xen's reserved descriptors
        self.idt_frame = self._xen_frame()
        self.tss_frame = self._xen_frame()
        self.stack_frames = [self._xen_frame() for _ in range(STACK_PAGES)]
        self.gate_frame = self._xen_frame()
        self._write_reserved_gdt()
        self._write_idt()
        self._write_tss()
        self._gates_installed = False
        _HOSTS[host] = self
        host.set_int_hook(HYPERCALL_VECTOR, self.hypercall_entry)
        set_gp_hook = getattr(host, "set_gp_hook", None)
        if set_gp_hook is not None:
            set_gp_hook(emulate.privileged)

    # -- addresses --------------------------------------------------------------------

    @property
    def m2p_va(self) -> int:
        """``machine_to_phys_mapping``: where guests read the m2p table."""
        return self.abi.virt_start

    @property
    def perdomain_va(self) -> int:
        """Start of the per-domain area (the GDT window)."""
        return self.abi.virt_start + (1 << 22)

    def perdomain_page_va(self, page: int) -> int:
        """Virtual address of page ``page`` of the per-domain area."""
        return self.perdomain_va + page * PAGE_SIZE

    @property
    def guest_segment_limit(self) -> int:
        """Last byte a guest's flat segment reaches: the end of the m2p table."""
        return self.abi.virt_start + (1 << 22) - 1

    @property
    def gdt_limit(self) -> int:
        """GDTR limit: Xen's reserved entries are the last ones."""
        sel = self.abi.selectors
        return (sel.first_reserved_entry + sel.reserved_entries) * 8 - 1

    @property
    def tss_selector(self) -> int:
        """Xen's TSS, in its reserved GDT entries."""
        return (self.abi.selectors.first_reserved_entry + 8) * 8

    @property
    def ldt_selector(self) -> int:
        """The LDT descriptor Xen writes for the current domain."""
        return (self.abi.selectors.first_reserved_entry + 10) * 8

    @staticmethod
    def _memory_size(host: object) -> int:
        size = getattr(host, "memory_size", None)
        if size is None:
            size = len(getattr(host, "memory", b""))
        return int(size)

    # -- frames --------------------------------------------------------------------------

    def _xen_frame(self) -> Mfn:
        while self.frames.info[self._next_xen_frame].owner is not None:
            self._next_xen_frame += 1
        mfn = Mfn(self._next_xen_frame)
        if mfn >= self._next_dom_frame:
            msg = "out of machine memory for Xen's own frames"
            raise MemoryError(msg)
        self.frames.assign(mfn, DOMID_XEN)
        return mfn

    def free_frames(self) -> int:
        """Machine frames owned by nobody."""
        return sum(1 for fi in self.frames.info if fi.owner is None)

    def alloc_domain_frame(self, dom: Domain) -> Mfn | None:
        """One free frame for ``dom``, from the top of memory down; None when memory is full."""
        n = self._next_dom_frame
        while n >= 0 and self.frames.info[n].owner is not None:
            n -= 1
        if n < 0 or n <= self._next_xen_frame:
            # Fall back to any free frame above Xen's (freed by ballooning).
            for m in range(self.frames.nframes - 1, self._next_xen_frame, -1):
                if self.frames.info[m].owner is None:
                    n = m
                    break
            else:
                return None
        self._next_dom_frame = n - 1
        self.frames.assign(Mfn(n), dom.domid)
        return Mfn(n)

    def set_m2p(self, mfn: int, pfn: int) -> None:
        """``set_gpfn_from_mfn``: the read-only table guests translate with."""
        self.mem.put_u32((self.m2p_frames[mfn >> 10] << 12) + (mfn & 1023) * 4, pfn)

    def m2p(self, mfn: int) -> int:
        """``mfn_to_pfn`` (0xFFFFFFFF for frames no domain maps as RAM)."""
        if not 0 <= mfn < self.frames.nframes:
            return INVALID_MFN
        return self.mem.u32((self.m2p_frames[mfn >> 10] << 12) + (mfn & 1023) * 4)

    def _xen_l2_entries(self, domid: int) -> dict[int, int]:
        dom = self.domains.get(domid)
        pde = PTE_PRESENT | PTE_RW | PTE_ACCESSED | PTE_DIRTY
        out = {self.hv_slot: (self.m2p_l1 << 12) | PTE_PRESENT | PTE_ACCESSED}
        if dom is not None:
            out[self.hv_slot + 1] = (dom.perdomain_mfn << 12) | pde
        return out

    def _type_changed(self, mfn: Mfn, new: PageType) -> None:
        if new in (PageType.L1, PageType.L2, PageType.SEG_DESC) and self._entered:
            self.flush_tlb()  # no stale writable translation may outlive the type change
        watch = getattr(self.host, "watch_page", None)
        if watch is None:
            return
        if new in (PageType.L1, PageType.L2, PageType.SEG_DESC):
            watch(mfn << 12, self._typed_frame_written)
        else:
            watch(mfn << 12, None)

    def _typed_frame_written(self, host: object, addr: int, size: int, value: int) -> bool:
        """A guest store reached a validated table: impossible unless isolation broke."""
        del host, size, value
        if self.current is not None:
            self.crash(self.current, f"wrote validated page-table frame {addr >> 12:#x}")
        return False

    # -- Xen's descriptor tables (X:110) --------------------------------------------------

    def _write_reserved_gdt(self) -> None:
        sel = self.abi.selectors
        limit = self.guest_segment_limit >> 12
        entries = {
            sel.hypervisor_cs: seg_desc(0, 0xFFFFF, 0x9A),
            sel.hypervisor_ds: seg_desc(0, 0xFFFFF, 0x92),
            sel.ring1_cs: seg_desc(0, limit, 0xBA),
            sel.ring1_ds: seg_desc(0, limit, 0xB2),
            sel.ring3_cs: seg_desc(0, limit, 0xFA),
            sel.ring3_ds: seg_desc(0, limit, 0xF2),
        }
        tss_base = self.perdomain_page_va(TSS_PAGE)
        entries[self.tss_selector] = seg_desc(tss_base, 103, 0x89, 0)
        for selector, (lo, hi) in entries.items():
            self._put_reserved_desc(selector, lo, hi)

    def _reserved_desc_ma(self, selector: int) -> int:
        index = (selector >> 3) - self.abi.selectors.first_reserved_entry
        if self.abi.major >= 3:
            return (self.gdt_xen << 12) + index * 8
        # 2.0: the reserved entries live in GDT page 0 (entries 256-295).
        return (self.gdt_xen << 12) + (selector & ~7)

    def _put_reserved_desc(self, selector: int, lo: int, hi: int) -> None:
        self.mem.write(self._reserved_desc_ma(selector), struct.pack("<II", lo, hi))

    def reserved_descriptors(self) -> bytes:
        """Xen's reserved GDT entries as 2.0 copies them into a guest's GDT page."""
        first = self.abi.selectors.first_reserved_entry * 8
        n = self.abi.selectors.reserved_entries * 8
        return self.mem.read((self.gdt_xen << 12) + first, n)

    def _write_idt(self) -> None:
        cs = self.abi.selectors.hypervisor_cs
        gates = self.perdomain_page_va(GATE_PAGE)
        for k, vec in enumerate(EXCEPTION_VECTORS):
            dpl = 3 if vec in (3, 4) else 0
            self._put_idt(vec, *gate_desc(cs, gates + 32 * k, dpl, trap=False))
        timer_slot = len(EXCEPTION_VECTORS)
        self._put_idt(TIMER_VECTOR, *gate_desc(cs, gates + 32 * timer_slot, 0, trap=False))
        self.set_int80(None)

    def _put_idt(self, vector: int, lo: int, hi: int) -> None:
        self.mem.write((self.idt_frame << 12) + vector * 8, struct.pack("<II", lo, hi))

    def set_int80(self, dom: Domain | None) -> None:
        """IDT entry 0x80: a direct trap gate to the guest's handler, or Xen's bounce path.

        Direct when the guest asked for it the way its release allows
        (2.0 ``set_fast_trap``; 3.0 a ``set_trap_table`` entry that does not
        mask events): then ``int $0x80`` from ring 3 reaches the guest kernel
        with no exit to Xen at all.
        """
        ti = traps.direct_int80(self, dom) if dom is not None else None
        if ti is not None:
            self._put_idt(0x80, *gate_desc(ti.cs, ti.address, 3, trap=True))
        else:
            cs = self.abi.selectors.hypervisor_cs
            addr = self.perdomain_page_va(GATE_PAGE) + 32 * INT80_SLOT
            self._put_idt(0x80, *gate_desc(cs, addr, 3, trap=False))

    def _write_tss(self) -> None:
        tss = bytearray(104)
        top = self.perdomain_page_va(STACK_PAGE + STACK_PAGES)
        struct.pack_into("<I", tss, TSS_ESP0, top)
        struct.pack_into("<I", tss, TSS_SS0, self.abi.selectors.hypervisor_ds)
        struct.pack_into("<H", tss, TSS_IOMAP, 104)  # no I/O bitmap: ports need IOPL
        self.mem.write(self.tss_frame << 12, bytes(tss))

    def set_ring1_stack(self, ss: int, esp: int) -> None:
        """TSS ss1:esp1 = the guest kernel stack (``stack_switch``), used by direct traps."""
        self.mem.write((self.tss_frame << 12) + TSS_ESP1, struct.pack("<I", esp & 0xFFFFFFFF))
        self.mem.write((self.tss_frame << 12) + TSS_SS1, struct.pack("<I", ss & 0xFFFF))

    def _build_perdomain(self, dom: Domain) -> None:
        """The per-domain L1: GDT window, IDT, TSS, stack, gates."""
        ro = PTE_PRESENT | PTE_ACCESSED
        rw = ro | PTE_RW | PTE_DIRTY
        ptes: dict[int, int] = {}
        for page in range(GDT_PAGES):
            ptes[page] = (self.zero_frame << 12) | ro
        gdt_xen_page = 14 if self.abi.major >= 3 else 0
        ptes[gdt_xen_page] = (self.gdt_xen << 12) | rw
        ptes[IDT_PAGE] = (self.idt_frame << 12) | ro
        ptes[TSS_PAGE] = (self.tss_frame << 12) | rw
        for i, mfn in enumerate(self.stack_frames):
            ptes[STACK_PAGE + i] = (mfn << 12) | rw
        ptes[GATE_PAGE] = (self.gate_frame << 12) | ro
        for page, pte in ptes.items():
            self.mem.put_u32((dom.perdomain_mfn << 12) + page * 4, pte)

    def map_gdt_frames(self, dom: Domain) -> None:
        """Point the GDT window at the domain's GDT frames (the rest: Xen's default)."""
        base = dom.perdomain_mfn << 12
        for page in range(self.abi.max_gdt_frames):
            mfn = dom.gdt_frames[page] if page < len(dom.gdt_frames) else None
            if mfn is None:
                mfn = self.gdt_xen if self.abi.major < 3 and page == 0 else self.zero_frame
            self.mem.put_u32(base + page * 4, (mfn << 12) | PTE_PRESENT | PTE_ACCESSED | PTE_RW)
        self._flush_tlb()

    def descriptor(self, dom: Domain, selector: int) -> tuple[int, int] | None:
        """The GDT or LDT descriptor ``selector`` names in ``dom``'s tables, if any."""
        index = selector >> 3
        if selector & 4:
            if index >= dom.ldt_entries:
                return None
            frames, off = dom.ldt_frames, index * 8
        else:
            if index * 8 + 7 > self.gdt_limit:
                return None
            first = self.abi.selectors.first_reserved_entry
            if index >= first and self.abi.major >= 3:
                ma = (self.gdt_xen << 12) + (index - first) * 8
                return self.mem.u32(ma), self.mem.u32(ma + 4)
            frames, off = dom.gdt_frames, index * 8
            if not frames and self.abi.major < 3:
                frames = [self.gdt_xen]
        page = off >> 12
        if page >= len(frames):
            return None
        ma = (frames[page] << 12) + (off & 0xFFF)
        return self.mem.u32(ma), self.mem.u32(ma + 4)

    def code_selector_ok(self, dom: Domain, selector: int) -> bool:
        """A present code segment whose DPL is the selector's RPL (1 or 3)."""
        rpl = selector & 3
        desc = self.descriptor(dom, selector) if rpl else None
        if desc is None:
            return False
        hi = desc[1]
        return bool(hi & 0x8000) and hi & 0x1800 == 0x1800 and (hi >> 13) & 3 == rpl

    def _install_gates(self) -> None:
        if self._gates_installed:
            return
        add = getattr(self.host, "add_gate_table", None)
        if add is None:
            return
        slots: list[Callable[[Any], None]] = [self._exception_slot(v) for v in EXCEPTION_VECTORS]
        slots.append(self._timer_slot)
        slots.append(self._int80_slot)
        add(self.gate_frame << 12, slots)
        self._gates_installed = True

    # -- domains --------------------------------------------------------------------------

    def create_domain(
        self,
        image: GuestImage,
        *,
        memory: int = 16 << 20,
        cmdline: str = "",
        force: bool = False,
        name: str = "",
    ) -> Domain:
        """Check the image as this release's builder does and build a domain for it.

        Raises:
            LoadError: the builder refused the image (the release's message).
            MemoryError: not enough free machine memory.
        """
        info = check_image(image, self.version, force=force)
        return self.build(image, info, memory=memory, cmdline=cmdline, name=name)

    def build(
        self, image: GuestImage, info: GuestInfo, *, memory: int, cmdline: str, name: str = ""
    ) -> Domain:
        """The domain builder proper (X:400)."""
        nr_pages = memory >> 12
        layout = plan_layout(image, info, self.abi, nr_pages)
        dom = self.new_domain(nr_pages, name)
        dom.virt_base = layout.v_start
        dom.symbols = dict(image.symbols)
        # Kernel segments, the p2m table, start_info.
        for seg in image.segments:
            data = seg.data + bytes(seg.memsz - len(seg.data))
            self.write_pseudo(dom, seg.vaddr - layout.v_start, data)
        p2m_bytes = struct.pack(f"<{nr_pages}I", *dom.p2m)
        self.write_pseudo(dom, layout.vphysmap - layout.v_start, p2m_bytes)
        for mfn, frame in build_page_tables(layout, dom.p2m).items():
            self.mem.write(mfn << 12, frame)
        dom.pt_base = dom.p2m[layout.pfn(layout.vpt_start)]
        dom.start_info_va = layout.vstartinfo
        self._write_start_info(dom, layout, cmdline)
        timer.init_shared_info(self, dom)
        domid = dom.domid
        if self.frames.pin(domid, dom.pt_base, PageType.L2):
            msg = "the builder's own page tables failed validation"
            raise AssertionError(msg)
        dom.baseptr = dom.pt_base
        self.frames.get_type(domid, dom.pt_base, PageType.L2)  # the baseptr's reference
        if self.abi.hypercall_page and info.hypercall_page is not None:
            self._write_hypercall_page(dom, info.hypercall_page - layout.v_start)
            dom.hypercall_page_va = info.hypercall_page
        dom.kernel_ss, dom.kernel_sp = self.abi.selectors.ring1_ds, layout.vstack_end
        dom.saved = ring1_entry(
            self.abi, eip=info.entry, esp=layout.vstack_end, esi=layout.vstartinfo
        )
        self.log.append(f"built {dom.name} ({nr_pages} pages) for {self.version.name}")
        return dom

    def new_domain(self, nr_pages: int, name: str = "") -> Domain:
        """A domain with ``nr_pages`` of memory, shared_info and its per-domain area, not yet built.

        Raises:
            MemoryError: not enough free machine memory.
        """
        if nr_pages + 2 > self.free_frames():
            msg = f"domain needs {nr_pages} frames, {self.free_frames()} are free"
            raise MemoryError(msg)
        domid = self._next_domid
        self._next_domid += 1
        perdomain = self._xen_frame()
        dom = Domain(domid, self.abi, [], Mfn(0), perdomain, name=name or f"domain-{domid}")
        dom.channels = [Channel() for _ in range(64)]
        self.domains[domid] = dom
        for pfn in range(nr_pages):
            mfn = self.alloc_domain_frame(dom)
            assert mfn is not None  # checked above
            dom.p2m.append(mfn)
            self.set_m2p(mfn, pfn)
        shared = self.alloc_domain_frame(dom)
        assert shared is not None
        dom.shared_info_mfn = shared
        dom.max_pages = nr_pages
        self._build_perdomain(dom)
        return dom

    def xen_frame(self) -> Mfn:
        """One more frame for Xen's own use (shadows, per-domain tables)."""
        return self._xen_frame()

    def write_pseudo(self, dom: Domain, offset: int, data: bytes) -> None:
        """Write at a pseudo-physical byte offset of a domain (the builder's loads)."""
        while data:
            pfn = offset >> 12
            chunk = min(len(data), PAGE_SIZE - (offset & 0xFFF))
            self.mem.write((dom.p2m[pfn] << 12) + (offset & 0xFFF), data[:chunk])
            data, offset = data[chunk:], offset + chunk

    def read_pseudo(self, dom: Domain, offset: int, n: int) -> bytes:
        """Read at a pseudo-physical byte offset of a domain.

        Raises:
            ValueError: the range leaves the domain's memory.
        """
        out = b""
        while n > 0:
            mfn = dom.mfn(Pfn(offset >> 12))
            if mfn is None:
                msg = f"pseudo-physical {offset:#x} is outside the domain"
                raise ValueError(msg)
            take = min(n, PAGE_SIZE - (offset & 0xFFF))
            out += self.mem.read((mfn << 12) + (offset & 0xFFF), take)
            offset, n = offset + take, n - take
        return out

    def _write_start_info(self, dom: Domain, layout: Any, cmdline: str) -> None:
        si = self.abi.start_info
        buf = bytearray(si.size)
        values: dict[str, int | bytes] = {
            "nr_pages": dom.nr_pages,
            "shared_info": dom.shared_info_mfn << 12,
            "flags": SIF_AUTO_FLUSH if self.abi.auto_flush else 0,
            "pt_base": layout.vpt_start,
            "nr_pt_frames": layout.nr_pt_pages,
            "mfn_list": layout.vphysmap,
            "cmd_line": cmdline.encode()[: int(si.fields["cmd_line"][1][:-1]) - 1],
        }
        if self.abi.major >= 3:
            values["magic"] = self.abi.start_info_magic
            values["store_mfn"] = dom.p2m[layout.pfn(layout.vstore)]
            values["console_mfn"] = dom.p2m[layout.pfn(layout.vconsole)]
        si.pack_into(buf, 0, **values)
        self.write_pseudo(dom, layout.vstartinfo - layout.v_start, bytes(buf))

    def _write_hypercall_page(self, dom: Domain, offset: int) -> None:
        page = bytearray()
        iret = self.abi.number("iret")
        for nr in range(PAGE_SIZE // 32):
            page += hypercall_stub(nr, iret=nr == iret)
        if 0 <= offset < dom.nr_pages << 12:
            self.write_pseudo(dom, offset & ~0xFFF, bytes(page))

    # -- running: entering and switching vCPUs (X:130) ------------------------------------

    def start(self, dom: Domain) -> None:
        """Enter ``dom`` for the first time (or switch to it): ring 1 at its entry."""
        self._install_gates()
        host = self.host
        if not self._entered:
            # The machine is still in its power-on state at ring 0: paging on
            # with the domain's tables, then Xen's GDT, IDT and TSS.
            host.cr3 = dom.baseptr << 12
            host.cr0 = host.cr0 | CR0_PE | CR0_PG | CR0_WP
            host.lgdt(self.perdomain_va, self.gdt_limit)  # type: ignore[arg-type]
            host.lidt(self.perdomain_page_va(IDT_PAGE), 0x7FF)  # type: ignore[arg-type]
            host.ltr(self.tss_selector)
            host.set_timer(self._tick_instructions(), TIMER_VECTOR)
            self._entered = True
        self._load(dom)

    def _tick_instructions(self) -> int:
        return max(1, self.tick_ns * timer.MODELED_HZ // 1_000_000_000)

    def _flush_tlb(self) -> None:
        if self._entered:
            self.host.cr3 = self.host.cr3  # reload: drops non-global entries

    def _save(self, dom: Domain) -> None:
        host = self.host
        ctx = VcpuContext()
        ctx.regs = {r: int(getattr(host, r)) for r in REGS}
        ctx.segs = {s: host.get_segment(s) for s in SEGS}
        ctx.cr2 = host.cr2
        resume = self.context()  # inside a backend op: after the op returns
        ctx.regs["eip"], ctx.regs["esp"] = resume.eip, resume.esp
        dom.saved = ctx

    def _load(self, dom: Domain) -> None:
        host = self.host
        ctx = dom.saved
        assert ctx is not None
        host.cr3 = dom.baseptr << 12
        self.set_ring1_stack(dom.kernel_ss, dom.kernel_sp)
        self.set_int80(dom)
        self.map_gdt_frames(dom)
        self.load_ldt(dom)
        host.cr0 = (host.cr0 | CR0_TS) if dom.fpu_ts else (host.cr0 & ~CR0_TS)
        for r, v in ctx.regs.items():
            setattr(host, r, v)
        host.cr2 = ctx.cr2
        for s in ("ss", "ds", "es", "fs", "gs", "cs"):
            if s not in ctx.segs:
                continue
            sel, base, limit, access, flags = ctx.segs[s]
            try:
                if access:
                    host.set_segment(s, sel, base, limit, access, flags)
                else:
                    host.set_segment(s, sel)
            except GuestFault:
                host.set_segment(s, 0) if s != "cs" else None
        dom.saved = None
        self.current = dom
        self._ctx_changed = True

    def runnable(self) -> list[Domain]:
        """Domains that can run now."""
        return [d for d in self.domains.values() if d.state == RunState.RUNNABLE]

    def schedule(self, *, yield_: bool = False) -> None:
        """Pick who runs next (round robin), switching vCPU state if it changes."""
        cur = self.current
        ready = self.runnable()
        if cur is not None and cur.state == RunState.RUNNABLE and not (yield_ and len(ready) > 1):
            return
        if not ready:
            self._idle()
            return
        ids = sorted(d.domid for d in ready)
        after = [i for i in ids if cur is None or i > cur.domid]
        nxt = self.domains[(after or ids)[0]]
        if nxt is cur:
            return
        if cur is not None and cur.saved is None:
            self._save(cur)
        self._load(nxt)

    def context_changed(self) -> bool:
        """Whether the last hypercall replaced the guest's registers."""
        return self._ctx_changed

    def _ring0(self, fn: Callable[[], None]) -> None:
        """Run a ring-0-only instruction as Xen (the guest's CS put back after)."""
        cur = self.host.get_segment("cs")
        if cur[0] & 3 == 0:
            fn()
            return
        self.host.set_segment("cs", self.abi.selectors.hypervisor_cs, 0, 0xFFFFFFFF, 0x9B, 0xC)
        try:
            fn()
        finally:
            self.host.set_segment("cs", cur[0], cur[1], cur[2], cur[3], cur[4])

    def flush_tlb(self, va: int | None = None) -> None:
        """Flush the current TLB: one page (invlpg) or all non-global entries."""
        if va is None:
            self._ring0(lambda: self.host.flush_tlb(include_global=False))
        else:
            self._ring0(lambda: self.host.invlpg(va))  # type: ignore[arg-type]

    def load_ldt(self, dom: Domain) -> None:
        """Write the LDT descriptor for ``dom``'s LDT and load LDTR."""
        if not dom.ldt_entries:
            lo, hi = 0, 0
        else:
            lo, hi = seg_desc(dom.ldt_base, dom.ldt_entries * 8 - 1, 0x82, 0)
        self._put_reserved_desc(self.ldt_selector, lo, hi)
        if self.abi.major < 3 and dom.gdt_frames:
            ma = (dom.gdt_frames[0] << 12) + self.ldt_selector
            self.mem.write(ma, struct.pack("<II", lo, hi))
        if self._entered:
            try:
                self.host.set_segment("ldtr", self.ldt_selector if dom.ldt_entries else 0)
            except GuestFault:
                self.host.set_segment("ldtr", 0)

    def _idle(self) -> None:
        """Nothing runnable: halt until the timer, or stop the machine if nothing can wake."""
        waiting = [d for d in self.domains.values() if d.state == RunState.BLOCKED]
        if not waiting or not any(timer.can_wake(self, d) for d in waiting):
            self.power_off()
            return
        # hlt needs ring 0: the idle vCPU is Xen's.
        self._ring0(self.host.hlt)

    def power_off(self) -> None:
        """No domain can ever run again: the CPU halts for good and the run stops.

        The registers still hold the last domain's context; halting with
        interrupts off and no timer makes every later ``run()`` return HALT
        at once instead of resuming a dead guest.
        """
        host = self.host
        host.set_timer(0, TIMER_VECTOR)
        host.eflags = host.eflags & ~EFLAGS_IF
        self._ring0(host.hlt)
        host.stop()

    def wake(self, dom: Domain) -> None:
        """A blocked domain has an event: make it runnable again."""
        if dom.state == RunState.BLOCKED:
            dom.state = RunState.RUNNABLE

    def crash(self, dom: Domain, reason: str) -> None:
        """``domain_crash``: the domain stops for good; others go on."""
        dom.crash(reason)
        self.log.append(f"{dom.name} crashed: {reason}")
        if dom is self.current:
            dom.saved = None
            self.current = None
            self._ctx_changed = True
            self.schedule()

    def shutdown(self, dom: Domain, reason: int) -> None:
        """SCHEDOP_shutdown."""
        dom.state = RunState.SHUTDOWN
        dom.shutdown_reason = reason
        self.log.append(f"{dom.name} shut down (reason {reason})")
        if dom is self.current:
            self.current = None
            self._ctx_changed = True
            self.schedule()

    # -- guest memory access ----------------------------------------------------------------

    def access(self, dom: Domain) -> GuestAccess:
        """How Xen reaches ``dom``'s memory by virtual address (its own tables, or translated)."""
        return self.guest if dom.shadow is None else dom.shadow.access

    def read_guest(self, dom: Domain, va: int, n: int) -> bytes | int:
        """copy_from_user through the domain's current page tables: bytes or -EFAULT."""
        return self.access(dom).read(dom.baseptr, va, n)

    def write_guest(self, dom: Domain, va: int, data: bytes) -> int:
        """copy_to_user: 0 or -EFAULT."""
        return self.access(dom).write(dom.baseptr, va, data)

    def translate(self, dom: Domain, va: int, *, write: bool = False) -> int | None:
        """The machine address behind a guest virtual address, if mapped (for that access)."""
        return self.access(dom).translate(dom.baseptr, va, write=write)

    def pfn_of_va(self, dom: Domain, va: int) -> Pfn | None:
        """The pseudo-physical frame a guest virtual address maps, if any."""
        ma = self.translate(dom, va)
        if ma is None:
            return None
        pfn = self.m2p(ma >> 12)
        return Pfn(pfn) if pfn != INVALID_MFN else None

    # -- entry points -------------------------------------------------------------------------

    def hypercall_entry(self, host: object) -> None:
        """``int $0x82`` from the current domain: dispatch, set EAX, deliver events."""
        del host
        dom = self.current
        if dom is None:
            return
        h = self.host
        if h.cpl not in (1,) and not self._in_op:
            # Hypercalls from user space are refused (the gate is ring-1 only).
            self.exceptions[13] += 1
            traps.bounce_exception(self, dom, 13, HYPERCALL_VECTOR * 8 + 2, self.context())
            return
        self._ctx_changed = False
        nr = h.eax
        args = (h.ebx, h.ecx, h.edx, h.esi, h.edi)
        result = self.hypercall(dom, nr, args)
        if not self._ctx_changed:
            h.eax = result & 0xFFFFFFFF
            events.deliver_pending(self, dom)

    def hypercall(self, dom: Domain, nr: int, args: Sequence[int]) -> int:
        """Run hypercall ``nr`` of this release for ``dom``; the result (0 or -errno...)."""
        from pvops.backends.xen.models.hypercalls import table_for  # noqa: PLC0415 - cycle

        self.hypercalls[nr] += 1
        self.hypercalls_by_domain[dom.domid, nr] += 1
        handler = table_for(self.abi).get(nr)
        if handler is None:
            return -ENOSYS
        try:
            return handler(self, dom, args)
        except GuestFault:
            return -14  # EFAULT: a guest pointer faulted inside a handler

    def issue(self, cpu: object, nr: int, *args: int, jumped: bool = False) -> int:
        """A hypercall from a backend op: the same dispatch and counting as ``int $0x82``.

        The arguments go to the handler directly, not through the guest's
        registers: the op is the kernel's C code, whose caller keeps EBX,
        ESI, EDI and EBP across it, and whatever context runs next (the op's
        caller, an event handler bounced to, another domain saved here)
        must find them as they were.  ``jumped`` says the op was jumped to
        (iret), so there is no return address on the stack to resume at.
        """
        del cpu
        dom = self.current
        if dom is None:
            return -ENOSYS
        host = self.host
        eax = host.eax
        values = [a & 0xFFFFFFFF for a in args] + [0] * (5 - len(args))
        self._in_op = not jumped
        self._ctx_changed = False
        try:
            result = self.hypercall(dom, nr, values[:5])
            if not self._ctx_changed:
                host.eax = eax
                events.deliver_pending(self, dom)
        finally:
            self._in_op = False
        if self._ctx_changed:
            return 0
        result &= 0xFFFFFFFF
        return result - (1 << 32) if result & 0x80000000 else result

    def context(self) -> Interrupted:
        """The running guest context as a trap frame would hold it.

        Inside a backend op (at a gate, called by the kernel) the context to
        resume is the op's return: ``[esp]``, with the return address popped.
        """
        h = self.host
        eip, esp = h.eip, h.esp
        if self._in_op and self.current is not None:
            ret = self.read_guest(self.current, esp, 4)
            if isinstance(ret, bytes):
                eip, esp = struct.unpack("<I", ret)[0], (esp + 4) & 0xFFFFFFFF
        return Interrupted(eip, h.get_segment("cs")[0], h.eflags, esp, h.get_segment("ss")[0])

    def mark_context_changed(self) -> None:
        """The guest's registers were replaced (bounce, switch, iret): leave EAX alone."""
        self._ctx_changed = True

    def resume(self, ctx: Interrupted) -> None:
        """Return to ``ctx`` as iret would (after an exit through a gate)."""
        h = self.host
        h.set_segment("ss", ctx.ss)
        h.esp = ctx.esp
        h.eflags = (ctx.eflags | EFLAGS_IF) & ~(3 << 12 | 1 << 14 | 1 << 17)
        h.eip = ctx.eip
        h.set_segment("cs", ctx.cs)

    # Gate slots: the CPU delivered a vector through Xen's IDT onto Xen's stack.

    def _pop_frame(self, with_error: bool) -> tuple[int, Interrupted]:
        h = self.host
        esp = h.esp
        base = self.perdomain_page_va(STACK_PAGE)
        off = esp - base
        words = []
        for i in range(6 if with_error else 5):
            page = (off + 4 * i) >> 12
            ma = (self.stack_frames[page] << 12) + ((off + 4 * i) & 0xFFF)
            words.append(self.mem.u32(ma))
        err = words.pop(0) if with_error else 0
        eip, cs, eflags, usp, uss = words
        return err, Interrupted(eip, cs & 0xFFFF, eflags, usp, uss & 0xFFFF)

    def _exception_slot(self, vector: int) -> Callable[[Any], None]:
        with_error = vector in (8, 10, 11, 12, 13, 14, 17)

        def slot(host: object) -> None:
            del host
            err, ctx = self._pop_frame(with_error)
            self.on_exception(vector, err, ctx)

        slot.__qualname__ = f"xen_exception[{vector}]"
        return slot

    def _timer_slot(self, host: object) -> None:
        del host
        _, ctx = self._pop_frame(False)
        self.on_timer(ctx)

    def _int80_slot(self, host: object) -> None:
        del host
        _, ctx = self._pop_frame(False)
        dom = self.current
        if dom is None:
            return
        self.resume(ctx)
        traps.bounce_software_int(self, dom, 0x80, self.context())

    def on_exception(self, vector: int, error_code: int, ctx: Interrupted) -> None:
        """An exception in the current guest: Xen's own to fix, or bounced to the guest.

        Xen's own: a shadow fault of a translated domain (:mod:`.shadow`), or
        a selector load of a natively booted kernel that has not handed Xen
        a GDT yet (:mod:`.emulate`).  Either way the instruction is retried
        or stepped over and the guest never sees the exception.
        """
        dom = self.current
        if dom is None:
            self.exceptions[vector] += 1
            return
        self.resume(ctx)
        if (
            dom.shadow is not None
            and vector == traps.PAGE_FAULT
            and dom.shadow.fault(self.host.cr2, error_code)
        ):
            return
        if dom.native_boot and emulate.boot_fault(self, dom, vector, error_code):
            return
        self.exceptions[vector] += 1
        traps.handle_exception(self, dom, vector, error_code, self.context())

    def on_timer(self, ctx: Interrupted | None = None) -> None:
        """Xen's timer interrupt: time, VIRQ_TIMER, deadlines, a scheduling decision."""
        if ctx is not None and self.current is not None:
            self.resume(ctx)
        self._ctx_changed = False
        timer.tick(self)
        if self.current is not None and not self._ctx_changed:
            events.deliver_pending(self, self.current)
