"""The native-path VMI domain builder (not modeled yet: VMI kernels are refused)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pvops.backends.xen.models.domain import Domain
from pvops.image import GuestImage

if TYPE_CHECKING:
    from pvops.backends.xen.models.hypervisor import Xen


def is_vmi_kernel(image: GuestImage) -> bool:
    """Whether ``image`` carries VMI annotations (a kernel that probes for a ROM)."""
    return bool(image.vmi_annotations)


def build(xen: Xen, image: GuestImage, *, memory: int, cmdline: str, name: str) -> Domain:
    """Build a translated domain entered at the native entry (not modeled yet)."""
    del xen, image, memory, cmdline, name
    msg = "this Xen model has no VMI domain builder"
    raise ValueError(msg)
