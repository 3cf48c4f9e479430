"""The VMI boot entrypoint: the native path, with the hypervisor's ROM mapped at 0xC0000."""

from __future__ import annotations

from pvops.boot import BootNotAvailableError, BootRequest


def vmi_boot(request: BootRequest) -> None:
    """Map the hypervisor's VMI ROM, then enter the kernel as on bare metal."""
    msg = f"VMI boot on {request.hypervisor} needs the VMI ROMs, not built yet"
    raise BootNotAvailableError(msg)
