"""The Xen releases as pvops hypervisor models: what ``pvops run --hv xen-3.0.1`` boots on.

X:1700 One :class:`XenPlatform` per release (``xen-2.0.2``, ``xen-2.0.7``,
``xen-3.0.1``, ``xen-3.0.2``).  Booting puts a :class:`~.models.Xen` of that
release on a fresh machine and hands the image to the builder the image
itself asks for:

- an image that says it is a Xen guest (``__xen_guest``, or on 3.0.x the
  Xen ELF notes of a pvops kernel, M:201) goes to the release's PV domain
  builder (:mod:`.models.loader`, :mod:`.models.domain`), which refuses it
  with the release's own message when the versions disagree;
- a pvops image additionally gets the xen backend's ops: the host half of
  2.6.23's ``xen_start_kernel`` (:func:`enlighten`) lowers them to gates in
  frames the domain owns, mapped in its kernel's direct map, writes
  ``pv_ops[]`` and ``pv_info``, and patches the sites with the backend's
  answers;
- an image with no Xen loader information but VMI annotations goes to the
  VMI builder (:mod:`.models.vmi`): the native entry in ring 1 with the Xen
  VMI ROM of the release's ABI at 0xC0000, memory translated by Xen
  (``backends/vmi/README.md``, "contract");
- anything else is refused with the PV builder's message.

No table of allowed pairs: a mismatch is refused by the loader check that
would refuse it, or (``force``) fails at run time for the real reason.

:meth:`XenPlatform.boot_pair` runs two domains, of any flavours that boot
here, on one hypervisor and one CPU, interleaved by Xen's scheduler.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable, Sequence

import attrs

from pvops.backends.xen import events as xen_events
from pvops.backends.xen.models import console as xen_console
from pvops.backends.xen.models import vmi as vmi_builder
from pvops.backends.xen.models.abi import (
    KERNEL_INTERFACES,
    PTE_RW,
    PTE_USER,
    VERSIONS,
    XenVersion,
    version,
)
from pvops.backends.xen.models.domain import Domain
from pvops.backends.xen.models.hypervisor import Xen
from pvops.backends.xen.models.loader import NOT_XEN_ELF, LoadError, check_image
from pvops.backends.xen.models.mm import PageType
from pvops.cpu import Machine
from pvops.image import GuestImage
from pvops.lowering import GATE_STRIDE, DispatchTable, lower
from pvops.ops.catalog import catalog, lookup, op_count
from pvops.patch import apply_paravirt
from pvops.patching import PatchKind
from pvops.platform.model import MODELS, LoadRefused, ModelStats, Session
from pvops.platform.multiboot import LoadError as PlacementError
from pvops.registry import REGISTRY
from pvops.types import PAGE_SIZE, PhysAddr, VirtAddr

XEN_RESERVE_FRAMES = 512  # left to Xen: per-domain tables, shadows, growth
MAX_DOMAIN_MEMORY = 64 << 20
DOMAIN_ALIGN = 4 << 20
OPS_SYMBOL = "pv_ops"
INFO_SYMBOL = "pv_info"
# The pvops backend's pages in the domain, as pseudo-physical frames: the
# PC's BIOS area below the kernel (loaded at 1 MiB), which the domain builder
# maps and the kernel never allocates (bare metal puts its gates there too).
GATE_PFN = 0xE0
EXTRA_GATES = ("upcall", "failsafe")
TICK_NS = 10_000_000  # Xen's per-CPU timer: 100 Hz
PAIR_SLICE_NS = 100_000  # a short time slice, so two short workloads really interleave


@attrs.define
class DomainRun:
    """One booted domain and what its session reports."""

    xen: Xen
    dom: Domain
    console: Callable[[], str]


def stats(xen: Xen, dom: Domain) -> ModelStats:
    """What the hypervisor counted for one domain (hypercalls by this ABI's names)."""
    by_name: dict[str, int] = {}
    for (domid, nr), n in sorted(xen.hypercalls_by_domain.items()):
        if domid == dom.domid:
            name = xen.abi.name_of(nr) or f"#{nr}"
            by_name[name] = by_name.get(name, 0) + n
    return ModelStats(hypercalls=by_name, upcalls=dom.upcalls, mmu_entries=dom.mmu_entries)


class XenPlatform:
    """A Xen release as a :class:`~pvops.platform.model.HypervisorModel`."""

    def __init__(self, release: str | XenVersion, *, tick_ns: int = TICK_NS) -> None:
        self.version = version(release) if isinstance(release, str) else release
        self.name = self.version.name
        self.tick_ns = tick_ns
        self.xen: Xen | None = None  # the hypervisor of the last boot

    def hypervisor(self, memory: int, *, tick_ns: int | None = None) -> Xen:
        """A fresh machine of ``memory`` bytes with this release on it."""
        xen = Xen(Machine(memory_size=memory), self.version, tick_ns=tick_ns or self.tick_ns)
        self.xen = xen
        return xen

    def boot(
        self, image: GuestImage, *, cmdline: str, memory: int, patch: bool, force: bool
    ) -> Session:
        """Build one domain for ``image`` and stop at its first instruction.

        Raises:
            LoadRefused: the release's builder refused the image (its message).
        """
        xen = self.hypervisor(memory)
        session = add_domain(
            xen, image, cmdline=cmdline, patch=patch, force=force, memory=domain_memory(xen, 1)
        )
        xen.start(xen.domains[max(xen.domains)])
        return session

    def boot_pair(
        self,
        guests: Sequence[tuple[GuestImage, str]],
        *,
        memory: int,
        patch: bool = True,
        force: bool = False,
        slice_ns: int = PAIR_SLICE_NS,
    ) -> list[Session]:
        """Two (or more) domains on one hypervisor, one CPU, interleaved by Xen's scheduler.

        ``guests`` is (image, command line) per domain; each gets an equal
        share of the machine's memory.  Every returned session runs the
        same machine: running any of them runs them all, until every domain
        has shut down or crashed (the CPU then halts for good).

        Raises:
            LoadRefused: a builder refused one of the images.
        """
        xen = self.hypervisor(memory, tick_ns=slice_ns)
        each = domain_memory(xen, len(guests))  # fixed before the first domain takes its part
        sessions = [
            add_domain(
                xen,
                image,
                cmdline=cmdline,
                patch=patch,
                force=force,
                memory=each,
                name=f"{i}",
            )
            for i, (image, cmdline) in enumerate(guests)
        ]
        xen.start(xen.domains[min(xen.domains)])
        return sessions


def domain_memory(xen: Xen, share: int) -> int:
    """An equal share of the machine's free memory, in whole 4 MiB."""
    free = max(0, xen.free_frames() - XEN_RESERVE_FRAMES) * PAGE_SIZE // max(1, share)
    return min(free, MAX_DOMAIN_MEMORY) // DOMAIN_ALIGN * DOMAIN_ALIGN


def add_domain(
    xen: Xen,
    image: GuestImage,
    *,
    cmdline: str,
    patch: bool,
    force: bool,
    memory: int,
    name: str = "",
) -> Session:
    """Build one domain the way ``image`` asks (PV, pvops or VMI) and its session."""
    try:
        try:
            info = check_image(image, xen.version, force=force)
        except LoadError as refusal:
            if str(refusal) != NOT_XEN_ELF or not vmi_builder.is_vmi_kernel(image):
                raise LoadRefused(str(refusal)) from None
            dom = vmi_builder.build(xen, image, memory=memory, cmdline=cmdline, name=name)
            platform = dom.platform
            assert platform is not None
            vmi_session = Session(
                xen.host,  # type: ignore[arg-type]
                xen.version.name,
                None,
                lambda: platform.console,
                stats=lambda: stats(xen, dom),
                crash=lambda: dom.crash_reason,
            )
            if OPS_SYMBOL in image.symbols:
                prepare_vmi_backend(vmi_session, xen, dom, image, patch=patch)
            return vmi_session
        dom = xen.build(image, info, memory=memory, cmdline=cmdline, name=name)
    except (MemoryError, ValueError) as e:
        raise PlacementError(str(e)) from None
    session = Session(
        xen.host,  # type: ignore[arg-type]
        xen.version.name,
        None,
        lambda: xen_console.text(dom),
        stats=lambda: stats(xen, dom),
        crash=lambda: dom.crash_reason,
    )
    if OPS_SYMBOL in image.symbols:
        enlighten(session, xen, dom, image, patch=patch)
    return session


class LiveMemory:
    """Writes by kernel virtual address into a running domain, through its page tables."""

    def __init__(self, xen: Xen, dom: Domain) -> None:
        self.xen = xen
        self.dom = dom

    def write_virt(self, addr: VirtAddr, data: bytes) -> None:
        """Write where the kernel's tables map ``addr``; a hole is a host bug."""
        if self.xen.write_guest(self.dom, addr, data):
            msg = f"{self.dom.name}: kernel address {addr:#x} is not mapped writable"
            raise RuntimeError(msg)


def prepare_vmi_backend(
    session: Session, xen: Xen, dom: Domain, image: GuestImage, *, patch: bool
) -> None:
    """A pvops kernel built with the vmi backend, in a VMI domain: ready to activate the ROM.

    It boots on its own native code (what it runs in ring 1, Xen emulates,
    as for a VMI kernel before its ROM takes over); only ``arch_setup``, which
    its ``vmi_init()`` calls once the ROM answered, reaches the host:
    activation (:mod:`pvops.backends.vmi.activate`) then points the ops the
    ROM takes at gates and patches their sites.  The gates live at
    guest-physical :data:`GATE_PFN` (a PC's BIOS area, in the kernel's
    direct map), the continuation gate a frame above.
    """
    from pvops.backends.vmi import activate  # noqa: PLC0415 - a backend's module

    machine = xen.host
    page_offset = dom.virt_base
    table = lower(
        machine,  # type: ignore[arg-type]
        activate.boot_stage(REGISTRY.get("native")),
        PhysAddr(dom.p2m[GATE_PFN] << 12),
    )
    gates = {
        spec.number: VirtAddr(page_offset + (GATE_PFN << 12) + spec.number * GATE_STRIDE)
        for spec in catalog()
    }
    ops = image.symbol(OPS_SYMBOL)
    arch_setup = lookup("init.arch_setup").number
    DomainMemory(xen, dom).write_virt(
        VirtAddr(ops + 4 * arch_setup), gates[arch_setup].to_bytes(4, "little")
    )
    session.table = table
    session.backend = "native"
    live = LiveMemory(xen, dom)

    def point_ops(numbers: Sequence[int]) -> None:
        for n in numbers:
            live.write_virt(VirtAddr(ops + 4 * n), gates[n].to_bytes(4, "little"))

    def repatch(keep: frozenset[int]) -> None:
        if not patch:
            return
        sites = [r for r in image.sites if r.address not in keep]
        report = apply_paravirt(live, sites, table.backend, gates)
        table.note_patched_calls(
            site.record.address + 5 for site in report.sites if site.result.kind is PatchKind.CALL
        )
        session.patch = report

    activate.prepare(
        machine,
        activate.VmiBoot(
            session=session,
            image=image,
            rom_pa=PhysAddr(vmi_builder.ROM_PA),
            page_offset=page_offset,
            continuation_pa=PhysAddr((GATE_PFN + 1) << 12),
            read_phys=functools.partial(xen.read_pseudo, dom),
            repatch=repatch,
            add_gates=lambda pa, slots: machine.add_gate_table(dom.p2m[pa >> 12] << 12, slots),
            write_kernel=lambda va, data: live.write_virt(VirtAddr(va), data),
            host_native=False,
            point_ops=point_ops,
        ),
    )


class DomainMemory:
    """Writes by kernel virtual address into a domain being built (pseudo-physical)."""

    def __init__(self, xen: Xen, dom: Domain) -> None:
        self.xen = xen
        self.dom = dom

    def write_virt(self, addr: VirtAddr, data: bytes) -> None:
        """Write image bytes where the builder loaded them."""
        self.xen.write_pseudo(self.dom, addr - self.dom.virt_base, data)


def enlighten(session: Session, xen: Xen, dom: Domain, image: GuestImage, *, patch: bool) -> None:
    """The host half of ``xen_start_kernel``: the xen backend's ops, gates, pv_info, patches.

    The gates are 32-byte slots the core dispatches to the backend's ops;
    they live in frames the domain owns (pseudo-physical :data:`GATE_PFN`
    on), mapped read-only in its kernel's direct map, one gate table per
    frame (a domain's frames are not machine-contiguous).  After the ops
    come the event and failsafe callbacks (:mod:`.events`), then one page
    for the GDT copy :func:`~.cpu.xen_load_gdt` hands Xen.
    """
    backend = REGISTRY.get("xen")
    interface = image.config.get("CONFIG_PARAVIRT_XEN", "")
    dom.backend_abi = KERNEL_INTERFACES.get(interface)  # the layouts it was built with
    table = DispatchTable(xen.host, dom.p2m[GATE_PFN] << 12, -1, backend)  # type: ignore[arg-type]
    by_number = {spec.number: spec for spec in catalog()}
    slots: list[Callable[[object], None]] = [
        table.slot_for(by_number[n]) if n in by_number else _unused for n in range(op_count())
    ]
    slots += [xen_events.xen_hypervisor_callback, xen_events.xen_failsafe_callback]  # type: ignore[list-item]
    per_frame = PAGE_SIZE // GATE_STRIDE
    frames = -(-len(slots) // per_frame)
    for k in range(frames):
        pfn = GATE_PFN + k
        chunk = slots[k * per_frame : (k + 1) * per_frame]
        index = xen.host.add_gate_table(dom.p2m[pfn] << 12, chunk)
        if k == 0:
            table.table = index
        _map_readonly(xen, dom, pfn)
    gdt_pfn = GATE_PFN + frames
    _map_readonly(xen, dom, gdt_pfn)

    def gate_va(n: int) -> int:
        return dom.virt_base + (GATE_PFN << 12) + n * GATE_STRIDE

    targets = {spec.number: VirtAddr(gate_va(spec.number)) for spec in catalog()}
    for i, name in enumerate(EXTRA_GATES):
        dom.backend_pages[name] = gate_va(op_count() + i)
    dom.backend_pages["gdt"] = dom.virt_base + (gdt_pfn << 12)
    memory = DomainMemory(xen, dom)
    ops = image.symbol(OPS_SYMBOL)
    memory.write_virt(ops, b"".join(struct.pack("<I", gate_va(n)) for n in range(op_count())))
    if INFO_SYMBOL in image.symbols:
        info = backend.info
        label = info.name.encode()[:23]
        flags = struct.pack("<II", info.kernel_rpl, int(info.paravirt_enabled))
        memory.write_virt(image.symbol(INFO_SYMBOL), flags + label.ljust(24, b"\0"))
    session.table = table
    session.backend = backend.name
    if patch:
        report = apply_paravirt(memory, image.sites, backend, targets)
        table.note_patched_calls(
            site.record.address + 5 for site in report.sites if site.result.kind is PatchKind.CALL
        )
        session.patch = report


def _unused(cpu: object) -> None:
    from pvops.hw import VECTOR_UD, GuestFault  # noqa: PLC0415

    del cpu
    raise GuestFault(VECTOR_UD)


def _map_readonly(xen: Xen, dom: Domain, pfn: int) -> None:
    """The builder's mapping of one of the backend's frames: read-only, kernel only.

    The builder maps its whole region user-accessible (``L1_PROT`` has
    ``_PAGE_USER``, as libxc's): a gate user space could call would run
    the kernel's ops for it.
    """
    va = dom.virt_base + (pfn << 12)
    l2 = dom.baseptr << 12
    pde = xen.mem.u32(l2 + (va >> 22) * 4)
    l1 = pde >> 12
    if not pde & 1 or xen.frames.info[l1].type != PageType.L1:
        msg = f"the builder did not map the backend's page at {va:#x}"
        raise PlacementError(msg)
    ptr = (l1 << 12) + ((va >> 12) & 1023) * 4
    pte = xen.mem.u32(ptr) & ~(PTE_RW | PTE_USER)
    if xen.frames.update_entry(dom.domid, ptr, pte):
        msg = f"cannot make the backend's page at {va:#x} read-only"
        raise PlacementError(msg)


for _name in VERSIONS:
    MODELS[_name] = functools.partial(XenPlatform, _name)
