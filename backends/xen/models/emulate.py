"""Privileged instructions Xen emulates for a guest kernel, and a natively booted kernel's PC.

X:850 A guest kernel runs in ring 1, where ``cli``, ``in``, ``mov %cr3``
and their like raise #GP.  For a PV kernel that is the end of it (the #GP
is bounced to its trap table, or crashes it).  Xen 3.0's
``emulate_privileged_op`` does more for a kernel whose I/O privilege
(``physdev_op(SET_IOPL)``) covers its ring: ``in``/``out`` and ``cli``/
``sti`` (the latter as the event mask).  The VMI builder (:mod:`.vmi`)
gives its domains that privilege over a PC of their own, and leans on this
module for the rest of what a kernel entered natively does before its VMI
ROM takes over (``backends/vmi/README.md``, contract items 4-5):

- ``lgdt``/``lidt``/``ltr``/``lldt``: recorded nowhere (Xen owns the
  tables; the ROM hands them over later);
- ``mov`` to and from ``cr0`` (a shadow: PG, WP and PE are Xen's), ``cr2``,
  ``cr3`` (translated: Xen switches to the shadow of the kernel's tables),
  ``cr4``; ``clts``, ``invlpg``, ``wbinvd``, ``hlt``;
- loads of the kernel's ring-0 selectors (``ljmp $0x08``, ``mov %ax,%ds``)
  before it has given Xen a GDT: the flat ring-1 selectors Xen entered it
  with stay (:func:`boot_fault`).

The PC behind the ports (:class:`VirtualPc`) is :mod:`pvops.platform.pc`'s,
one per domain, minus its timer line: the PIT's interrupt never reaches the
CPU, whose IDT is Xen's; time comes as VIRQ_TIMER, which the VMI ROM
injects at the kernel's timer vector.  Its UART is the domain's console.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pvops.backends.xen.models import events
from pvops.backends.xen.models.abi import SHUTDOWN_POWEROFF
from pvops.backends.xen.models.domain import Domain, RunState
from pvops.hw import CR0_PE, CR0_PG, CR0_TS, CR0_WP
from pvops.platform.pc import PcPlatform, PortHook

if TYPE_CHECKING:
    from pvops.backends.xen.models.hypervisor import Xen

CR0_ET = 1 << 4
REGS = ("eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi")
PREFIX_OPSIZE = 0x66
SEGMENT_FAULTS = frozenset({11, 12, 13})  # #NP, #SS, #GP with a selector as error code


class VirtualPc:
    """The PC devices of one natively booted domain, reached by emulated port I/O."""

    def __init__(self, clock: Callable[[], int]) -> None:
        self.hooks: dict[int, PortHook] = {}
        self.pc = PcPlatform(bus=self, clock=clock).attach()

    # The PortBus the PC attaches to: ports go to our table, the timer line nowhere.
    def set_port_hook(self, port: int, hook: PortHook | None, count: int = 1) -> None:
        """Claim ports for a device."""
        for p in range(port, port + count):
            if hook is None:
                self.hooks.pop(p, None)
            else:
                self.hooks[p] = hook

    def set_timer(self, period: int, vector: int = 0x20) -> None:
        """The PIT's output: not wired to the CPU (Xen's timer is)."""
        del period, vector

    def port_in(self, cpu: object, port: int, size: int) -> int:
        """``in``: the device's answer, or all ones where nothing answers."""
        hook = self.hooks.get(port)
        value = hook(cpu, port, size, None) if hook is not None else None
        return (1 << (8 * size)) - 1 if value is None else value

    def port_out(self, cpu: object, port: int, size: int, value: int) -> None:
        """``out``: to the device, or nowhere."""
        hook = self.hooks.get(port)
        if hook is not None:
            hook(cpu, port, size, value)

    @property
    def console(self) -> str:
        """What the kernel wrote to its UART."""
        return self.pc.console


def _code(host: Any, eip: int, n: int) -> bytes:
    return bytes(host.read_virt(eip, n))


def modrm_length(code: bytes, at: int) -> int:
    """Bytes of a ModRM byte and what follows it (SIB, displacement), 32-bit addressing."""
    modrm = code[at]
    mod, rm = modrm >> 6, modrm & 7
    n = 1
    if mod == 3:
        return n
    if rm == 4:
        n += 1
        if mod == 0 and code[at + 1] & 7 == 5:
            n += 4
    elif mod == 0 and rm == 5:
        n += 4
    return n + {0: 0, 1: 1, 2: 4}[mod]


def privileged(host: Any, eip: int, length: int, kind: str) -> bool:
    """The core's #GP hook: emulate ``kind`` for the running domain, or let #GP happen."""
    from pvops.backends.xen.models.hypervisor import xen_of  # noqa: PLC0415 - cycle

    xen = xen_of(host)
    dom = xen.current if xen is not None else None
    if xen is None or dom is None or not dom.alive or host.cpl == 3:
        return False
    handler = _HANDLERS.get(kind)
    if handler is None or not handler(xen, dom, eip, length):
        return False
    xen.emulated[kind] += 1
    return True


def _io_allowed(xen: Xen, dom: Domain) -> bool:
    return dom.iopl >= xen.host.cpl


def _port_io(xen: Xen, dom: Domain, eip: int, length: int) -> bool:
    if not _io_allowed(xen, dom):
        return False
    host = xen.host
    code = _code(host, eip, length)
    wide = PREFIX_OPSIZE in code[:-1]
    op = code[-1] if code[-1] in (0xEC, 0xED, 0xEE, 0xEF) else code[-2]
    port = host.edx & 0xFFFF if op in (0xEC, 0xED, 0xEE, 0xEF) else code[-1]
    size = 1 if op & 1 == 0 else (2 if wide else 4)
    pc = dom.platform
    if op in (0xE4, 0xE5, 0xEC, 0xED):
        value = pc.port_in(host, port, size) if pc is not None else (1 << (8 * size)) - 1
        mask = (1 << (8 * size)) - 1
        host.eax = (host.eax & ~mask & 0xFFFFFFFF) | (value & mask)
    elif pc is not None:
        pc.port_out(host, port, size, host.eax & ((1 << (8 * size)) - 1))
    return True


def _cli(xen: Xen, dom: Domain, eip: int, length: int) -> bool:
    del eip, length
    if not _io_allowed(xen, dom):
        return False
    events.set_upcall_mask(xen, dom, masked=True)
    return True


def _sti(xen: Xen, dom: Domain, eip: int, length: int) -> bool:
    if not _io_allowed(xen, dom):
        return False
    events.set_upcall_mask(xen, dom, masked=False)
    xen.host.eip = (eip + length) & 0xFFFFFFFF
    events.deliver_pending(xen, dom)  # an event waiting for the unmask comes now
    return True


def _hlt(xen: Xen, dom: Domain, eip: int, length: int) -> bool:
    xen.host.eip = (eip + length) & 0xFFFFFFFF
    if events.upcall_mask(xen, dom):  # nothing can ever wake it
        xen.shutdown(dom, SHUTDOWN_POWEROFF)
    elif not events.upcall_pending(xen, dom):
        dom.state = RunState.BLOCKED
        xen.schedule()
    return True


def _boot_only(xen: Xen, dom: Domain, eip: int, length: int) -> bool:
    del xen, eip, length
    return dom.native_boot


def _cr0(xen: Xen, dom: Domain) -> int:
    return CR0_PE | CR0_PG | CR0_WP | CR0_ET | (CR0_TS if dom.fpu_ts else 0)


def _mov_cr(xen: Xen, dom: Domain, eip: int, length: int) -> bool:
    from pvops.backends.xen.models.hypercalls import mmuext  # noqa: PLC0415 - cycle

    host = xen.host
    code = _code(host, eip, length)
    at = code.index(0x0F) + 1
    write, modrm = code[at] == 0x22, code[at + 1]
    cr, reg = (modrm >> 3) & 7, REGS[modrm & 7]
    if not write:
        value = {0: _cr0(xen, dom), 2: dom.last_cr2, 4: 0}.get(cr)
        if cr == 3:
            shadow = dom.shadow
            base = shadow.guest_base if shadow is not None else dom.baseptr
            value = (base or 0) << 12
        if value is None:
            return False
        setattr(host, reg, value & 0xFFFFFFFF)
        return True
    value = getattr(host, reg)
    if cr == 0:
        dom.fpu_ts = bool(value & CR0_TS)
        host.cr0 = (host.cr0 | CR0_TS) if dom.fpu_ts else (host.cr0 & ~CR0_TS)
        return True
    if cr == 3:
        return mmuext(xen, dom, "new_baseptr", value >> 12, 0) == 0
    return cr == 4  # Xen owns cr4: ignored


def _clts(xen: Xen, dom: Domain, eip: int, length: int) -> bool:
    del eip, length
    dom.fpu_ts = False
    xen.host.cr0 = xen.host.cr0 & ~CR0_TS
    return True


def _invlpg(xen: Xen, dom: Domain, eip: int, length: int) -> bool:
    del dom, eip, length
    xen.flush_tlb()  # the whole TLB: more than asked, never less
    return True


def _nothing(xen: Xen, dom: Domain, eip: int, length: int) -> bool:
    del xen, dom, eip, length
    return True


_HANDLERS: dict[str, Callable[[Xen, Domain, int, int], bool]] = {
    "in": _port_io,
    "out": _port_io,
    "cli": _cli,
    "sti": _sti,
    "hlt": _hlt,
    "lgdt": _boot_only,
    "lidt": _boot_only,
    "ltr": _boot_only,
    "lldt": _boot_only,
    "mov_to_cr": _mov_cr,
    "mov_from_cr": _mov_cr,
    "clts": _clts,
    "invlpg": _invlpg,
    "wbinvd": _nothing,
}


def boot_fault(xen: Xen, dom: Domain, vector: int, error_code: int) -> bool:
    """A native kernel's own selectors before it gave Xen a GDT: keep Xen's flat ones.

    ``ljmp $sel, $target`` goes to the target in the current code segment;
    ``mov r/m, %sreg`` leaves the register as it is.  Anything else is the
    guest's fault.
    """
    if vector not in SEGMENT_FAULTS or dom.gdt_frames or not error_code & ~7:
        return False
    host = xen.host
    code = _code(host, host.eip, 16)
    at = 1 if code[0] == PREFIX_OPSIZE else 0
    if code[at] == 0xEA and at == 0:  # ljmp ptr16:32
        host.eip = int.from_bytes(code[1:5], "little")
    elif code[at] == 0x8E:  # mov r/m16, Sreg
        host.eip = (host.eip + at + 1 + modrm_length(code, at + 1)) & 0xFFFFFFFF
    else:
        return False
    xen.emulated["selector"] += 1
    return True


__all__ = ["VirtualPc", "boot_fault", "collections", "modrm_length", "privileged"]
