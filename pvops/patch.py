"""The boot-time patcher: Linux's ``apply_paravirt()`` over a kernel's patch sites.

Each ``.parainstructions`` record names a site in the kernel's text, the op
it calls, the site's length and the registers the site lets a replacement
clobber.  The patcher asks the backend's ``init.patch`` op what the site
should become (:mod:`pvops.patching`), writes those bytes, and pads the
rest of the site with multi-byte NOPs.  It writes through the CPU, so the
interpreter's decoded-instruction cache sees the new code.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping
from typing import Protocol

import attrs

from pvops.ops.catalog import by_number
from pvops.patching import PatchKind, PatchResult, PatchSite
from pvops.registry import Backend, get_op
from pvops.types import VirtAddr

# The P6 long NOPs (Intel SDM vol. 2B, NOP; Linux's p6_nops), by length.
P6_NOPS: tuple[bytes, ...] = (
    b"",
    b"\x90",
    b"\x66\x90",
    b"\x0f\x1f\x00",
    b"\x0f\x1f\x40\x00",
    b"\x0f\x1f\x44\x00\x00",
    b"\x66\x0f\x1f\x44\x00\x00",
    b"\x0f\x1f\x80\x00\x00\x00\x00",
    b"\x0f\x1f\x84\x00\x00\x00\x00\x00",
)
LONGEST_NOP = len(P6_NOPS) - 1


def nops(length: int) -> bytes:
    """``length`` bytes of as few NOP instructions as possible."""
    out = bytearray()
    while length > 0:
        step = min(length, LONGEST_NOP)
        out += P6_NOPS[step]
        length -= step
    return bytes(out)


class CodeMemory(Protocol):
    """Where patched code is written: a running CPU, or an image being loaded."""

    def write_virt(self, addr: VirtAddr, data: bytes) -> None: ...


class PatchError(Exception):
    """A patch op answered something that cannot go into its site."""


@attrs.frozen
class SiteRecord:
    """One ``.parainstructions`` entry: ``{u32 site; u8 op; u8 len; u16 clobbers}``."""

    address: VirtAddr
    op: int
    length: int
    clobbers: int


@attrs.frozen
class PatchedSite:
    """What happened at one site."""

    record: SiteRecord
    name: str
    result: PatchResult


@attrs.define
class PatchReport:
    """Every site's outcome, and the counts by outcome."""

    sites: list[PatchedSite] = attrs.field(factory=list)

    @property
    def outcomes(self) -> dict[str, int]:
        """Sites per outcome (``inline``, ``call``, ``jmp``, ``nop``, ``unchanged``)."""
        counts = collections.Counter(site.result.kind.value for site in self.sites)
        return {kind.value: counts.get(kind.value, 0) for kind in PatchKind}

    def by_op(self) -> dict[str, dict[str, int]]:
        """Outcomes per op name."""
        table: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        for site in self.sites:
            table[site.name][site.result.kind.value] += 1
        return {name: dict(counts) for name, counts in sorted(table.items())}


def site_code(site: PatchSite, result: PatchResult) -> bytes | None:
    """The bytes a result puts into a site (None: leave it), checked to fit."""
    if result.kind is PatchKind.UNCHANGED:
        return None
    if result.kind is PatchKind.NOP:
        return nops(site.length)
    if not result.code and result.kind is not PatchKind.INLINE:  # inline b"": an identity
        msg = f"{site.name} at {site.address:#x}: a {result.kind.value} patch with no code"
        raise PatchError(msg)
    if len(result.code) > site.length:
        msg = (
            f"{site.name} at {site.address:#x}: {len(result.code)} bytes of "
            f"{result.kind.value} do not fit a {site.length}-byte site"
        )
        raise PatchError(msg)
    return result.code + nops(site.length - len(result.code))


def guest_code(*args: object) -> None:
    """Stands in the patcher's view for an op replaced by guest code (a boot module)."""
    del args
    msg = "this op is guest code loaded at boot; the host never calls it"
    raise RuntimeError(msg)


def apply_paravirt(
    cpu: CodeMemory,
    records: Iterable[SiteRecord],
    backend: Backend,
    targets: Mapping[int, VirtAddr],
    replaced: Mapping[int, VirtAddr] | None = None,
) -> PatchReport:
    """Patch every site for ``backend``; ``targets`` maps op numbers to where calls land.

    ``targets`` is where the kernel's ops table points for each op (a gate
    address), i.e. where a direct call or jump written into a site goes.
    ``replaced`` maps ops that a boot module took over to the module's
    functions: their sites get direct calls there, whatever the backend.
    """
    replaced = replaced or {}
    report = PatchReport()
    for record in records:
        spec = by_number(record.op)
        impl = guest_code if record.op in replaced else get_op(backend, spec)
        site = PatchSite(
            address=record.address,
            length=record.length,
            op=record.op,
            name=spec.name,
            clobbers=record.clobbers,
            target=replaced.get(record.op, targets[record.op]),
            impl=impl,
            native=impl is spec.default,
        )
        result = backend.init.patch(site)
        code = site_code(site, result)
        if code is not None:
            cpu.write_virt(record.address, code)
        report.sites.append(PatchedSite(record, spec.name, result))
    return report
