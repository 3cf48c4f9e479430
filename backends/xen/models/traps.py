"""The trap table and bounce frames: how exceptions and events reach the guest kernel.

X:800 The guest kernel cannot own the IDT; it hands Xen a *trap table*
(``set_trap_table``: vector, flags, cs, address) and Xen, on an exception
in the guest, builds the frame the CPU would have built on the guest
kernel's stack and jumps to the handler (``create_bounce_frame``):

- from ring 3 the frame goes on the kernel stack named by ``stack_switch``
  and includes the user ESP/SS; from ring 1 on the current stack;
- the frame is {[cr2,] [error code,] EIP, CS, EFLAGS, [ESP, SS]}.  3.0
  folds the saved upcall mask into CS bits 16-23 and shows it as
  EFLAGS.IF; 2.0 also pushes cr2 for a page fault (TBF_EXCEPTION_CR2),
  where 3.0 writes it to ``vcpu_info.arch.cr2`` instead;
- a trap_info with the IF flag (bit 2) masks events on entry, as an
  interrupt gate clears IF.

``int $0x80`` is the exception to the exit: when the guest's 0x80 entry
does not mask events (and, in 2.0, after ``set_fast_trap``), Xen writes a
real DPL-3 trap gate into the IDT and system calls reach the guest kernel
with no hypervisor involvement at all.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from pvops.backends.xen.models import events
from pvops.backends.xen.models.abi import TI_DPL_MASK, TI_IF
from pvops.backends.xen.models.domain import Domain, TrapInfo
from pvops.hw import EFLAGS_IF, EFLAGS_NT, EFLAGS_TF, GuestFault

if TYPE_CHECKING:
    from pvops.backends.xen.models.hypervisor import Interrupted, Xen

PAGE_FAULT = 14
ERROR_CODE_VECTORS = frozenset({8, 10, 11, 12, 13, 14, 17})
EFLAGS_VM = 1 << 17
EFLAGS_RF = 1 << 16


def guest_selector_ok(xen: Xen, sel: int) -> bool:
    """``guest_gate_selector_okay``: an LDT selector, a guest GDT entry, or a flat guest one."""
    s = xen.abi.selectors
    if not sel & 0xFFFC or sel & 3 == 0:
        return False
    if sel & 4:
        return True
    if (sel >> 3) < s.first_reserved_entry:
        return True
    return sel in (s.ring1_cs, s.ring3_cs)


def direct_int80(xen: Xen, dom: Domain) -> TrapInfo | None:
    """The 0x80 entry Xen may put straight into the IDT for ``dom``, if any."""
    ti = dom.trap_table.get(0x80)
    if ti is None or not ti.address or ti.flags & TI_IF or not guest_selector_ok(xen, ti.cs):
        return None
    if xen.abi.major < 3 and dom.fast_trap != 0x80:
        return None
    return ti


def bounce(
    xen: Xen,
    dom: Domain,
    cs: int,
    eip: int,
    ctx: Interrupted,
    *,
    error_code: int | None = None,
    cr2: int | None = None,
    interrupt: bool = False,
    mask_events: bool = False,
) -> bool:
    """``create_bounce_frame``: push the frame on the guest kernel stack, enter the handler.

    A frame that cannot be written (a bad kernel stack) crashes the domain,
    as Xen's fault fixup in ``create_bounce_frame`` does.
    """
    abi = dom.abi
    saved_mask = events.upcall_mask(xen, dom)
    if abi.major >= 3:
        frame_cs = (ctx.cs & 0xFFFF) | (int(saved_mask) << 16)
        frame_fl = (ctx.eflags & ~EFLAGS_IF) | (0 if saved_mask else EFLAGS_IF)
    else:
        frame_cs, frame_fl = ctx.cs & 0xFFFF, ctx.eflags
    words = [ctx.eip, frame_cs, frame_fl]
    if ctx.cs & 3 == 3:
        esp, ss = dom.kernel_sp, dom.kernel_ss
        words += [ctx.esp, ctx.ss]
    else:
        esp, ss = ctx.esp, ctx.ss
    if error_code is not None:
        words.insert(0, error_code & 0xFFFFFFFF)
    if cr2 is not None:
        words.insert(0, cr2 & 0xFFFFFFFF)
    esp = (esp - 4 * len(words)) & 0xFFFFFFFF
    if not ss & 3 or xen.write_guest(dom, esp, struct.pack(f"<{len(words)}I", *words)):
        xen.crash(dom, f"create_bounce_frame: bad kernel stack {ss:#x}:{esp:#x}")
        return False
    if not xen.code_selector_ok(dom, cs):
        xen.crash(dom, f"bounce to an invalid code selector {cs:#x}")
        return False
    host = xen.host
    try:
        host.set_segment("ss", ss)
        host.set_segment("cs", cs)
    except GuestFault:
        xen.crash(dom, f"bounce to an invalid selector {cs:#x}/{ss:#x}")
        return False
    host.esp = esp
    host.eip = eip
    host.eflags = (ctx.eflags | EFLAGS_IF) & ~(EFLAGS_TF | EFLAGS_NT | EFLAGS_VM | EFLAGS_RF)
    host.eflags = host.eflags & ~(3 << 12)
    if interrupt or mask_events:
        events.set_upcall_mask(xen, dom, masked=True)
    xen.mark_context_changed()
    return True


def bounce_exception(
    xen: Xen, dom: Domain, vector: int, error_code: int | None, ctx: Interrupted
) -> bool:
    """Bounce ``vector`` through the guest's trap table, or crash it if there is no handler."""
    ti = dom.trap_table.get(vector)
    if ti is None or not ti.address or not ti.cs & 0xFFFC:
        xen.crash(dom, f"no trap handler for vector {vector} at eip {ctx.eip:#x}")
        return False
    code = error_code if vector in ERROR_CODE_VECTORS else None
    return bounce(
        xen, dom, ti.cs, ti.address, ctx, error_code=code, mask_events=bool(ti.flags & TI_IF)
    )


def bounce_software_int(xen: Xen, dom: Domain, vector: int, ctx: Interrupted) -> bool:
    """``int $n`` the guest's trap table allows at the caller's privilege (ctx.eip after it)."""
    ti = dom.trap_table.get(vector)
    if ti is None or not ti.address or (ti.flags & TI_DPL_MASK) < (ctx.cs & 3):
        ctx.eip = (ctx.eip - 2) & 0xFFFFFFFF
        return bounce_exception(xen, dom, 13, vector * 8 + 2, ctx)
    return bounce(xen, dom, ti.cs, ti.address, ctx, mask_events=bool(ti.flags & TI_IF))


def handle_exception(xen: Xen, dom: Domain, vector: int, error_code: int, ctx: Interrupted) -> bool:
    """An exception taken in the guest: the version's way of passing it on."""
    if vector in (11, 13) and error_code & 3 == 2:
        # The IDT refused `int $n` (no gate, or DPL): Xen's #GP path
        # bounces to trap_table[n] if the guest allows it at that ring.
        ctx.eip = (ctx.eip + 2) & 0xFFFFFFFF
        return bounce_software_int(xen, dom, error_code >> 3, ctx)
    if vector == PAGE_FAULT:
        cr2 = xen.host.cr2
        dom.last_cr2 = cr2
        ti = dom.trap_table.get(PAGE_FAULT)
        if ti is None or not ti.address:
            xen.crash(dom, f"page fault at {cr2:#x} with no handler")
            return False
        if dom.abi.major >= 3:
            ma = (dom.shared_info_mfn << 12) + dom.abi.vcpu_info.offset("arch_cr2")
            xen.mem.put_u32(ma, cr2)
            return bounce(
                xen,
                dom,
                ti.cs,
                ti.address,
                ctx,
                error_code=error_code,
                mask_events=bool(ti.flags & TI_IF),
            )
        return bounce(
            xen,
            dom,
            ti.cs,
            ti.address,
            ctx,
            error_code=error_code,
            cr2=cr2,
            mask_events=bool(ti.flags & TI_IF),
        )
    return bounce_exception(xen, dom, vector, error_code, ctx)
