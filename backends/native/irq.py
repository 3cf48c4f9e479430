"""Native interrupt ops: EFLAGS.IF and the 8259 pair."""

from __future__ import annotations

from pvops.abi import IRQ0_VECTOR, PIC_MASTER_CMD, PIC_MASTER_DATA, PIC_SLAVE_CMD, PIC_SLAVE_DATA
from pvops.hw import Cpu
from pvops.types import IrqFlags


def native_init_IRQ(cpu: Cpu) -> None:  # noqa: N802 - Linux's name
    """Remap the 8259s to vectors 0x20-0x2f and unmask only the timer (IRQ 0)."""
    for port, value in (
        (PIC_MASTER_CMD, 0x11),  # ICW1: edge, cascade, ICW4 follows
        (PIC_SLAVE_CMD, 0x11),
        (PIC_MASTER_DATA, IRQ0_VECTOR),  # ICW2: vector base
        (PIC_SLAVE_DATA, IRQ0_VECTOR + 8),
        (PIC_MASTER_DATA, 0x04),  # ICW3: slave on IRQ 2
        (PIC_SLAVE_DATA, 0x02),
        (PIC_MASTER_DATA, 0x01),  # ICW4: 8086 mode
        (PIC_SLAVE_DATA, 0x01),
        (PIC_MASTER_DATA, 0xFE),  # OCW1: mask all but IRQ 0
        (PIC_SLAVE_DATA, 0xFF),
    ):
        cpu.port_out(port, 1, value)


def native_save_fl(cpu: Cpu) -> IrqFlags:
    """pushf; pop."""
    return IrqFlags(cpu.eflags)


def native_restore_fl(cpu: Cpu, flags: IrqFlags) -> None:
    """push; popf (IF changes only where popf may change it)."""
    cpu.popf(flags)


def native_irq_disable(cpu: Cpu) -> None:
    """cli."""
    cpu.cli()


def native_irq_enable(cpu: Cpu) -> None:
    """sti."""
    cpu.sti()


def native_safe_halt(cpu: Cpu) -> None:
    """sti; hlt (the sti shadow makes the pair atomic)."""
    cpu.sti()
    cpu.hlt()


def native_halt(cpu: Cpu) -> None:
    """hlt."""
    cpu.hlt()
