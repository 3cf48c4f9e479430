"""A correct backend: mypy --strict accepts it."""

from __future__ import annotations

import attrs

from pvops.boot import BootRequest
from pvops.hw import Cpu
from pvops.ops import PvIrqOps, PvMmuOps, paravirt_nop
from pvops.registry import Backend
from pvops.types import IrqFlags, PhysAddr, Pte, VirtAddr


def lab_save_fl(cpu: Cpu) -> IrqFlags:
    return IrqFlags(cpu.eflags)


def lab_set_pte(cpu: Cpu, ptep: VirtAddr, pte: Pte) -> None:
    cpu.write_virt(ptep, pte.to_bytes(4, "little"))


def lab_write_cr3(cpu: Cpu, pgd: PhysAddr) -> None:
    cpu.cr3 = pgd


def lab_boot(request: BootRequest) -> None:
    del request


BACKEND = Backend(
    name="lab",
    description="typed sample",
    boot=lab_boot,
    hypervisors=("native",),
    irq=attrs.evolve(PvIrqOps(), save_fl=lab_save_fl, halt=paravirt_nop),
    mmu=PvMmuOps(set_pte=lab_set_pte, write_cr3=lab_write_cr3),
)


def use(cpu: Cpu) -> None:
    BACKEND.mmu.write_cr3(cpu, PhysAddr(0x1000))
