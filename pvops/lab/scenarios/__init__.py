"""``pvops scenarios``: the 2006 debate's arguments, each settled by runs.

Every scenario asks one question the debate argued about, runs the guests
and hypervisors that answer it, and reports an outcome together with the
runs behind it (the evidence). An outcome is derived from those runs, never
written down in advance: if the mechanisms change, so does the answer.

One module per scenario, each registering itself on import; ``ORDER`` is
the order ``pvops scenarios`` runs and prints them in.
"""

from __future__ import annotations

from pvops.lab.scenarios import (  # noqa: F401 - each registers its scenario
    boot_modules,
    faster_operation,
    hypervisor_upgrade,
    late_registration,
    native_performance,
    shared_layout_fix,
    side_by_side,
)
from pvops.lab.scenarios.base import (
    ITERATIONS,
    SCENARIOS,
    Evidence,
    ScenarioResult,
    run_scenarios,
    scenario,
)

ORDER = (
    "native-performance",
    "boot-modules",
    "late-registration",
    "hypervisor-upgrade",
    "side-by-side",
    "faster-operation",
    "shared-layout-fix",
)
_registered = dict(SCENARIOS)
SCENARIOS.clear()
SCENARIOS.update({name: _registered[name] for name in ORDER} | _registered)

__all__ = ["ITERATIONS", "SCENARIOS", "Evidence", "ScenarioResult", "run_scenarios", "scenario"]
