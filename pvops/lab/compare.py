"""``pvops compare``: the designs head to head, in modeled cycles per iteration.

Each cell is one guest flavour on one hypervisor model running one
workload. A cell runs twice, with the requested iterations and with none,
so that boot and setup cancel out: its counts per iteration are the
difference divided by the iterations, and its modeled cycles are those
counts priced by the cost model. Overhead is relative to the native
flavour on bare metal running the same workload.

Cells run through any :class:`concurrent.futures.Executor`: a local
process pool by default, or a cluster's (``dask.distributed``'s
``Client.get_executor()``) without changes, since a cell and its result are
plain picklable records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from typing import Any

import attrs

from pvops.guest.build import build
from pvops.lab.cost import CostModel
from pvops.lab.events import events, per_iteration
from pvops.lab.run import run_workload

WORKLOADS = ("syscall", "ctxsw", "pagefault", "fork", "irq", "mmap", "compute")
BASELINE = ("native", "native")

# The default head-to-head: each design on the platforms it was made for.
DEFAULT_CELLS: tuple[tuple[str, str], ...] = (
    ("native", "native"),
    ("pvops", "native"),
    ("vmi", "native"),
    ("native", "hvm"),
    ("pvops", "hvm"),
    ("vmi", "hvm"),
    ("pvops", "xen-3.0.2"),
    ("pvops-vmi", "xen-3.0.2"),
    ("vmi", "xen-3.0.2"),
    ("xenolinux-3.0", "xen-3.0.2"),
    ("vmi", "xen-2.0.7"),
    ("xenolinux-2.0", "xen-2.0.7"),
)
DEFAULT_ITERATIONS = 200


@attrs.frozen
class Cell:
    """One measurement to make."""

    guest: str
    hv: str
    workload: str
    iterations: int = DEFAULT_ITERATIONS
    patch: bool = True

    @property
    def label(self) -> str:
        """``guest@hv``, marked when unpatched."""
        return f"{self.guest}{'' if self.patch else '/unpatched'}@{self.hv}"


@attrs.define
class Measurement:
    """What a worker sends back: the two runs' verdicts and event counts."""

    cell: Cell
    run: dict[str, Any]
    events: dict[str, int]
    base_events: dict[str, int]
    base_ok: bool
    base_reason: str


def measure(cell: Cell) -> Measurement:
    """Run a cell with its iterations and with none (runs in a worker process)."""
    full = run_workload(cell.guest, cell.hv, cell.workload, cell.iterations, patch=cell.patch)
    base = run_workload(cell.guest, cell.hv, cell.workload, 0, patch=cell.patch)
    summary = full.to_json()
    summary.pop("console", None)
    summary.pop("last_state", None)
    return Measurement(cell, summary, events(full), events(base), base.ok, base.reason)


@attrs.define
class CellResult:
    """One cell of the comparison, as the table and the JSON show it."""

    guest: str
    hv: str
    workload: str
    patched: bool
    backend: str | None
    ok: bool
    outcome: str
    reason: str
    iterations: int
    modeled_cycles_per_iteration: float | None
    overhead_vs_native: float | None
    counts_per_iteration: dict[str, float]
    cycles_per_iteration_by_event: dict[str, float]
    run_counts: dict[str, int]
    guest_instructions: int
    wall_s: float

    @property
    def label(self) -> str:
        """``guest@hv``, marked when unpatched."""
        return f"{self.guest}{'' if self.patched else '/unpatched'}@{self.hv}"

    def to_json(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return attrs.asdict(self)


def price(measurement: Measurement, model: CostModel) -> CellResult:
    """Turn a measurement into a priced cell (costing happens here, not in workers)."""
    cell, run = measurement.cell, measurement.run
    ok = bool(run["ok"]) and measurement.base_ok
    reason = run["reason"] or (
        "" if measurement.base_ok else f"0-iteration run: {measurement.base_reason}"
    )
    counts = (
        per_iteration(measurement.events, measurement.base_events, cell.iterations) if ok else {}
    )
    breakdown = {name: n * model.cost(name).cycles for name, n in counts.items()}
    return CellResult(
        guest=cell.guest,
        hv=cell.hv,
        workload=cell.workload,
        patched=cell.patch,
        backend=run["backend"],
        ok=ok,
        outcome="passed" if ok else ("refused" if run["outcome"] == "refused" else "failed"),
        reason=reason,
        iterations=cell.iterations,
        modeled_cycles_per_iteration=sum(breakdown.values()) if ok else None,
        overhead_vs_native=None,
        counts_per_iteration=counts,
        cycles_per_iteration_by_event=breakdown,
        run_counts=measurement.events,
        guest_instructions=int(run["guest_instructions"]),
        wall_s=float(run["wall_s"]),
    )


TABLE_COLUMNS = (
    "workload",
    "guest@hv",
    "backend",
    "cycles/iter",
    "overhead",
    "op calls/iter",
    "hypercalls/iter",
    "traps+exits/iter",
    "instr/iter",
    "result",
)
"""The columns ``pvops compare`` prints, one :func:`table_row` per cell."""


def table_row(r: CellResult) -> list[str]:
    """A cell as ``pvops compare`` prints it: its figures, formatted; the result last."""
    counts = r.counts_per_iteration
    calls = counts.get("call.direct", 0) + counts.get("call.indirect", 0)
    traps = sum(v for k, v in counts.items() if k.startswith(("trap.", "exit.")))
    return [
        r.workload,
        r.label,
        r.backend or "-",
        f"{r.modeled_cycles_per_iteration:,.0f}" if r.ok else "-",
        f"{r.overhead_vs_native:.2f}x" if r.overhead_vs_native else "-",
        f"{calls:,.1f}" if r.ok else "-",
        f"{counts.get('hypercall', 0):,.1f}" if r.ok else "-",
        f"{traps:,.1f}" if r.ok else "-",
        f"{counts.get('instruction', 0):,.0f}" if r.ok else "-",
        "ok" if r.ok else f"{r.outcome} {r.reason}",
    ]


def pairs_for(
    guests: Sequence[str], hvs: Sequence[str], flavours: Sequence[str], models: Sequence[str]
) -> list[tuple[str, str]]:
    """The (guest, hv) pairs a sweep covers.

    With no filter, :data:`DEFAULT_CELLS` (those whose model is installed).
    With a filter, every combination of the named guests (all flavours if
    none) and the named models (all if none): a pair the loader refuses is
    still run, so the table says why it cannot boot rather than hiding it.
    """
    if not guests and not hvs:
        return [(g, h) for g, h in DEFAULT_CELLS if h in models]
    return [(g, h) for h in (hvs or models) for g in (guests or flavours)]


def cells_for(
    pairs: Iterable[tuple[str, str]], workloads: Sequence[str], iterations: int
) -> list[Cell]:
    """Every (guest, hv) pair for every workload."""
    return [Cell(g, hv, w, iterations) for w in workloads for g, hv in pairs]


def with_baseline(cells: Sequence[Cell]) -> list[Cell]:
    """Add the native-on-bare-metal cell of each workload if it is missing."""
    out = list(cells)
    have = {(c.guest, c.hv, c.workload) for c in cells}
    for cell in cells:
        if (*BASELINE, cell.workload) not in have:
            out.append(Cell(*BASELINE, cell.workload, cell.iterations))
            have.add((*BASELINE, cell.workload))
    return out


def compare(
    cells: Sequence[Cell],
    *,
    model: CostModel | None = None,
    executor: Executor | None = None,
    jobs: int = 2,
    progress: Callable[[CellResult], None] | None = None,
) -> list[CellResult]:
    """Measure every cell, price it, and set each one's overhead against native."""
    model = model or CostModel()
    for guest in sorted({c.guest for c in cells}):
        build(guest)  # once, here, rather than racing in every worker
    own = executor is None
    pool = executor if executor is not None else ProcessPoolExecutor(max_workers=jobs)
    results: dict[Cell, CellResult] = {}
    try:
        futures = {pool.submit(measure, cell): cell for cell in cells}
        for future in as_completed(futures):
            result = price(future.result(), model)
            results[futures[future]] = result
            if progress is not None:
                progress(result)
    finally:
        if own:
            pool.shutdown()
    ordered = [results[c] for c in cells]
    set_overheads(ordered)
    return ordered


def set_overheads(results: Sequence[CellResult]) -> None:
    """Overhead = cycles per iteration / native-on-bare-metal's for the same workload."""
    native = {
        r.workload: r.modeled_cycles_per_iteration
        for r in results
        if (r.guest, r.hv) == BASELINE and r.patched and r.ok
    }
    for r in results:
        base = native.get(r.workload)
        if r.ok and base and r.modeled_cycles_per_iteration is not None:
            r.overhead_vs_native = r.modeled_cycles_per_iteration / base
