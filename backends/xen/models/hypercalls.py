"""Hypercalls: one handler per call, one dispatch table per ABI.

X:900 ``int $0x82`` with the number in EAX and up to five arguments in
EBX, ECX, EDX, ESI, EDI; the result comes back in EAX.  The same number
means different things in different releases (12 is ``dom_mem_op`` in 2.0
and ``memory_op`` in 3.0; 23 is ``switch_vm86`` until 3.0.2 makes it
``iret``), and the same call may take its arguments differently
(``set_timer_op``'s 64-bit deadline is hi/lo in 2.0 and lo/hi in 3.0;
``update_va_mapping`` takes a page number in 2.0 and an address plus a
64-bit PTE in 3.0; ``mmu_update`` entries are 8 bytes in 2.0 and 16 in
3.0; a multicall's result lands in ``args[5]`` in 2.0 and in ``result`` in
3.0).  :func:`table_for` builds each ABI's table from its numbers, so the
tables cannot disagree with :mod:`.abi`.  Numbers with no handler return
``-ENOSYS``, as Xen's ``do_ni_hypercall``.

Every guest pointer goes through :meth:`Xen.read_guest` /
:meth:`Xen.write_guest` (``copy_from_user``): a bad one gives ``-EFAULT``,
and pointers into the hypervisor's area are refused outright.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

from pvops.backends.xen.models import console, events, timer
from pvops.backends.xen.models.abi import (
    CONSOLEIO_READ,
    CONSOLEIO_WRITE,
    DOMID_SELF,
    EFAULT,
    EINVAL,
    ENOMEM,
    ENOSYS,
    EPERM,
    EVTCHNOP_BIND_IPI,
    EVTCHNOP_BIND_VIRQ,
    EVTCHNOP_CLOSE,
    EVTCHNOP_SEND,
    EVTCHNOP_UNMASK,
    PTE_PRESENT,
    PTE_PSE,
    SCHEDOP_BLOCK,
    SCHEDOP_SHUTDOWN,
    SCHEDOP_YIELD,
    VMASST_CMD_DISABLE,
    VMASST_CMD_ENABLE,
    VMASST_TYPE_MAX,
    XenAbi,
)
from pvops.backends.xen.models.domain import INVALID_MFN, Channel, Domain, RunState, TrapInfo
from pvops.backends.xen.models.mm import ABUSE_LIMIT, PageType
from pvops.hw import CR0_TS, EFLAGS_IF
from pvops.types import Mfn

if TYPE_CHECKING:
    from pvops.backends.xen.models.hypervisor import Xen

Handler = Callable[["Xen", Domain, Sequence[int]], int]
EEXIST = 17
MAX_BATCH = 1 << 16  # entries per mmu_update / mmuext_op / multicall (Xen preempts instead)
MAX_TRAPS = 256
PHYSDEVOP_SET_IOPL = 6


def _fixup_rpl(sel: int) -> int:
    """``fixup_guest_*_selector``: a guest selector with RPL 0 gets RPL 1."""
    sel &= 0xFFFF
    return sel | 1 if sel & 3 == 0 and sel & 0xFFFC else sel


def _abuse(xen: Xen, dom: Domain, rc: int) -> int:
    """Count a refused privileged update; crash a domain that keeps trying (model policy)."""
    if rc == -EINVAL:
        dom.violations += 1
        if dom.violations >= ABUSE_LIMIT and dom.alive:
            xen.crash(dom, f"{dom.violations} refused page-table/descriptor updates")
    return rc


# -- descriptors (check_descriptor) --------------------------------------------------------


def check_descriptor(xen: Xen, lo: int, hi: int) -> tuple[int, int] | None:
    """A guest descriptor made safe, or None if Xen refuses it.

    Not present: harmless.  Code/data: DPL 0 becomes 1 (3.0) or is refused
    (2.0); the segment must not reach the hypervisor's area (the limit is
    truncated, as Xen does).  System descriptors (call gates, TSS, LDT)
    are refused: a guest must never name ring 0.
    """
    if not hi & (1 << 15):
        return lo, hi
    if not hi & (1 << 12):
        return None  # system descriptor
    dpl = (hi >> 13) & 3
    if dpl == 0:
        if xen.abi.major < 3:
            return None
        hi |= 1 << 13
    if hi & (1 << 11) == 0 and hi & (1 << 10):
        return None  # expand-down data: not modeled, refused
    base = ((hi & 0xFF000000) | ((hi & 0xFF) << 16) | (lo >> 16)) & 0xFFFFFFFF
    top = xen.guest_segment_limit + 1
    if base >= top - 4096:
        return None
    limit = ((hi & 0xF0000) | (lo & 0xFFFF)) + 1
    gran = bool(hi & (1 << 23))
    if gran:
        limit <<= 12
    if base + limit > top:
        limit = top - base
        if gran:
            limit >>= 12
        limit -= 1
        lo = (lo & ~0xFFFF) | (limit & 0xFFFF)
        hi = (hi & ~0xF0000) | (limit & 0xF0000)
    return lo & 0xFFFFFFFF, hi & 0xFFFFFFFF


def _validate_desc_frame(xen: Xen, mfn: int, entries: int) -> bool:
    for i in range(min(entries, 512)):
        ma = (mfn << 12) + 8 * i
        lo, hi = xen.mem.u32(ma), xen.mem.u32(ma + 4)
        fixed = check_descriptor(xen, lo, hi)
        if fixed is None:
            return False
        if fixed != (lo, hi):
            xen.mem.write(ma, struct.pack("<II", *fixed))
    return True


def _acquire_desc_frames(xen: Xen, dom: Domain, mfns: list[int], entries: int) -> bool:
    taken: list[int] = []
    for i, mfn in enumerate(mfns):
        count = min(512, entries - 512 * i)
        if not xen.frames.owned_by(mfn, dom.domid):
            break
        fi = xen.frames.info[mfn]
        if fi.type_count and fi.type != PageType.SEG_DESC:
            break
        if not fi.type_count and not _validate_desc_frame(xen, mfn, count):
            break
        if not xen.frames.get_type(dom.domid, mfn, PageType.SEG_DESC):
            break
        taken.append(mfn)
    else:
        return True
    for mfn in taken:
        xen.frames.put_type(mfn)
    return False


# -- 0 set_trap_table, 2 set_gdt, 3 stack_switch, 4 set_callbacks, 5 fpu_taskswitch ------


def do_set_trap_table(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """Register trap handlers: 8-byte trap_info entries up to one with address 0."""
    ptr = args[0]
    if ptr == 0:
        dom.trap_table.clear()
        xen.set_int80(dom) if dom is xen.current else None
        return 0
    for i in range(MAX_TRAPS):
        raw = xen.read_guest(dom, ptr + 8 * i, 8)
        if isinstance(raw, int):
            return raw
        vector, flags, cs, address = struct.unpack("<BBHI", raw)
        if address == 0:
            break
        dom.trap_table[vector] = TrapInfo(vector, flags, _fixup_rpl(cs), address)
    if dom is xen.current:
        xen.set_int80(dom)
    return 0


def do_set_gdt(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """Install the guest's GDT frames (2.0: entries <= 256; 3.0: <= 7168)."""
    frame_list, entries = args[0], args[1]
    if entries > xen.abi.selectors.first_reserved_entry:
        return -EINVAL
    nr = (entries + 511) // 512
    raw = xen.read_guest(dom, frame_list, 4 * nr) if nr else b""
    if isinstance(raw, int):
        return raw
    mfns = list(struct.unpack(f"<{nr}I", raw))
    if dom.shadow is not None:  # translated: the guest names its own frames
        mfns = [m if m is not None else -1 for m in map(dom.shadow.mfn, mfns)]
    if not _acquire_desc_frames(xen, dom, mfns, entries):
        return _abuse(xen, dom, -EINVAL)
    if dom.shadow is not None:
        dom.shadow.protect(set(mfns))
    for old in dom.gdt_frames:
        xen.frames.put_type(old)
    dom.gdt_frames = [Mfn(m) for m in mfns]
    dom.gdt_entries = entries
    if xen.abi.major < 3 and mfns:
        # 2.0 keeps its reserved entries (256-295) in the guest's own first GDT page.
        first = xen.abi.selectors.first_reserved_entry * 8
        xen.mem.write((mfns[0] << 12) + first, xen.reserved_descriptors())
    if dom is xen.current:
        xen.map_gdt_frames(dom)
    return 0


def do_update_descriptor(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """Write one descriptor in a page the domain owns (2.0: pa,w1,w2; 3.0: ma64, desc64)."""
    if xen.abi.major >= 3:
        ma, lo, hi = args[0] | args[1] << 32, args[2], args[3]
    else:
        ma, lo, hi = args[0], args[1], args[2]
    if dom.shadow is not None:  # translated: a guest-physical address
        mfn = dom.shadow.mfn(ma >> 12)
        ma = -1 if mfn is None else (mfn << 12) | (ma & 0xFFF)
    mfn = ma >> 12
    if ma & 7 or not xen.frames.owned_by(mfn, dom.domid):
        return _abuse(xen, dom, -EINVAL)
    fi = xen.frames.info[mfn]
    if fi.type_count and fi.type not in (PageType.SEG_DESC, PageType.WRITABLE):
        return _abuse(xen, dom, -EINVAL)
    fixed = check_descriptor(xen, lo, hi)
    if fixed is None:
        return _abuse(xen, dom, -EINVAL)
    if xen.abi.major < 3 and mfn in dom.gdt_frames[:1]:
        index = (ma & 0xFFF) >> 3
        first = xen.abi.selectors.first_reserved_entry
        if first <= index < first + xen.abi.selectors.reserved_entries:
            return _abuse(xen, dom, -EINVAL)
    xen.mem.write(ma, struct.pack("<II", *fixed))
    return 0


def do_stack_switch(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """The kernel stack Xen switches to on a trap from ring 3 (TSS ss1:esp1)."""
    ss, esp = args[0] & 0xFFFF, args[1]
    if xen.abi.major < 3 and ss & 3 == 0:
        return -EPERM
    ss = _fixup_rpl(ss)
    dom.kernel_ss, dom.kernel_sp = ss, esp
    if dom is xen.current:
        xen.set_ring1_stack(ss, esp)
    return 0


def do_set_callbacks(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """Event and failsafe callbacks (cs, eip) x 2."""
    del xen
    dom.event_callback = (_fixup_rpl(args[0]), args[1])
    dom.failsafe_callback = (_fixup_rpl(args[2]), args[3])
    return 0


def do_fpu_taskswitch(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """Set CR0.TS (2.0: always; 3.0: if the argument is non-zero, else clear it)."""
    on = True if xen.abi.major < 3 else bool(args[0])
    dom.fpu_ts = on
    if dom is xen.current:
        xen.host.cr0 = (xen.host.cr0 | CR0_TS) if on else (xen.host.cr0 & ~CR0_TS)
    return 0


# -- 1 mmu_update, 26 mmuext_op, 14 update_va_mapping ---------------------------------------


def _flush(xen: Xen, dom: Domain, va: int | None = None) -> None:
    if dom is xen.current:
        xen.flush_tlb(va)


def mmuext(xen: Xen, dom: Domain, cmd: str, arg1: int, arg2: int) -> int:
    """One extended MMU command (2.0 through mmu_update, 3.0 through mmuext_op)."""
    domid = dom.domid
    if dom.shadow is not None:  # translated: Xen keeps the real tables
        if cmd in ("pin_l1_table", "pin_l2_table", "unpin_table"):
            return 0
        if cmd == "new_baseptr":
            return _abuse(xen, dom, dom.shadow.set_base(arg1))
    if cmd in ("pin_l1_table", "pin_l2_table"):
        kind = PageType.L1 if cmd == "pin_l1_table" else PageType.L2
        return _abuse(xen, dom, xen.frames.pin(domid, arg1, kind))
    if cmd == "unpin_table":
        return _abuse(xen, dom, xen.frames.unpin(domid, arg1))
    if cmd == "new_baseptr":
        if not xen.frames.get_type(domid, arg1, PageType.L2):
            return _abuse(xen, dom, -EINVAL)
        old, dom.baseptr = dom.baseptr, Mfn(arg1)
        xen.frames.put_type(old)
        if dom is xen.current:
            xen.host.cr3 = arg1 << 12
        return 0
    if cmd in ("tlb_flush", "tlb_flush_local", "tlb_flush_multi", "tlb_flush_all"):
        _flush(xen, dom)
        return 0
    if cmd in ("invlpg", "invlpg_local", "invlpg_multi", "invlpg_all"):
        _flush(xen, dom, arg1 & ~0xFFF)
        return 0
    if cmd == "flush_cache":
        return 0
    if cmd == "set_ldt":
        return set_ldt(xen, dom, arg1, arg2)
    return _abuse(xen, dom, -EINVAL)  # pin_l3/l4 on i386, foreign domains, page transfers


def set_ldt(xen: Xen, dom: Domain, base: int, entries: int) -> int:
    """MMUEXT_SET_LDT: the LDT's frames become descriptor pages, checked like the GDT's."""
    if entries > 8192 or base & 0xFFF or base + entries * 8 > xen.abi.virt_start:
        return _abuse(xen, dom, -EINVAL)
    mfns: list[int] = []
    for page in range((entries * 8 + 4095) // 4096):
        ma = xen.translate(dom, base + page * 4096)
        if ma is None:
            return -EFAULT
        mfns.append(ma >> 12)
    if not _acquire_desc_frames(xen, dom, mfns, entries):
        return _abuse(xen, dom, -EINVAL)
    for old in dom.ldt_frames:
        xen.frames.put_type(old)
    dom.ldt_frames = [Mfn(m) for m in mfns]
    dom.ldt_base, dom.ldt_entries = base, entries
    if dom is xen.current:
        xen.load_ldt(dom)
    return 0


def _entry_before(xen: Xen, dom: Domain, ptr: int) -> int:
    """The entry an update is about to replace (0 if it is not in the domain's memory)."""
    if ptr >> 32:
        return 0
    if dom.shadow is not None:
        mfn = dom.shadow.mfn(ptr >> 12)
        return 0 if mfn is None else xen.mem.u32((mfn << 12) + (ptr & 0xFFC))
    return xen.mem.u32(ptr & ~3) if xen.frames.owned_by(ptr >> 12, dom.domid) else 0


def _flush_entry(xen: Xen, dom: Domain, ptr: int) -> None:
    """The what-if auto-flush: invalidate what the changed entry mapped in the live tables.

    The table holding the entry is found in the current directory (the guest's
    own, in guest frames, for a translated domain); each directory slot that
    points at it maps the entry's page at ``slot << 22 | index << 12``.  A
    changed directory entry may have mapped 4 MiB: everything is flushed.
    """
    if dom is not xen.current:
        return  # its next cr3 load flushes whatever it left behind
    table, index = ptr >> 12, (ptr & 0xFFF) >> 2
    if dom.shadow is not None:
        base = dom.shadow.guest_base
        directory = None if base is None else dom.shadow.mfn(base)
        here = base
    else:
        directory, here = dom.baseptr, dom.baseptr
    if directory is None:
        return
    if table == here:
        _flush(xen, dom)
        return
    words = xen.mem.frame_words(directory)
    for slot in range(xen.hv_slot):
        pde = words[slot]
        if pde & PTE_PRESENT and not pde & PTE_PSE and pde >> 12 == table:
            _flush(xen, dom, slot << 22 | index << 12)


def do_mmu_update(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """A batch of page-table updates, m2p updates and (2.0) extended commands."""
    abi = xen.abi
    req, count, done_ptr = args[0], args[1], args[2]
    if abi.major >= 3 and args[3] not in (0, DOMID_SELF, dom.domid):
        return -EPERM  # foreign page tables: dom0's business
    if count > MAX_BATCH:
        return -EINVAL
    size = abi.mmu_update.size
    rc, done = 0, 0
    for i in range(count):
        raw = xen.read_guest(dom, req + size * i, size)
        if isinstance(raw, int):
            rc = raw
            break
        ptr, val = abi.mmu_update.unpack(raw, "ptr"), abi.mmu_update.unpack(raw, "val")
        cmd = ptr & 3
        old = _entry_before(xen, dom, ptr) if abi.auto_flush and cmd == 0 else 0
        if cmd == 0 and dom.shadow is not None:  # translated: ptr is guest-physical
            rc = dom.shadow.guest_update(ptr, val) if ptr >> 32 == 0 else -EINVAL
            dom.mmu_entries += rc == 0
        elif cmd == 0:
            rc = xen.frames.update_entry(dom.domid, ptr & ~3, val) if ptr >> 32 == 0 else -EINVAL
            if rc == 0 and val >> 32:
                rc = -EINVAL  # non-PAE: no high PTE bits
            dom.mmu_entries += rc == 0
        elif cmd == abi.mmu_machphys_update:
            mfn = ptr >> 12
            rc = 0 if xen.frames.owned_by(mfn, dom.domid) and dom.shadow is None else -EINVAL
            if rc == 0:
                xen.set_m2p(mfn, val & 0xFFFFFFFF)
        elif cmd == abi.mmu_extended_command:
            name = {v: k for k, v in abi.mmuext.items()}.get(val & 0xFF)
            if name is None:
                rc = -EINVAL
            elif name == "invlpg":
                # The linear address rides in ptr (2.6.9 queue_invlpg; 2.0 __flush_tlb_one(ptr)).
                rc = mmuext(xen, dom, name, ptr & ~0xFFF, 0)
            elif name == "set_ldt":
                rc = mmuext(xen, dom, name, ptr & ~3, (val >> 8) & 0xFFFFFF)
            else:
                rc = mmuext(xen, dom, name, ptr >> 12, 0)
        else:
            rc = -EINVAL
        if cmd == 0 and rc == 0 and old & PTE_PRESENT and old != val:
            _flush_entry(xen, dom, ptr)
        if rc:
            rc = _abuse(xen, dom, rc)
            break
        done += 1
    if done_ptr and xen.write_guest(dom, done_ptr, struct.pack("<I", done)):
        return -EFAULT
    return rc


def do_mmuext_op(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """3.0: a batch of 12-byte ``struct mmuext_op``."""
    ops, count, done_ptr, foreign = args[0], args[1], args[2], args[3]
    if foreign not in (0, DOMID_SELF, dom.domid):
        return -EPERM
    if count > MAX_BATCH:
        return -EINVAL
    names = {v: k for k, v in xen.abi.mmuext.items()}
    rc, done = 0, 0
    for i in range(count):
        raw = xen.read_guest(dom, ops + 12 * i, 12)
        if isinstance(raw, int):
            rc = raw
            break
        cmd, arg1, arg2 = struct.unpack("<III", raw)
        name = names.get(cmd)
        rc = mmuext(xen, dom, name, arg1, arg2) if name else _abuse(xen, dom, -EINVAL)
        if rc:
            break
        done += 1
    if done_ptr and xen.write_guest(dom, done_ptr, struct.pack("<I", done)):
        return -EFAULT
    return rc


def do_update_va_mapping(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """Write the PTE mapping one address in the current tables, then maybe flush."""
    abi = xen.abi
    if abi.major >= 3:
        va, pte, hi, flags = args[0], args[1], args[2], args[3]
        if hi:
            return _abuse(xen, dom, -EINVAL)
    else:
        va, pte, flags = (args[0] << 12) & 0xFFFFFFFF, args[1], args[2]
    if va >= abi.virt_start:
        return _abuse(xen, dom, -EINVAL)
    if dom.shadow is not None:  # translated: the guest's own entry, then its shadow
        walk = dom.shadow.guest_walk(va)
        if walk is None:
            return _abuse(xen, dom, -EINVAL)
        gpa = (walk[0] & ~0xFFF) + ((va >> 12) & 1023) * 4
        rc = dom.shadow.guest_update(gpa, pte)
        if rc:
            return _abuse(xen, dom, rc)
        dom.mmu_entries += 1
        _uvm_flush(xen, dom, va, flags)
        return 0
    pde = xen.mem.u32((dom.baseptr << 12) + (va >> 22) * 4)
    l1 = pde >> 12
    if not pde & 1 or l1 >= xen.frames.nframes or xen.frames.info[l1].type != PageType.L1:
        return _abuse(xen, dom, -EINVAL)
    rc = xen.frames.update_entry(dom.domid, (l1 << 12) + ((va >> 12) & 1023) * 4, pte)
    if rc:
        return _abuse(xen, dom, rc)
    dom.mmu_entries += 1
    _uvm_flush(xen, dom, va, flags)
    return 0


def _uvm_flush(xen: Xen, dom: Domain, va: int, flags: int) -> None:
    kind = flags & 3
    if kind == xen.abi.uvmf_flush:
        _flush(xen, dom)
    elif kind == xen.abi.uvmf_invlpg:
        _flush(xen, dom, va & ~0xFFF)


# -- 6/29 sched_op, 15 set_timer_op, 23 iret ------------------------------------------------


def _sched(xen: Xen, dom: Domain, cmd: int, reason: int) -> int:
    if cmd == SCHEDOP_YIELD:
        xen.host.eax = 0
        xen.schedule(yield_=True)
        return 0
    if cmd == SCHEDOP_BLOCK:
        # do_block: enable event delivery, then sleep unless something is pending.
        events.set_upcall_mask(xen, dom, masked=False)
        xen.host.eax = 0
        if events.upcall_pending(xen, dom):
            return 0
        dom.state = RunState.BLOCKED
        xen.schedule()
        return 0
    if cmd == SCHEDOP_SHUTDOWN:
        xen.shutdown(dom, reason)
        return 0
    return -ENOSYS


def do_sched_op_2_0(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """2.0: one argument, ``cmd | reason << 8``."""
    return _sched(xen, dom, args[0] & 0xFF, (args[0] >> 8) & 0xFF)


def do_sched_op_compat(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """3.0.0 sched_op / 3.0.2 sched_op_compat: ``(cmd, arg)``, the reason in arg."""
    return _sched(xen, dom, args[0], args[1])


def do_sched_op_new(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """3.0.2 sched_op (29): ``(cmd, void *arg)``; shutdown reads ``struct sched_shutdown``."""
    reason = 0
    if args[0] == SCHEDOP_SHUTDOWN:
        raw = xen.read_guest(dom, args[1], 4)
        if isinstance(raw, int):
            return raw
        reason = struct.unpack("<I", raw)[0]
    return _sched(xen, dom, args[0], reason)


def do_set_timer_op(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """A one-shot deadline in system time: 2.0 passes (hi, lo), 3.0 (lo, hi)."""
    hi, lo = (args[0], args[1]) if xen.abi.set_timer_hi_first else (args[1], args[0])
    deadline = hi << 32 | lo
    timer.set_deadline(xen, dom, deadline)
    return 0


def do_iret(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """3.0.2: pop {eax, eip, cs, eflags, [esp, ss]} from the guest stack; IF -> upcall mask."""
    del args
    host = xen.host
    esp = host.esp
    raw = xen.read_guest(dom, esp, 24)
    if isinstance(raw, int):
        raw = xen.read_guest(dom, esp, 16)
        if isinstance(raw, int):
            xen.crash(dom, f"iret: bad frame at {esp:#x}")
            return 0
        raw += bytes(8)
    eax, eip, cs, eflags, user_esp, user_ss = struct.unpack("<6I", raw)
    cs &= 0xFFFF
    if cs & 3 == 0:
        xen.crash(dom, "iret to ring 0")
        return 0
    esp += 16
    if cs & 3 != 1:
        esp = user_esp
    try:
        if cs & 3 != 1:
            host.set_segment("ss", user_ss & 0xFFFF)
        host.set_segment("cs", cs)
    except Exception:
        xen.crash(dom, f"iret: bad selectors {cs:#x}/{user_ss:#x}")
        return 0
    host.eip, host.esp, host.eax = eip, esp & 0xFFFFFFFF, eax
    host.eflags = (eflags & ~(3 << 12)) | EFLAGS_IF
    events.set_upcall_mask(xen, dom, masked=not eflags & EFLAGS_IF)
    xen.mark_context_changed()
    events.deliver_pending(xen, dom)
    return 0


# -- 13 multicall --------------------------------------------------------------------------


def do_multicall(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """Run a batch of calls; each result goes to the entry's result slot for this ABI."""
    layout = xen.abi.multicall
    calls, nr = args[0], args[1]
    if nr > MAX_BATCH:
        return -EINVAL
    nargs = (layout.size - layout.offset("args")) // 4
    if layout.offset("result") > layout.offset("args"):
        nargs = 5  # 2.0: args[5] is the result slot
    for i in range(nr):
        base = calls + layout.size * i
        raw = xen.read_guest(dom, base, layout.size)
        if isinstance(raw, int):
            return raw
        op = layout.unpack(raw, "op")
        off = layout.offset("args")
        call_args = list(struct.unpack_from(f"<{nargs}I", raw, off))
        call_args += [0] * (5 - len(call_args))
        if op == xen.abi.number("multicall"):
            result = -EINVAL  # no nesting
        else:
            result = xen.hypercall(dom, op, call_args[:5])
        if xen.context_changed() or not dom.alive:
            return 0
        err = xen.write_guest(
            dom, base + layout.offset("result"), struct.pack("<I", result & 0xFFFFFFFF)
        )
        if err:
            return err
    return 0


# -- 16 event_channel_op, 17 xen_version, 18 console_io, 21 vm_assist ------------------------


def do_event_channel_op(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """EVTCHNOP_*: bind_virq (port at +8 in 2.0, +12 in 3.0), bind_ipi, close, send, unmask."""
    layout = xen.abi.evtchn_op
    raw = xen.read_guest(dom, args[0], layout.size)
    if isinstance(raw, int):
        return raw
    cmd = layout.unpack(raw, "cmd")
    if cmd == EVTCHNOP_BIND_VIRQ:
        virq = layout.unpack(raw, "virq")
        if virq >= xen.abi.nr_virqs:
            return -EINVAL
        if virq in dom.virq_port:
            return -EEXIST
        port = events.alloc_port(dom)
        if port is None:
            return -ENOMEM
        dom.channels[port] = Channel("virq", virq=virq)
        dom.virq_port[virq] = port
        return xen.write_guest(dom, args[0] + layout.offset("virq_port"), struct.pack("<I", port))
    if cmd == EVTCHNOP_BIND_IPI:
        port = events.alloc_port(dom)
        if port is None:
            return -ENOMEM
        dom.channels[port] = Channel("ipi")
        off = 8 if xen.abi.major >= 3 else 4
        return xen.write_guest(dom, args[0] + off, struct.pack("<I", port))
    port = layout.unpack(raw, "port")
    if not 0 < port < len(dom.channels) or dom.channels[port].kind == "free":
        return -EINVAL
    chan = dom.channels[port]
    if cmd == EVTCHNOP_CLOSE:
        if chan.virq is not None:
            dom.virq_port.pop(chan.virq, None)
        dom.channels[port] = Channel()
        return 0
    if cmd == EVTCHNOP_SEND:
        if chan.kind != "ipi":
            return -EINVAL
        events.set_pending(xen, dom, port)
        return 0
    if cmd == EVTCHNOP_UNMASK and xen.abi.major >= 3:
        events.unmask(xen, dom, port)
        return 0
    return -ENOSYS  # interdomain channels, pirqs and status are not modeled


def do_xen_version(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """2.0: ``(cmd)``, only 0; 3.0: ``(cmd, arg)``, XENVER 0-5."""
    ver = xen.version
    cmd = args[0]
    if cmd == 0:
        return ver.major << 16 | ver.minor
    if xen.abi.major < 3:
        return -ENOSYS
    strings = {
        1: (ver.extraversion.encode(), 16),
        3: (b"xen-3.0-x86_32", 1024),
        4: (b"unavailable", 64),
    }
    if cmd in strings:
        text, size = strings[cmd]
        return xen.write_guest(dom, args[1], text.ljust(size, b"\0"))
    if cmd == 2:
        return xen.write_guest(dom, args[1], bytes(64 + 16 + 32 + 32))
    if cmd == 5:
        return xen.write_guest(dom, args[1], struct.pack("<I", xen.abi.virt_start))
    return -ENOSYS


def do_console_io(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """CONSOLEIO_write (the model is a verbose build: every domain may write)."""
    cmd, count, buf = args[0], args[1], args[2]
    if cmd == CONSOLEIO_WRITE:
        if count > console.MAX_WRITE:
            return -EINVAL
        raw = xen.read_guest(dom, buf, count)
        if isinstance(raw, int):
            return raw
        console.write(dom, raw)
        return 0
    if cmd == CONSOLEIO_READ:
        return 0
    return -EINVAL


def do_vm_assist(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """Enable or disable an assist (types 0-2); the model records them."""
    del xen
    cmd, kind = args[0], args[1]
    if kind > VMASST_TYPE_MAX:
        return -EINVAL
    if cmd == VMASST_CMD_ENABLE:
        dom.vm_assist |= 1 << kind
    elif cmd == VMASST_CMD_DISABLE:
        dom.vm_assist &= ~(1 << kind)
    else:
        return -ENOSYS
    return 0


# -- 8/9 debug registers, 11 set_fast_trap ------------------------------------------------


def do_set_debugreg(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """DR0-3 must point below the hypervisor; DR6/7 are kept; 4/5 do not exist."""
    reg, value = args[0], args[1]
    if reg <= 3:
        if value >= xen.abi.virt_start - 4:
            return -EPERM
    elif reg not in (6, 7):
        return -EINVAL
    dom.debugregs[reg] = value
    return 0


def do_get_debugreg(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """The value last set."""
    del xen
    reg = args[0]
    return dom.debugregs[reg] if 0 <= reg <= 7 else -EINVAL


def do_set_fast_trap(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """2.0: put trap_table[0x80] straight into the IDT (never an event-masking gate)."""
    idx = args[0]
    if idx not in (0, 0x80):
        return -EPERM
    ti = dom.trap_table.get(0x80)
    if idx == 0x80 and (ti is None or ti.flags & 4):
        return -EPERM
    dom.fast_trap = idx or None
    if dom is xen.current:
        xen.set_int80(dom)
    return 0


# -- 12 dom_mem_op (2.0) / memory_op (3.0) ------------------------------------------------


def _reservation(xen: Xen, dom: Domain, op: int, extents: int, nr: int, order: int) -> int:
    if order != 0 or nr > MAX_BATCH:
        return -EINVAL
    if dom.shadow is not None:
        return -EPERM  # a translated domain's memory is the builder's: no ballooning here
    done = 0
    for i in range(nr):
        if op == 0:  # increase
            if len(dom.extra_frames) + dom.nr_pages >= dom.max_pages + 256:
                break
            mfn = xen.alloc_domain_frame(dom)
            if mfn is None or xen.write_guest(dom, extents + 4 * i, struct.pack("<I", mfn)):
                break
            dom.extra_frames.append(mfn)
        else:  # decrease
            raw = xen.read_guest(dom, extents + 4 * i, 4)
            if isinstance(raw, int):
                break
            mfn = struct.unpack("<I", raw)[0]
            if mfn == dom.shared_info_mfn or not xen.frames.owned_by(mfn, dom.domid):
                break
            if not xen.frames.release(Mfn(mfn)):
                break
            xen.set_m2p(mfn, INVALID_MFN)
        done += 1
    return done


def do_dom_mem_op(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """2.0: ``(op, extent_list, nr_extents, extent_order, domid)``; returns extents done."""
    op, extents, nr, order, domid = args[:5]
    if domid not in (DOMID_SELF, dom.domid) or op > 1:
        return -EINVAL if op > 1 else -EPERM
    return _reservation(xen, dom, op, extents, nr, order)


def do_memory_op(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """3.0: ``(cmd, void *arg)``; XENMEM_increase/decrease_reservation, sizes."""
    cmd, arg = args[0], args[1]
    if cmd in (0, 1):
        raw = xen.read_guest(dom, arg, 20)
        if isinstance(raw, int):
            return raw
        extents, nr, order, _bits, domid = struct.unpack("<IIIIH", raw[:18])
        if domid not in (DOMID_SELF, dom.domid):
            return -EPERM
        return _reservation(xen, dom, cmd, extents, nr, order)
    if cmd == 2:
        return xen.frames.nframes - 1
    if cmd in (3, 4):
        raw = xen.read_guest(dom, arg, 2)
        if isinstance(raw, int):
            return raw
        if struct.unpack("<H", raw)[0] not in (DOMID_SELF, dom.domid):
            return -EPERM
        return dom.nr_pages + len(dom.extra_frames) if cmd == 3 else dom.max_pages
    return -ENOSYS


def do_physdev_op(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """``physdev_op(&op)``: only PHYSDEVOP_SET_IOPL, the I/O privilege Xen then emulates.

    ``struct physdev_op {u32 cmd; union {struct {u32 iopl;} set_iopl; ...}}``;
    SET_IOPL is 6 in 3.0.x's ``physdev.h`` (2.0.2's taken to be the same, as
    the VMI README says).  In/out, cli and sti from a kernel whose IOPL
    covers its ring are emulated (:mod:`.emulate`); a domain without
    devices of its own just reads all ones.
    """
    raw = xen.read_guest(dom, args[0], 8)
    if isinstance(raw, int):
        return raw
    cmd, value = struct.unpack("<II", raw)
    if cmd != PHYSDEVOP_SET_IOPL:
        return -ENOSYS  # pirqs, PCI config space: dom0's business
    if value > 3:
        return -EINVAL
    dom.iopl = value
    return 0


def do_dom0_op(xen: Xen, dom: Domain, args: Sequence[int]) -> int:
    """Control operations: the modeled domains are all unprivileged."""
    del xen, dom, args
    return -EPERM


# -- the tables ----------------------------------------------------------------------------

_BY_NAME: dict[str, Handler] = {
    "set_trap_table": do_set_trap_table,
    "mmu_update": do_mmu_update,
    "set_gdt": do_set_gdt,
    "stack_switch": do_stack_switch,
    "set_callbacks": do_set_callbacks,
    "fpu_taskswitch": do_fpu_taskswitch,
    "sched_op_compat": do_sched_op_compat,
    "dom0_op": do_dom0_op,
    "physdev_op": do_physdev_op,
    "set_debugreg": do_set_debugreg,
    "get_debugreg": do_get_debugreg,
    "update_descriptor": do_update_descriptor,
    "set_fast_trap": do_set_fast_trap,
    "dom_mem_op": do_dom_mem_op,
    "memory_op": do_memory_op,
    "multicall": do_multicall,
    "update_va_mapping": do_update_va_mapping,
    "set_timer_op": do_set_timer_op,
    "event_channel_op": do_event_channel_op,
    "xen_version": do_xen_version,
    "console_io": do_console_io,
    "vm_assist": do_vm_assist,
    "mmuext_op": do_mmuext_op,
    "iret": do_iret,
}


_TABLES: dict[str, Mapping[int, Handler]] = {}


def table_for(abi: XenAbi) -> Mapping[int, Handler]:
    """Number -> handler for ``abi`` (unlisted numbers: -ENOSYS)."""
    if abi.name in _TABLES:
        return _TABLES[abi.name]
    table: dict[int, Handler] = {}
    for name, nr in abi.hypercalls.items():
        if name == "sched_op":
            handler: Handler | None = (
                do_sched_op_2_0
                if abi.major < 3
                else do_sched_op_new
                if "sched_op_compat" in abi.hypercalls
                else do_sched_op_compat
            )
        else:
            handler = _BY_NAME.get(name)
        if handler is not None:
            table[nr] = handler
    _TABLES[abi.name] = MappingProxyType(table)
    return _TABLES[abi.name]


__all__ = ["EFAULT", "check_descriptor", "table_for"]
