"""The boot entrypoint protocol.

Each backend brings its own way into the kernel (no register sniffing):
bare metal enters at the ELF entry in ring 0 with a Multiboot hand-off; Xen
builds a domain from ``__xen_guest`` and enters the kernel's Xen entry in
ring 1 with start_info; VMI enters natively with a ROM mapped at 0xC0000.
An entrypoint receives everything the loader knows and leaves the CPU at
the kernel's first instruction.
"""

from __future__ import annotations

from typing import Protocol

import attrs

from pvops.hw import Cpu


@attrs.frozen
class BootRequest:
    """What an entrypoint is handed: the CPU, the kernel image, its command line."""

    cpu: Cpu
    image: object  # a pvops.image.GuestImage
    cmdline: str
    hypervisor: str


class BootEntrypoint(Protocol):
    """Load the image the way this backend's platform loads it and set up entry state."""

    def __call__(self, request: BootRequest) -> None: ...


class BootNotAvailableError(RuntimeError):
    """The backend cannot boot this request (wrong platform, missing model)."""
