"""What the xen backend's op files share (Linux's ``arch/i386/xen/xen-ops.h``).

X:1000 The ops run on the host, called through gates from the guest kernel.
They find their hypervisor and domain from the CPU they are handed
(:func:`domain_of`: the model keeps a map from machine to hypervisor, and
the hypervisor knows which domain is running), and they make hypercalls
with :func:`hypercall`, which enters the model exactly where a guest's
``int $0x82`` does, so they are counted the same way.

Batching (``xen_mc_entry``/``xen_mc_issue``): in a lazy mode, calls are
queued; leaving or flushing the mode issues them as one ``multicall``,
consecutive ``mmu_update`` requests coalesced into one entry as Linux's
``xen_mc_extend_args`` does.  The hypervisor reads a multicall's entries
from guest memory, so they are staged where a C function would keep a
local array: on the guest's kernel stack, below its stack pointer, for the
duration of the call.
"""

from __future__ import annotations

import struct

import attrs

from pvops.backends.xen.models.domain import Domain
from pvops.backends.xen.models.hypervisor import Xen, xen_of
from pvops.hw import Cpu
from pvops.types import Mfn, Pfn, VirtAddr

STAGE_GAP = 256  # bytes left untouched just below the stack pointer
MC_BATCH = 16  # queued calls before a forced flush (Linux: MC_BATCH 32)


class NotXenDomainError(RuntimeError):
    """A xen op ran on a CPU with no Xen domain running on it: it has nothing to call."""

    def __init__(self, op: str) -> None:
        super().__init__(
            f"xen: op {op} needs a CPU running a Xen domain (boot it with the xen entrypoint)"
        )


def domain_of(cpu: Cpu, op: str) -> tuple[Xen, Domain]:
    """The hypervisor model and the running domain behind ``cpu``."""
    xen = xen_of(cpu)
    if xen is None or xen.current is None:
        raise NotXenDomainError(op)
    return xen, xen.current


def hypercall(xen: Xen, cpu: Cpu, name: str, *args: int, jumped: bool = False) -> int:
    """Issue hypercall ``name`` of the domain's ABI through the int $0x82 path."""
    nr = xen.abi.number(name)
    if nr is None:
        msg = f"Xen {xen.abi.name} has no hypercall {name}"
        raise LookupError(msg)
    return xen.issue(cpu, nr, *args, jumped=jumped)


def stage(xen: Xen, dom: Domain, data: bytes, *, below: int = 0) -> VirtAddr:
    """Put ``data`` on the guest kernel stack below ESP (and ``below`` more); its address."""
    va = (xen.host.esp - STAGE_GAP - below - len(data)) & ~15 & 0xFFFFFFFF
    xen.write_guest(dom, va, data)
    return VirtAddr(va)


def virt_to_machine(xen: Xen, dom: Domain, va: int) -> int | None:
    """The machine address behind a kernel virtual address (a page walk)."""
    return xen.translate(dom, va)


def lowmem_va(dom: Domain, pfn: int, page_offset: int) -> VirtAddr:
    """The kernel's direct-map address of a pseudo-physical frame (``__va``)."""
    del dom
    return VirtAddr(page_offset + (pfn << 12))


def pfn_to_mfn(dom: Domain, pfn: int) -> Mfn | None:
    """The p2m lookup."""
    return dom.mfn(Pfn(pfn))


@attrs.define
class Call:
    """One queued hypercall: number, arguments, and data a pointer argument names."""

    nr: int
    args: list[int]
    blob: bytes = b""
    blob_arg: int = -1  # which argument is the blob's address
    count_arg: int = -1  # which argument counts the blob's records (coalescing)


@attrs.define
class Batch:
    """The per-vCPU multicall buffer and lazy modes."""

    calls: list[Call] = attrs.field(factory=list)
    lazy_mmu: bool = False
    lazy_cpu: bool = False


_BATCHES: dict[tuple[int, int], Batch] = {}


def batch_of(xen: Xen, dom: Domain) -> Batch:
    """The domain's batch state."""
    return _BATCHES.setdefault((id(xen), dom.domid), Batch())


def _issue_one(xen: Xen, cpu: Cpu, dom: Domain, call: Call) -> int:
    args = list(call.args)
    if call.blob_arg >= 0:
        args[call.blob_arg] = stage(xen, dom, call.blob)
    return xen.issue(cpu, call.nr, *args)


def submit(xen: Xen, cpu: Cpu, dom: Domain, call: Call, *, lazy: bool) -> int:
    """Issue now, or queue when the batch's mode is lazy (0 is returned then)."""
    if not lazy:
        return _issue_one(xen, cpu, dom, call)
    batch = batch_of(xen, dom)
    last = batch.calls[-1] if batch.calls else None
    if last is not None and last.nr == call.nr and call.count_arg >= 0 and last.count_arg >= 0:
        last.blob += call.blob
        last.args[last.count_arg] += call.args[call.count_arg]
    else:
        batch.calls.append(call)
    if len(batch.calls) >= MC_BATCH:
        flush(xen, cpu, dom)
    return 0


def flush(xen: Xen, cpu: Cpu, dom: Domain) -> None:
    """Issue everything queued: one call directly, several as one multicall."""
    batch = batch_of(xen, dom)
    calls, batch.calls = batch.calls, []
    if not calls:
        return
    if len(calls) == 1:
        _issue_one(xen, cpu, dom, calls[0])
        return
    layout = xen.abi.multicall
    blobs = b"".join(c.blob for c in calls)
    blob_base = stage(xen, dom, blobs)
    entries = bytearray(layout.size * len(calls))
    offset = 0
    nargs = 5 if layout.offset("result") > layout.offset("args") else 6
    for i, c in enumerate(calls):
        args = list(c.args) + [0] * (nargs - len(c.args))
        if c.blob_arg >= 0:
            args[c.blob_arg] = blob_base + offset
            offset += len(c.blob)
        struct.pack_into("<I", entries, layout.size * i, c.nr)
        struct.pack_into(
            f"<{nargs}I",
            entries,
            layout.size * i + layout.offset("args"),
            *(a & 0xFFFFFFFF for a in args[:nargs]),
        )
    base = stage(xen, dom, bytes(entries), below=len(blobs) + 16)
    hypercall(xen, cpu, "multicall", base, len(calls))


def mmu_update_call(xen: Xen, ptr: int, val: int) -> Call:
    """A one-request mmu_update in the ABI's entry size."""
    fmt = "<II" if xen.abi.mmu_update.size == 8 else "<QQ"
    nr = xen.abi.number("mmu_update")
    assert nr is not None
    return Call(nr, [0, 1, 0, 0x7FF0], struct.pack(fmt, ptr, val), blob_arg=0, count_arg=1)


def mmuext_call(xen: Xen, name: str, arg1: int, arg2: int = 0) -> Call:
    """One MMUEXT command: hypercall 26 in 3.0, an extended mmu_update in 2.0."""
    cmd = xen.abi.mmuext[name]
    if xen.abi.mmu_extended_command is not None:
        ext = xen.abi.mmu_extended_command
        if name == "invlpg":  # the address in ptr, as 2.6.9's queue_invlpg
            return mmu_update_call(xen, (arg1 & ~0xFFF) | ext, cmd)
        if name == "set_ldt":
            return mmu_update_call(xen, (arg1 & ~3) | ext, cmd | arg2 << 8)
        return mmu_update_call(xen, (arg1 << 12) | ext, cmd)
    nr = xen.abi.number("mmuext_op")
    assert nr is not None
    return Call(
        nr, [0, 1, 0, 0x7FF0], struct.pack("<III", cmd, arg1, arg2), blob_arg=0, count_arg=1
    )


def update_va_mapping_call(xen: Xen, va: int, pte: int, flags: int) -> Call:
    """update_va_mapping in the ABI's argument layout."""
    nr = xen.abi.number("update_va_mapping")
    assert nr is not None
    if xen.abi.major >= 3:
        return Call(nr, [va, pte, 0, flags])
    return Call(nr, [va >> 12, pte, flags])
