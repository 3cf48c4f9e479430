"""Xen irq ops: interrupts masked through the vcpu_info upcall mask, no hypercall.

X:1100 The guest's interrupt flag is one byte, ``evtchn_upcall_mask`` in
vCPU 0's vcpu_info (Linux 2.6.23 ``arch/i386/xen/enlighten.c``): disabling
is a store, and so is enabling, followed by a check of
``evtchn_upcall_pending``: an event that arrived while masked is delivered
at once by making any hypercall (``force_evtchn_callback`` uses
``xen_version``), because Xen delivers pending events on its way back to
the guest.  Halting is ``sched_op(block)``, which also unmasks; halting
with events masked can never be woken, so it is the end of the domain
(2.6.23 ``xen_halt`` takes the vCPU down; the model's one vCPU per domain
makes that ``sched_op(shutdown, poweroff)``, as the Xen VMI ROM does).
"""

from __future__ import annotations

from pvops.backends.xen.models import events
from pvops.backends.xen.models.abi import SCHEDOP_BLOCK, SCHEDOP_SHUTDOWN, SHUTDOWN_POWEROFF
from pvops.backends.xen.xen_ops import domain_of, hypercall
from pvops.hw import EFLAGS_IF, Cpu
from pvops.types import IrqFlags


def _force_evtchn_callback(cpu: Cpu) -> None:
    xen, _ = domain_of(cpu, "irq")
    hypercall(xen, cpu, "xen_version", 0, 0)


def xen_init_IRQ(cpu: Cpu) -> None:  # noqa: N802 - Linux's name
    """No PIC to program: event channels are bound as devices ask (the timer in time_init)."""
    domain_of(cpu, "irq.init_IRQ")


def xen_save_fl(cpu: Cpu) -> IrqFlags:
    """IF is the inverse of the upcall mask."""
    xen, dom = domain_of(cpu, "irq.save_fl")
    return IrqFlags(0 if events.upcall_mask(xen, dom, dom.kernel_abi) else EFLAGS_IF)


def xen_restore_fl(cpu: Cpu, flags: IrqFlags) -> None:
    """Set the mask from IF; unmasking with an event pending delivers it now."""
    xen, dom = domain_of(cpu, "irq.restore_fl")
    enable = bool(flags & EFLAGS_IF)
    events.set_upcall_mask(xen, dom, masked=not enable, abi=dom.kernel_abi)
    if enable and events.upcall_pending(xen, dom, dom.kernel_abi):
        _force_evtchn_callback(cpu)


def xen_irq_disable(cpu: Cpu) -> None:
    """Mask event delivery (one store)."""
    xen, dom = domain_of(cpu, "irq.irq_disable")
    events.set_upcall_mask(xen, dom, masked=True, abi=dom.kernel_abi)


def xen_irq_enable(cpu: Cpu) -> None:
    """Unmask event delivery, and take a pending event now."""
    xen, dom = domain_of(cpu, "irq.irq_enable")
    events.set_upcall_mask(xen, dom, masked=False, abi=dom.kernel_abi)
    if events.upcall_pending(xen, dom, dom.kernel_abi):
        _force_evtchn_callback(cpu)


def _sched_op(cpu: Cpu, op: str, cmd: int, reason: int = 0) -> None:
    xen, _ = domain_of(cpu, op)
    if xen.abi.major < 3:
        hypercall(xen, cpu, "sched_op", cmd | reason << 8)
    else:
        name = "sched_op_compat" if xen.abi.number("sched_op_compat") else "sched_op"
        hypercall(xen, cpu, name, cmd, reason)


def _block(cpu: Cpu, op: str) -> None:
    _sched_op(cpu, op, SCHEDOP_BLOCK)


def xen_safe_halt(cpu: Cpu) -> None:
    """Block until an event (block unmasks events atomically, like sti; hlt)."""
    _block(cpu, "irq.safe_halt")


def xen_halt(cpu: Cpu) -> None:
    """Block until an event; with events masked nothing can come: power off."""
    xen, dom = domain_of(cpu, "irq.halt")
    if events.upcall_mask(xen, dom, dom.kernel_abi):
        _sched_op(cpu, "irq.halt", SCHEDOP_SHUTDOWN, SHUTDOWN_POWEROFF)
        return
    _block(cpu, "irq.halt")
