"""What a backend's ``patch`` op answers, and the helpers that build answers.

At boot the patcher walks the kernel's patch sites (``.parainstructions``)
and asks the backend's ``init.patch`` op what to write over each one, as
Linux's ``apply_paravirt()`` asks ``pv_init_ops.patch``.  The helpers here
are Linux's ``paravirt_patch_*`` family (FACTS 1c): inline native bytes if
they fit, a direct call or jump to the op's target, nops for
``paravirt_nop``, or leave the site alone.  The patcher itself (walking the
sites, padding with multi-byte NOPs, writing through the core) lives in
:mod:`pvops.patch`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

import attrs

from pvops.types import VirtAddr

# Registers a patch site allows its replacement to clobber (FACTS 1c).
CLBR_NONE = 0
CLBR_EAX = 1
CLBR_ECX = 2
CLBR_EDX = 4
CLBR_ANY = CLBR_EAX | CLBR_ECX | CLBR_EDX

CALL_LENGTH = 5  # e8 rel32 / e9 rel32


class PatchKind(enum.Enum):
    """What ends up in a patch site."""

    INLINE = "inline"  # native instructions copied in
    CALL = "call"  # a direct call to the op's target
    JMP = "jmp"  # a direct jump (ops that are jumped to, like iret)
    NOP = "nop"  # the whole site becomes nops
    UNCHANGED = "unchanged"  # the original indirect call stays


@attrs.frozen
class PatchSite:
    """One ``.parainstructions`` record, with what the patcher knows about its op."""

    address: VirtAddr
    length: int
    op: int
    name: str  # the op's full name, e.g. "irq.irq_disable"
    clobbers: int
    target: VirtAddr  # where the site's indirect call lands today
    impl: Callable[..., object]  # the callable in the backend's slot
    native: bool = False  # whether that callable is the op's native default


@attrs.frozen
class PatchResult:
    """A patch op's answer: the kind, and the bytes to write (nops pad the rest)."""

    kind: PatchKind
    code: bytes = b""


def patch_nop(site: PatchSite) -> PatchResult:
    """Nothing to do at this site: nop it out (``paravirt_patch_nop``)."""
    del site
    return PatchResult(PatchKind.NOP)


def patch_unchanged(site: PatchSite) -> PatchResult:
    """Leave the site's indirect call as it is."""
    del site
    return PatchResult(PatchKind.UNCHANGED)


def patch_insns(site: PatchSite, insns: bytes) -> PatchResult:
    """Copy native instructions in if they fit, else leave the site (``paravirt_patch_insns``)."""
    if len(insns) > site.length:
        return patch_unchanged(site)
    return PatchResult(PatchKind.INLINE, insns)


def _rel32(site: PatchSite, opcode: int, target: VirtAddr) -> bytes:
    rel = (target - (site.address + CALL_LENGTH)) & 0xFFFFFFFF
    return bytes([opcode]) + rel.to_bytes(4, "little")


def patch_call(site: PatchSite, target: VirtAddr, target_clobbers: int = CLBR_ANY) -> PatchResult:
    """A direct call, unless the target clobbers more than the site allows or it won't fit."""
    if target_clobbers & ~site.clobbers or site.length < CALL_LENGTH:
        return patch_unchanged(site)
    return PatchResult(PatchKind.CALL, _rel32(site, 0xE8, target))


def patch_jmp(site: PatchSite, target: VirtAddr) -> PatchResult:
    """A direct jump, for ops the kernel jumps to rather than calls."""
    if site.length < CALL_LENGTH:
        return patch_unchanged(site)
    return PatchResult(PatchKind.JMP, _rel32(site, 0xE9, target))


# Ops the kernel reaches with a jump: they never return to the site.
JUMPED_OPS = frozenset({"cpu.iret"})


def patch_default(site: PatchSite) -> PatchResult:
    """``paravirt_patch_default``: nops for a nop op, a jump for jumped-to ops, else a call."""
    from pvops.ops.nop import paravirt_nop  # noqa: PLC0415 - ops import this module

    if site.impl is paravirt_nop:
        return patch_nop(site)
    if site.name in JUMPED_OPS:
        return patch_jmp(site, site.target)
    return patch_call(site, site.target)
