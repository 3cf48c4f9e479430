"""late-registration: a hardware VMM's paravirtual MMU, taken after boot or from its ROM."""

from __future__ import annotations

from pvops.guest.build import build
from pvops.image import load_image
from pvops.lab.cost import CostModel
from pvops.lab.scenarios.base import ScenarioResult, missing, per_iteration_evidence, scenario


@scenario("late-registration")
def late_registration(model: CostModel) -> ScenarioResult:
    """A hardware VMM lets a pvops kernel boot natively and take better ops later."""
    question = (
        "Under a hardware-assisted hypervisor, can a pvops kernel that booted on the "
        "native ops take the hypervisor's paravirtual MMU later, and what does it buy? "
        "Does a kernel built without that backend get it too? And a VMI kernel, which "
        "knows nothing of this hypervisor but its ROM?"
    )
    if missing(["hvm"]):
        return ScenarioResult("late-registration", question, "blocked: no hvm model", [])
    from pvops.platform.hvm import HardwareAssisted  # noqa: PLC0415

    runs = [
        ("native kernel", load_image(build("native")), "native"),
        ("pvops, built with the hvm backend", load_image(build("pvops")), "pvops"),
        ("pvops, built before it", load_image(build("pvops", options={"hvm": "n"})), "pvops"),
        ("vmi kernel, on the VMM's ROM", load_image(build("vmi")), "vmi"),
    ]
    evidence, backends = [], []
    for label, image, guest in runs:
        # mmap changes the live address space's tables: what a shadowing VMM traps.
        item, full = per_iteration_evidence(label, image, HardwareAssisted, guest, "mmap", model)
        evidence.append(item)
        backends.append(full.backend)
    exits = [sum(v for k, v in e.counts.items() if k.startswith("exit.")) for e in evidence]
    if all(e.ok for e in evidence):
        outcome = (
            f"mmap under hvm, per iteration: native kernel {exits[0]:,.0f} exits "
            f"({evidence[0].modeled_cycles:,.0f} cycles); pvops with the hvm backend ran on "
            f"'{backends[1]}' ops after boot: {exits[1]:,.0f} exits "
            f"({evidence[1].modeled_cycles:,.0f} cycles); pvops built without it stayed on "
            f"'{backends[2]}': {exits[2]:,.0f} exits ({evidence[2].modeled_cycles:,.0f} cycles); "
            f"the vmi kernel, never built for this VMM, took its paravirtual MMU from the "
            f"VMM's ROM: {exits[3]:,.0f} exits ({evidence[3].modeled_cycles:,.0f} cycles)"
        )
    else:
        outcome = "failed: " + "; ".join(f"{e.label}: {e.reason}" for e in evidence if not e.ok)
    return ScenarioResult("late-registration", question, outcome, evidence)
