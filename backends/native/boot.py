"""The native boot entrypoint: a Multiboot hand-off on bare metal, in ring 0.

What a boot loader does for a PC: the kernel's segments at their ELF
physical addresses, a Multiboot information block with the memory size and
the command line, EAX = the Multiboot magic, EBX = the block, EIP = the ELF
entry (:func:`pvops.platform.multiboot.multiboot_enter`).  A kernel with no
Multiboot header is not entered: a loader would not find it bootable.
"""

from __future__ import annotations

from pvops.boot import BootNotAvailableError, BootRequest
from pvops.image import GuestImage
from pvops.platform.multiboot import (
    NO_HEADER,
    LoadError,
    PhysicalMemory,
    has_multiboot_header,
    multiboot_enter,
)


def native_boot(request: BootRequest) -> None:
    """Load the kernel at its physical addresses and enter it at the ELF entry.

    Raises:
        BootNotAvailableError: not a GuestImage, no Multiboot header, a CPU
            without physical memory, or the image does not fit (the loader's
            message).
    """
    image = request.image
    if not isinstance(image, GuestImage):
        msg = f"native boot needs a pvops.image.GuestImage, not {type(image).__name__}"
        raise BootNotAvailableError(msg)
    if not has_multiboot_header(image):
        raise BootNotAvailableError(NO_HEADER)
    memory = request.cpu
    if not isinstance(memory, PhysicalMemory):
        msg = f"native boot needs a machine with physical memory, not {type(memory).__name__}"
        raise BootNotAvailableError(msg)
    try:
        multiboot_enter(memory, image, request.cmdline)
    except LoadError as e:
        raise BootNotAvailableError(str(e)) from None
