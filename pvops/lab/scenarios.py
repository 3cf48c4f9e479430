"""``pvops scenarios``: the 2006 debate's arguments, each settled by runs.

Every scenario asks one question the debate argued about, runs the guests
and hypervisors that answer it, and reports an outcome together with the
runs behind it (the evidence). An outcome is derived from those runs, never
written down in advance: if the mechanisms change, so does the answer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs

from pvops.bootmod import build_module, module_source
from pvops.guest.build import build
from pvops.image import GuestImage, load_image
from pvops.lab.compare import Cell, CellResult, compare
from pvops.lab.cost import CostModel
from pvops.lab.events import events, per_iteration
from pvops.lab.run import DEFAULT_MEMORY, RunResult, cmdline, finish, run_workload
from pvops.platform.bare import BareMetal
from pvops.platform.model import HypervisorModel, model_names
from pvops.types import PhysAddr

ITERATIONS = 50
PERF_WORKLOADS = ("irq", "mmap", "fork")


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


def _missing(hvs: Sequence[str]) -> list[str]:
    known = set(model_names())
    return [hv for hv in hvs if hv not in known]


@scenario("native-performance")
def native_performance(model: CostModel) -> ScenarioResult:
    """What the paravirt indirection costs on bare metal, patched and unpatched."""
    question = (
        "On bare metal, what does each flavour's paravirt indirection cost "
        "compared with the plain native kernel, with and without boot-time patching?"
    )
    variants = [
        ("native", Cell("native", "native", "", ITERATIONS)),
        ("pvops, patched", Cell("pvops", "native", "", ITERATIONS)),
        ("pvops, unpatched", Cell("pvops", "native", "", ITERATIONS, patch=False)),
        ("vmi, no ROM", Cell("vmi", "native", "", ITERATIONS)),
    ]
    cells = [attrs.evolve(c, workload=w) for w in PERF_WORKLOADS for _, c in variants]
    results = compare(cells, model=model, executor=ThreadPoolExecutor(1))
    labels = {c: label for label, c in variants}
    evidence = [
        Evidence.of_cell(labels[attrs.evolve(c, workload="")], r)
        for c, r in zip(cells, results, strict=True)
    ]
    parts = []
    for workload in PERF_WORKLOADS:
        row = [e for e in evidence if e.workload == workload]
        base = row[0].modeled_cycles
        shown = [
            f"{e.label} {e.modeled_cycles / base:.2f}x" if e.ok and base else f"{e.label} failed"
            for e in row[1:]
        ]
        parts.append(f"{workload}: " + ", ".join(shown))
    outcome = "cycles per iteration vs native: " + "; ".join(parts)
    return ScenarioResult("native-performance", question, outcome, evidence)


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


def _boot_and_finish(
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


def _per_iteration(
    label: str,
    image: GuestImage,
    make_hv: Callable[[], HypervisorModel],
    guest: str,
    workload: str,
    model: CostModel,
) -> tuple[Evidence, RunResult]:
    """A custom image on a custom model, measured per iteration (N runs minus none)."""
    full = _boot_and_finish(image, make_hv(), guest, workload, ITERATIONS)
    base = _boot_and_finish(image, make_hv(), guest, workload, 0)
    ok = full.ok and base.ok
    counts = per_iteration(events(full), events(base), ITERATIONS) if ok else {}
    evidence = Evidence(
        label, guest, full.hv, workload, ITERATIONS, ok, full.outcome if ok else "failed",
        full.reason or base.reason, model.cycles(counts) if ok else 0.0, counts,
        "per iteration",
    )  # fmt: skip
    return evidence, full


@scenario("late-registration")
def late_registration(model: CostModel) -> ScenarioResult:
    """A hardware VMM lets a pvops kernel boot natively and take better ops later."""
    question = (
        "Under a hardware-assisted hypervisor, can a pvops kernel that booted on the "
        "native ops take the hypervisor's paravirtual MMU later, and what does it buy? "
        "Does a kernel built without that backend get it too? And a VMI kernel, which "
        "knows nothing of this hypervisor but its ROM?"
    )
    if _missing(["hvm"]):
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
        item, full = _per_iteration(label, image, HardwareAssisted, guest, "mmap", model)
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


@scenario("hypervisor-upgrade")
def hypervisor_upgrade(model: CostModel) -> ScenarioResult:
    """Upgrade Xen 2.0.7 to 3.0.1 and keep every guest binary: who survives?"""
    question = (
        "The hypervisor is upgraded from xen-2.0.7 to xen-3.0.1 and no guest is rebuilt: "
        "which flavours still boot and pass?"
    )
    missing = _missing(["xen-2.0.7", "xen-3.0.1"])
    if missing:
        return ScenarioResult(
            "hypervisor-upgrade", question, f"blocked: no {', '.join(missing)} model", []
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
    if _missing([SIDE_BY_SIDE_RELEASE]):
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
        mine = Evidence.of(f"{guest}, sharing the machine", together, model)
        mine.counts = {k: v for k, v in mine.counts.items() if k in PER_DOMAIN_EVENTS}
        mine.modeled_cycles = model.cycles(mine.counts) if together.ok else 0.0
        mine.basis = "whole run, this domain's own events"
        evidence += [mine, Evidence.of(f"{guest}, alone", solo, model)]
        if not together.ok:
            verdicts.append(f"{guest} failed when sharing ({together.reason})")
            continue
        calls = sum(together.hypercalls.values()), sum(solo.hypercalls.values())
        verdicts.append(
            f"{guest} ({together.workload}) passed, {calls[0]:,} hypercalls ({calls[1]:,} alone)"
        )
    machine = Evidence.of("the shared machine", shared[0], model)
    machine.label, machine.guest, machine.workload = (
        "the shared machine",
        "+".join(g for g, _ in SIDE_BY_SIDE),
        "+".join(w for _, w in SIDE_BY_SIDE),
    )
    machine.ok = all(r.ok for r in shared)
    machine.counts = {k: v for k, v in machine.counts.items() if k not in PER_DOMAIN_EVENTS}
    for e in evidence[::2]:
        for k, v in e.counts.items():
            machine.counts[k] = machine.counts.get(k, 0) + v
    machine.modeled_cycles = model.cycles(machine.counts) if machine.ok else 0.0
    machine.basis = "whole run, the CPU's events (every domain)"
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

    if _missing([FAST_FROM]):
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
            item, _ = _per_iteration(
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


FIX_FROM = "xen-3.0.1"
FIX_TO = "xen-3.0.1-secfix"
FIX_INTERFACE = "xen-3.0-secfix"
FIX_WORKLOAD = "pagefault"  # every iteration faults: the kernel reads cr2 each time


def _verdict(e: Evidence) -> str:
    return "passes" if e.ok else f"fails ({e.reason})" if e.reason else f"is {e.outcome}"


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

    if _missing([FIX_FROM]):
        return ScenarioResult("shared-layout-fix", question, f"blocked: no {FIX_FROM}", [])
    fixed = WHAT_IF[FIX_TO]
    # The fixed hypervisor as it would be if its VMI ROM had not been updated with it.
    stale_rom = attrs.evolve(
        fixed,
        name=f"{FIX_TO} (with {FIX_FROM}'s ROM)",
        abi=attrs.evolve(fixed.abi, vmi_rom="xen-3.0"),
    )

    def run(label: str, guest: str, image: GuestImage, release: Any) -> Evidence:
        result = _boot_and_finish(image, XenPlatform(release), guest, FIX_WORKLOAD, ITERATIONS)
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
            f"{guest}: the same binary {_verdict(with_new)} with the ROM the fixed release "
            f"ships; with the old ROM it {_verdict(with_old)}"
            + (": only the hypervisor's ROM had to change" if with_new.ok else "")
        )
    who = {
        "pvops": "its xen backend (the kernel's C code never reads vcpu_info)",
        "xenolinux-3.0": "the kernel itself (its C code reads vcpu_info)",
    }
    for guest in ("pvops", "xenolinux-3.0"):
        verdicts.append(
            f"{guest}: the same binary {_verdict(runs[guest, 'after'])}; rebuilt against "
            f"the new headers, {who[guest]}, it {_verdict(runs[guest, 'rebuilt'])} - and "
            f"on {FIX_FROM} it then {_verdict(runs[guest, 'rebuilt, old hv'])}"
        )
    before = [g for g in old if not runs[g, "before"].ok]
    if before:
        verdicts.insert(0, f"(did not run before the fix: {', '.join(before)})")
    return ScenarioResult("shared-layout-fix", question, "; ".join(verdicts), list(runs.values()))


def run_scenarios(
    names: Sequence[str] | None = None, model: CostModel | None = None
) -> list[ScenarioResult]:
    """Run the named scenarios (all by default) in registration order."""
    model = model or CostModel()
    chosen = list(names) if names else list(SCENARIOS)
    return [SCENARIOS[name](model) for name in chosen]
