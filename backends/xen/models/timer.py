"""Time: system time from the TSC, vcpu_time_info / shared_info, VIRQ_TIMER.

X:700 Xen keeps *system time* (ns since boot) and publishes, per vCPU in
3.0 (``vcpu_time_info`` at vcpu_info + 32) or once in shared_info in 2.0,
a TSC stamp, the system time at that stamp and the scale to extrapolate,
under a version counter the guest re-reads around its copy.  The wall
clock is ``wc_sec`` + ``wc_nsec`` (3.0) or ``wc_usec`` (2.0) at system
time 0.

Ticks: every ``tick_ns`` Xen's per-CPU timer sends VIRQ_TIMER to the
current domain (``t_timer_fn`` in 2.0/3.0), and ``set_timer_op`` arms a
one-shot deadline per domain, which is how an idle guest sleeps.  On the
core the modeled CPU retires one instruction per cycle at
:data:`MODELED_HZ`, so time is the TSC.
"""

from __future__ import annotations

import calendar
from typing import TYPE_CHECKING

from pvops.backends.xen.models import events
from pvops.backends.xen.models.abi import VIRQ_TIMER
from pvops.backends.xen.models.domain import Domain, RunState
from pvops.platform.pc import MODELED_HZ, RTC_EPOCH

if TYPE_CHECKING:
    from pvops.backends.xen.models.hypervisor import Xen

__all__ = ["MODELED_HZ", "can_wake", "init_shared_info", "now_ns", "tick", "update_time"]

WALLCLOCK_EPOCH = calendar.timegm((*RTC_EPOCH, 0, 0, 0))
TSC_TO_SYSTEM_MUL = (10**9 << 32) // MODELED_HZ  # ns = (tsc * mul) >> 32, shift 0


def now_ns(xen: Xen) -> int:
    """System time: nanoseconds of the modeled clock."""
    return xen.host.rdtsc() * 10**9 // MODELED_HZ


def init_shared_info(xen: Xen, dom: Domain) -> None:
    """A fresh shared_info: events masked on vCPU 0, the clocks published."""
    xen.mem.write(dom.shared_info_mfn << 12, bytes(4096))
    events.set_upcall_mask(xen, dom, masked=True)
    if dom.abi.major < 3:
        base = dom.shared_info_mfn << 12
        layout = dom.abi.shared_info
        buf = bytearray(xen.mem.read(base, layout.size))
        layout.pack_into(buf, 0, n_vcpu=1, cpu_freq=MODELED_HZ)
        xen.mem.write(base, bytes(buf))
    update_time(xen, dom)


def update_time(xen: Xen, dom: Domain) -> None:
    """Publish (tsc, system time) and the wall clock in the domain's layout."""
    tsc = xen.host.rdtsc()
    system = tsc * 10**9 // MODELED_HZ
    base = dom.shared_info_mfn << 12
    if dom.abi.major >= 3:
        vi, si = dom.abi.vcpu_info, dom.abi.shared_info
        buf = bytearray(xen.mem.read(base, si.size))
        version = vi.unpack(bytes(buf), "time_version")
        vi.pack_into(
            buf,
            0,
            time_version=(version | 1) + 1,
            time_tsc_timestamp=tsc,
            time_system_time=system,
            time_tsc_to_system_mul=TSC_TO_SYSTEM_MUL,
            time_tsc_shift=0,
        )
        si.pack_into(buf, 0, wc_sec=WALLCLOCK_EPOCH, wc_nsec=0)
        wc = si.unpack(bytes(buf), "wc_version")
        si.pack_into(buf, 0, wc_version=(wc | 1) + 1)
    else:
        si = dom.abi.shared_info
        buf = bytearray(xen.mem.read(base, si.size))
        version = (si.unpack(bytes(buf), "time_version1") + 1) & 0xFFFFFFFF
        si.pack_into(
            buf,
            0,
            time_version1=version,
            tsc_timestamp=tsc,
            system_time=system,
            wc_sec=WALLCLOCK_EPOCH,
            wc_usec=0,
            domain_time=system,
            time_version2=version,
        )
    xen.mem.write(base, bytes(buf))


def can_wake(xen: Xen, dom: Domain) -> bool:
    """Whether a blocked domain can ever be woken by time (a deadline or the tick)."""
    del xen
    return dom.timer_deadline is not None or VIRQ_TIMER in dom.virq_port


def set_deadline(xen: Xen, dom: Domain, deadline: int) -> None:
    """``set_timer_op``: arm (or with 0 cancel) the one-shot timer; a past deadline fires now."""
    if deadline == 0:
        dom.timer_deadline = None
        return
    if deadline <= now_ns(xen):
        dom.timer_deadline = None
        events.send_virq(xen, dom, VIRQ_TIMER)
        return
    dom.timer_deadline = deadline


def tick(xen: Xen) -> None:
    """One timer interrupt: publish time, fire deadlines, tick the current domain, schedule."""
    now = now_ns(xen)
    for dom in xen.domains.values():
        if not dom.alive:
            continue
        update_time(xen, dom)
        if dom.timer_deadline is not None and now >= dom.timer_deadline:
            dom.timer_deadline = None
            events.send_virq(xen, dom, VIRQ_TIMER)
    cur = xen.current
    if cur is not None and cur.alive and now - xen.last_tick_ns >= xen.tick_ns // 2:
        events.send_virq(xen, cur, VIRQ_TIMER)
    xen.last_tick_ns = now
    if cur is None or cur.state != RunState.RUNNABLE:
        xen.schedule()
    elif len(xen.runnable()) > 1:
        xen.schedule(yield_=True)  # one tick is a time slice
