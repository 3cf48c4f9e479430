"""boot-modules: replacement ops loaded at boot (Fitzhardinge's module of new ops)."""

from __future__ import annotations

from pvops.bootmod import build_module, module_source
from pvops.guest.build import build
from pvops.image import load_image
from pvops.lab.cost import CostModel
from pvops.lab.run import DEFAULT_MEMORY, RunResult, cmdline, finish
from pvops.lab.scenarios.base import ITERATIONS, Evidence, ScenarioResult, scenario
from pvops.platform.bare import BareMetal
from pvops.types import PhysAddr


@scenario("boot-modules")
def boot_modules(model: CostModel) -> ScenarioResult:
    """Replacement ops loaded at boot: new code for an old kernel, no rebuild."""
    question = (
        "Can an existing kernel binary get new op implementations at boot, "
        "without being rebuilt (Fitzhardinge's replacement-ops module)?"
    )
    image = load_image(build("pvops"))
    module = build_module("native_mmu", module_source("native_mmu"), PhysAddr(0x90000))
    evidence = []
    for label, modules in (("pvops, backend ops", ()), ("pvops + native_mmu module", (module,))):
        session = BareMetal(boot_modules=modules).boot(
            image,
            cmdline=cmdline("fork", ITERATIONS),
            memory=DEFAULT_MEMORY,
            patch=True,
            force=False,
        )
        result = RunResult(guest="pvops", hv="native", workload="fork", iterations=ITERATIONS)
        evidence.append(Evidence.of(label, finish(session, result), model))
    before, after = evidence
    if before.ok and after.ok:

        def calls(e: Evidence) -> float:
            return e.counts.get("call.direct", 0) + e.counts.get("call.indirect", 0)

        outcome = (
            f"yes: the same image ran with the module's set_pte/set_pmd as guest code; "
            f"host op calls {calls(before):,} -> {calls(after):,}, modeled cycles "
            f"{before.modeled_cycles:,.0f} -> {after.modeled_cycles:,.0f}"
        )
    else:
        outcome = f"no: {before.reason or after.reason}"
    return ScenarioResult("boot-modules", question, outcome, evidence)
