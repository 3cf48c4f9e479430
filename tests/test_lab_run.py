"""Every workload boots and verifies on bare metal, in every flavour that boots there."""

from __future__ import annotations

import json

import pytest

from pvops.cli import main
from pvops.lab.run import run_workload
from pvops.ops import lookup
from pvops.registry import REGISTRY
from pvops.types import Pte, VirtAddr

WORKLOADS = ["syscall", "ctxsw", "pagefault", "fork", "irq", "mmap", "compute"]
FLAVOURS = [("native", True), ("pvops", True), ("pvops", False), ("vmi", True)]


@pytest.mark.parametrize("workload", WORKLOADS)
@pytest.mark.parametrize(
    ("guest", "patch"), FLAVOURS, ids=["native", "pvops", "pvops-unpatched", "vmi"]
)
def test_workload_passes_on_bare_metal(guest: str, patch: bool, workload: str) -> None:
    """The guest prints its result line and the host's checksum agrees."""
    result = run_workload(guest, "native", workload, 5, patch=patch)
    assert result.ok, (result.reason, result.console[-400:], result.last_state)
    assert result.outcome == "passed"
    assert result.guest_instructions > 10_000


def test_pvops_patching_replaces_indirect_calls() -> None:
    """Patched, every op call arrives by a direct call; unpatched, by the indirect one."""
    patched = run_workload("pvops", "native", "mmap", 5)
    unpatched = run_workload("pvops", "native", "mmap", 5, patch=False)
    assert patched.patch_sites["inline"] > 0
    assert patched.patch_sites["unchanged"] == 0
    assert all("indirect" not in via for via in patched.dispatches.values())
    assert all("direct" not in via for via in unpatched.dispatches.values())
    total = lambda r: sum(sum(v.values()) for v in r.dispatches.values())  # noqa: E731
    assert total(unpatched) > total(patched)  # inlined ops no longer reach the host


def test_a_broken_op_fails_the_run_with_a_reason() -> None:
    """A set_pte that drops its writes is caught: no result line or a bad checksum."""

    def lossy_set_pte(cpu: object, ptep: VirtAddr, pte: Pte) -> None:
        del cpu, ptep, pte

    with REGISTRY.override(lookup("mmu.set_pte"), lossy_set_pte):
        result = run_workload("pvops", "native", "pagefault", 5)
    assert not result.ok
    assert result.reason


def test_unknown_hypervisor_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    """pvops run --hv nowhere: one line, exit 1."""
    code = main(["run", "--guest", "native", "--hv", "nowhere", "--workload", "syscall"])
    assert code == 1
    assert "unknown hypervisor 'nowhere'" in capsys.readouterr().err


def test_run_json_has_the_contract_fields(capsys: pytest.CaptureFixture[str]) -> None:
    """pvops run --json carries what the issue lists."""
    code = main(["run", "--guest", "pvops", "--workload", "syscall", "--iterations", "3", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    for key in (
        "guest",
        "hv",
        "backend",
        "workload",
        "ok",
        "iterations",
        "guest_instructions",
        "dispatches",
        "traps",
        "tlb_flushes",
        "patch_sites",
        "wall_s",
        "console",
    ):
        assert key in data
    assert data["ok"] is True
    assert data["backend"] == "native"


def test_trace_shows_sensitive_instructions(capsys: pytest.CaptureFixture[str]) -> None:
    """--trace lists privileged instructions with their disassembly, and op calls."""
    code = main(["run", "--guest", "pvops", "--workload", "irq", "--iterations", "2", "--trace"])
    out = capsys.readouterr().out
    assert code == 0
    assert "mov cr3, eax" in out or "mov cr0, eax" in out
    assert "call -> mmu.set_pte" in out


def test_console_costs_the_same_for_any_count() -> None:
    """Console output is as long for 5 iterations as for 500: no port I/O per iteration."""
    few = run_workload("native", "native", "compute", 5)
    many = run_workload("native", "native", "compute", 500)
    assert few.ok
    assert many.ok
    assert len(few.console) == len(many.console)
    assert few.sensitive["port_io"] == many.sensitive["port_io"]
