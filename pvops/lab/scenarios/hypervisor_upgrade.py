"""hypervisor-upgrade: Xen 2.0.7 to 3.0.1, no guest rebuilt: who survives?"""

from __future__ import annotations

from pvops.lab.cost import CostModel
from pvops.lab.run import run_workload
from pvops.lab.scenarios.base import ITERATIONS, Evidence, ScenarioResult, missing, scenario


@scenario("hypervisor-upgrade")
def hypervisor_upgrade(model: CostModel) -> ScenarioResult:
    """Upgrade Xen 2.0.7 to 3.0.1 and keep every guest binary: who survives?"""
    question = (
        "The hypervisor is upgraded from xen-2.0.7 to xen-3.0.1 and no guest is rebuilt: "
        "which flavours still boot and pass?"
    )
    absent = missing(["xen-2.0.7", "xen-3.0.1"])
    if absent:
        return ScenarioResult(
            "hypervisor-upgrade", question, f"blocked: no {', '.join(absent)} model", []
        )
    evidence = []
    verdicts = []
    for guest in ("xenolinux-2.0", "vmi", "pvops-vmi", "pvops", "xenolinux-3.0"):
        before = run_workload(guest, "xen-2.0.7", "syscall", ITERATIONS)
        after = run_workload(guest, "xen-3.0.1", "syscall", ITERATIONS)
        evidence += [Evidence.of(f"{guest} before", before, model),
                     Evidence.of(f"{guest} after", after, model)]  # fmt: skip
        if before.ok and after.ok:
            verdicts.append(f"{guest} survives")
        elif before.ok:
            verdicts.append(f"{guest} ran before but not after ({after.outcome}: {after.reason})")
        else:
            verdicts.append(f"{guest} did not run on 2.0.7 ({before.outcome}: {before.reason})")
    return ScenarioResult("hypervisor-upgrade", question, "; ".join(verdicts), evidence)
