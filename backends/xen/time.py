"""Xen time ops: the clock from vcpu_time_info and shared_info, the tick from an event channel."""

from __future__ import annotations

from pvops.hw import Cpu
from pvops.pending import OpNotModeledError


def xen_time_init(cpu: Cpu) -> None:
    """Start the periodic tick."""
    raise OpNotModeledError("xen", "time.time_init", "the Xen hypervisor model")


def xen_get_wallclock(cpu: Cpu) -> int:
    """Seconds since the epoch."""
    raise OpNotModeledError("xen", "time.get_wallclock", "the Xen hypervisor model")


def xen_set_wallclock(cpu: Cpu, seconds: int) -> int:
    """Set the platform clock; 0 or -errno."""
    raise OpNotModeledError("xen", "time.set_wallclock", "the Xen hypervisor model")


def xen_sched_clock(cpu: Cpu) -> int:
    """Monotonic nanoseconds for the scheduler."""
    raise OpNotModeledError("xen", "time.sched_clock", "the Xen hypervisor model")


def xen_cpu_khz(cpu: Cpu) -> int:
    """TSC frequency in kHz."""
    raise OpNotModeledError("xen", "time.get_cpu_khz", "the Xen hypervisor model")
