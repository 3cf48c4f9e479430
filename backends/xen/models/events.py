"""Event channels: pending and mask bits in shared_info, delivered by upcall.

X:500 Xen's only interrupt is the event: a bit per port in
``shared_info.evtchn_pending``, a mask bit per port in ``evtchn_mask``, a
selector bit per word in the vCPU's ``evtchn_pending_sel`` and one byte,
``evtchn_upcall_pending``, that the guest polls.  Raising one
(``evtchn_set_pending``) sets the port bit; if the port is not masked it
sets the selector bit and ``upcall_pending``, and wakes a blocked vCPU.

Delivery is Xen's ``test_all_events`` on every return to the guest: if
``upcall_pending`` is set and ``evtchn_upcall_mask`` is clear, bounce to
the callback registered with ``set_callbacks`` with a frame like an
interrupt's, and set the mask (the guest's "cli").  The mask byte is the
whole of the guest's interrupt flag: the irq ops write it with no
hypercall (Linux 2.6.23 ``xen_irq_disable``).

All of it lives at the offsets of the domain's ABI, in guest-visible
memory: a 2.0 kernel looking for ``evtchn_pending`` at 260 on a 3.0
hypervisor (which keeps it at 2048) reads vcpu_info bytes instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pvops.backends.xen.models.abi import NR_EVENT_CHANNELS, XenAbi
from pvops.backends.xen.models.domain import Domain

if TYPE_CHECKING:
    from pvops.backends.xen.models.hypervisor import Xen


def _si(dom: Domain) -> int:
    return dom.shared_info_mfn << 12


def _vi(dom: Domain, field: str, abi: XenAbi | None = None) -> int:
    return _si(dom) + (abi or dom.abi).vcpu_info.offset(field)


# The three vcpu_info accessors take the layout to read with: the
# hypervisor's own by default, the kernel's when a pvops backend (guest code
# running on the host) reads them (``Domain.kernel_abi``).


def upcall_mask(xen: Xen, dom: Domain, abi: XenAbi | None = None) -> bool:
    """vCPU 0's ``evtchn_upcall_mask`` (the guest's virtual "interrupts off")."""
    return xen.mem.read(_vi(dom, "evtchn_upcall_mask", abi), 1) != b"\0"


def set_upcall_mask(xen: Xen, dom: Domain, masked: bool, abi: XenAbi | None = None) -> None:
    """Write ``evtchn_upcall_mask``."""
    xen.mem.write(_vi(dom, "evtchn_upcall_mask", abi), b"\1" if masked else b"\0")


def upcall_pending(xen: Xen, dom: Domain, abi: XenAbi | None = None) -> bool:
    """vCPU 0's ``evtchn_upcall_pending``."""
    return xen.mem.read(_vi(dom, "evtchn_upcall_pending", abi), 1) != b"\0"


def _bit(xen: Xen, dom: Domain, array: str, port: int) -> tuple[int, int, int]:
    ma = _si(dom) + dom.abi.shared_info.offset(array) + (port >> 5) * 4
    return ma, xen.mem.u32(ma), 1 << (port & 31)


def is_pending(xen: Xen, dom: Domain, port: int) -> bool:
    """Whether ``port``'s pending bit is set."""
    _, word, bit = _bit(xen, dom, "evtchn_pending", port)
    return bool(word & bit)


def is_masked(xen: Xen, dom: Domain, port: int) -> bool:
    """Whether ``port``'s mask bit is set."""
    _, word, bit = _bit(xen, dom, "evtchn_mask", port)
    return bool(word & bit)


def _mark_selector(xen: Xen, dom: Domain, port: int) -> None:
    sel_ma = _vi(dom, "evtchn_pending_sel")
    sel = xen.mem.u32(sel_ma)
    if not sel & (1 << (port >> 5)):
        xen.mem.put_u32(sel_ma, sel | 1 << (port >> 5))
        xen.mem.write(_vi(dom, "evtchn_upcall_pending"), b"\1")
        xen.wake(dom)


def set_pending(xen: Xen, dom: Domain, port: int) -> None:
    """``evtchn_set_pending``."""
    if not 0 <= port < NR_EVENT_CHANNELS or not dom.alive:
        return
    ma, word, bit = _bit(xen, dom, "evtchn_pending", port)
    if word & bit:
        return
    xen.mem.put_u32(ma, word | bit)
    if not is_masked(xen, dom, port):
        _mark_selector(xen, dom, port)


def unmask(xen: Xen, dom: Domain, port: int) -> None:
    """EVTCHNOP_unmask: clear the mask bit and catch up on a pending event."""
    ma, word, bit = _bit(xen, dom, "evtchn_mask", port)
    xen.mem.put_u32(ma, word & ~bit)
    if is_pending(xen, dom, port):
        _mark_selector(xen, dom, port)


def send_virq(xen: Xen, dom: Domain, virq: int) -> None:
    """``send_guest_virq``: raise the port bound to ``virq``, if any."""
    port = dom.virq_port.get(virq)
    if port is not None:
        set_pending(xen, dom, port)


def alloc_port(dom: Domain) -> int | None:
    """The lowest free port (port 0 is reserved, as in Xen)."""
    for port in range(1, len(dom.channels)):
        if dom.channels[port].kind == "free":
            return port
    return None


def deliver_pending(xen: Xen, dom: Domain) -> bool:
    """``test_all_events``: bounce to the event callback if an upcall is due."""
    from pvops.backends.xen.models import traps  # noqa: PLC0415 - traps imports this module

    if dom is not xen.current or not dom.alive:
        return False
    if not upcall_pending(xen, dom) or upcall_mask(xen, dom):
        return False
    cs, eip = dom.event_callback
    if not cs & 0xFFFC or not eip:
        return False
    if not traps.bounce(xen, dom, cs, eip, xen.context(), interrupt=True):
        return False
    dom.upcalls += 1
    return True
