"""An op whose parameter names differ from the contract."""

from __future__ import annotations

from pvops.hw import Cpu
from pvops.ops import PvMmuOps
from pvops.types import Pte, VirtAddr


def lab_set_pte(cpu: Cpu, p: VirtAddr, v: Pte) -> None:
    del cpu, p, v


MMU = PvMmuOps(set_pte=lab_set_pte)  # E: set_pte
