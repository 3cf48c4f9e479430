"""The ``pvops`` command line.

Every command prints a rich table for people and, with ``--json``, the same
facts for programs.  Errors are one line on stderr and a non-zero exit,
never a traceback: the CLI catches the errors it knows and says what went
wrong in the user's terms.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from pvops.ops import catalog
from pvops.registry import REGISTRY, Backend, OpStatus, RegistryError, describe

STATUS_CELL = {
    OpStatus.IMPLEMENTED: "[green]implemented[/]",
    OpStatus.NATIVE_DEFAULT: "[dim]native[/]",
    OpStatus.NOP: "[yellow]nop[/]",
}

# Tables are wide; when piped, do not squeeze them into 80 columns.
PIPE_WIDTH = 160


def console() -> Console:
    """A console for tables: the terminal's width, or a wide one when piped."""
    return Console(width=None if sys.stdout.isatty() else PIPE_WIDTH)


class CliError(click.ClickException):
    """An error the user can act on, printed as one line."""


def _emit_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2))


def _backends(name: str | None) -> list[Backend]:
    try:
        return [REGISTRY.get(name)] if name else REGISTRY.all()
    except RegistryError as exc:
        raise CliError(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pvops")
def cli() -> None:
    """pvops: paravirt_ops, VMI and XenoLinux, head to head."""


@cli.command("ops")
@click.option("--backend", "backend_name", metavar="NAME", help="Show this backend's status only.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def ops_command(backend_name: str | None, *, as_json: bool) -> None:
    """Every op: group, number, signature, default, and what each backend did with it."""
    backends = _backends(backend_name)
    statuses = {b.name: {r.spec.name: r for r in describe(b)} for b in backends}
    if as_json:
        rows: list[dict[str, Any]] = []
        for spec in catalog():
            row: dict[str, Any] = {
                "group": spec.group,
                "name": spec.name,
                "number": spec.number,
                "signature": spec.signature,
                "default": spec.default_name,
                "doc": spec.doc,
            }
            if backend_name:
                report = statuses[backend_name][spec.name]
                row["status"] = report.status.value
                row["impl"] = report.impl_name
            else:
                row["backends"] = {b: s[spec.name].status.value for b, s in statuses.items()}
            rows.append(row)
        _emit_json(rows)
        return
    table = Table(title=f"pvops ops ({len(catalog())})", show_lines=False)
    for column in ("#", "op", "signature", "default"):
        table.add_column(column, overflow="fold")
    for name in statuses:
        table.add_column(name)
    if backend_name:
        table.add_column("implementation", overflow="fold")
    for spec in catalog():
        cells = [str(spec.number), spec.name, spec.signature, spec.default_name]
        cells += [STATUS_CELL[per_op[spec.name].status] for per_op in statuses.values()]
        if backend_name:
            cells.append(statuses[backend_name][spec.name].impl.__qualname__)
        table.add_row(*cells)
    console().print(table)


@cli.command("backends")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def backends_command(*, as_json: bool) -> None:
    """The registered backends and how many ops each implements."""
    rows: list[dict[str, Any]] = []
    for backend in REGISTRY.all():
        counts = {status.value: 0 for status in OpStatus}
        for report in describe(backend):
            counts[report.status.value] += 1
        rows.append(
            {
                "name": backend.name,
                "description": backend.description,
                "hypervisors": list(backend.hypervisors),
                "kernel_rpl": backend.info.kernel_rpl,
                "paravirt_enabled": backend.info.paravirt_enabled,
                "ops": counts,
            }
        )
    errors = dict(REGISTRY.discovery_errors)
    if as_json:
        _emit_json(rows)
    else:
        table = Table(title="pvops backends")
        for column in ("name", "description", "hypervisors", "rpl", "implemented", "native", "nop"):
            table.add_column(column, overflow="fold")
        for row in rows:
            counts = row["ops"]
            table.add_row(
                row["name"],
                row["description"],
                ", ".join(row["hypervisors"]),
                str(row["kernel_rpl"]),
                str(counts["implemented"]),
                str(counts["native-default"]),
                str(counts["nop"]),
            )
        console().print(table)
    for name, why in errors.items():
        click.echo(f"pvops: warning: backend {name!r} failed to load: {why}", err=True)


@cli.command("build")
@click.option(
    "--flavour",
    "flavours",
    multiple=True,
    metavar="F",
    help="A flavour to build (repeatable; default: all of them).",
)
@click.option("--src", type=click.Path(file_okay=False, path_type=Path), help="Kernel sources.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--force", is_flag=True, help="Rebuild even if cached.")
def build_command(
    flavours: tuple[str, ...], src: Path | None, out: Path | None, *, force: bool
) -> None:
    """Build the reference guest kernel in one or more flavours (cached by content)."""
    from pvops.guest.build import FLAVOURS, BuildError, build  # noqa: PLC0415 - optional heavy

    for flavour in flavours or FLAVOURS:
        try:
            target = None if out is None else out / f"{flavour}.elf"
            if target is not None:
                out.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
            path = build(flavour, src=src, out=target, force=force)
        except BuildError as exc:
            raise CliError(f"building {flavour}: {exc}") from None
        click.echo(f"{flavour}: {path}")


@cli.command("run")
@click.option("--guest", required=True, metavar="FLAVOUR", help="Guest kernel flavour.")
@click.option("--hv", default="native", show_default=True, help="Hypervisor model.")
@click.option("--workload", required=True, metavar="W", help="Workload to run.")
@click.option("--iterations", default=100, show_default=True, type=click.IntRange(0))
@click.option("--no-patch", is_flag=True, help="Leave the patch sites as built.")
@click.option("--force-load", is_flag=True, help="Skip the loader's version check.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--trace", "tracing", is_flag=True, help="Print every sensitive event (slow).")
def run_command(
    guest: str,
    hv: str,
    workload: str,
    iterations: int,
    *,
    no_patch: bool,
    force_load: bool,
    as_json: bool,
    tracing: bool,
) -> None:
    """Boot a guest flavour on a hypervisor model, run a workload, verify its checksum."""
    from pvops.guest.build import FLAVOURS  # noqa: PLC0415
    from pvops.guest.checksums import WORKLOADS  # noqa: PLC0415
    from pvops.lab.run import run_workload  # noqa: PLC0415
    from pvops.lab.trace import TraceEvent  # noqa: PLC0415
    from pvops.platform.model import model_names  # noqa: PLC0415

    _choose("guest flavour", guest, FLAVOURS)
    _choose("hypervisor", hv, model_names())
    _choose("workload", workload, WORKLOADS)

    def show(event: TraceEvent) -> None:
        click.echo(f"{event.index:>10}  {event.eip:08x}  cpl{event.cpl}  {event.text}")

    result = run_workload(
        guest,
        hv,
        workload,
        iterations,
        patch=not no_patch,
        force=force_load,
        tracer=show if tracing else None,
    )
    if as_json:
        _emit_json(result.to_json())
    else:
        _show_run(result)
    if not result.ok:
        raise click.exceptions.Exit(1)


def _choose(what: str, value: str, known: Iterable[str]) -> None:
    options = sorted(known)
    if value not in options:
        raise CliError(f"unknown {what} {value!r} (known: {', '.join(options)})")


def _show_run(result: Any) -> None:
    table = Table(title=f"{result.guest} on {result.hv}: {result.workload} x{result.iterations}")
    table.add_column("")
    table.add_column("")
    verdict = "[green]passed[/]" if result.ok else f"[red]{result.outcome}[/]: {result.reason}"
    rows = [
        ("result", verdict),
        ("backend", result.backend or "-"),
        ("guest instructions", f"{result.guest_instructions:,}"),
        ("op calls", f"{sum(sum(v.values()) for v in result.dispatches.values()):,}"),
        ("traps by vector", ", ".join(f"{v}: {n}" for v, n in result.traps.items()) or "-"),
        ("tlb flushes / misses", f"{result.tlb_flushes:,} / {result.tlb_misses:,}"),
        ("patch sites", ", ".join(f"{k} {v}" for k, v in result.patch_sites.items() if v) or "-"),
        ("wall", f"{result.wall_s:.2f} s"),
    ]
    if result.hypercalls:
        rows.append(("hypercalls", ", ".join(f"{k} {v:,}" for k, v in result.hypercalls.items())))
    if result.exits:
        rows.append(("exits", ", ".join(f"{k} {v:,}" for k, v in result.exits.items())))
    if result.upcalls:
        rows.append(("upcalls", f"{result.upcalls:,}"))
    for key, value in rows:
        table.add_row(key, value)
    out = console()
    out.print(table)
    if result.dispatches:
        ops = Table(title="op calls (direct / indirect)")
        for column in ("op", "direct", "indirect"):
            ops.add_column(column)
        for name, via in sorted(result.dispatches.items(), key=lambda kv: -sum(kv[1].values())):
            ops.add_row(name, str(via.get("direct", 0)), str(via.get("indirect", 0)))
        out.print(ops)
    if result.last_state:
        out.print(result.last_state, markup=False, highlight=False)


def _cost_model(path: Path | None, sets: tuple[str, ...]) -> Any:
    """The default cost table, then a TOML file's figures, then ``--set EVENT=CYCLES``."""
    from pvops.lab.cost import Cost, CostError, CostModel, load_cost_model  # noqa: PLC0415

    try:
        model = load_cost_model(path) if path else CostModel()
        overrides: dict[str, float | Cost] = {}
        for item in sets:
            event, sep, value = item.partition("=")
            try:
                cycles = float(value)
            except ValueError:
                cycles = -1.0
            if not sep or cycles < 0:
                msg = f"--set {item!r}: expected EVENT=CYCLES, a non-negative number"
                raise CostError(msg)
            overrides[event.strip()] = Cost(cycles, "override from --set")
        return model.with_overrides(overrides) if overrides else model
    except CostError as exc:
        raise CliError(str(exc)) from None


COST_SET = click.option(
    "--set",
    "cost_sets",
    multiple=True,
    metavar="EVENT=CYCLES",
    help="Override one figure of the cost model (after --cost).",
)


def _split(values: tuple[str, ...]) -> list[str]:
    return [item for value in values for item in value.split(",") if item]


@cli.command("compare")
@click.option("--workloads", "workloads", multiple=True, metavar="W[,W]", help="Workloads.")
@click.option("--hv", "hvs", multiple=True, metavar="HV[,HV]", help="Hypervisor models.")
@click.option("--guests", "guests", multiple=True, metavar="F[,F]", help="Guest flavours.")
@click.option("--iterations", default=200, show_default=True, type=click.IntRange(1))
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--cost", "cost_path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@COST_SET
@click.option("--jobs", default=2, show_default=True, type=click.IntRange(1))
def compare_command(
    workloads: tuple[str, ...],
    hvs: tuple[str, ...],
    guests: tuple[str, ...],
    iterations: int,
    json_path: Path | None,
    plot_path: Path | None,
    cost_path: Path | None,
    cost_sets: tuple[str, ...],
    jobs: int,
) -> None:
    """Every design head to head: modeled cycles per iteration and overhead vs native."""
    from rich.progress import Progress  # noqa: PLC0415

    from pvops.guest.build import FLAVOURS  # noqa: PLC0415
    from pvops.lab import compare as lab  # noqa: PLC0415
    from pvops.platform.model import model_names  # noqa: PLC0415

    chosen_workloads = _split(workloads) or list(lab.WORKLOADS)
    for w in chosen_workloads:
        _choose("workload", w, lab.WORKLOADS)
    for g in _split(guests):
        _choose("guest flavour", g, FLAVOURS)
    for h in _split(hvs):
        _choose("hypervisor", h, model_names())
    pairs = lab.pairs_for(_split(guests), _split(hvs), FLAVOURS, model_names())
    if not pairs:
        raise CliError("no (guest, hypervisor) cell matches those filters")
    model = _cost_model(cost_path, cost_sets)
    cells = lab.with_baseline(lab.cells_for(pairs, chosen_workloads, iterations))
    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("running cells", total=len(cells))
        results = lab.compare(cells, model=model, jobs=jobs, progress=lambda _r: bar.advance(task))
    _show_compare(results)
    if json_path is not None:
        json_path.write_text(json.dumps([r.to_json() for r in results], indent=2))
        click.echo(f"wrote {json_path}")
    if plot_path is not None:
        from pvops.lab.plot import plot_compare  # noqa: PLC0415

        plot_compare(results, plot_path)
        click.echo(f"wrote {plot_path}")


@cli.command("matrix")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of cells.")
@click.option("--force-load", is_flag=True, help="Skip the loaders' version checks.")
@click.option("--jobs", default=2, show_default=True, type=click.IntRange(1))
def matrix_command(*, as_json: bool, force_load: bool, jobs: int) -> None:
    """Every guest flavour on every hypervisor model: refused, passed or failed."""
    from rich.progress import Progress  # noqa: PLC0415

    from pvops.guest.build import FLAVOURS  # noqa: PLC0415
    from pvops.lab.matrix import matrix  # noqa: PLC0415
    from pvops.platform.model import model_names  # noqa: PLC0415

    hvs = model_names()
    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("booting cells", total=len(FLAVOURS) * len(hvs))
        results = matrix(hvs, force=force_load, jobs=jobs, progress=lambda _r: bar.advance(task))
    if as_json:
        _emit_json([r.to_json() for r in results])
        return
    style = {
        "passed": "[green]passed[/]",
        "refused": "[yellow]refused[/]",
        "failed": "[red]failed[/]",
    }
    grid = Table(title="pvops matrix: guest flavour (rows) on hypervisor model (columns)")
    grid.add_column("guest")
    for hv in hvs:
        grid.add_column(hv)
    notes: list[str] = []
    for guest in FLAVOURS:
        cells = []
        for r in (r for r in results if r.guest == guest):
            mark = ""
            if r.reason:
                notes.append(f"[{len(notes) + 1}] {r.guest} on {r.hv}: {r.reason}")
                mark = f" [{len(notes)}]"
            cells.append(style[r.outcome] + mark)
        grid.add_row(guest, *cells)
    out = console()
    out.print(grid)
    for note in notes:
        out.print(note, markup=False, highlight=False)


@cli.command("scenarios")
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of scenarios.")
@click.option("--cost", "cost_path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@COST_SET
def scenarios_command(
    names: tuple[str, ...], *, as_json: bool, cost_path: Path | None, cost_sets: tuple[str, ...]
) -> None:
    """The 2006 debate's arguments, each run and reported with its evidence."""
    from pvops.lab.scenarios import SCENARIOS, run_scenarios  # noqa: PLC0415

    for name in names:
        _choose("scenario", name, SCENARIOS)
    model = _cost_model(cost_path, cost_sets)
    results = run_scenarios(list(names) or None, model)
    if as_json:
        _emit_json([r.to_json() for r in results])
        return
    out = console()
    for r in results:
        table = Table(title=f"{r.name}: {r.question}", title_justify="left", show_lines=False)
        for column in ("run", "guest@hv", "workload", "result", "modeled cycles", "basis"):
            table.add_column(column)
        for e in r.evidence:
            table.add_row(
                e.label,
                f"{e.guest}@{e.hv}",
                f"{e.workload} x{e.iterations}",
                "[green]ok[/]" if e.ok else f"[red]{e.outcome}[/] {e.reason}",
                f"{e.modeled_cycles:,.0f}" if e.ok else "-",
                e.basis,
            )
        out.print(table)
        out.print(f"[bold]outcome:[/] {r.outcome}\n")


def _show_compare(results: Sequence[Any]) -> None:
    from pvops.lab.compare import TABLE_COLUMNS, table_row  # noqa: PLC0415

    table = Table(title="pvops compare: modeled cycles per iteration (overhead vs native@native)")
    for column in TABLE_COLUMNS:
        table.add_column(
            column, justify="right" if "/" in column or column == "overhead" else "left"
        )
    for r in results:
        styled = "[green]ok[/]" if r.ok else f"[red]{r.outcome}[/] {r.reason}"
        table.add_row(*table_row(r)[:-1], styled)
    console().print(table)


@cli.command("cost")
@click.option("--cost", "cost_path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@COST_SET
@click.option("--toml", "as_toml", is_flag=True, help="Print the table as a TOML file for --cost.")
@click.option("--json", "as_json", is_flag=True, help="Print {event: {cycles, source}}.")
def cost_command(
    cost_path: Path | None, cost_sets: tuple[str, ...], *, as_toml: bool, as_json: bool
) -> None:
    """The cost model: cycles per event and where each figure comes from."""
    model = _cost_model(cost_path, cost_sets)
    if as_toml:
        click.echo(model.to_toml(), nl=False)
        return
    if as_json:
        _emit_json({e: {"cycles": c.cycles, "source": c.source} for e, c in model.costs.items()})
        return
    table = Table(title="pvops cost model: extra cycles per event")
    for column in ("event", "cycles", "source"):
        table.add_column(column, justify="right" if column == "cycles" else "left")
    for event, cost in model.costs.items():
        table.add_row(event, f"{cost.cycles:,g}", cost.source)
    console().print(table)


@cli.command("bench")
@click.option("--repeats", default=5, show_default=True, type=click.IntRange(1))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def bench_command(repeats: int, *, as_json: bool) -> None:
    """Measure the core: MIPS, gate dispatch cost, and unicorn on the same code."""
    from pvops.bench.build import ToolchainError  # noqa: PLC0415
    from pvops.bench.core import BenchError, run_core_bench  # noqa: PLC0415

    try:
        figures = run_core_bench(repeats)
    except (ToolchainError, BenchError) as exc:
        raise CliError(str(exc)) from None
    if as_json:
        _emit_json(figures)
        return
    table = Table(title=f"pvops bench (medians of {repeats})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        shown = f"{value * 1000:,.2f} ms" if key.endswith("_s") else f"{value:,.1f}"
        table.add_row(key, shown)
    console().print(table)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status (errors: one line on stderr)."""
    try:
        cli.main(
            args=list(argv) if argv is not None else None, prog_name="pvops", standalone_mode=False
        )
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        click.echo("pvops: aborted", err=True)
        return 130
    except click.ClickException as exc:
        click.echo(f"pvops: error: {exc.format_message()}", err=True)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
