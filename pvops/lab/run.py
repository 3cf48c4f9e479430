"""One run: build a flavour, boot it on a hypervisor model, run a workload, verify it.

A run is only ``ok`` when the guest printed its result line and the
checksum matches the one the host computes independently
(:func:`pvops.guest.checksums.expected_checksum`): a guest that finishes but
computed something wrong fails as surely as one that crashes. A failed run
carries the reason and the machine's last state, never a traceback.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from pvops.cpu import StopReason
from pvops.guest.build import BuildError, build
from pvops.guest.checksums import expected_checksum, parse_result
from pvops.image import GuestImage, ImageError, load_image
from pvops.lab.trace import TraceEvent, trace
from pvops.platform.model import LoadRefused, Session, model
from pvops.platform.multiboot import LoadError

DEFAULT_MEMORY = 32 << 20
BASE_BUDGET = 20_000_000
BUDGET_PER_ITERATION = 200_000
CHUNK = 5_000_000  # instructions per run() call, so long runs stay interruptible


@attrs.define
class RunResult:
    """Everything one run measured, and whether it can be trusted."""

    guest: str
    hv: str
    workload: str
    iterations: int
    backend: str | None = None
    ok: bool = False
    outcome: str = "failed"  # passed, failed, refused
    reason: str = ""
    guest_instructions: int = 0
    dispatches: dict[str, dict[str, int]] = attrs.field(factory=dict)
    traps: dict[str, int] = attrs.field(factory=dict)
    tlb_flushes: int = 0
    tlb_misses: int = 0
    page_walks: int = 0
    sensitive: dict[str, int] = attrs.field(factory=dict)  # sensitive instructions by kind
    patch_sites: dict[str, int] = attrs.field(factory=dict)
    hypercalls: dict[str, int] = attrs.field(factory=dict)  # by name
    exits: dict[str, int] = attrs.field(factory=dict)  # by reason
    upcalls: int = 0
    mmu_entries: int = 0  # page-table updates a hypervisor validated
    wall_s: float = 0.0
    console: str = ""
    last_state: str = ""

    def to_json(self) -> dict[str, Any]:
        """The result as plain JSON-able data."""
        return attrs.asdict(self)


def cmdline(workload: str, iterations: int) -> str:
    """The kernel command line that selects a workload.

    The count is zero-padded to a fixed width, so that the kernel echoes a
    line of the same length whatever the count: the console output of two
    runs differs only by what the workload itself prints (none).
    """
    return f"workload={workload} iterations={iterations:010d}"


def _collect(result: RunResult, session: Session) -> None:
    counters: Mapping[str, Any] = session.machine.counters()
    gates = sum(counters.get("gate_dispatches", {}).values())
    result.guest_instructions = int(counters["instructions"]) - gates
    result.traps = {str(v): n for v, n in sorted(counters.get("exceptions", {}).items())}
    result.tlb_flushes = int(counters.get("tlb_flushes", 0))
    result.tlb_misses = int(counters.get("tlb_misses", 0))
    result.page_walks = int(counters.get("page_walks", 0))
    result.sensitive = {k: int(v) for k, v in counters.get("sensitive", {}).items() if v}
    if session.table is not None:
        result.dispatches = session.table.counts()
    if session.patch is not None:
        result.patch_sites = session.patch.outcomes
    stats = session.stats()
    result.hypercalls = dict(stats.hypercalls)
    result.exits = dict(stats.exits)
    result.upcalls = stats.upcalls
    result.mmu_entries = stats.mmu_entries
    result.console = session.console()


TASK_KILLED = 0xDEAD0000  # the guest's exit code for a task killed by vector vv: 0xDEAD00vv


def _verify(result: RunResult, stop: StopReason, session: Session) -> None:
    parsed = parse_result(result.console)
    if parsed is None:
        result.reason = f"no result line (stopped: {stop.name})"
        crashed = session.crash()
        if crashed:
            result.reason += f"; the hypervisor crashed the guest: {crashed}"
        if stop is not StopReason.HALT:
            result.last_state = session.machine.dump()
        host_error = getattr(session.machine, "host_error", None)
        if host_error is not None:
            result.reason += f": {type(host_error).__name__}: {host_error}"
        return
    workload, iterations, checksum = parsed
    want = expected_checksum(result.workload, result.iterations)
    if (workload, iterations) != (result.workload, result.iterations):
        result.reason = f"the guest ran {workload} x{iterations}, not what was asked"
    elif checksum != want:
        result.reason = f"checksum {checksum:#010x}, expected {want:#010x}"
        if checksum & 0xFFFFFF00 == TASK_KILLED:  # traps.c: a task's exit code on a fatal trap
            result.reason += f": a user task was killed by exception {checksum & 0xFF}"
    else:
        result.ok = True
        result.outcome = "passed"


def boot_image(
    image: GuestImage, hv: str, workload: str, iterations: int, *, patch: bool, force: bool
) -> Session:
    """Boot a loaded image on a hypervisor model with a workload's command line."""
    return model(hv).boot(
        image,
        cmdline=cmdline(workload, iterations),
        memory=DEFAULT_MEMORY,
        patch=patch,
        force=force,
    )


def run_workload(
    guest: str,
    hv: str,
    workload: str,
    iterations: int,
    *,
    patch: bool = True,
    force: bool = False,
    budget: int | None = None,
    tracer: Callable[[TraceEvent], None] | None = None,
) -> RunResult:
    """Build ``guest``, boot it on ``hv``, run ``workload`` and verify its checksum.

    With a ``tracer``, the machine is stepped one instruction at a time and
    every sensitive event is passed to it (slow; see :mod:`pvops.lab.trace`).
    """
    result = RunResult(guest=guest, hv=hv, workload=workload, iterations=iterations)
    expected_checksum(workload, iterations)  # unknown workloads fail before any work
    started = time.perf_counter()
    try:
        image = load_image(build(guest))
        session = boot_image(image, hv, workload, iterations, patch=patch, force=force)
    except LoadRefused as refusal:
        result.outcome = "refused"
        result.reason = str(refusal)
        return result
    except (BuildError, ImageError, LoadError) as exc:
        result.reason = str(exc)
        return result
    finish(session, result, budget=budget, tracer=tracer)
    result.wall_s = time.perf_counter() - started
    return result


def finish(
    session: Session,
    result: RunResult,
    *,
    budget: int | None = None,
    tracer: Callable[[TraceEvent], None] | None = None,
) -> RunResult:
    """Run a booted session to its end (or its budget), then collect and verify into ``result``."""
    result.backend = session.backend
    left = budget if budget is not None else BASE_BUDGET + BUDGET_PER_ITERATION * result.iterations
    stop = StopReason.BUDGET
    if tracer is not None:
        stop = trace(session, left, tracer)
        left = 0
    while left > 0:
        before = session.machine.instructions
        stop = session.run(min(left, CHUNK))
        left -= max(1, session.machine.instructions - before)
        if stop is not StopReason.BUDGET:
            break
    result.backend = session.backend  # ops may have changed hands while it ran
    _collect(result, session)
    _verify(result, stop, session)
    return result
