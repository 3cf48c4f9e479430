"""Every flavour on every hypervisor model it boots on: it passes, and for its design's reasons.

The real system end to end: the guest is built, loaded and run on the
model, and a run only counts when the host's checksum agrees.  The counts
then show the mechanism behind each design (hypercalls for the Xen ports,
VM exits for the unmodified kernel on hvm), the Xen loaders refuse a
mismatched kernel with the release's own words, and two domains of
different flavours share one machine without reaching each other's frames.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable

import pytest

from pvops.backends.xen.models.abi import DOMID_SELF, EINVAL, PTE_PRESENT, PTE_PSE, PTE_RW
from pvops.backends.xen.models.abi import version as xen_version
from pvops.backends.xen.models.domain import Domain, RunState
from pvops.backends.xen.models.hypervisor import Xen, xen_of
from pvops.backends.xen.models.mm import PageType
from pvops.backends.xen.platform import XenPlatform
from pvops.cpu import StopReason
from pvops.guest.build import build
from pvops.guest.checksums import expected_checksum, parse_result
from pvops.image import load_image
from pvops.lab.run import RunResult, boot_image, cmdline, finish, run_workload
from pvops.platform.model import Session

ITERATIONS = 3
WORKLOADS = ["syscall", "ctxsw", "pagefault", "fork", "irq", "mmap", "compute"]
PAIRS = [
    ("pvops", "hvm"),
    ("pvops", "xen-3.0.1"),
    ("pvops", "xen-3.0.2"),
    ("vmi", "hvm"),
    ("vmi", "xen-2.0.2"),
    ("vmi", "xen-2.0.7"),
    ("vmi", "xen-3.0.1"),
    ("vmi", "xen-3.0.2"),
    ("xenolinux-2.0", "xen-2.0.2"),
    ("xenolinux-2.0", "xen-2.0.7"),
    ("xenolinux-3.0", "xen-3.0.1"),
    ("xenolinux-3.0", "xen-3.0.2"),
    ("native", "hvm"),
]
XENOLINUX_PAIRS = [pair for pair in PAIRS if pair[0].startswith("xenolinux")]
VMI_ON_XEN = [pair for pair in PAIRS if pair[0] == "vmi" and pair[1].startswith("xen")]
PAIR_RELEASE = "xen-3.0.1"
PAIR_MEMORY = 64 << 20
CHECK_EVERY = 100_000  # instructions between isolation checks while the pair runs
MAX_CHUNKS = 200


def ids(pairs: Iterable[tuple[str, str]]) -> list[str]:
    """Readable test ids: ``vmi-on-xen-3.0.1``."""
    return [f"{guest}-on-{hv}" for guest, hv in pairs]


@functools.cache
def run(guest: str, hv: str, workload: str, *, force: bool = False) -> RunResult:
    """One run at :data:`ITERATIONS` (cached: the results are only read)."""
    return run_workload(guest, hv, workload, ITERATIONS, patch=True, force=force)


def explain(result: RunResult) -> str:
    """What a failed assertion shows: the reason and the end of the console."""
    tail = result.console[-600:]
    return f"{result.guest} on {result.hv}: {result.reason!r}\nconsole tail:\n{tail}"


# -- 1. every workload passes on every model its flavour boots on ---------------------------


@pytest.mark.parametrize("workload", WORKLOADS)
@pytest.mark.parametrize(("guest", "hv"), PAIRS, ids=ids(PAIRS))
def test_workload_passes_with_verified_checksum(guest: str, hv: str, workload: str) -> None:
    """The guest prints its result line and the host's checksum agrees."""
    result = run(guest, hv, workload)
    assert result.ok, explain(result)
    assert result.outcome == "passed", explain(result)
    assert parse_result(result.console) == (
        workload,
        ITERATIONS,
        expected_checksum(workload, ITERATIONS),
    )


# -- 2. the mechanisms, in the counts -------------------------------------------------------


@pytest.mark.parametrize("hv", ["xen-3.0.1", "xen-3.0.2"])
def test_pvops_on_xen_runs_its_xen_backend_through_mmu_hypercalls(hv: str) -> None:
    """pvops binds the xen backend; its page tables change by mmu_update/mmuext_op, no exits."""
    result = run("pvops", hv, "fork")
    assert result.ok, explain(result)
    assert result.backend == "xen"
    mmu = result.hypercalls.get("mmu_update", 0) + result.hypercalls.get("mmuext_op", 0)
    assert mmu > 0, result.hypercalls
    assert result.mmu_entries > 0  # entries Xen validated before they went live
    assert result.exits == {}


@pytest.mark.parametrize(("guest", "hv"), XENOLINUX_PAIRS, ids=ids(XENOLINUX_PAIRS))
def test_xenolinux_is_a_port_that_only_hypercalls(guest: str, hv: str) -> None:
    """XenoLinux has no pvops backend: it calls Xen itself, page tables too, and never exits."""
    result = run(guest, hv, "fork")
    assert result.ok, explain(result)
    assert result.backend is None
    assert result.hypercalls.get("mmu_update", 0) > 0, result.hypercalls
    assert result.mmu_entries > 0
    assert result.exits == {}


@pytest.mark.parametrize(("guest", "hv"), VMI_ON_XEN, ids=ids(VMI_ON_XEN))
def test_vmi_on_xen_reaches_xen_through_its_rom(guest: str, hv: str) -> None:
    """The ROM's calls become hypercalls: physdev_op (SET_IOPL) and mmu_update (SetPxE)."""
    result = run(guest, hv, "fork")
    assert result.ok, explain(result)
    assert result.hypercalls.get("physdev_op", 0) >= 1, result.hypercalls
    assert result.hypercalls.get("mmu_update", 0) > 0, result.hypercalls
    assert result.mmu_entries > 0  # every SetPxE reached the guest's table and its shadow
    assert result.exits == {}


def test_native_on_hvm_is_trapped_not_paravirtualized() -> None:
    """The unmodified kernel exits on page-table writes and port I/O; it makes no hypercalls."""
    result = run("native", "hvm", "fork")
    assert result.ok, explain(result)
    assert result.exits.get("ptwrite", 0) > 0, result.exits
    assert result.exits.get("io", 0) > 0, result.exits
    assert result.hypercalls == {}


def test_pvops_on_hvm_retires_page_tables_by_hypercall() -> None:
    """release_pt tells the VMM a freed table is data again: fork's reuse of it does not exit.

    Per fork iteration a child's tables are freed and their frames reused at
    once; the native kernel's writes to them exit until write flooding gives
    up on them, pvops's do not.
    """
    runs = {
        g: (run_workload(g, "hvm", "fork", 0), run_workload(g, "hvm", "fork", 10))
        for g in ("native", "pvops")
    }
    ptwrites = {
        g: (full.exits.get("ptwrite", 0) - base.exits.get("ptwrite", 0)) / 10
        for g, (base, full) in runs.items()
    }
    assert all(full.ok for _, full in runs.values())
    assert runs["pvops"][1].backend == "hvm"
    assert ptwrites["pvops"] * 3 < ptwrites["native"], ptwrites


# -- 3. refusals, and forced mismatches -----------------------------------------------------

REFUSALS = [
    ("xenolinux-3.0", "xen-2.0.7", "Xen will only load images built for Xen v2.0"),
    ("xenolinux-2.0", "xen-3.0.1", "Xen will only load images built for Xen v3.0"),
    ("native", "xen-3.0.1", "Not a Xen-ELF image"),
]
FORCED = [("xenolinux-3.0", "xen-2.0.7"), ("xenolinux-2.0", "xen-3.0.1")]


@pytest.mark.parametrize(
    ("guest", "hv", "message"), REFUSALS, ids=ids((g, h) for g, h, _ in REFUSALS)
)
def test_mismatch_is_refused_in_the_release_s_words(guest: str, hv: str, message: str) -> None:
    """The release's loader refuses the image with its own message; nothing runs."""
    result = run(guest, hv, "fork")
    assert not result.ok
    assert result.outcome == "refused"
    assert message in result.reason
    assert result.console == ""
    assert result.guest_instructions == 0


@pytest.mark.parametrize(("guest", "hv"), FORCED, ids=ids(FORCED))
def test_forced_mismatch_fails_cleanly_with_a_reason(guest: str, hv: str) -> None:
    """Forced past the version check, the kernel runs and fails: a result, not an exception."""
    result = run(guest, hv, "fork", force=True)
    assert not result.ok
    assert result.outcome == "failed"
    assert result.reason
    assert "PVOPS-RESULT" not in result.console


@pytest.mark.parametrize(("guest", "hv"), FORCED, ids=ids(FORCED))
def test_forced_mismatch_is_a_guest_crash_for_the_real_reason(guest: str, hv: str) -> None:
    """Xen crashes the domain at the first bounce to the kernel's own ABI's ring-1 selector."""
    image = load_image(build(guest))
    session = boot_image(image, hv, "fork", ITERATIONS, patch=True, force=True)
    result = finish(session, RunResult(guest, hv, "fork", ITERATIONS))
    assert not result.ok
    xen = xen_of(session.machine)
    assert xen is not None
    (dom,) = xen.domains.values()
    assert dom.state is RunState.CRASHED
    kernel_abi = xen_version("xen-3.0.1" if guest.endswith("3.0") else "xen-2.0.7").abi
    assert dom.crash_reason == (
        f"bounce to an invalid code selector {kernel_abi.selectors.ring1_cs:#x}"
    )
    assert dom.crash_reason in result.reason  # the run reports the hypervisor's own words


# -- 4. two guests side by side -------------------------------------------------------------


def boot_pair(workloads: tuple[str, str]) -> tuple[Xen, Domain, Domain, list[Session]]:
    """A vmi guest and a xenolinux-3.0 guest on one xen-3.0.1 machine, built, not yet run."""
    platform = XenPlatform(PAIR_RELEASE)
    guests = [
        (load_image(build("vmi")), cmdline(workloads[0], ITERATIONS)),
        (load_image(build("xenolinux-3.0")), cmdline(workloads[1], ITERATIONS)),
    ]
    sessions = platform.boot_pair(guests, memory=PAIR_MEMORY)
    xen = platform.xen
    assert xen is not None
    vmi, pv = (xen.domains[domid] for domid in sorted(xen.domains))
    assert vmi.shadow is not None  # translated: Xen's shadows are what the CPU walks
    assert pv.shadow is None  # direct paging: the guest's own tables, validated
    return xen, vmi, pv, sessions


def verify_pair(sessions: list[Session], workloads: tuple[str, str]) -> list[RunResult]:
    """Run the pair to its end and verify each console as a single run's is verified."""
    results = [
        RunResult("vmi", PAIR_RELEASE, workloads[0], ITERATIONS),
        RunResult("xenolinux-3.0", PAIR_RELEASE, workloads[1], ITERATIONS),
    ]
    for session, result in zip(sessions, results, strict=True):
        finish(session, result)  # the first runs both domains; the second finds them done
    return results


def test_vmi_and_xenolinux_domains_both_finish_verified() -> None:
    """Both consoles end with their own workload's result line and the host's checksum."""
    workloads = ("fork", "mmap")  # different workloads: a console mixed up cannot pass
    xen, vmi, pv, sessions = boot_pair(workloads)
    results = verify_pair(sessions, workloads)
    for result, workload in zip(results, workloads, strict=True):
        assert result.ok, explain(result)
        assert result.outcome == "passed"
        want = (workload, ITERATIONS, expected_checksum(workload, ITERATIONS))
        assert parse_result(result.console) == want
    assert vmi.state is pv.state is RunState.SHUTDOWN
    # Each domain's hypercalls are its own: the ROM's SET_IOPL is vmi's, console_io
    # XenoLinux's (the vmi kernel's console is its PC's UART, emulated).
    assert "physdev_op" in results[0].hypercalls
    assert "physdev_op" not in results[1].hypercalls
    assert "console_io" in results[1].hypercalls
    assert "console_io" not in results[0].hypercalls
    assert xen.domains == {vmi.domid: vmi, pv.domid: pv}


def label(dom: Domain) -> str:
    """A domain of the pair, by flavour."""
    return f"domain {dom.domid} ({'vmi' if dom.shadow is not None else 'xenolinux-3.0'})"


def frames_of(xen: Xen, dom: Domain) -> set[int]:
    """Every machine frame that is ``dom``'s: memory, shared_info, per-domain and shadow frames."""
    frames = {*dom.p2m, dom.shared_info_mfn, dom.perdomain_mfn}
    frames |= {m for m in range(xen.frames.nframes) if xen.frames.owned_by(m, dom.domid)}
    if dom.shadow is not None:
        frames |= set(dom.shadow.frames)
    return frames


def directories(xen: Xen, dom: Domain) -> set[int]:
    """Every directory the domain runs on or could load as cr3 (machine frames)."""
    if dom.shadow is not None:
        return {dom.baseptr, *dom.shadow.l2.values()}
    validated = {
        mfn
        for mfn in dom.p2m
        if xen.frames.info[mfn].type == PageType.L2 and xen.frames.info[mfn].type_count
    }
    return {dom.baseptr} | validated


def walk(xen: Xen, dom: Domain) -> tuple[set[int], set[int]]:
    """(table frames, mapped frames) reachable below VIRT_START from the domain's directories."""
    tables: set[int] = set()
    mapped: set[int] = set()
    for l2 in directories(xen, dom):
        tables.add(l2)
        for pde in xen.mem.frame_words(l2)[: xen.abi.virt_start >> 22]:
            if not pde & PTE_PRESENT:
                continue
            assert not pde & PTE_PSE, f"{label(dom)}: a large page {pde:#x}"
            tables.add(pde >> 12)
            mapped |= {pte >> 12 for pte in xen.mem.frame_words(pde >> 12) if pte & PTE_PRESENT}
    return tables, mapped


def assert_isolated(xen: Xen, dom: Domain, other: Domain) -> int:
    """No table of ``dom`` is, or maps, a frame of ``other``; returns how many frames it maps."""
    tables, mapped = walk(xen, dom)
    theirs = frames_of(xen, other)
    me, them = label(dom), label(other)
    assert not tables & theirs, f"{me}'s tables include {them}'s frames"
    assert not mapped & theirs, f"{me} maps {them}'s frames"
    strays = [m for m in mapped if not xen.frames.owned_by(m, dom.domid)]
    assert not strays, f"{me} maps frames it does not own: {strays[:8]}"
    if dom.shadow is None:
        for mfn in tables:
            info = xen.frames.info[mfn]
            assert xen.frames.owned_by(mfn, dom.domid)
            assert info.type in (PageType.L1, PageType.L2)
            assert info.type_count
    else:
        assert tables <= set(dom.shadow.frames)  # Xen's frames, kept for this domain
    return len(mapped)


def run_chunk(sessions: list[Session]) -> StopReason:
    """Run the shared machine a little further."""
    return sessions[0].run(CHECK_EVERY)


def test_two_domains_never_map_each_others_frames() -> None:
    """Disjoint frames; at every check, every table of each domain maps only its own frames."""
    xen, vmi, pv, sessions = boot_pair(("fork", "fork"))
    assert not set(vmi.p2m) & set(pv.p2m)
    assert all(xen.frames.owned_by(m, vmi.domid) for m in vmi.p2m)
    assert all(xen.frames.owned_by(m, pv.domid) for m in pv.p2m)
    on_own_tables = False
    stop = StopReason.BUDGET
    for _ in range(MAX_CHUNKS):
        assert assert_isolated(xen, vmi, pv) > 0
        assert assert_isolated(xen, pv, vmi) > 0
        on_own_tables |= vmi.shadow.guest_base is not None
        if stop is not StopReason.BUDGET:
            break
        stop = run_chunk(sessions)
    assert stop is not StopReason.BUDGET, "the pair did not finish"
    assert on_own_tables  # the checks saw the vmi kernel's shadows, not only the boot map
    assert all(r.ok for r in verify_pair(sessions, ("fork", "fork")))


def digest(xen: Xen, frames: Iterable[int]) -> str:
    """A hash of the contents of some machine frames."""
    h = hashlib.sha256()
    for mfn in sorted(frames):
        h.update(xen.mem.read(mfn << 12, 4096))
    return h.hexdigest()


def scratch_va(xen: Xen, dom: Domain, avoid: set[int]) -> int:
    """A kernel virtual address the domain maps writable, outside its page-table frames."""
    for pfn in range(dom.nr_pages - 1, 0, -1):
        va = dom.virt_base + (pfn << 12)
        ma = xen.translate(dom, va, write=True)
        if ma is not None and ma >> 12 not in avoid:
            return va
    pytest.fail(f"{dom.name} maps no writable page")


def mmu_update(xen: Xen, dom: Domain, ptr: int, val: int, avoid: set[int]) -> int:
    """``mmu_update`` from ``dom``, its one request staged in (and then restored to) its memory."""
    layout = xen.abi.mmu_update
    request = bytearray(layout.size)
    layout.pack_into(request, 0, ptr=ptr, val=val)
    va = scratch_va(xen, dom, avoid)
    saved = xen.read_guest(dom, va, layout.size)
    assert isinstance(saved, bytes)
    assert xen.write_guest(dom, va, bytes(request)) == 0
    try:
        nr = xen.abi.number("mmu_update")
        assert nr is not None
        return xen.hypercall(dom, nr, (va, 1, 0, DOMID_SELF, 0))
    finally:
        assert xen.write_guest(dom, va, saved) == 0


def test_a_hypercall_naming_the_other_domain_s_frame_is_refused() -> None:
    """mmu_update mapping a frame of the other domain: -EINVAL, nothing written, both finish."""
    xen, vmi, pv, sessions = boot_pair(("fork", "fork"))
    pager = vmi.shadow
    for _ in range(MAX_CHUNKS):  # until the vmi kernel runs on tables of its own
        if pager.guest_base is not None and pager.l1:
            break
        assert run_chunk(sessions) is StopReason.BUDGET
    assert pager.guest_base is not None
    assert pager.l1

    # The translated domain: a guest-physical entry of a live L1 naming a frame it lacks.
    pfn, shadow_l1 = next(iter(pager.l1.items()))
    words = xen.mem.frame_words(vmi.p2m[pfn])
    index = next(i for i, pte in enumerate(words) if pte & PTE_PRESENT)
    gpa = (pfn << 12) + 4 * index
    entry_ma = (vmi.p2m[pfn] << 12) + 4 * index
    shadow_ma = (shadow_l1 << 12) + 4 * index
    foreign = next(m for m in pv.p2m if m >= vmi.nr_pages)  # no guest frame of vmi's
    pv_before = digest(xen, pv.p2m)
    before = (xen.mem.u32(entry_ma), xen.mem.u32(shadow_ma))
    tables = {vmi.p2m[p] for p in (*pager.l1, *pager.l2)}
    value = (foreign << 12) | PTE_PRESENT | PTE_RW
    assert pager.guest_update(gpa, value) == -EINVAL
    assert mmu_update(xen, vmi, gpa, value, tables) == -EINVAL
    assert (xen.mem.u32(entry_ma), xen.mem.u32(shadow_ma)) == before
    assert digest(xen, pv.p2m) == pv_before
    assert mmu_update(xen, vmi, gpa, before[0], tables) == 0  # the same request, own frame

    # The PV domain: a machine entry of its own live L1 naming one of vmi's frames.
    pde = xen.mem.u32((pv.baseptr << 12) + (pv.virt_base >> 22) * 4)
    l1 = pde >> 12
    assert xen.frames.info[l1].type == PageType.L1
    vmi_before = digest(xen, vmi.p2m)
    pte_before = xen.mem.u32(l1 << 12)
    assert pte_before & PTE_PRESENT  # the kernel's first page: mapped by the builder
    for frame in (vmi.p2m[0], vmi.shared_info_mfn, vmi.baseptr):
        for flags in (PTE_PRESENT, PTE_PRESENT | PTE_RW):
            assert mmu_update(xen, pv, l1 << 12, (frame << 12) | flags, set()) == -EINVAL
    assert xen.mem.u32(l1 << 12) == pte_before
    assert digest(xen, vmi.p2m) == vmi_before
    assert mmu_update(xen, pv, l1 << 12, pte_before, set()) == 0  # its own frame: accepted
    assert vmi.alive
    assert pv.alive

    results = verify_pair(sessions, ("fork", "fork"))
    assert all(r.ok for r in results), [explain(r) for r in results]
