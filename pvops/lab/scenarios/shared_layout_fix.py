"""shared-layout-fix: a fix moves a shared field; who must change what?"""

from __future__ import annotations

from typing import Any

import attrs

from pvops.guest.build import build
from pvops.image import GuestImage, load_image
from pvops.lab.cost import CostModel
from pvops.lab.scenarios.base import (
    ITERATIONS,
    Evidence,
    ScenarioResult,
    boot_and_finish,
    missing,
    scenario,
    verdict,
)

FIX_FROM = "xen-3.0.1"
FIX_TO = "xen-3.0.1-secfix"
FIX_INTERFACE = "xen-3.0-secfix"
FIX_WORKLOAD = "pagefault"  # every iteration faults: the kernel reads cr2 each time


@scenario("shared-layout-fix")
def shared_layout_fix(model: CostModel) -> ScenarioResult:
    """A fix moves a field of vcpu_info: which binaries break, and what fixes each?"""
    question = (
        f"A security fix in {FIX_FROM} moves vcpu_info.arch.cr2 (hypothetical: offset 8 -> 16; "
        f"the release is {FIX_TO}). Which existing guest binaries keep working, and for the "
        "others, what has to change: a new ROM from the hypervisor, the kernel's backend, or "
        "the kernel itself?"
    )
    from pvops.backends.xen.models.abi import WHAT_IF  # noqa: PLC0415
    from pvops.backends.xen.platform import XenPlatform  # noqa: PLC0415

    if missing([FIX_FROM]):
        return ScenarioResult("shared-layout-fix", question, f"blocked: no {FIX_FROM}", [])
    fixed = WHAT_IF[FIX_TO]
    # The fixed hypervisor as it would be if its VMI ROM had not been updated with it.
    stale_rom = attrs.evolve(
        fixed,
        name=f"{FIX_TO} (with {FIX_FROM}'s ROM)",
        abi=attrs.evolve(fixed.abi, vmi_rom="xen-3.0"),
    )

    def run(label: str, guest: str, image: GuestImage, release: Any) -> Evidence:
        result = boot_and_finish(image, XenPlatform(release), guest, FIX_WORKLOAD, ITERATIONS)
        return Evidence.of(label, result, model)

    old = {g: load_image(build(g)) for g in ("vmi", "pvops-vmi", "pvops", "xenolinux-3.0")}
    rebuilt = {
        g: load_image(build(g, options={"xen": FIX_INTERFACE})) for g in ("pvops", "xenolinux-3.0")
    }
    runs = {}
    for guest, image in old.items():
        runs[guest, "before"] = run(f"{guest} on {FIX_FROM}", guest, image, FIX_FROM)
        runs[guest, "after"] = run(f"{guest}, same binary, on {FIX_TO}", guest, image, fixed)
    for guest in ("vmi", "pvops-vmi"):
        runs[guest, "stale rom"] = run(
            f"{guest}, same binary, on {FIX_TO} with {FIX_FROM}'s ROM", guest, old[guest], stale_rom
        )
    for guest, image in rebuilt.items():
        runs[guest, "rebuilt"] = run(
            f"{guest} rebuilt (xen={FIX_INTERFACE}) on {FIX_TO}", guest, image, fixed
        )
        runs[guest, "rebuilt, old hv"] = run(
            f"{guest} rebuilt (xen={FIX_INTERFACE}) on {FIX_FROM}", guest, image, FIX_FROM
        )
    verdicts = []
    for guest in ("vmi", "pvops-vmi"):
        with_new, with_old = runs[guest, "after"], runs[guest, "stale rom"]
        verdicts.append(
            f"{guest}: the same binary {verdict(with_new)} with the ROM the fixed release "
            f"ships; with the old ROM it {verdict(with_old)}"
            + (": only the hypervisor's ROM had to change" if with_new.ok else "")
        )
    who = {
        "pvops": "its xen backend (the kernel's C code never reads vcpu_info)",
        "xenolinux-3.0": "the kernel itself (its C code reads vcpu_info)",
    }
    for guest in ("pvops", "xenolinux-3.0"):
        verdicts.append(
            f"{guest}: the same binary {verdict(runs[guest, 'after'])}; rebuilt against "
            f"the new headers, {who[guest]}, it {verdict(runs[guest, 'rebuilt'])} - and "
            f"on {FIX_FROM} it then {verdict(runs[guest, 'rebuilt, old hv'])}"
        )
    before = [g for g in old if not runs[g, "before"].ok]
    if before:
        verdicts.insert(0, f"(did not run before the fix: {', '.join(before)})")
    return ScenarioResult("shared-layout-fix", question, "; ".join(verdicts), list(runs.values()))
