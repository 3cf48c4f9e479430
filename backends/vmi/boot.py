"""The VMI boot entrypoint: the native path, with the hypervisor's ROM at 0xC0000.

A VMI kernel is a native kernel: it is entered exactly as on bare metal
(:func:`pvops.backends.native.boot.native_boot`) and finds its hypervisor by
probing the option-ROM window.  On bare metal the ROM to map is the native
one, under the full-virtualizing hvm model its own (page tables through
its backdoor); on Xen a VMI kernel needs
more than a ROM (translated memory, a ring-1 entry, emulation until the ROM
takes over), which the Xen models' VMI domain builder provides.
"""

from __future__ import annotations

from pvops.backends.native.boot import native_boot
from pvops.backends.vmi.rom import build_rom
from pvops.boot import BootNotAvailableError, BootRequest

OPTION_ROM_BASE = 0xC0000
ROM_FOR = {"native": "native", "hvm": "hvm"}  # hypervisor -> the ROM it maps


def vmi_boot(request: BootRequest) -> None:
    """Enter the kernel natively with the hypervisor's VMI ROM mapped at 0xC0000.

    Raises:
        BootNotAvailableError: a hypervisor whose VMI support is more than a
            ROM (Xen: boot through its model), or what native boot refuses.
    """
    rom = ROM_FOR.get(request.hypervisor)
    if rom is None:
        msg = (
            f"a VMI kernel on {request.hypervisor} needs that hypervisor's domain builder, "
            "not just a ROM: boot it with its model (pvops run --hv, XenPlatform)"
        )
        raise BootNotAvailableError(msg)
    native_boot(request)
    write = getattr(request.cpu, "write", None)
    if write is None:
        msg = f"VMI boot needs a machine with physical memory, not {type(request.cpu).__name__}"
        raise BootNotAvailableError(msg)
    write(OPTION_ROM_BASE, build_rom(rom))
