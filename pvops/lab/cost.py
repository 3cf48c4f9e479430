"""The cost model: modeled cycles from counted events.

A run counts events (instructions retired, calls through patch sites,
hypercalls, traps, VM exits by reason, TLB misses, ...). Modeled cycles are
those counts times a per-event cost. The defaults below come from
published measurements where one exists (FACTS 6: Adams & Agesen, ASPLOS
2006, on a 3.8 GHz Pentium 4 672) and are marked as assumptions where none
does. Every figure is overridable from a TOML file or in code, and results
always carry the counts next to the cycles, so a reader can re-cost a run
with figures of their own.

Costs are *extra* cycles on top of the ``instruction`` cost that every
retired guest instruction pays: a guest ``cli`` costs ``instruction`` +
``insn.cli``. A host-side op standing in for guest code is charged what
that code would cost (see :mod:`pvops.lab.run`), never the host's time.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path

import attrs

ASPLOS06 = "Adams & Agesen, ASPLOS 2006, Fig. 4 raw data (P4 672)"
ASPLOS06_T1 = "Adams & Agesen, ASPLOS 2006, Table 1 (P4 672)"


@attrs.frozen
class Cost:
    """Cycles per event, and where the figure comes from."""

    cycles: float
    source: str

    @property
    def assumed(self) -> bool:
        """Whether the figure is an assumption rather than a measurement."""
        return self.source.startswith("assumption")


DEFAULT_COSTS: dict[str, Cost] = {
    # Every retired guest instruction.
    "instruction": Cost(1.0, "assumption: one cycle per retired integer instruction"),
    # Reaching an op through a patch site.
    "call.indirect": Cost(
        11.0, f"{ASPLOS06}: call/ret 11 (assumption: a predicted indirect call costs the same)"
    ),
    "call.direct": Cost(11.0, f"{ASPLOS06}: call/ret 11"),
    # Sensitive instructions, beyond the instruction cost.
    "insn.cli": Cost(59.0, "Adams & Agesen, ASPLOS 2006, sec. 6: native cli 60 cycles"),
    "insn.sti": Cost(59.0, "assumption: as cli"),
    "insn.popf": Cost(59.0, "assumption: as cli when IF changes"),
    "insn.pushf": Cost(0.0, "assumption: an ordinary push"),
    "insn.mov_cr3": Cost(
        149.0, f"{ASPLOS06}: cr8 write 150 (assumption: a cr3 write costs the same)"
    ),
    "insn.mov_cr": Cost(149.0, f"{ASPLOS06}: cr8 write 150 (assumption: any cr write)"),
    "insn.invlpg": Cost(100.0, "assumption"),
    "insn.port_io": Cost(3208.0, f"{ASPLOS06}: in from port 0x80, 3209"),
    "insn.rdtsc": Cost(80.0, "assumption"),
    "insn.hlt": Cost(0.0, "assumption: halting costs nothing; the wait is not modeled"),
    "insn.descriptor": Cost(100.0, "assumption: lgdt/lidt/ltr/lldt"),
    "insn.cpuid": Cost(100.0, "assumption: a serializing instruction"),
    "insn.msr": Cost(100.0, "assumption: rdmsr/wrmsr"),
    "insn.iret": Cost(0.0, "assumption: priced inside the trap round trip that ends in it"),
    "insn.int": Cost(0.0, "assumption: priced as the trap it raises (trap.*)"),
    "insn.clts": Cost(20.0, "assumption"),
    "insn.wbinvd": Cost(2000.0, "assumption: write back an empty cache"),
    "insn.mov_dr": Cost(20.0, "assumption"),
    "insn.rdpmc": Cost(80.0, "assumption: as rdtsc"),
    # Traps within the guest (no hypervisor involved).
    "trap.syscall": Cost(241.0, f"{ASPLOS06}: syscall round trip 242"),
    "trap.pagefault": Cost(1092.0, f"{ASPLOS06}: pgfault 1093"),
    "trap.exception": Cost(888.0, f"{ASPLOS06}: divzero 889"),
    "trap.interrupt": Cost(888.0, "assumption: as an exception round trip"),
    # Paravirtual transitions.
    "hypercall": Cost(
        241.0, "assumption: a trap to the hypervisor and back costs a syscall round trip (242)"
    ),
    "hypercall.mmu_entry": Cost(
        50.0, "assumption: validating one page-table update inside mmu_update"
    ),
    "upcall": Cost(241.0, "assumption: a bounce frame and iret, as a syscall round trip"),
    # Hardware-assisted virtualization: what an exit adds to the native event
    # it interrupts (the paper's VT-x figure minus its native one).
    "exit.io": Cost(12617.0, f"{ASPLOS06}: in from port 0x80, 15826 under VT-x - 3209 native"),
    "exit.pagefault": Cost(10149.0, f"{ASPLOS06}: pgfault, 11242 under VT-x - 1093 native"),
    "exit.ptwrite": Cost(12732.0, f"{ASPLOS06}: ptemod, 12733 under VT-x - 1 native"),
    "exit.cr": Cost(4340.0, f"{ASPLOS06_T1}: VM entry 2409 + exit 1931"),
    "exit.other": Cost(4340.0, f"{ASPLOS06_T1}: VM entry 2409 + exit 1931"),
    # A backdoor `in` (the hvm ROM's calls to its VMM) is a plain exit and
    # entry; the `in` retired is already charged insn.port_io's native cost.
    "exit.backdoor": Cost(
        1132.0, f"{ASPLOS06_T1}: VM entry 2409 + exit 1931, less insn.port_io's 3208"
    ),
    # The MMU.
    "tlb.miss": Cost(25.0, "assumption: a two-level walk hitting the cache"),
    "tlb.flush": Cost(0.0, "assumption: the refill is charged through tlb.miss"),
}


class CostError(ValueError):
    """A cost table or a count names an event the model does not know."""


@attrs.frozen
class CostModel:
    """Per-event costs; ``cycles(counts)`` prices a run's counted events."""

    costs: Mapping[str, Cost] = attrs.field(factory=lambda: dict(DEFAULT_COSTS))

    def cost(self, event: str) -> Cost:
        """The cost of one event."""
        try:
            return self.costs[event]
        except KeyError:
            msg = f"the cost model has no event {event!r}"
            raise CostError(msg) from None

    def breakdown(self, counts: Mapping[str, float]) -> dict[str, float]:
        """Cycles per event for a run's counts (events with zero count left out)."""
        return {event: count * self.cost(event).cycles for event, count in counts.items() if count}

    def cycles(self, counts: Mapping[str, float]) -> float:
        """Total modeled cycles for a run's counts."""
        return sum(self.breakdown(counts).values())

    def with_overrides(self, overrides: Mapping[str, float | Cost]) -> CostModel:
        """A copy with some figures replaced (a bare number is sourced "override")."""
        costs = dict(self.costs)
        for event, value in overrides.items():
            self.cost(event)  # only known events may be overridden
            costs[event] = value if isinstance(value, Cost) else Cost(float(value), "override")
        return CostModel(costs)

    def to_toml(self) -> str:
        """The table as TOML, one ``event = cycles`` per line with its source as a comment."""
        lines = ["# pvops cost model: extra cycles per event", "[costs]"]
        lines += [
            f'"{event}" = {cost.cycles:g}  # {cost.source}' for event, cost in self.costs.items()
        ]
        return "\n".join(lines) + "\n"


def load_cost_model(path: Path, base: CostModel | None = None) -> CostModel:
    """Read overrides from a TOML file's ``[costs]`` table (``event = cycles``)."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        msg = f"cannot read cost table {path}: {exc}"
        raise CostError(msg) from None
    table = data.get("costs")
    if not isinstance(table, dict):
        msg = f"{path}: no [costs] table"
        raise CostError(msg)
    overrides: dict[str, float | Cost] = {}
    for event, value in table.items():
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            msg = f"{path}: {event} = {value!r} is not a non-negative number of cycles"
            raise CostError(msg)
        overrides[event] = Cost(float(value), f"override from {path.name}")
    return (base or CostModel()).with_overrides(overrides)
