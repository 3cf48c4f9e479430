"""The domain builder's image checks: ``__xen_guest`` and what each version demands.

X:200 A XenoLinux kernel says which hypervisor it was built for in its
``__xen_guest`` section, e.g. ``GUEST_OS=linux,GUEST_VER=2.6,XEN_VER=2.0,
VIRT_BASE=0xC0000000,LOADER=generic``.  Both the dom0 builder
(``xen/common/elf.c``) and the domU builder (libxc) check it with
``strstr``, and the messages below are theirs:

- no section: "Not a Xen-ELF image: '__xen_guest' section not found.";
- neither ``LOADER=generic`` nor ``GUEST_OS=linux``: "ERROR: Xen will only
  load images built for the generic loader or Linux images";
- Xen 2.0 wants ``XEN_VER=2.0``, Xen 3.0 ``XEN_VER=xen-3.0``: "ERROR: Xen
  will only load images built for Xen v2.0" (v3.0).  So a 2.0.2 kernel is
  refused by every 3.0.x at load time, before a single instruction runs.

``force=True`` skips the version check (only that one), so the lab can
show what would have happened at run time: the hypercall numbers, layouts
and selectors compiled into the kernel meet a hypervisor that disagrees.

M:201 The ELF notes (``XEN_ELFNOTE_*``) that the pvops kernel uses instead
of ``__xen_guest`` arrived in Xen 3.0.3 (2006-08; FACTS 3c).  The 3.0.x
models accept an image that has the notes and no ``__xen_guest``, reading
the same keys from the notes, so the 2.6.23-style pvops kernel can run on
them; the real 3.0.1/3.0.2 would have refused it with the "not found"
message.  The 2.0 models, which predate notes by two years, refuse it.
"""

from __future__ import annotations

import attrs

from pvops.backends.xen.models.abi import XenVersion
from pvops.boot import BootNotAvailableError
from pvops.image import GuestImage, parse_xen_guest

# XEN_ELFNOTE_* (pvops/guest/include/elfnote.h, Linux 2.6.23 xen-head.S).
NOTE_ENTRY = 1
NOTE_HYPERCALL_PAGE = 2
NOTE_VIRT_BASE = 3
NOTE_XEN_VERSION = 5
NOTE_GUEST_OS = 6
NOTE_LOADER = 8
NOTE_PAE_MODE = 9

NOT_XEN_ELF = "Not a Xen-ELF image: '__xen_guest' section not found."
NOT_LINUX = "ERROR: Xen will only load images built for the generic loader or Linux images"


class LoadError(BootNotAvailableError):
    """The domain builder refused the image; the message is the hypervisor's."""


@attrs.frozen
class GuestInfo:
    """What the builder learnt from the image's ``__xen_guest`` string or Xen notes."""

    source: str  # "__xen_guest" or "notes"
    text: str  # the string the checks run on (notes rendered as KEY=value,...)
    entry: int  # virtual entry point
    virt_base: int
    hypercall_page: int | None  # virtual address of the page the kernel asked for
    pae: bool


def _from_section(image: GuestImage, text: str) -> GuestInfo:
    keys = parse_xen_guest(text)
    virt_base = int(keys.get("VIRT_BASE", "0"), 0) or min(s.vaddr for s in image.segments)
    page = keys.get("HYPERCALL_PAGE")
    return GuestInfo(
        source="__xen_guest",
        text=text,
        entry=image.entry,
        virt_base=virt_base,
        hypercall_page=virt_base + (int(page, 16) << 12) if page else None,
        pae=keys.get("PAE", "no") == "yes",
    )


def _from_notes(image: GuestImage) -> GuestInfo | None:
    notes = {n.type: n for n in image.notes if n.name == "Xen"}
    if not notes:
        return None
    parts = []
    for key, nr in (("GUEST_OS", NOTE_GUEST_OS), ("XEN_VER", NOTE_XEN_VERSION)):
        if nr in notes:
            parts.append(f"{key}={notes[nr].text}")
    if NOTE_LOADER in notes:
        parts.append(f"LOADER={notes[NOTE_LOADER].text}")
    virt_base = notes[NOTE_VIRT_BASE].u32 if NOTE_VIRT_BASE in notes else 0
    virt_base = virt_base or min(s.vaddr for s in image.segments)
    parts.append(f"VIRT_BASE={virt_base:#x}")
    return GuestInfo(
        source="notes",
        text=",".join(parts),
        entry=notes[NOTE_ENTRY].u32 if NOTE_ENTRY in notes else image.entry,
        virt_base=virt_base,
        hypercall_page=notes[NOTE_HYPERCALL_PAGE].u32 if NOTE_HYPERCALL_PAGE in notes else None,
        pae=NOTE_PAE_MODE in notes and notes[NOTE_PAE_MODE].text == "yes",
    )


def check_image(image: GuestImage, version: XenVersion, *, force: bool = False) -> GuestInfo:
    """Run ``version``'s builder checks on ``image``; the guest info, or :class:`LoadError`.

    Args:
        image: the kernel.
        version: the Xen release whose builder loads it.
        force: skip the ``XEN_VER`` check (and nothing else).
    """
    abi = version.abi
    info: GuestInfo | None = None
    if image.xen_guest_string is not None:
        info = _from_section(image, image.xen_guest_string)
    elif abi.major >= 3:
        info = _from_notes(image)
    if info is None:
        raise LoadError(NOT_XEN_ELF)
    if "LOADER=generic" not in info.text and "GUEST_OS=linux" not in info.text:
        raise LoadError(NOT_LINUX)
    if not force and f"XEN_VER={abi.xen_ver_tag}" not in info.text:
        msg = f"ERROR: Xen will only load images built for Xen v{abi.major}.{abi.minor}"
        raise LoadError(msg)
    if info.pae:
        msg = "PAE kernels are not modeled (the modeled hypervisors are non-PAE)"
        raise LoadError(msg)
    if not any(s.contains(info.entry) for s in image.segments):
        msg = "Malformed ELF image."
        raise LoadError(msg)
    if any(s.vaddr < info.virt_base for s in image.segments if s.memsz):
        msg = f"ELF segment below VIRT_BASE {info.virt_base:#x}"
        raise LoadError(msg)
    return info
