"""The Xen boot entrypoint: a domain built from ``__xen_guest``, entered in ring 1.

X:1600 ``xen_boot`` is what ``pvops run --hv xen-3.0.2`` reaches for a
kernel booted the Xen way: it puts a hypervisor model of the requested
release on the machine (or reuses the one already there, so a second
domain joins the first), has that release's builder check and load the
image (:mod:`.models.loader`: ``__xen_guest``, or for the pvops kernel the
Xen ELF notes naming its ``startup_xen`` entry), and leaves the CPU at the
kernel's Xen entry in ring 1 with ESI pointing at start_info.

M:1601 Lowering the backend's ops for a Xen domain (the gate table the
kernel's ``pv_ops[]`` points at) needs machine frames owned by the domain
and mapped in its address space; :meth:`Xen.build` does not reserve them
yet, so the lead's boot flow must place the table (see the report).
"""

from __future__ import annotations

from pvops.backends.xen import setup
from pvops.backends.xen.models.abi import version
from pvops.backends.xen.models.host import XenHost
from pvops.backends.xen.models.hypervisor import Xen, xen_of
from pvops.boot import BootNotAvailableError, BootRequest
from pvops.image import GuestImage

RESERVED_FRAMES = 512  # left to Xen beyond its fixed frames (per-domain tables, ballooning)
CONFIG_VCPU_INFO_VA = "XEN_VCPU_INFO_VA"  # build-config key: where the kernel maps vcpu_info
CONFIG_FORCE = "XEN_FORCE_LOAD"  # build-config key: skip the builder's version check


def xen_boot(request: BootRequest) -> None:
    """Build the domain the way the image's Xen version does and enter its Xen entry.

    Raises:
        BootNotAvailableError: not a modeled release, or a core without hypervisor hooks.
        LoadError: the release's domain builder refused the image (its own message).
    """
    try:
        release = version(request.hypervisor)
    except KeyError as e:
        raise BootNotAvailableError(str(e)) from None
    host = request.cpu
    if not isinstance(host, XenHost):
        msg = f"{request.hypervisor} needs a core with int, gate and timer hooks"
        raise BootNotAvailableError(msg)
    image = request.image
    if not isinstance(image, GuestImage):
        msg = f"xen boot needs a pvops.image.GuestImage, not {type(image).__name__}"
        raise BootNotAvailableError(msg)
    xen = xen_of(host) or Xen(host, release)
    if xen.version != release:
        msg = f"this machine already runs {xen.version.name}, not {release.name}"
        raise BootNotAvailableError(msg)
    memory = max(0, xen.free_frames() - RESERVED_FRAMES) << 12
    memory = min(memory, 64 << 20) & ~((4 << 20) - 1)
    config = image.config
    dom = xen.create_domain(
        image,
        memory=memory,
        cmdline=request.cmdline,
        force=config.get(CONFIG_FORCE, "n") in ("y", "yes", "1"),
    )
    vcpu_va = config.get(CONFIG_VCPU_INFO_VA)
    setup.set_vcpu_info_va(int(vcpu_va, 0) if vcpu_va else None)
    if xen.current is None:
        xen.start(dom)
