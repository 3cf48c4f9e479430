"""The bare-metal PC: the devices a native kernel programs directly.

Only what a small kernel of the 2006 era touches on a PC: the 16550 UART
at 0x3F8 as its console, the 8254 PIT as its tick, the 8259 pair that
routes the tick to a vector, the MC146818 CMOS clock, and port 0x80 for I/O
delays.  Each device answers port reads and writes through the core's
port hooks, so every access is a counted event, as it is a costly one on
real hardware.

Time: the modeled CPU retires one instruction per cycle at
:data:`MODELED_HZ` (the 3.8 GHz Pentium 4 of the cost model's figures), so
a PIT divisor becomes a timer period in retired instructions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import attrs

from pvops.abi import PIT_HZ

MODELED_HZ = 3_800_000_000

# The modeled clock reads this date at power-on: Rusty Russell's
# "[PATCH 3/4] x86 paravirt_ops: implementation", 2006-08-07.
RTC_EPOCH = (2006, 8, 7, 12, 0, 0)

PortHook = Callable[..., "int | None"]


class PortBus(Protocol):
    """What the platform needs from the core: port hooks and the interval timer."""

    def set_port_hook(self, port: int, hook: PortHook | None, count: int = 1) -> None: ...

    def set_timer(self, period: int, vector: int = 0x20) -> None: ...


class Device(Protocol):
    """A device on the I/O bus."""

    def port_in(self, port: int, size: int) -> int: ...

    def port_out(self, port: int, size: int, value: int) -> None: ...


UART_BASE = 0x3F8
UART_THR = 0  # transmit holding register (write)
UART_LSR = 5  # line status register
LSR_THR_EMPTY = 0x20
LSR_TX_IDLE = 0x40


@attrs.define
class Uart16550:
    """A 16550 that transmits instantly: what the kernel writes is the console."""

    output: bytearray = attrs.field(factory=bytearray)
    scratch: dict[int, int] = attrs.field(factory=dict)

    def port_in(self, port: int, size: int) -> int:
        """LSR says the transmitter is always ready; other registers read back."""
        del size
        reg = port - UART_BASE
        if reg == UART_LSR:
            return LSR_THR_EMPTY | LSR_TX_IDLE
        if reg == 2:  # IIR: no interrupt pending
            return 0x01
        return self.scratch.get(reg, 0)

    def port_out(self, port: int, size: int, value: int) -> None:
        """THR bytes go to the console; other registers are remembered."""
        del size
        reg = port - UART_BASE
        line_control = self.scratch.get(3, 0)
        if reg == UART_THR and not line_control & 0x80:  # DLAB clear: data
            self.output.append(value & 0xFF)
        else:
            self.scratch[reg] = value & 0xFF

    @property
    def text(self) -> str:
        """The console output so far."""
        return self.output.decode("latin-1")


PIC_MASTER = 0x20
PIC_SLAVE = 0xA0


@attrs.define
class Pic8259:
    """One 8259: the ICW1-4 initialisation sequence, the mask, EOIs."""

    vector_base: int = 0x08  # the BIOS default, before the kernel remaps
    mask: int = 0xFF
    _icw_step: int = 0  # 0: ready; 2..4: expecting ICW2..ICW4
    _needs_icw4: bool = False
    eois: int = 0

    def command(self, value: int) -> None:
        """A write to the command port: ICW1 starts initialisation; OCW2 0x20 is an EOI."""
        if value & 0x10:  # ICW1
            self._icw_step = 2
            self._needs_icw4 = bool(value & 0x01)
            self.mask = 0
        elif value & 0xE0 == 0x20:  # non-specific or specific EOI
            self.eois += 1

    def data(self, value: int) -> None:
        """A write to the data port: the next ICW, or the mask (OCW1)."""
        if self._icw_step == 2:
            self.vector_base = value & 0xF8
            self._icw_step = 3
        elif self._icw_step == 3:
            self._icw_step = 4 if self._needs_icw4 else 0
        elif self._icw_step == 4:
            self._icw_step = 0
        else:
            self.mask = value & 0xFF


@attrs.define
class Pit8254:
    """Channel 0 of the 8254, as the kernel's tick (modes 2 and 3, lobyte/hibyte)."""

    on_reload: Callable[[int], None]
    clock: Callable[[], int]  # retired instructions, for reading the counter back
    reload: int = 0
    _low: int | None = None
    _latched: int | None = None
    _latch_high_next: bool = False
    programmed_at: int = 0

    def period_instructions(self) -> int:
        """The tick period in retired instructions (0: not running)."""
        if not self.reload:
            return 0
        return max(1, self.reload * MODELED_HZ // PIT_HZ)

    def command(self, value: int) -> None:
        """Mode/command register: a counter latch, or a new mode for channel 0."""
        channel = value >> 6
        if channel != 0:
            return
        if value & 0x30 == 0:  # counter latch
            self._latched = self.current_count()
            self._latch_high_next = False
        else:
            self._low = None

    def write_counter(self, value: int) -> None:
        """Lobyte, then hibyte; the second write starts the counter."""
        if self._low is None:
            self._low = value & 0xFF
            return
        self.reload = (self._low | (value & 0xFF) << 8) or 0x10000
        self._low = None
        self.programmed_at = self.clock()
        self.on_reload(self.period_instructions())

    def current_count(self) -> int:
        """What the counter reads now: it counts down at PIT_HZ from the reload value."""
        if not self.reload:
            return 0
        elapsed = (self.clock() - self.programmed_at) * PIT_HZ // MODELED_HZ
        return self.reload - elapsed % self.reload

    def read_counter(self) -> int:
        """Read the latched (or live) count, low byte first."""
        count = self._latched if self._latched is not None else self.current_count()
        if self._latch_high_next:
            self._latched = None
            self._latch_high_next = False
            return (count >> 8) & 0xFF
        self._latch_high_next = True
        return count & 0xFF


def _bcd(value: int) -> int:
    return ((value // 10) << 4) | (value % 10)


@attrs.define
class CmosRtc:
    """The MC146818 behind ports 0x70/0x71: a clock that reads :data:`RTC_EPOCH`."""

    index: int = 0
    registers: dict[int, int] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        year, month, day, hour, minute, second = RTC_EPOCH
        self.registers.update({0: second, 2: minute, 4: hour, 7: day, 8: month, 9: year % 100})
        self.registers = {k: _bcd(v) for k, v in self.registers.items()}
        self.registers.update({0x0A: 0x26, 0x0B: 0x02})  # no update in progress; BCD, 24h

    def port_in(self, port: int, size: int) -> int:
        """Data port: the selected register."""
        del size
        return self.registers.get(self.index, 0) if port == 0x71 else 0xFF

    def port_out(self, port: int, size: int, value: int) -> None:
        """Index port selects (bit 7 is the NMI mask); data port writes."""
        del size
        if port == 0x70:
            self.index = value & 0x7F
        else:
            self.registers[self.index] = value & 0xFF


@attrs.define
class PcPlatform:
    """The PC around one CPU: console, tick, interrupt routing, clock."""

    bus: PortBus
    clock: Callable[[], int]
    uart: Uart16550 = attrs.field(factory=Uart16550)
    master: Pic8259 = attrs.field(factory=Pic8259)
    slave: Pic8259 = attrs.field(factory=lambda: Pic8259(vector_base=0x70))
    rtc: CmosRtc = attrs.field(factory=CmosRtc)
    pit: Pit8254 = attrs.field(init=False)
    io_delays: int = 0

    def __attrs_post_init__(self) -> None:
        self.pit = Pit8254(on_reload=lambda _period: self._route_timer(), clock=self.clock)

    def attach(self) -> PcPlatform:
        """Claim the platform's ports on the bus."""
        self.bus.set_port_hook(UART_BASE, self._uart, 8)
        self.bus.set_port_hook(PIC_MASTER, self._pic, 2)
        self.bus.set_port_hook(PIC_SLAVE, self._pic, 2)
        self.bus.set_port_hook(0x40, self._pit, 4)
        self.bus.set_port_hook(0x70, self._rtc, 2)
        self.bus.set_port_hook(0x80, self._delay)
        return self

    @property
    def console(self) -> str:
        """Everything the kernel printed."""
        return self.uart.text

    def _route_timer(self) -> None:
        """IRQ 0 reaches the CPU when the PIT runs and the master PIC leaves it unmasked."""
        period = self.pit.period_instructions()
        if period and not self.master.mask & 0x01:
            self.bus.set_timer(period, self.master.vector_base)
        else:
            self.bus.set_timer(0, self.master.vector_base)

    def _uart(self, cpu: object, port: int, size: int, value: int | None) -> int | None:
        del cpu
        if value is None:
            return self.uart.port_in(port, size)
        self.uart.port_out(port, size, value)
        return None

    def _pic(self, cpu: object, port: int, size: int, value: int | None) -> int | None:
        del cpu, size
        pic = self.master if port & 0xF0 == PIC_MASTER else self.slave
        if value is None:
            return pic.mask if port & 1 else 0
        if port & 1:
            pic.data(value)
        else:
            pic.command(value)
        self._route_timer()
        return None

    def _pit(self, cpu: object, port: int, size: int, value: int | None) -> int | None:
        del cpu, size
        if port == 0x43:
            if value is not None:
                self.pit.command(value)
            return None if value is not None else 0xFF
        if port != 0x40:
            return None if value is not None else 0xFF
        if value is None:
            return self.pit.read_counter()
        self.pit.write_counter(value)
        return None

    def _rtc(self, cpu: object, port: int, size: int, value: int | None) -> int | None:
        del cpu
        if value is None:
            return self.rtc.port_in(port, size)
        self.rtc.port_out(port, size, value)
        return None

    def _delay(self, cpu: object, port: int, size: int, value: int | None) -> int | None:
        del cpu, port, size
        self.io_delays += 1
        return None if value is not None else 0xFF
