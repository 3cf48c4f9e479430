"""The xen backend's event callbacks: where Xen's upcall lands in a pvops kernel.

X:1450 Xen delivers every event the same way: it bounces to the callback
registered with ``set_callbacks``, with a frame like an interrupt's on the
kernel stack (eip, cs, eflags[, esp, ss]) and events masked.  Linux 2.6.23
has ``xen_hypervisor_callback`` in entry.S call ``xen_evtchn_do_upcall``,
which scans ``evtchn_pending_sel`` and the pending words, clears what it
handles and runs the bound irq's handler.  Here that code is the backend's,
on the host, reached through two extra gates the platform puts after the
ops (:func:`xen_hypervisor_callback`, :func:`xen_failsafe_callback`):

- the timer port becomes the kernel's own tick: the gate jumps to the
  handler the kernel registered for :data:`TIMER_VECTOR` (its IDT, handed
  to Xen by ``load_idt`` as a trap table), leaving Xen's frame where an
  interrupt gate would have left the CPU's, events still masked;
- anything else is acknowledged and dropped, and the gate returns from the
  event as ``iret`` does (the ``cpu.iret`` op: the mask from the frame's IF).

The kernel routes its tick to vector 0x20 on every platform
(``FIRST_EXTERNAL_VECTOR``), so that is where the timer goes; the Xen VMI
ROM makes the same choice (its ``timer_vector`` parameter).
"""

from __future__ import annotations

from pvops.backends.xen.cpu import xen_iret
from pvops.backends.xen.models.abi import NR_EVENT_CHANNELS, VIRQ_TIMER
from pvops.backends.xen.xen_ops import domain_of
from pvops.hw import Cpu

TIMER_VECTOR = 0x20
FAILSAFE_SEGMENTS = 16  # ds, es, fs, gs Xen left above the frame


def _pending_ports(cpu: Cpu) -> list[int]:
    """Acknowledge every pending, unmasked port (``xen_evtchn_do_upcall``'s scan)."""
    xen, dom = domain_of(cpu, "events.upcall")
    si = dom.shared_info_mfn << 12
    vi, sh = dom.kernel_abi.vcpu_info, dom.kernel_abi.shared_info
    xen.mem.write(si + vi.offset("evtchn_upcall_pending"), b"\0")
    sel_ma = si + vi.offset("evtchn_pending_sel")
    sel = xen.mem.u32(sel_ma)
    xen.mem.put_u32(sel_ma, 0)
    ports = []
    for word in range(NR_EVENT_CHANNELS // 32):
        if not sel >> word & 1:
            continue
        pend_ma = si + sh.offset("evtchn_pending") + 4 * word
        mask = xen.mem.u32(si + sh.offset("evtchn_mask") + 4 * word)
        pend = xen.mem.u32(pend_ma) & ~mask
        xen.mem.put_u32(pend_ma, xen.mem.u32(pend_ma) & ~pend)
        ports += [word * 32 + bit for bit in range(32) if pend >> bit & 1]
    return ports


def xen_hypervisor_callback(cpu: Cpu) -> None:
    """The event callback gate: the tick enters the kernel's timer vector, the rest returns."""
    _, dom = domain_of(cpu, "events.upcall")
    timer_port = dom.virq_port.get(VIRQ_TIMER)
    ticked = timer_port is not None and timer_port in _pending_ports(cpu)
    handler = dom.trap_table.get(TIMER_VECTOR)
    if ticked and handler is not None and handler.address:
        cpu.eip = handler.address
        return
    xen_iret(cpu)  # delivers whatever arrived meanwhile, as Xen's return path does


def xen_failsafe_callback(cpu: Cpu) -> None:
    """Xen could not reload the frame's segments: drop them and return with flat ones."""
    domain_of(cpu, "events.failsafe")
    cpu.esp = (cpu.esp + FAILSAFE_SEGMENTS) & 0xFFFFFFFF
    xen_iret(cpu)


__all__ = ["TIMER_VECTOR", "xen_failsafe_callback", "xen_hypervisor_callback"]
