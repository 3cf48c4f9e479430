"""pvops matrix: outcomes come from the mechanisms, with the loaders' words."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from pvops.cli import main
from pvops.lab.matrix import MatrixCell, matrix, run_cell


def test_bare_metal_row() -> None:
    """native, both pvops kernels and vmi pass on bare metal; XenoLinux has no Multiboot header."""
    with ThreadPoolExecutor(2) as pool:
        results = matrix(["native"], executor=pool)
    outcome = {r.guest: r.outcome for r in results}
    assert outcome == {
        "native": "passed",
        "pvops": "passed",
        "pvops-vmi": "passed",
        "vmi": "passed",
        "xenolinux-2.0": "refused",
        "xenolinux-3.0": "refused",
    }
    refused = next(r for r in results if r.guest == "xenolinux-3.0")
    assert refused.reason == "error: no multiboot header found."


def test_forced_load_crashes_cleanly_with_a_reason() -> None:
    """Forced past the header check, a XenoLinux kernel fails on bare metal, explained."""
    result = run_cell(MatrixCell("xenolinux-3.0", "native", force=True))
    assert result.outcome == "failed"
    assert result.reason


def test_json_lists_every_cell(capsys: pytest.CaptureFixture[str]) -> None:
    """--json: one {guest, hv, outcome, reason} per flavour x model."""
    assert main(["matrix", "--json", "--jobs", "1"]) == 0
    cells = json.loads(capsys.readouterr().out)
    assert all({"guest", "hv", "outcome", "reason"} <= set(c) for c in cells)
    assert {c["outcome"] for c in cells} <= {"refused", "passed", "failed"}
    assert len({(c["guest"], c["hv"]) for c in cells}) == len(cells) >= 5
