"""Xen irq ops: interrupts masked through the vcpu_info upcall mask, no hypercall."""

from __future__ import annotations

from pvops.hw import Cpu
from pvops.pending import OpNotModeledError
from pvops.types import IrqFlags


def xen_init_IRQ(cpu: Cpu) -> None:  # noqa: N802 - Linux's name
    """Set up the interrupt controller."""
    raise OpNotModeledError("xen", "irq.init_IRQ", "the Xen hypervisor model")


def xen_save_fl(cpu: Cpu) -> IrqFlags:
    """Return the (virtual) EFLAGS."""
    raise OpNotModeledError("xen", "irq.save_fl", "the Xen hypervisor model")


def xen_restore_fl(cpu: Cpu, flags: IrqFlags) -> None:
    """Restore IF from save_fl."""
    raise OpNotModeledError("xen", "irq.restore_fl", "the Xen hypervisor model")


def xen_irq_disable(cpu: Cpu) -> None:
    """Mask interrupts."""
    raise OpNotModeledError("xen", "irq.irq_disable", "the Xen hypervisor model")


def xen_irq_enable(cpu: Cpu) -> None:
    """Unmask interrupts."""
    raise OpNotModeledError("xen", "irq.irq_enable", "the Xen hypervisor model")


def xen_safe_halt(cpu: Cpu) -> None:
    """Enable interrupts and halt, atomically."""
    raise OpNotModeledError("xen", "irq.safe_halt", "the Xen hypervisor model")


def xen_halt(cpu: Cpu) -> None:
    """Halt until an interrupt."""
    raise OpNotModeledError("xen", "irq.halt", "the Xen hypervisor model")
