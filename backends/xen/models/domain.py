"""A domain: its frames, its p2m, its virtual CPU, and how the builder sets it up.

X:400 The domain builder (``xc_linux_build.c`` / ``construct_dom0``) lays the
bootstrap region out from VIRT_BASE, in this order: the kernel, the
pseudo-physical-to-machine table (``mfn_list``), start_info, (3.0) the
xenstore and console pages, the initial page tables, one page of boot
stack; the whole region is mapped, rounded up to 4 MiB with at least
512 KiB to spare.  Every page is mapped writable except the page tables
themselves, which are mapped read-only and pinned as an L2: from then on
the type rules of :mod:`.mm` hold.  The vCPU starts in ring 1 on the
version's FLAT_RING1 selectors, ESP at the top of the boot stack, ESI
pointing at start_info and event delivery masked.

Frames are handed out from the top of machine memory down, as Xen's heap
allocator does, so a guest's pfn is never its mfn: a kernel that forgets
to translate (writes a pfn into a page table) fails for the real reason.
"""

from __future__ import annotations

import enum
import struct
from typing import Any

import attrs

from pvops.backends.xen.models.abi import (
    PTE_ACCESSED,
    PTE_DIRTY,
    PTE_PRESENT,
    PTE_RW,
    PTE_USER,
    XenAbi,
)
from pvops.backends.xen.models.host import SegName
from pvops.backends.xen.models.loader import GuestInfo
from pvops.hw import EFLAGS_FIXED, EFLAGS_IF
from pvops.image import GuestImage
from pvops.types import PAGE_SIZE, Mfn, Pfn

L1_PROT = PTE_PRESENT | PTE_RW | PTE_ACCESSED | PTE_USER
L2_PROT = PTE_PRESENT | PTE_RW | PTE_ACCESSED | PTE_DIRTY | PTE_USER
INVALID_MFN = 0xFFFFFFFF
MB4 = 1 << 22

REGS = ("eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip", "eflags")
SEGS: tuple[SegName, ...] = ("cs", "ss", "ds", "es", "fs", "gs")


class RunState(enum.Enum):
    """Where a domain's vCPU is."""

    RUNNABLE = "runnable"
    BLOCKED = "blocked"
    SHUTDOWN = "shutdown"
    CRASHED = "crashed"


@attrs.define
class TrapInfo:
    """One ``trap_info_t`` the guest registered."""

    vector: int
    flags: int
    cs: int
    address: int


@attrs.define
class VcpuContext:
    """A descheduled vCPU's registers (the core has no save/restore call)."""

    regs: dict[str, int] = attrs.field(factory=dict)
    segs: dict[str, tuple[int, int, int, int, int]] = attrs.field(factory=dict)
    cr2: int = 0


def ring1_entry(abi: XenAbi, **regs: int) -> VcpuContext:
    """A first vCPU context: ``regs`` (others zero), events on in EFLAGS, the flat ring-1 selectors.

    Events are masked in vcpu_info, not by EFLAGS.IF, which a guest kernel
    never clears under Xen.
    """
    sel = abi.selectors
    values = dict.fromkeys(REGS, 0) | {"eflags": EFLAGS_FIXED | EFLAGS_IF} | regs
    segs = dict.fromkeys(("ss", "ds", "es", "fs", "gs"), (sel.ring1_ds, 0, 0, 0, 0))
    return VcpuContext(regs=values, segs={"cs": (sel.ring1_cs, 0, 0, 0, 0), **segs})


@attrs.define
class Channel:
    """One event-channel port."""

    kind: str = "free"  # free, virq, ipi, unbound, interdomain
    virq: int | None = None
    remote: tuple[int, int] | None = None  # (domid, port)


@attrs.define(eq=False)
class Domain:
    """One guest: memory, the virtual CPU's state, and what it registered with Xen."""

    domid: int
    abi: XenAbi
    p2m: list[Mfn]
    shared_info_mfn: Mfn
    perdomain_mfn: Mfn  # the L1 that maps this domain's GDT window and Xen's pages
    name: str = ""
    state: RunState = RunState.RUNNABLE
    crash_reason: str | None = None
    shutdown_reason: int | None = None
    baseptr: Mfn = Mfn(0)  # the current page directory (cr3)
    pt_base: Mfn = Mfn(0)
    start_info_va: int = 0
    hypercall_page_va: int | None = None
    trap_table: dict[int, TrapInfo] = attrs.field(factory=dict)
    fast_trap: int | None = None  # 2.0 set_fast_trap vector
    event_callback: tuple[int, int] = (0, 0)  # (cs, eip)
    failsafe_callback: tuple[int, int] = (0, 0)
    kernel_ss: int = 0
    kernel_sp: int = 0
    gdt_frames: list[Mfn] = attrs.field(factory=list)
    gdt_entries: int = 0
    ldt_frames: list[Mfn] = attrs.field(factory=list)
    ldt_base: int = 0
    ldt_entries: int = 0
    vm_assist: int = 0
    fpu_ts: bool = False
    debugregs: list[int] = attrs.field(factory=lambda: [0] * 8)
    channels: list[Channel] = attrs.field(factory=list)
    virq_port: dict[int, int] = attrs.field(factory=dict)
    timer_deadline: int | None = None  # system time, ns
    console: bytearray = attrs.field(factory=bytearray)
    violations: int = 0
    saved: VcpuContext | None = None
    max_pages: int = 0
    extra_frames: list[Mfn] = attrs.field(factory=list)  # frames given beyond the p2m
    virt_base: int = 0xC0000000  # where pfn 0 is mapped (the kernel's PAGE_OFFSET)
    last_cr2: int = 0  # the last page-fault address bounced (2.0 keeps it nowhere else)
    symbols: dict[str, int] = attrs.field(factory=dict)  # the kernel's, for callbacks
    upcalls: int = 0  # event callbacks bounced into the guest
    # Pages the host half of a pvops kernel's xen backend keeps in the domain
    # (its gates, its GDT copy), by name -> kernel virtual address.
    backend_pages: dict[str, int] = attrs.field(factory=dict)
    # The interface that host half was compiled against (its layouts), when
    # it is not the hypervisor's: a kernel built for one layout keeps reading
    # it whatever the hypervisor writes.  None: the hypervisor's own.
    backend_abi: XenAbi | None = None
    # A domain the VMI builder made (X:450): entered natively, memory translated
    # by Xen's shadows, its PC's ports emulated.
    native_boot: bool = False
    shadow: Any = None  # .shadow.ShadowPager of a translated domain
    platform: Any = None  # .emulate.VirtualPc: the PC devices a native kernel drives
    iopl: int = 0  # the I/O privilege Xen emulates for the kernel (physdev_op SET_IOPL)
    mmu_entries: int = 0  # page-table entries written after validation

    @property
    def kernel_abi(self) -> XenAbi:
        """The ABI the pvops kernel's xen backend reads this domain's shared pages with."""
        return self.backend_abi or self.abi

    @property
    def nr_pages(self) -> int:
        """Pages of pseudo-physical memory."""
        return len(self.p2m)

    @property
    def alive(self) -> bool:
        """Not shut down or crashed."""
        return self.state in (RunState.RUNNABLE, RunState.BLOCKED)

    def mfn(self, pfn: Pfn) -> Mfn | None:
        """``pfn_to_mfn``, or None outside the domain's memory."""
        if 0 <= pfn < len(self.p2m):
            return self.p2m[pfn]
        return None

    def vcpu_info_ma(self) -> int:
        """Machine address of vCPU 0's vcpu_info (at the start of shared_info)."""
        return self.shared_info_mfn << 12

    def crash(self, reason: str) -> None:
        """``domain_crash``: the first reason sticks (lguest's ``kill_guest``)."""
        if self.crash_reason is None:
            self.crash_reason = reason
        self.state = RunState.CRASHED


@attrs.frozen
class BootLayout:
    """Where the builder put things, in the domain's virtual address space."""

    v_start: int
    v_kernend: int
    vphysmap: int
    vstartinfo: int
    vstore: int | None
    vconsole: int | None
    vpt_start: int
    nr_pt_pages: int
    vstack_end: int
    v_end: int

    def pfn(self, va: int) -> Pfn:
        """The pfn of a bootstrap virtual address (pfn 0 at VIRT_BASE)."""
        return Pfn((va - self.v_start) >> 12)


def _round_up(x: int, to: int) -> int:
    return (x + to - 1) & ~(to - 1)


def plan_layout(image: GuestImage, info: GuestInfo, abi: XenAbi, nr_pages: int) -> BootLayout:
    """The builder's virtual layout of the bootstrap region.

    Raises:
        ValueError: the domain's memory cannot hold the bootstrap region.
    """
    v_start = info.virt_base
    v_kernend = _round_up(max(s.vaddr + s.memsz for s in image.segments), PAGE_SIZE)
    vphysmap = v_kernend
    vstartinfo = _round_up(vphysmap + nr_pages * 4, PAGE_SIZE)
    nxt = vstartinfo + PAGE_SIZE
    vstore = vconsole = None
    if abi.major >= 3:
        vstore, vconsole = nxt, nxt + PAGE_SIZE
        nxt += 2 * PAGE_SIZE
    vpt_start = nxt
    nr_pt_pages = 2
    while True:
        vstack_end = vpt_start + (nr_pt_pages + 1) * PAGE_SIZE
        v_end = _round_up(vstack_end, MB4)
        if v_end - vstack_end < (512 << 10):
            v_end += MB4
        v_end = min(v_end, v_start + nr_pages * PAGE_SIZE)
        need = 1 + (_round_up(v_end, MB4) - (v_start & ~(MB4 - 1))) // MB4
        if need <= nr_pt_pages:
            break
        nr_pt_pages = need
    if vstack_end > v_start + nr_pages * PAGE_SIZE or v_end > abi.virt_start:
        msg = (
            f"insufficient memory: the bootstrap region needs "
            f"{(vstack_end - v_start) >> 10} KiB, the domain has {nr_pages * 4} KiB"
        )
        raise ValueError(msg)
    return BootLayout(
        v_start,
        v_kernend,
        vphysmap,
        vstartinfo,
        vstore,
        vconsole,
        vpt_start,
        nr_pt_pages,
        vstack_end,
        v_end,
    )


def build_page_tables(layout: BootLayout, p2m: list[Mfn]) -> dict[Mfn, bytes]:
    """The initial L2 and L1 frames (machine frame -> contents) mapping the bootstrap region."""
    l2_pfn = layout.pfn(layout.vpt_start)
    l2 = [0] * 1024
    l1s: dict[int, list[int]] = {}
    next_pt = l2_pfn + 1
    pt_pfns = range(l2_pfn, l2_pfn + layout.nr_pt_pages)
    for va in range(layout.v_start, layout.v_end, PAGE_SIZE):
        slot = va >> 22
        if slot not in l1s:
            l1s[slot] = [0] * 1024
            l2[slot] = (p2m[next_pt] << 12) | L2_PROT
            next_pt += 1
        pfn = layout.pfn(va)
        prot = L1_PROT & ~PTE_RW if pfn in pt_pfns else L1_PROT
        l1s[slot][(va >> 12) & 1023] = (p2m[pfn] << 12) | prot
    out = {p2m[l2_pfn]: struct.pack("<1024I", *l2)}
    for slot, l1 in l1s.items():
        out[Mfn(l2[slot] >> 12)] = struct.pack("<1024I", *l1)
    return out
