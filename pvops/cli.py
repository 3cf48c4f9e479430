"""The ``pvops`` command line.

Every command prints a rich table for people and, with ``--json``, the same
facts for programs.  Errors are one line on stderr and a non-zero exit,
never a traceback: the CLI catches the errors it knows and says what went
wrong in the user's terms.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
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
