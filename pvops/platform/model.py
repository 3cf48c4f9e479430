"""Hypervisor models: what a guest image boots on.

A model takes a kernel image and boots it its own way: bare metal enters
the ELF entry with a Multiboot hand-off; a Xen model builds a domain from
``__xen_guest`` and enters in ring 1; a fully virtualizing model runs the
native entry inside a VM. What works where follows from those mechanisms
(loader checks, layouts, the ROM probe), never from a table of allowed
pairs. A model refuses an image only where its real loader would, with that
loader's message (:class:`LoadRefused`).

Booting gives a :class:`Session`: the machine at the kernel's first
instruction, the model's console, and the counts the model keeps.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Protocol

import attrs

from pvops.cpu import Machine, StopReason
from pvops.image import GuestImage
from pvops.lowering import DispatchTable
from pvops.patch import PatchReport

TERMINAL = frozenset({StopReason.HALT, StopReason.TRIPLE_FAULT})


class LoadRefused(Exception):  # noqa: N818 - the loader's verdict, not a host error
    """The model's loader refuses the image; the message is the loader's own."""


@attrs.define
class ModelStats:
    """What a hypervisor model counted: the events the CPU cannot see."""

    hypercalls: dict[str, int] = attrs.field(factory=dict)  # by hypercall name
    exits: dict[str, int] = attrs.field(factory=dict)  # VM exits by reason (io, cr, ...)
    upcalls: int = 0  # event deliveries into the guest (Xen's upcall callback)
    mmu_entries: int = 0  # page-table updates the hypervisor validated


@attrs.define
class Session:
    """One booted guest on one hypervisor model."""

    machine: Machine
    hv: str
    backend: str | None
    console: Callable[[], str]
    table: DispatchTable | None = None
    patch: PatchReport | None = None
    stats: Callable[[], ModelStats] = ModelStats
    # Why the hypervisor crashed the guest, if it did (its own words).
    crash: Callable[[], str | None] = lambda: None

    def run(self, budget: int) -> StopReason:
        """Run until the guest halts for good, faults beyond repair, or spends ``budget``."""
        return StopReason(self.machine.run(max_instructions=budget))


class HypervisorModel(Protocol):
    """Something a guest image boots on."""

    name: str

    def boot(
        self, image: GuestImage, *, cmdline: str, memory: int, patch: bool, force: bool
    ) -> Session:
        """Load ``image`` this model's way and stop at its first instruction.

        Raises:
            LoadRefused: the model's loader refuses the image (unless ``force``
                skips a version check that a real loader would apply).
        """
        ...


MODELS: dict[str, Callable[[], HypervisorModel]] = {}
"""Hypervisor model name -> factory. Models add themselves on import."""


def model(name: str) -> HypervisorModel:
    """A fresh instance of the model called ``name``."""
    _load_models()
    try:
        return MODELS[name]()
    except KeyError:
        msg = f"unknown hypervisor {name!r} (known: {', '.join(sorted(MODELS))})"
        raise KeyError(msg) from None


def model_names() -> list[str]:
    """Every known hypervisor model."""
    _load_models()
    return sorted(MODELS)


MODEL_MODULES = ("pvops.platform.bare", "pvops.platform.hvm", "pvops.backends.xen.platform")
"""Modules that register hypervisor models in :data:`MODELS` when imported."""


def _load_models() -> None:
    for module in MODEL_MODULES:
        importlib.import_module(module)
