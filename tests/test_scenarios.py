"""pvops scenarios: each outcome is backed by the runs reported with it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pvops.cli import main
from pvops.lab.scenarios import SCENARIOS, run_scenarios


def test_native_performance_reports_each_variant() -> None:
    """native, pvops patched/unpatched and vmi each ran and verified, per iteration."""
    (result,) = run_scenarios(["native-performance"])
    labels = {e.label for e in result.evidence}
    assert labels == {"native", "pvops, patched", "pvops, unpatched", "vmi, no ROM"}
    assert all(e.ok for e in result.evidence)
    assert all(e.basis == "per iteration" for e in result.evidence)
    unpatched = [e for e in result.evidence if e.label == "pvops, unpatched"]
    patched = [e for e in result.evidence if e.label == "pvops, patched"]
    for before, after in zip(unpatched, patched, strict=True):
        assert after.modeled_cycles < before.modeled_cycles  # patching pays


def test_boot_modules_outcome_matches_its_evidence() -> None:
    """The module run has fewer host op calls than the plain one, and says so."""
    (result,) = run_scenarios(["boot-modules"])
    plain, module = result.evidence
    calls = lambda e: e.counts.get("call.direct", 0) + e.counts.get("call.indirect", 0)  # noqa: E731
    assert plain.ok
    assert module.ok
    assert calls(module) < calls(plain)
    assert result.outcome.startswith("yes")


def test_late_registration_takes_the_hvm_mmu() -> None:
    """Built with the hvm backend, pvops ends on it and mmap exits less than without it."""
    (result,) = run_scenarios(["late-registration"])
    native, with_hvm, without, vmi = result.evidence
    exits = lambda e: sum(n for k, n in e.counts.items() if k.startswith("exit."))  # noqa: E731
    assert all(e.ok for e in result.evidence)
    assert "ran on 'hvm' ops" in result.outcome
    assert "stayed on 'native'" in result.outcome
    assert exits(with_hvm) < exits(without)
    assert exits(without) == exits(native)  # the same instructions exit the same way
    assert with_hvm.modeled_cycles < without.modeled_cycles
    # The VMM's ROM gives an unmodified VMI kernel the same batched page-table path.
    assert exits(vmi) == pytest.approx(exits(with_hvm))
    assert vmi.counts.get("exit.ptwrite", 0) == 0 < native.counts["exit.ptwrite"]
    assert vmi.modeled_cycles < native.modeled_cycles / 2


def test_hypervisor_upgrade_survivors() -> None:
    """2.0.7 -> 3.0.1 without rebuilding: vmi survives (a new ROM), xenolinux-2.0 does not."""
    (result,) = run_scenarios(["hypervisor-upgrade"])
    assert "vmi survives" in result.outcome
    assert "pvops-vmi survives" in result.outcome
    assert "xenolinux-2.0 ran before but not after" in result.outcome
    before = {e.label: e for e in result.evidence}
    assert before["xenolinux-2.0 before"].ok
    assert not before["xenolinux-2.0 after"].ok


def test_json_structure(capsys: pytest.CaptureFixture[str]) -> None:
    """--json: a list of {name, question, outcome, evidence}."""
    assert main(["scenarios", "boot-modules", "--json"]) == 0
    (item,) = json.loads(capsys.readouterr().out)
    assert {"name", "question", "outcome", "evidence"} <= set(item)
    assert item["evidence"][0]["guest"] == "pvops"


def test_unknown_scenario_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """A wrong name lists the known ones."""
    assert main(["scenarios", "nope"]) == 1
    err = capsys.readouterr().err
    assert "unknown scenario 'nope'" in err
    assert all(name in err for name in SCENARIOS)


def test_side_by_side_three_flavours_share_one_xen() -> None:
    """vmi, pvops, xenolinux-3.0 and pvops-vmi run at once, verified, on disjoint frames."""
    (result,) = run_scenarios(["side-by-side"])
    by = {e.label: e for e in result.evidence}
    assert "disjoint machine frames" in result.outcome
    guests = ("vmi", "pvops", "xenolinux-3.0", "pvops-vmi")
    for guest in guests:
        together, alone = by[f"{guest}, sharing the machine"], by[f"{guest}, alone"]
        assert together.ok, together.reason
        assert alone.ok, alone.reason
        assert together.workload == alone.workload
        # A domain's requests are its workload's: sharing adds at most a timer event or two.
        assert abs(together.counts["hypercall"] - alone.counts["hypercall"]) <= 2
        assert set(together.counts) <= {"hypercall", "hypercall.mmu_entry", "upcall"}
    machine = by["the shared machine"]
    assert machine.ok
    solo = sum(by[f"{g}, alone"].counts["instruction"] for g in guests)
    assert machine.counts["instruction"] == pytest.approx(solo, rel=0.01)


def test_shared_layout_fix_says_who_must_change_what() -> None:
    """vmi needs the new ROM only; pvops and xenolinux need a rebuild that then ties them."""
    (result,) = run_scenarios(["shared-layout-fix"])
    by = {e.label: e for e in result.evidence}
    fixed, old = "xen-3.0.1-secfix", "xen-3.0.1"
    for guest in ("vmi", "pvops", "xenolinux-3.0"):
        assert by[f"{guest} on {old}"].ok  # every binary ran before the fix
    for guest in ("vmi", "pvops-vmi"):  # paravirt_ops on a ROM gets the ROM's compatibility
        assert by[f"{guest} on {old}"].ok
        assert by[f"{guest}, same binary, on {fixed}"].ok  # the release's new ROM has the fix
        assert not by[f"{guest}, same binary, on {fixed} with {old}'s ROM"].ok  # ... and only it
    for guest in ("pvops", "xenolinux-3.0"):
        broken = by[f"{guest}, same binary, on {fixed}"]
        assert not broken.ok
        assert "killed by exception 14" in broken.reason  # the page fault at the wrong address
        assert by[f"{guest} rebuilt (xen=xen-3.0-secfix) on {fixed}"].ok
        assert not by[f"{guest} rebuilt (xen=xen-3.0-secfix) on {old}"].ok
    assert "only the hypervisor's ROM had to change" in result.outcome


def test_faster_operation_reaches_vmi_by_rom_and_the_others_by_rebuild() -> None:
    """The auto-flush release: vmi gains at once; pvops and xenolinux only when rebuilt."""
    (result,) = run_scenarios(["faster-operation"])
    by = {e.label: e for e in result.evidence}
    old, new = "xen-3.0.1", "xen-3.0.1-autoflush"

    def pair(label: str) -> tuple[float, float]:
        before, after = by[f"{label}, on {old}"], by[f"{label}, on {new}"]
        assert before.ok, before.reason
        assert after.ok, after.reason
        return before.counts["hypercall"], after.counts["hypercall"]

    before, after = pair("vmi, same binary")
    assert after == pytest.approx(before - 4)  # mmap unmaps 4 pages: 4 InvalPage hypercalls gone
    for guest in ("pvops", "xenolinux-3.0"):
        assert pair(f"{guest}, same binary")[0] == pair(f"{guest}, same binary")[1]
        before, after = pair(f"{guest}, rebuilt (xen=xen-3.0-autoflush)")
        assert after == pytest.approx(before - 4)
        stale = by[f"{guest}, same binary, on {new}"]
        fresh = by[f"{guest}, same binary, on {old}"]
        assert stale.modeled_cycles > fresh.modeled_cycles  # Xen's invalidations on top of its own
    assert pair("pvops-vmi, same binary")[1] == pytest.approx(pair("pvops-vmi, same binary")[0] - 4)
    assert "Benefit with the same binary: vmi, pvops-vmi; need a rebuild: pvops, xenolinux-3.0" in (
        result.outcome
    )


def test_the_scenarios_page_quotes_todays_figures() -> None:
    """Every figure docs/scenarios.md quotes (1,234 or 1.23x) is in a fresh run's outcomes."""
    page = (Path(__file__).parent.parent / "docs" / "scenarios.md").read_text()
    outcomes = " ".join(r.outcome for r in run_scenarios())
    quoted = set(re.findall(r"\d{1,3}(?:,\d{3})+|\d+\.\d+x", page))
    stale = sorted(figure for figure in quoted if figure not in outcomes)
    assert quoted
    assert not stale, f"docs/scenarios.md quotes figures no scenario gives now: {stale}"
