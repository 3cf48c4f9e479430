"""The command line: tables, JSON, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pvops.cli import main
from pvops.ops import catalog


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


class TestOps:
    """pvops ops."""

    def test_table_lists_every_op(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The table has a row per op and a column per backend."""
        code, out, _ = run(capsys, "ops")
        assert code == 0
        assert "mmu.lazy_mode.enter" in out
        for backend in ("native", "xen", "vmi"):
            assert backend in out

    def test_json_has_the_contract_fields(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--json: group, name, number, signature, default for every op."""
        code, out, _ = run(capsys, "ops", "--json")
        rows = json.loads(out)
        assert code == 0
        assert len(rows) == len(catalog())
        assert {"group", "name", "number", "signature", "default"} <= set(rows[0])

    def test_json_with_backend_has_status(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--backend xen --json adds a status in the three allowed values."""
        _, out, _ = run(capsys, "ops", "--backend", "xen", "--json")
        rows = {row["name"]: row for row in json.loads(out)}
        assert {row["status"] for row in rows.values()} == {"implemented", "native-default", "nop"}
        assert rows["irq.save_fl"]["status"] == "implemented"
        assert rows["cpu.read_tsc"]["status"] == "native-default"

    def test_unknown_backend_is_one_line(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A bad backend name: exit 1, one line on stderr naming the known ones."""
        code, out, err = run(capsys, "ops", "--backend", "nope")
        assert code == 1
        assert out == ""
        assert err.strip().count("\n") == 0
        assert "unknown backend 'nope'" in err
        assert "native" in err

    def test_bad_option_is_one_line(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Click's usage errors are one line too."""
        code, _, err = run(capsys, "ops", "--bogus")
        assert code == 2
        assert err.strip().count("\n") == 0


class TestBackends:
    """pvops backends."""

    def test_json_lists_the_in_tree_backends(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Each backend with its hypervisors and op counts."""
        code, out, _ = run(capsys, "backends", "--json")
        rows = {row["name"]: row for row in json.loads(out)}
        assert code == 0
        assert {"native", "xen", "vmi"} <= set(rows)
        assert rows["native"]["ops"]["implemented"] == 0
        assert rows["xen"]["kernel_rpl"] == 1
        assert sum(rows["xen"]["ops"].values()) == len(catalog())


def test_console_script_runs(tmp_path: Path) -> None:
    """The installed `pvops` program reports errors without a traceback."""
    program = Path(sys.executable).with_name("pvops")
    result = subprocess.run(
        [str(program), "ops", "--backend", "missing"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,  # not the source tree: the installed package
    )
    assert result.returncode == 1
    assert result.stderr.startswith("pvops: error: unknown backend 'missing'")
    assert "Traceback" not in result.stderr
