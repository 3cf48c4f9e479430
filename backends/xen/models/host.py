"""What the Xen models need from the machine they run on.

X:020 The hypervisor owns the machine: the core's physical memory is
machine memory, and Xen's entry points are the core's hooks.  This
Protocol names exactly the core features the models use, with the names
:class:`pvops.cpu.Machine` gives them, so the real core and a test fake
both satisfy it:

- ``int $0x82`` -> :meth:`XenHost.set_int_hook` (the hypercall trap);
- the IDT's exception and timer vectors -> :meth:`XenHost.add_gate_table`
  (Xen's handlers are host code reached through gates at ring 0);
- the periodic timer interrupt -> :meth:`XenHost.set_timer`;
- domain switches -> the register and segment accessors (the core has no
  single save/restore call; :mod:`.domain` saves field by field);
- writes to validated page-table frames -> :meth:`XenHost.watch_page`.

:class:`pvops.hw.Cpu` already covers registers, control registers and
physical memory; this adds the hypervisor-only parts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol, runtime_checkable

from pvops.hw import Cpu

IntHook = Callable[[Any], None]
GateSlot = Callable[[Any], None]
WatchHook = Callable[[Any, int, int, int], "bool | None"]
SegName = Literal["es", "cs", "ss", "ds", "fs", "gs", "tr", "ldtr"]


@runtime_checkable
class XenHost(Cpu, Protocol):
    """A :class:`~pvops.hw.Cpu` plus the hooks a hypervisor model installs."""

    def get_segment(self, name: SegName) -> tuple[int, int, int, int, int]:
        """The hidden cache of a segment register: (selector, base, limit, access, flags)."""
        ...

    def set_segment(
        self,
        name: SegName,
        selector: int,
        base: int | None = None,
        limit: int | None = None,
        access: int | None = None,
        flags: int | None = None,
    ) -> None:
        """Load a segment register without privilege checks (cs also sets the CPL)."""
        ...

    def set_int_hook(self, vector: int, hook: IntHook | None) -> None:
        """Call ``hook(machine)`` instead of the IDT for ``int $vector``."""
        ...

    def add_gate_table(self, base: int, slots: Sequence[GateSlot]) -> int:
        """Declare 32-byte gates at physical ``base`` dispatching to ``slots``."""
        ...

    def set_timer(self, period: int, vector: int = 0x20) -> None:
        """Raise ``vector`` every ``period`` retired instructions (0 disables)."""
        ...

    def watch_page(self, addr: int, hook: WatchHook | None) -> None:
        """Call ``hook(machine, addr, size, value)`` before guest writes to that page."""
        ...

    def stop(self) -> None:
        """Make ``run()`` return at the next instruction boundary."""
        ...
