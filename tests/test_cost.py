"""The cost model: defaults with sources, pricing, overrides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pvops.cli import main
from pvops.lab.cost import DEFAULT_COSTS, Cost, CostError, CostModel, load_cost_model


class TestDefaults:
    """Every default names its source."""

    def test_every_figure_has_a_source(self) -> None:
        """No figure is anonymous: a citation or a stated assumption."""
        for event, cost in DEFAULT_COSTS.items():
            assert cost.source, event
            assert cost.cycles >= 0, event

    def test_published_figures_are_not_marked_assumed(self) -> None:
        """The ASPLOS 2006 numbers are measurements; guesses say so."""
        assert not DEFAULT_COSTS["trap.syscall"].assumed
        assert DEFAULT_COSTS["trap.syscall"].cycles + DEFAULT_COSTS["instruction"].cycles == 242
        assert DEFAULT_COSTS["tlb.miss"].assumed


class TestPricing:
    """cycles() multiplies counts by costs."""

    def test_cycles_sum_counts_times_costs(self) -> None:
        """1000 instructions + 10 syscalls."""
        model = CostModel()
        counts = {"instruction": 1000, "trap.syscall": 10, "hypercall": 0}
        assert model.cycles(counts) == 1000 * 1.0 + 10 * 241.0
        assert model.breakdown(counts) == {"instruction": 1000.0, "trap.syscall": 2410.0}

    def test_unknown_event_is_an_error(self) -> None:
        """A typo in an event name is not silently free."""
        with pytest.raises(CostError, match="no event 'hypercal'"):
            CostModel().cycles({"hypercal": 1})


class TestOverrides:
    """Costs can be replaced in code or from TOML."""

    def test_with_overrides(self) -> None:
        """A bare number replaces the figure and is sourced as an override."""
        model = CostModel().with_overrides({"hypercall": 1000})
        assert model.cost("hypercall") == Cost(1000.0, "override")
        assert CostModel().cost("hypercall").cycles == 241.0

    def test_toml_round_trip(self, tmp_path: Path) -> None:
        """to_toml() output loads back to the same figures."""
        path = tmp_path / "costs.toml"
        path.write_text(CostModel().to_toml())
        loaded = load_cost_model(path)
        assert {k: c.cycles for k, c in loaded.costs.items()} == {
            k: c.cycles for k, c in DEFAULT_COSTS.items()
        }

    def test_toml_errors_are_clear(self, tmp_path: Path) -> None:
        """Bad values and unknown events name the problem."""
        path = tmp_path / "costs.toml"
        path.write_text('[costs]\nhypercall = "fast"\n')
        with pytest.raises(CostError, match="hypercall = 'fast'"):
            load_cost_model(path)
        path.write_text("[costs]\nwarp = 3\n")
        with pytest.raises(CostError, match="no event 'warp'"):
            load_cost_model(path)
        path.write_text("costs = [")
        with pytest.raises(CostError, match="cannot read"):
            load_cost_model(path)


class TestCostCommand:
    """``pvops cost``: the table, as TOML a --cost file can start from, with --set overrides."""

    def test_toml_round_trips_through_load_cost_model(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """What --toml prints, read back, is the same table."""
        assert main(["cost", "--toml"]) == 0
        path = tmp_path / "costs.toml"
        path.write_text(capsys.readouterr().out)
        model = load_cost_model(path)
        assert {e: c.cycles for e, c in model.costs.items()} == {
            e: c.cycles for e, c in DEFAULT_COSTS.items()
        }

    def test_set_overrides_after_the_file(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--cost first, then each --set; the JSON names the source of each figure."""
        path = tmp_path / "c.toml"
        path.write_text('[costs]\n"exit.ptwrite" = 5000\n"hypercall" = 900\n')
        assert main(["cost", "--cost", str(path), "--set", "hypercall=1000", "--json"]) == 0
        table = json.loads(capsys.readouterr().out)
        assert table["exit.ptwrite"] == {"cycles": 5000.0, "source": "override from c.toml"}
        assert table["hypercall"] == {"cycles": 1000.0, "source": "override from --set"}

    @pytest.mark.parametrize(
        ("item", "message"),
        [("nope=1", "no event 'nope'"), ("hypercall=x", "expected EVENT=CYCLES"),
         ("hypercall", "expected EVENT=CYCLES"), ("hypercall=-3", "non-negative")],
    )  # fmt: skip
    def test_bad_set_is_one_line(
        self, item: str, message: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A wrong --set is refused with the reason, before anything runs."""
        assert main(["cost", "--set", item]) == 1
        err = capsys.readouterr().err
        assert message in err
        assert "Traceback" not in err
