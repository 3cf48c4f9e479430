"""The bare-metal PC devices, driven by the native ops that program them."""

from __future__ import annotations

from typing import Any

import pytest
from fakecpu import FakeCpu

from pvops.backends.native.irq import native_init_IRQ
from pvops.backends.native.time import native_get_wallclock, native_time_init
from pvops.platform.pc import MODELED_HZ, PcPlatform
from pvops.types import Port


class BusCpu(FakeCpu):
    """A fake CPU whose port I/O goes through hooks, like the core's."""

    def __init__(self) -> None:
        super().__init__()
        self.hooks: dict[int, Any] = {}
        self.timer: tuple[int, int] = (0, 0)
        self.instructions = 0

    def set_port_hook(self, port: int, hook: Any, count: int = 1) -> None:
        for p in range(port, port + count):
            self.hooks[p] = hook

    def set_timer(self, period: int, vector: int = 0x20) -> None:
        self.timer = (period, vector)

    def port_in(self, port: Port, size: int) -> int:
        hook = self.hooks.get(port)
        return hook(self, port, size, None) if hook else super().port_in(port, size)

    def port_out(self, port: Port, size: int, value: int) -> None:
        hook = self.hooks.get(port)
        if hook:
            hook(self, port, size, value)
        else:
            super().port_out(port, size, value)


@pytest.fixture
def pc() -> tuple[BusCpu, PcPlatform]:
    """A fake CPU with the PC platform attached."""
    cpu = BusCpu()
    return cpu, PcPlatform(bus=cpu, clock=lambda: cpu.instructions).attach()


class TestTimer:
    """PIT + PIC: the tick reaches the CPU only when both are set up."""

    def test_tick_needs_pit_and_unmasked_pic(self, pc: tuple[BusCpu, PcPlatform]) -> None:
        """After time_init alone IRQ 0 is masked (BIOS state); after init_IRQ it arrives at 0x20."""
        cpu, platform = pc
        platform.master.mask = 0xFF
        native_time_init(cpu)
        assert cpu.timer[0] == 0
        native_init_IRQ(cpu)
        period = 11931 * MODELED_HZ // 1_193_182
        assert cpu.timer == (period, 0x20)

    def test_masking_irq0_stops_the_tick(self, pc: tuple[BusCpu, PcPlatform]) -> None:
        """OCW1 with bit 0 set turns the CPU timer off."""
        cpu, _ = pc
        native_init_IRQ(cpu)
        native_time_init(cpu)
        cpu.port_out(Port(0x21), 1, 0xFF)
        assert cpu.timer[0] == 0

    def test_counter_counts_down(self, pc: tuple[BusCpu, PcPlatform]) -> None:
        """A latched read of channel 0 shows time passing with retired instructions."""
        cpu, _ = pc
        native_time_init(cpu)
        cpu.instructions = MODELED_HZ // 1000  # one millisecond later
        cpu.port_out(Port(0x43), 1, 0x00)
        low = cpu.port_in(Port(0x40), 1)
        count = low | cpu.port_in(Port(0x40), 1) << 8
        assert count == 11931 - 1193


class TestConsoleAndClock:
    """UART output and the CMOS clock."""

    def test_uart_collects_output(self, pc: tuple[BusCpu, PcPlatform]) -> None:
        """Bytes written to THR are the console; LSR always says ready."""
        cpu, platform = pc
        assert cpu.port_in(Port(0x3FD), 1) & 0x20
        for ch in b"ok\n":
            cpu.port_out(Port(0x3F8), 1, ch)
        assert platform.console == "ok\n"

    def test_dlab_writes_are_not_output(self, pc: tuple[BusCpu, PcPlatform]) -> None:
        """With DLAB set, port 0x3F8 is the divisor latch, not data."""
        cpu, platform = pc
        cpu.port_out(Port(0x3FB), 1, 0x80)
        cpu.port_out(Port(0x3F8), 1, 0x01)
        cpu.port_out(Port(0x3FB), 1, 0x03)
        cpu.port_out(Port(0x3F8), 1, ord("x"))
        assert platform.console == "x"

    def test_wallclock_reads_the_modeled_date(self, pc: tuple[BusCpu, PcPlatform]) -> None:
        """native_get_wallclock through the RTC gives 2006-08-07 12:00:00 UTC."""
        cpu, _ = pc
        assert native_get_wallclock(cpu) == 1154952000
