"""Xen time ops: the clock from vcpu_time_info and shared_info, the tick from an event channel.

X:1400 The guest reads time without a hypercall: (tsc, system time) and the
scale Xen published, extrapolated with the TSC the guest may read
(Linux 2.6.23 ``arch/i386/xen/time.c``: ``xen_clocksource_read``); 3.0
keeps them per vCPU in ``vcpu_time_info``, 2.0 once in shared_info.  The
wall clock is ``wc_sec`` plus system time.  The tick is VIRQ_TIMER bound to
an event channel; the domain cannot set the hardware clock.
"""

from __future__ import annotations

import struct

from pvops.backends.xen.models.abi import EVTCHNOP_BIND_VIRQ, VIRQ_TIMER
from pvops.backends.xen.xen_ops import domain_of, hypercall, stage
from pvops.hw import Cpu


def _time_record(cpu: Cpu, op: str) -> tuple[int, int, int, int]:
    """(tsc stamp, system time at it, mul, shift) as the domain's layout holds them."""
    xen, dom = domain_of(cpu, op)
    raw = xen.mem.read(dom.shared_info_mfn << 12, dom.kernel_abi.shared_info.size)
    if dom.kernel_abi.major >= 3:
        vi = dom.kernel_abi.vcpu_info
        return (
            vi.unpack(raw, "time_tsc_timestamp"),
            vi.unpack(raw, "time_system_time"),
            vi.unpack(raw, "time_tsc_to_system_mul"),
            vi.unpack(raw, "time_tsc_shift"),
        )
    si = dom.kernel_abi.shared_info
    freq = si.unpack(raw, "cpu_freq") or 1
    return si.unpack(raw, "tsc_timestamp"), si.unpack(raw, "system_time"), (10**9 << 32) // freq, 0


def xen_time_init(cpu: Cpu) -> None:
    """Bind VIRQ_TIMER to an event channel: the tick arrives as an event."""
    xen, dom = domain_of(cpu, "time.time_init")
    if VIRQ_TIMER in dom.virq_port:
        return
    op = struct.pack("<6I", EVTCHNOP_BIND_VIRQ, VIRQ_TIMER, 0, 0, 0, 0)
    hypercall(xen, cpu, "event_channel_op", stage(xen, dom, op))


def xen_get_wallclock(cpu: Cpu) -> int:
    """wc_sec plus system time, in seconds."""
    xen, dom = domain_of(cpu, "time.get_wallclock")
    raw = xen.mem.read(dom.shared_info_mfn << 12, dom.kernel_abi.shared_info.size)
    return dom.kernel_abi.shared_info.unpack(raw, "wc_sec") + xen_sched_clock(cpu) // 10**9


def xen_set_wallclock(cpu: Cpu, seconds: int) -> int:
    """An unprivileged domain cannot set the clock."""
    domain_of(cpu, "time.set_wallclock")
    del seconds
    return -1


def xen_sched_clock(cpu: Cpu) -> int:
    """System time now: the published stamp extrapolated with the TSC."""
    tsc_stamp, system, mul, shift = _time_record(cpu, "time.sched_clock")
    delta = (cpu.rdtsc() - tsc_stamp) & 0xFFFFFFFFFFFFFFFF
    delta = delta << shift if shift >= 0 else delta >> -shift
    return (system + ((delta * mul) >> 32)) & 0xFFFFFFFFFFFFFFFF


def xen_cpu_khz(cpu: Cpu) -> int:
    """The TSC frequency implied by the published scale."""
    _, _, mul, shift = _time_record(cpu, "time.get_cpu_khz")
    khz = (10**6 << 32) // max(mul, 1)
    return khz >> shift if shift >= 0 else khz << -shift
