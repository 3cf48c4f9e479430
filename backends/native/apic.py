"""Native local-APIC ops: memory-mapped registers at 0xFEE00000."""

from __future__ import annotations

from pvops.abi import LOCAL_APIC_BASE
from pvops.hw import Cpu
from pvops.types import PhysAddr


def native_apic_write(cpu: Cpu, reg: int, value: int) -> None:
    """A 32-bit store to the APIC page."""
    cpu.write(PhysAddr(LOCAL_APIC_BASE + reg), (value & 0xFFFFFFFF).to_bytes(4, "little"))


def native_apic_write_atomic(cpu: Cpu, reg: int, value: int) -> None:
    """An xchg to the APIC page (one CPU: the same as a store)."""
    native_apic_write(cpu, reg, value)


def native_apic_read(cpu: Cpu, reg: int) -> int:
    """A 32-bit load from the APIC page."""
    return int.from_bytes(cpu.read(PhysAddr(LOCAL_APIC_BASE + reg), 4), "little")
