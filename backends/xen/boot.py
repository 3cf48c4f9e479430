"""The Xen boot entrypoint: a domain built from ``__xen_guest``, entered in ring 1."""

from __future__ import annotations

from pvops.boot import BootNotAvailableError, BootRequest


def xen_boot(request: BootRequest) -> None:
    """Build the domain the way the image's Xen version does and enter its Xen entry."""
    msg = f"booting on {request.hypervisor} needs the Xen hypervisor models, not built yet"
    raise BootNotAvailableError(msg)
