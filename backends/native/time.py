"""Native time ops: the PC's PIT, CMOS clock and TSC."""

from __future__ import annotations

import calendar

from pvops.abi import CMOS_DATA, CMOS_INDEX, HZ, PIT_CHANNEL0, PIT_COMMAND, PIT_HZ
from pvops.hw import Cpu

# cpuid leaf 0x16 reports the base frequency in MHz; a CPU without it is
# assumed to run at this rate (an assumption, stated).
FALLBACK_TSC_KHZ = 1_000_000
CPUID_FREQUENCY_LEAF = 0x16


def native_time_init(cpu: Cpu) -> None:
    """Program PIT channel 0 as a rate generator at HZ."""
    divisor = PIT_HZ // HZ
    cpu.port_out(PIT_COMMAND, 1, 0x34)  # channel 0, lobyte/hibyte, mode 2
    cpu.port_out(PIT_CHANNEL0, 1, divisor & 0xFF)
    cpu.port_out(PIT_CHANNEL0, 1, divisor >> 8)


def _bcd(value: int) -> int:
    return (value >> 4) * 10 + (value & 0x0F)


def _to_bcd(value: int) -> int:
    return ((value // 10) << 4) | (value % 10)


def _cmos_read(cpu: Cpu, reg: int) -> int:
    cpu.port_out(CMOS_INDEX, 1, reg)
    return cpu.port_in(CMOS_DATA, 1)


def native_get_wallclock(cpu: Cpu) -> int:
    """Read the MC146818 real-time clock (BCD, two-digit year from 2000)."""
    sec, minute, hour = (_bcd(_cmos_read(cpu, r)) for r in (0, 2, 4))
    day, month, year = (_bcd(_cmos_read(cpu, r)) for r in (7, 8, 9))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return 0  # no clock behind the ports
    return calendar.timegm((2000 + year, month, day, hour, minute, sec, 0, 0, 0))


def native_set_wallclock(cpu: Cpu, seconds: int) -> int:
    """Set the RTC's minutes and seconds, as Linux's set_rtc_mmss does."""
    if seconds < 0:
        return -22  # -EINVAL
    for reg, value in ((0, seconds % 60), (2, (seconds // 60) % 60)):
        cpu.port_out(CMOS_INDEX, 1, reg)
        cpu.port_out(CMOS_DATA, 1, _to_bcd(value))
    return 0


def native_get_cpu_khz(cpu: Cpu) -> int:
    """The TSC rate from cpuid leaf 0x16, or the stated fallback."""
    max_leaf = cpu.cpuid(0, 0)[0]
    if max_leaf >= CPUID_FREQUENCY_LEAF:
        mhz = cpu.cpuid(CPUID_FREQUENCY_LEAF, 0)[0] & 0xFFFF
        if mhz:
            return mhz * 1000
    return FALLBACK_TSC_KHZ


def native_sched_clock(cpu: Cpu) -> int:
    """Nanoseconds from the TSC."""
    return cpu.rdtsc() * 1_000_000 // native_get_cpu_khz(cpu)
