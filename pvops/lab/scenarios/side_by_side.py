"""side-by-side: guests of different flavours as domains of one hypervisor at once."""

from __future__ import annotations

import attrs

from pvops.guest.build import build
from pvops.image import load_image
from pvops.lab.cost import CostModel
from pvops.lab.events import events
from pvops.lab.run import RunResult, cmdline, finish, run_workload
from pvops.lab.scenarios.base import ITERATIONS, Evidence, ScenarioResult, missing, scenario

SIDE_BY_SIDE_RELEASE = "xen-3.0.1"
SIDE_BY_SIDE = (
    ("vmi", "fork"),
    ("pvops", "mmap"),
    ("xenolinux-3.0", "syscall"),
    ("pvops-vmi", "pagefault"),
)
SIDE_BY_SIDE_MEMORY = len(SIDE_BY_SIDE) * (32 << 20)  # each domain as much as a run alone
PER_DOMAIN_EVENTS = frozenset({"hypercall", "hypercall.mmu_entry", "upcall"})


@scenario("side-by-side")
def side_by_side(model: CostModel) -> ScenarioResult:
    """Four flavours on one hypervisor at once: does each still run as it would alone?"""
    question = (
        f"Can guests of different flavours (a VMI kernel, a paravirt_ops kernel on Xen's "
        f"interface, a XenoLinux kernel, a paravirt_ops kernel on the VMI ROM) share one "
        f"{SIDE_BY_SIDE_RELEASE} machine at the same time, each verified, on disjoint memory, "
        "and does sharing change what each one asks of the hypervisor?"
    )
    if missing([SIDE_BY_SIDE_RELEASE]):
        return ScenarioResult("side-by-side", question, f"blocked: no {SIDE_BY_SIDE_RELEASE}", [])
    from pvops.backends.xen.platform import XenPlatform  # noqa: PLC0415

    platform = XenPlatform(SIDE_BY_SIDE_RELEASE)
    guests = [(load_image(build(g)), cmdline(w, ITERATIONS)) for g, w in SIDE_BY_SIDE]
    sessions = platform.boot_pair(guests, memory=SIDE_BY_SIDE_MEMORY)
    shared = [
        finish(session, RunResult(g, SIDE_BY_SIDE_RELEASE, w, ITERATIONS))
        for session, (g, w) in zip(sessions, SIDE_BY_SIDE, strict=True)
    ]  # the first finish runs every domain; the others find theirs done
    xen = platform.xen
    frames = [set(dom.p2m) for dom in xen.domains.values()] if xen is not None else []
    disjoint = all(not a & b for i, a in enumerate(frames) for b in frames[i + 1 :])
    alone = [run_workload(g, SIDE_BY_SIDE_RELEASE, w, ITERATIONS) for g, w in SIDE_BY_SIDE]
    # Instructions, traps and TLB events are the one CPU's, shared by every
    # domain; hypercalls, validated updates and upcalls are each domain's own.
    evidence = []
    verdicts = []
    for (guest, _), together, solo in zip(SIDE_BY_SIDE, shared, alone, strict=True):
        own: dict[str, float] = {
            k: v for k, v in events(together).items() if k in PER_DOMAIN_EVENTS
        }
        mine = attrs.evolve(
            Evidence.of(f"{guest}, sharing the machine", together, model),
            counts=own,
            modeled_cycles=model.cycles(own) if together.ok else 0.0,
            basis="whole run, this domain's own events",
        )
        evidence += [mine, Evidence.of(f"{guest}, alone", solo, model)]
        if not together.ok:
            verdicts.append(f"{guest} failed when sharing ({together.reason})")
            continue
        calls = sum(together.hypercalls.values()), sum(solo.hypercalls.values())
        verdicts.append(
            f"{guest} ({together.workload}) passed, {calls[0]:,} hypercalls ({calls[1]:,} alone)"
        )
    cpu: dict[str, float] = {
        k: v for k, v in events(shared[0]).items() if k not in PER_DOMAIN_EVENTS
    }
    for e in evidence[::2]:
        for k, v in e.counts.items():
            cpu[k] = cpu.get(k, 0) + v
    everyone_ok = all(r.ok for r in shared)
    machine = attrs.evolve(
        Evidence.of("the shared machine", shared[0], model),
        guest="+".join(g for g, _ in SIDE_BY_SIDE),
        workload="+".join(w for _, w in SIDE_BY_SIDE),
        ok=everyone_ok,
        counts=cpu,
        modeled_cycles=model.cycles(cpu) if everyone_ok else 0.0,
        basis="whole run, the CPU's events (every domain)",
    )
    evidence.append(machine)
    solo_instructions = sum(events(r).get("instruction", 0) for r in alone)
    isolated = "disjoint" if disjoint else "OVERLAPPING"
    outcome = (
        f"{len(shared)} domains on one {SIDE_BY_SIDE_RELEASE}, {isolated} machine frames: "
        + "; ".join(verdicts)
        + f". The CPU retired {machine.counts.get('instruction', 0):,.0f} guest instructions "
        f"for all of them, {solo_instructions:,.0f} for the {len(alone)} runs alone"
    )
    return ScenarioResult("side-by-side", question, outcome, evidence)
