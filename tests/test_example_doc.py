"""docs/example.md shows real figures: its tables are rerun and compared.

The page runs one ``pvops compare`` command and pastes what it printed.
This test reads the command's workloads and iterations from the page, runs
the same cells through the Python API (the default cells, the default cost
model), and checks every figure of the page's tables and JSON excerpts
against the results; the interpreter is deterministic, so they must be
equal. When the models change on purpose, regenerate the tables with

    python tests/test_example_doc.py

and paste them over the page's, then reread its walk-through.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pvops.guest.build import FLAVOURS
from pvops.lab.compare import (
    TABLE_COLUMNS,
    CellResult,
    cells_for,
    compare,
    pairs_for,
    table_row,
    with_baseline,
)
from pvops.lab.cost import CostModel
from pvops.platform.model import model_names

DOC = Path(__file__).resolve().parent.parent / "docs" / "example.md"
REGENERATE = (
    "docs/example.md is out of date: run `python tests/test_example_doc.py`, paste the tables "
    "it prints over the page's, and check the walk-through's figures against them"
)

MAIN_HEADER = "| " + " | ".join(TABLE_COLUMNS) + " |"
COUNTS_WORKLOAD = "mmap"
COUNTS_CELLS = (
    "native@native",
    "pvops@native",
    "native@hvm",
    "pvops@hvm",
    "pvops@xen-3.0.2",
    "xenolinux-3.0@xen-3.0.2",
    "vmi@xen-3.0.2",
)
COUNTS_HEADER = "| event (cycles each) | " + " | ".join(COUNTS_CELLS) + " |"
RECOST_HEADER = (
    "| workload | guest@hv | cycles/iter (default) | cycles/iter (my.toml) | overhead (my.toml) |"
)
# The page's my.toml, as a cost model (the page shows the same two lines).
RECOST = {"exit.ptwrite": 3000.0, "hypercall": 1000.0}


def example_command(text: str) -> tuple[list[str], int]:
    """The workloads and iterations of the page's ``pvops compare`` command."""
    m = re.search(r"^pvops compare --workloads (\S+) --iterations (\d+)", text, re.MULTILINE)
    assert m, "docs/example.md has no `pvops compare --workloads W,... --iterations N` line"
    return m.group(1).split(","), int(m.group(2))


def run_example(workloads: Sequence[str], iterations: int) -> list[CellResult]:
    """The cells ``pvops compare`` runs with no --guests/--hv, priced by the default model."""
    pairs = pairs_for((), (), FLAVOURS, model_names())
    cells = with_baseline(cells_for(pairs, workloads, iterations))
    with ThreadPoolExecutor(max_workers=2) as pool:
        return compare(cells, model=CostModel(), executor=pool)


def main_row(r: CellResult) -> list[str]:
    """A row as ``pvops compare`` prints it (its columns, its number formats)."""
    return table_row(r)


def counts_rows(results: Sequence[CellResult]) -> list[list[str]]:
    """Counts per iteration of every event, for the page's mmap cells."""
    model = CostModel()
    by = {r.label: r for r in results if r.workload == COUNTS_WORKLOAD}
    chosen = [by[label] for label in COUNTS_CELLS]
    events = sorted({e for r in chosen for e in r.counts_per_iteration})
    return [
        [
            f"`{e}` ({model.cost(e).cycles:,g})",
            *(
                f"{r.counts_per_iteration[e]:g}" if e in r.counts_per_iteration else "-"
                for r in chosen
            ),
        ]
        for e in events
    ]


def recost_rows(results: Sequence[CellResult]) -> list[list[str]]:
    """The cells whose cycles change under the page's my.toml, priced both ways."""
    model = CostModel().with_overrides(RECOST)
    cycles = [(r, model.cycles(r.counts_per_iteration)) for r in results if r.ok]
    native = {r.workload: c for r, c in cycles if (r.guest, r.hv) == ("native", "native")}
    return [
        [
            r.workload,
            r.label,
            f"{r.modeled_cycles_per_iteration:,.0f}",
            f"{c:,.0f}",
            f"{c / native[r.workload]:.2f}x",
        ]
        for r, c in cycles
        if round(c) != round(r.modeled_cycles_per_iteration or 0)
    ]


def markdown(header: str, rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table: the header line, its rule, the rows."""
    rule = "|" + "---|" * header.count(" | ") + "---|"
    return "\n".join([header, rule, *("| " + " | ".join(row) + " |" for row in rows)])


def doc_table(text: str, header: str) -> list[list[str]]:
    """The rows of the page's table that starts with ``header``, cells stripped."""
    assert header in text, f"docs/example.md has no table headed {header!r}: {REGENERATE}"
    lines = text[text.index(header) :].splitlines()[2:]
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


@pytest.fixture(scope="module")
def page() -> str:
    return DOC.read_text()


@pytest.fixture(scope="module")
def results(page: str) -> list[CellResult]:
    return run_example(*example_command(page))


def test_the_table_is_what_the_command_prints(page: str, results: list[CellResult]) -> None:
    """Every row of the page's table, cycles/iter first, equals a fresh run's."""
    shown = doc_table(page, MAIN_HEADER)
    cycles = {(row[0], row[1]): row[3] for row in shown}
    fresh = {(r.workload, r.label): main_row(r)[3] for r in results}
    assert cycles == fresh, REGENERATE
    assert shown == [main_row(r) for r in results], REGENERATE


def test_the_mmap_counts_are_the_runs(page: str, results: list[CellResult]) -> None:
    """The per-event counts the walk-through reads are the run's counts per iteration."""
    assert doc_table(page, COUNTS_HEADER) == counts_rows(results), REGENERATE


def test_the_recosted_figures_follow_from_the_counts(page: str, results: list[CellResult]) -> None:
    """The page's my.toml is the one priced here, and its table is that pricing."""
    assert all(f'"{e}" = {c:g}' in page for e, c in RECOST.items()), REGENERATE
    assert doc_table(page, RECOST_HEADER) == recost_rows(results), REGENERATE


def test_the_json_excerpts_are_the_records(page: str, results: list[CellResult]) -> None:
    """Every ```json excerpt is part of the --json record of the cell it names."""
    blocks = re.findall(r"```json\n(.*?)```", page, flags=re.DOTALL)
    assert blocks
    records = {(r.workload, r.guest, r.hv): r.to_json() for r in results}
    for block in blocks:
        excerpt = json.loads(block)
        record = records[excerpt["workload"], excerpt["guest"], excerpt["hv"]]
        assert {k: record[k] for k in excerpt} == excerpt, REGENERATE


def main() -> None:
    """Print the page's tables from a fresh run, ready to paste."""
    workloads, iterations = example_command(DOC.read_text())
    results = run_example(workloads, iterations)
    print(markdown(MAIN_HEADER, [main_row(r) for r in results]), end="\n\n")
    print(markdown(COUNTS_HEADER, counts_rows(results)), end="\n\n")
    print(markdown(RECOST_HEADER, recost_rows(results)))


if __name__ == "__main__":
    main()
