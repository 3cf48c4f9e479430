"""The native boot entrypoint: a Multiboot hand-off on bare metal, in ring 0."""

from __future__ import annotations

from pvops.boot import BootNotAvailableError, BootRequest


def native_boot(request: BootRequest) -> None:
    """Load the kernel at its physical addresses and enter it at the ELF entry."""
    msg = f"native boot of {request.image!r} needs the image loader, not built yet"
    raise BootNotAvailableError(msg)
