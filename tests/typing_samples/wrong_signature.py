"""An op with the wrong parameter type."""

from __future__ import annotations

from pvops.hw import Cpu
from pvops.ops import PvIrqOps
from pvops.types import IrqFlags


def lab_restore_fl(cpu: Cpu, flags: str) -> None:
    del cpu, flags


IRQ = PvIrqOps(restore_fl=lab_restore_fl)  # E: restore_fl


def lab_save_fl(cpu: Cpu) -> str:
    return str(cpu.eflags)


IRQ2 = PvIrqOps(save_fl=lab_save_fl)  # E: save_fl
_ = IrqFlags
