"""``pvops matrix``: every guest flavour against every hypervisor model.

Each cell boots the flavour on the model and runs a short workload set: the
loader refuses it (with its own message), it boots and passes (checksums
verified), or it boots and fails (with the reason). Nothing here says which
pairs should work: the outcome is whatever the mechanisms produce.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed

import attrs

from pvops.guest.build import FLAVOURS, build
from pvops.lab.run import run_workload

MATRIX_WORKLOADS = ("syscall", "fork")
MATRIX_ITERATIONS = 5


@attrs.frozen
class MatrixCell:
    """One flavour on one model."""

    guest: str
    hv: str
    force: bool = False


@attrs.define
class MatrixResult:
    """The cell's outcome: ``refused``, ``passed`` or ``failed``, and why."""

    guest: str
    hv: str
    outcome: str
    reason: str
    backend: str | None = None
    workloads: dict[str, bool] = attrs.field(factory=dict)

    def to_json(self) -> dict[str, object]:
        """Plain data for ``--json``."""
        return attrs.asdict(self)


def run_cell(cell: MatrixCell) -> MatrixResult:
    """Boot and run the matrix workloads on one cell (runs in a worker)."""
    verdicts: dict[str, bool] = {}
    backend = None
    for workload in MATRIX_WORKLOADS:
        result = run_workload(cell.guest, cell.hv, workload, MATRIX_ITERATIONS, force=cell.force)
        backend = result.backend
        if result.outcome == "refused":
            return MatrixResult(cell.guest, cell.hv, "refused", result.reason)
        verdicts[workload] = result.ok
        if not result.ok:
            why = f"{workload}: {result.reason}"
            return MatrixResult(cell.guest, cell.hv, "failed", why, backend, verdicts)
    return MatrixResult(cell.guest, cell.hv, "passed", "", backend, verdicts)


def matrix(
    hvs: Sequence[str],
    guests: Sequence[str] = FLAVOURS,
    *,
    force: bool = False,
    executor: Executor | None = None,
    jobs: int = 2,
    progress: Callable[[MatrixResult], None] | None = None,
) -> list[MatrixResult]:
    """Every guest on every hypervisor model, in guest-major order."""
    for guest in guests:
        build(guest)
    cells = [MatrixCell(g, h, force) for g in guests for h in hvs]
    own = executor is None
    pool = executor if executor is not None else ProcessPoolExecutor(max_workers=jobs)
    results: dict[MatrixCell, MatrixResult] = {}
    try:
        futures = {pool.submit(run_cell, cell): cell for cell in cells}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            if progress is not None:
                progress(results[futures[future]])
    finally:
        if own:
            pool.shutdown()
    return [results[c] for c in cells]
