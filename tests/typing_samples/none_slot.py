"""A slot left as None."""

from __future__ import annotations

import attrs

from pvops.ops import PvIrqOps

IRQ = PvIrqOps(irq_disable=None)  # E: irq_disable
IRQ2 = attrs.evolve(PvIrqOps(), halt=None)  # E: halt
