"""pvops compare: cells measured, priced and compared; failures stay visible."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest

from pvops.cli import main
from pvops.lab.compare import DEFAULT_CELLS, Cell, cells_for, compare, pairs_for, with_baseline
from pvops.lab.cost import CostModel
from pvops.lab.plot import bar_colors, draw_compare
from pvops.ops import lookup
from pvops.registry import REGISTRY
from pvops.types import Pte, VirtAddr

REQUIRED = {
    "guest",
    "hv",
    "backend",
    "workload",
    "ok",
    "iterations",
    "modeled_cycles_per_iteration",
    "overhead_vs_native",
}


@pytest.fixture(scope="module")
def results() -> list:  # type: ignore[type-arg]
    """native, pvops and vmi on bare metal for two workloads."""
    cells = with_baseline(cells_for([("pvops", "native"), ("vmi", "native")], ["irq", "mmap"], 20))
    with ThreadPoolExecutor(max_workers=2) as pool:
        return compare(cells, executor=pool)


def test_every_cell_is_reported_with_its_numbers(results: list) -> None:  # type: ignore[type-arg]
    """Each cell passes, has cycles per iteration, and native's overhead is exactly 1."""
    assert len(results) == 6
    for r in results:
        assert r.ok, r.reason
        assert r.modeled_cycles_per_iteration > 0
        assert set(r.to_json()) >= REQUIRED
    native = [r for r in results if (r.guest, r.hv) == ("native", "native")]
    assert {r.overhead_vs_native for r in native} == {1.0}


def test_cycles_are_the_priced_counts(results: list) -> None:  # type: ignore[type-arg]
    """modeled cycles = sum of counts per iteration x cost, event by event."""
    model = CostModel()
    for r in results:
        priced = sum(n * model.cost(e).cycles for e, n in r.counts_per_iteration.items())
        assert r.modeled_cycles_per_iteration == pytest.approx(priced)


def test_pvops_pays_for_its_calls_on_mmap(results: list) -> None:  # type: ignore[type-arg]
    """mmap calls set_pte through the table under pvops: more than native, counted."""
    by = {(r.guest, r.workload): r for r in results}
    assert by["pvops", "mmap"].counts_per_iteration.get("call.direct", 0) > 0
    assert by["pvops", "mmap"].overhead_vs_native > 1.0


def test_broken_backend_cells_fail_not_vanish() -> None:
    """With set_pte broken, the pvops cells are present, failed, with a reason."""

    def lossy_set_pte(cpu: object, ptep: VirtAddr, pte: Pte) -> None:
        del cpu, ptep, pte

    cells = [Cell("pvops", "native", "pagefault", 10), Cell("native", "native", "pagefault", 10)]
    with REGISTRY.override(lookup("mmu.set_pte"), lossy_set_pte), ThreadPoolExecutor(1) as pool:
        results = compare(cells, executor=pool)
    assert [r.guest for r in results] == ["pvops", "native"]
    assert not results[0].ok
    assert results[0].reason
    assert results[0].modeled_cycles_per_iteration is None
    assert results[1].ok


def test_cli_writes_json_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--json carries every cell of the table; --plot writes a PNG."""
    out, png = tmp_path / "c.json", tmp_path / "c.png"
    code = main(
        [
            "compare",
            "--workloads",
            "compute",
            "--guests",
            "pvops",
            "--hv",
            "native",
            "--iterations",
            "5",
            "--json",
            str(out),
            "--plot",
            str(png),
            "--jobs",
            "1",
        ]
    )
    assert code == 0
    data = json.loads(out.read_text())
    assert {(d["guest"], d["hv"]) for d in data} == {("pvops", "native"), ("native", "native")}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "pvops@native" in capsys.readouterr().out


def test_filters_cover_every_named_pair() -> None:
    """Named guests and hypervisors: every combination, refused ones included."""
    flavours, models = ("native", "pvops", "vmi"), ("native", "xen-3.0.1")
    assert pairs_for([], [], flavours, models) == [(g, h) for g, h in DEFAULT_CELLS if h in models]
    assert pairs_for([], ["xen-3.0.1"], flavours, models) == [
        ("native", "xen-3.0.1"),
        ("pvops", "xen-3.0.1"),
        ("vmi", "xen-3.0.1"),
    ]
    assert pairs_for(["vmi"], [], flavours, models) == [("vmi", "native"), ("vmi", "xen-3.0.1")]


def test_refused_cell_is_shown_with_the_loaders_reason() -> None:
    """A native kernel on Xen is refused by the builder: present, not ok, with its message."""
    cells = [Cell("native", "xen-3.0.1", "compute", 5)]
    (result,) = compare(cells, executor=ThreadPoolExecutor(1))
    assert result.outcome == "refused"
    assert "__xen_guest" in result.reason
    assert result.modeled_cycles_per_iteration is None


def test_plot_marks_a_failed_cell_inside_the_axes() -> None:
    """A refused cell has no bar but a red x at the bottom of the plot, where it can be seen."""
    cells = [Cell("native", "native", "compute", 5), Cell("native", "xen-3.0.1", "compute", 5)]
    results = compare(cells, executor=ThreadPoolExecutor(1))
    assert [r.ok for r in results] == [True, False]
    fig = draw_compare(results)
    fig.canvas.draw()
    (ax,) = fig.axes
    (mark,) = [t for t in ax.texts if t.get_text() == "x"]
    centre = mark.get_window_extent().get_points().mean(axis=0)
    x, y = ax.transAxes.inverted().transform(centre)
    assert 0 <= x <= 1
    assert 0 <= y <= 1


def test_plot_colours_a_design_by_hue_and_its_platforms_by_shade() -> None:
    """Every cell of one guest shares a hue; each further hypervisor is a lighter shade."""
    cells = [
        SimpleNamespace(guest=g, hv=h, label=f"{g}@{h}")
        for g, h in (("pvops", "native"), ("pvops", "hvm"), ("vmi", "native"), ("pvops", "xen"))
    ]
    colors = bar_colors(cells)  # type: ignore[arg-type]
    first, second, third = (colors[f"pvops@{h}"] for h in ("native", "hvm", "xen"))
    assert all(a <= b <= c for a, b, c in zip(first, second, third, strict=True))
    assert first != third
    assert colors["vmi@native"] not in (first, second, third)
