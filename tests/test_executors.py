"""Sweeps on a dask.distributed cluster give the same numbers as a local pool.

``compare`` and ``matrix`` take any :class:`concurrent.futures.Executor`;
``Client.get_executor()`` is one. A real two-process ``LocalCluster`` runs
the cells here and its results are checked, field by field, against the
same cells run in a local thread pool: the interpreter is deterministic,
so everything but the wall time must be equal.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from pvops.lab.compare import cells_for, compare, with_baseline
from pvops.lab.matrix import matrix

distributed = pytest.importorskip("distributed")

COMPARE_PAIRS = [("pvops", "native"), ("pvops", "xen-3.0.2"), ("native", "hvm")]
COMPARE_WORKLOADS = ["syscall", "mmap"]
COMPARE_ITERATIONS = 5
MATRIX_HVS = ["native", "xen-3.0.2"]
MATRIX_GUESTS = ["native", "pvops", "xenolinux-3.0"]


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A client of a two-worker, one-thread-per-worker local cluster (separate processes)."""
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def without_wall_time(record: dict[str, Any]) -> dict[str, Any]:
    """A result's plain data minus the one field that measures the host."""
    return {k: v for k, v in record.items() if k != "wall_s"}


def compare_cells() -> list[Any]:
    return with_baseline(cells_for(COMPARE_PAIRS, COMPARE_WORKLOADS, COMPARE_ITERATIONS))


def test_compare_on_the_cluster_matches_a_local_pool(client: Any) -> None:
    """Every cell comes back ok from the workers, with the local pool's exact numbers."""
    cells = compare_cells()
    with distributed.get_task_stream(client) as stream:
        remote = compare(cells, executor=client.get_executor())
    with ThreadPoolExecutor(max_workers=2) as pool:
        local = compare(cells, executor=pool)

    # The cells really ran on the cluster's workers, one task each.
    ran = [t for t in stream.data if str(t["key"]).startswith("measure-")]
    assert len(ran) == len(cells)
    assert {t["worker"] for t in ran} <= set(client.scheduler_info()["workers"])

    assert [(r.guest, r.hv, r.workload) for r in remote] == [
        (c.guest, c.hv, c.workload) for c in cells
    ]
    for r in remote:
        assert r.ok, f"{r.label} {r.workload}: {r.outcome} {r.reason}"
        assert r.outcome == "passed"
        assert r.modeled_cycles_per_iteration
        assert r.overhead_vs_native
    for r, here in zip(remote, local, strict=True):
        assert r.counts_per_iteration == here.counts_per_iteration, r.label
        assert r.modeled_cycles_per_iteration == here.modeled_cycles_per_iteration, r.label
        assert r.overhead_vs_native == here.overhead_vs_native, r.label
        assert without_wall_time(r.to_json()) == without_wall_time(here.to_json()), r.label
    # Not trivially equal: the cells differ from one another.
    assert len({r.modeled_cycles_per_iteration for r in remote}) > 2


def test_matrix_on_the_cluster_matches_a_local_pool(client: Any) -> None:
    """Outcomes, reasons and per-workload verdicts are the local pool's, cell for cell."""
    remote = matrix(MATRIX_HVS, MATRIX_GUESTS, executor=client.get_executor())
    with ThreadPoolExecutor(max_workers=2) as pool:
        local = matrix(MATRIX_HVS, MATRIX_GUESTS, executor=pool)

    assert [(r.guest, r.hv) for r in remote] == [(g, h) for g in MATRIX_GUESTS for h in MATRIX_HVS]
    assert [r.to_json() for r in remote] == [r.to_json() for r in local]
    by = {(r.guest, r.hv): r for r in remote}
    for guest in ("native", "pvops"):
        assert by[guest, "native"].outcome == "passed", by[guest, "native"].reason
        assert by[guest, "native"].workloads == {"syscall": True, "fork": True}
    assert by["pvops", "xen-3.0.2"].outcome == "passed", by["pvops", "xen-3.0.2"].reason
    assert by["xenolinux-3.0", "xen-3.0.2"].outcome == "passed"
    # A XenoLinux kernel has no bare-metal entry: the loader says no, with a reason.
    assert by["xenolinux-3.0", "native"].outcome == "refused"
    assert by["xenolinux-3.0", "native"].reason
