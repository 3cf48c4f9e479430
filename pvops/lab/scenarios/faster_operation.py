"""faster-operation: the hypervisor gains a cheaper flush; who benefits without a rebuild?"""

from __future__ import annotations

import functools

from pvops.guest.build import build
from pvops.image import load_image
from pvops.lab.cost import CostModel
from pvops.lab.scenarios.base import (
    Evidence,
    ScenarioResult,
    missing,
    per_iteration_evidence,
    scenario,
)

FAST_FROM = "xen-3.0.1"
FAST_TO = "xen-3.0.1-autoflush"
FAST_INTERFACE = "xen-3.0-autoflush"
FAST_WORKLOAD = "mmap"  # every iteration unmaps pages: one invalidation each
FAST_GUESTS = ("vmi", "pvops-vmi", "pvops", "xenolinux-3.0")


@scenario("faster-operation")
def faster_operation(model: CostModel) -> ScenarioResult:
    """Xen learns to invalidate inside mmu_update: who gets the saving without a rebuild?"""
    question = (
        f"The hypervisor gains a cheaper TLB flush (hypothetical {FAST_TO}: mmu_update "
        "invalidates whatever an entry it changes mapped, so the guest's own invalidation "
        "hypercall after an unmap is unnecessary). Which flavours benefit with their existing "
        "binary (VMI: through the ROM the new release ships), and which need a rebuild?"
    )
    from pvops.backends.xen.models.abi import WHAT_IF, version  # noqa: PLC0415
    from pvops.backends.xen.platform import XenPlatform  # noqa: PLC0415

    if missing([FAST_FROM]):
        return ScenarioResult("faster-operation", question, f"blocked: no {FAST_FROM}", [])
    releases = {"before": version(FAST_FROM), "after": WHAT_IF[FAST_TO]}
    builds = [
        ("vmi", "same binary", load_image(build("vmi"))),
        ("pvops-vmi", "same binary", load_image(build("pvops-vmi"))),
        ("pvops", "same binary", load_image(build("pvops"))),
        ("xenolinux-3.0", "same binary", load_image(build("xenolinux-3.0"))),
        ("pvops", "rebuilt", load_image(build("pvops", options={"xen": FAST_INTERFACE}))),
        (
            "xenolinux-3.0",
            "rebuilt",
            load_image(build("xenolinux-3.0", options={"xen": FAST_INTERFACE})),
        ),
    ]
    evidence: list[Evidence] = []
    by: dict[tuple[str, str, str], Evidence] = {}
    for guest, how, image in builds:
        for when, release in releases.items():
            label = f"{guest}, {how}" + (f" (xen={FAST_INTERFACE})" if how == "rebuilt" else "")
            item, _ = per_iteration_evidence(
                f"{label}, on {release.name}",
                image,
                functools.partial(XenPlatform, release),
                guest,
                FAST_WORKLOAD,
                model,
            )
            evidence.append(item)
            by[guest, how, when] = item

    def change(guest: str, how: str) -> str:
        before, after = by[guest, how, "before"], by[guest, how, "after"]
        if not (before.ok and after.ok):
            return f"failed ({before.reason or after.reason})"
        calls = before.counts.get("hypercall", 0), after.counts.get("hypercall", 0)
        return (
            f"{calls[0]:.1f} -> {calls[1]:.1f} hypercalls, "
            f"{before.modeled_cycles:,.0f} -> {after.modeled_cycles:,.0f} cycles"
        )

    def gains(guest: str, how: str) -> bool:
        before, after = by[guest, how, "before"], by[guest, how, "after"]
        return before.ok and after.ok and after.modeled_cycles < before.modeled_cycles * 0.995

    without = [g for g in FAST_GUESTS if gains(g, "same binary")]
    needing = [g for g in FAST_GUESTS if g not in without]
    parts = [
        f"{FAST_WORKLOAD} per iteration, {FAST_FROM} -> {FAST_TO}. "
        f"Benefit with the same binary: {', '.join(without) or 'none'}; "
        f"need a rebuild: {', '.join(needing) or 'none'}"
    ]
    parts += [f"{g}, same binary: {change(g, 'same binary')}" for g in FAST_GUESTS]
    parts += [
        f"{g}, rebuilt (and still running on {FAST_FROM}, where it finds no flag): "
        f"{change(g, 'rebuilt')}"
        for g in ("pvops", "xenolinux-3.0")
    ]
    return ScenarioResult("faster-operation", question, "; ".join(parts), evidence)
