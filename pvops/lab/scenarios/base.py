"""What every scenario shares: the evidence, the result, the registry, the runs.

A scenario is a function ``(CostModel) -> ScenarioResult`` registered under
its name with :func:`scenario`; each lives in a module of its own in this
package, and ``__init__`` imports them in the order ``pvops scenarios``
runs them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from pvops.image import GuestImage
from pvops.lab.compare import CellResult
from pvops.lab.cost import CostModel
from pvops.lab.events import events, per_iteration
from pvops.lab.run import DEFAULT_MEMORY, RunResult, cmdline, finish
from pvops.platform.model import HypervisorModel, model_names

ITERATIONS = 50


@attrs.define
class Evidence:
    """One run behind a scenario's outcome."""

    label: str
    guest: str
    hv: str
    workload: str
    iterations: int
    ok: bool
    outcome: str
    reason: str
    modeled_cycles: float
    counts: dict[str, float]
    basis: str  # "whole run" or "per iteration"

    @classmethod
    def of(cls, label: str, result: RunResult, model: CostModel) -> Evidence:
        """Summarize a whole run (boot included)."""
        counts = events(result)
        return cls(
            label,
            result.guest,
            result.hv,
            result.workload,
            result.iterations,
            result.ok,
            result.outcome,
            result.reason,
            model.cycles(counts) if result.ok else 0.0,
            dict(counts),
            "whole run",
        )

    @classmethod
    def of_cell(cls, label: str, cell: CellResult) -> Evidence:
        """Summarize a compare cell (boot cancelled out: per iteration)."""
        return cls(
            label,
            cell.guest,
            cell.hv,
            cell.workload,
            cell.iterations,
            cell.ok,
            cell.outcome,
            cell.reason,
            cell.modeled_cycles_per_iteration or 0.0,
            cell.counts_per_iteration,
            "per iteration",
        )


@attrs.define
class ScenarioResult:
    """A question, its answer, and the runs that gave it."""

    name: str
    question: str
    outcome: str
    evidence: list[Evidence]

    def to_json(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return attrs.asdict(self)


Scenario = Callable[[CostModel], ScenarioResult]
SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str) -> Callable[[Scenario], Scenario]:
    """Register a scenario under ``name``."""

    def register(fn: Scenario) -> Scenario:
        SCENARIOS[name] = fn
        return fn

    return register


def missing(hvs: Sequence[str]) -> list[str]:
    known = set(model_names())
    return [hv for hv in hvs if hv not in known]


def boot_and_finish(
    image: GuestImage, hv: HypervisorModel, guest: str, workload: str, iterations: int
) -> RunResult:
    session = hv.boot(
        image,
        cmdline=cmdline(workload, iterations),
        memory=DEFAULT_MEMORY,
        patch=True,
        force=False,
    )
    result = RunResult(guest=guest, hv=hv.name, workload=workload, iterations=iterations)
    return finish(session, result)


def per_iteration_evidence(
    label: str,
    image: GuestImage,
    make_hv: Callable[[], HypervisorModel],
    guest: str,
    workload: str,
    model: CostModel,
) -> tuple[Evidence, RunResult]:
    """A custom image on a custom model, measured per iteration (N runs minus none)."""
    full = boot_and_finish(image, make_hv(), guest, workload, ITERATIONS)
    base = boot_and_finish(image, make_hv(), guest, workload, 0)
    ok = full.ok and base.ok
    counts = per_iteration(events(full), events(base), ITERATIONS) if ok else {}
    evidence = Evidence(
        label, guest, full.hv, workload, ITERATIONS, ok, full.outcome if ok else "failed",
        full.reason or base.reason, model.cycles(counts) if ok else 0.0, counts,
        "per iteration",
    )  # fmt: skip
    return evidence, full


def verdict(e: Evidence) -> str:
    return "passes" if e.ok else f"fails ({e.reason})" if e.reason else f"is {e.outcome}"


def run_scenarios(
    names: Sequence[str] | None = None, model: CostModel | None = None
) -> list[ScenarioResult]:
    """Run the named scenarios (all by default) in registration order."""
    model = model or CostModel()
    chosen = list(names) if names else list(SCENARIOS)
    return [SCENARIOS[name](model) for name in chosen]
