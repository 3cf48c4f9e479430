"""Bare metal: a PC with one CPU, and nothing between it and the kernel.

The ``native``, ``vmi`` and ``pvops`` flavours boot here through the
Multiboot entry. A pvops image also gets its ops table filled: every slot
of ``pv_ops[]`` points at a gate of the native backend's dispatch table,
and the patcher rewrites the call sites with the native backend's answers
(unless asked not to, to measure the unpatched indirection).
"""

from __future__ import annotations

from collections.abc import Sequence

from pvops.boot import BootNotAvailableError, BootRequest
from pvops.bootmod import BootModule
from pvops.cpu import Machine
from pvops.image import GuestImage
from pvops.lowering import lower
from pvops.ops.catalog import op_count
from pvops.patch import apply_paravirt
from pvops.patching import PatchKind
from pvops.platform.model import MODELS, LoadRefused, Session
from pvops.platform.multiboot import (
    NO_HEADER,
    ImageMemory,
    LoadError,
    has_multiboot_header,
    multiboot_enter,
)
from pvops.platform.pc import PcPlatform
from pvops.registry import REGISTRY, Backend
from pvops.types import PhysAddr, VirtAddr

PAGE_OFFSET = 0xC000_0000  # where the kernel maps physical memory
GATE_BASE = PhysAddr(0xE0000)  # the PC's BIOS area: mapped by the kernel, never allocated
OPTION_ROM_BASE = PhysAddr(0xC0000)  # where a VMI ROM goes: the start of the kernel's probe window
CONTINUATION_BASE = PhysAddr(0xE1000)  # after the ops' gates: a VMI ROM's continuation gate
OPS_SYMBOL = "pv_ops"


class BareMetal:
    """The ``native`` hypervisor model: no hypervisor at all.

    Args:
        option_rom: an option ROM image (a VMI ROM) to map at physical
            0xC0000 before the kernel starts, as a BIOS leaves one; the
            kernel's direct map covers it.
        boot_modules: modules of replacement ops handed to a pvops kernel
            at boot (:mod:`pvops.bootmod`); loaded where each was linked.
    """

    name = "native"

    def __init__(
        self, option_rom: bytes | None = None, boot_modules: Sequence[BootModule] = ()
    ) -> None:
        self.option_rom = option_rom
        self.boot_modules = tuple(boot_modules)

    def boot(
        self, image: GuestImage, *, cmdline: str, memory: int, patch: bool, force: bool
    ) -> Session:
        """Multiboot entry; for a pvops image, the native backend's ops and patches."""
        # A boot loader's only check is the Multiboot header; forcing skips it,
        # and the kernel is entered at its ELF entry to fail for real.
        if not force and not has_multiboot_header(image):
            raise LoadRefused(NO_HEADER)
        machine = Machine(memory_size=memory)
        pc = PcPlatform(bus=machine, clock=lambda: machine.instructions).attach()
        if force:
            multiboot_enter(machine, image, cmdline)  # no header to go by: the ELF entry
        else:
            try:  # the native backend's own entrypoint (pvops.boot): a Multiboot hand-off
                REGISTRY.get("native").boot(BootRequest(machine, image, cmdline, self.name))
            except BootNotAvailableError as e:
                raise LoadError(str(e)) from None
        if self.option_rom is not None:
            if OPTION_ROM_BASE + len(self.option_rom) > GATE_BASE:
                msg = f"option ROM of {len(self.option_rom)} bytes overflows 0xC0000-0xE0000"
                raise LoadError(msg)
            machine.write(OPTION_ROM_BASE, self.option_rom)
        session = Session(machine, self.name, None, lambda: pc.console)
        for module in self.boot_modules:
            load_module(machine, module)
        if OPS_SYMBOL in image.symbols:
            backend = REGISTRY.get("native")
            if self.option_rom is not None and takes_vmi(image):
                backend = prepare_vmi(session, image, patch=patch, modules=self.boot_modules)
            fill_ops_table(session, image, backend, patch=patch, modules=self.boot_modules)
        return session


def load_module(machine: Machine, module: BootModule) -> None:
    """Copy a boot module to its physical base, below the option-ROM window."""
    if module.base + len(module.code) > OPTION_ROM_BASE:
        msg = f"boot module {module.name} at {module.base:#x} overlaps the option-ROM area"
        raise LoadError(msg)
    machine.write(module.base, module.code)


def takes_vmi(image: GuestImage) -> bool:
    """Whether a pvops image was built with the vmi backend (it probes for a ROM at boot)."""
    return image.config.get("CONFIG_PARAVIRT_VMI", "n") == "y"


def prepare_vmi(
    session: Session, image: GuestImage, *, patch: bool, modules: Sequence[BootModule] = ()
) -> Backend:
    """Let a vmi-capable pvops kernel activate the option ROM; the backend to boot it on.

    It boots on the native ops, except ``arch_setup``, which its ``vmi_init()``
    calls once the ROM answered: activation (:mod:`pvops.backends.vmi.activate`).
    """
    from pvops.backends.vmi import activate  # noqa: PLC0415 - a backend's module

    machine = session.machine

    def repatch(keep: frozenset[int]) -> None:
        patch_sites(session, image, modules, keep=keep)

    def write_kernel(va: int, data: bytes) -> None:
        ImageMemory(machine, image).write_virt(VirtAddr(va), data)

    activate.prepare(
        machine,
        activate.VmiBoot(
            session=session,
            image=image,
            rom_pa=OPTION_ROM_BASE,
            page_offset=PAGE_OFFSET,
            continuation_pa=CONTINUATION_BASE,
            read_phys=lambda pa, n: machine.read(PhysAddr(pa), n),
            repatch=repatch if patch else lambda keep: None,
            add_gates=machine.add_gate_table,
            write_kernel=write_kernel,
        ),
    )
    return activate.boot_stage(REGISTRY.get("native"))


def fill_ops_table(
    session: Session,
    image: GuestImage,
    backend: str | Backend,
    *,
    patch: bool,
    modules: Sequence[BootModule] = (),
) -> None:
    """Point ``pv_ops[]`` at gates of ``backend`` (or a module's code) and patch the sites."""
    machine = session.machine
    if isinstance(backend, str):
        backend = REGISTRY.get(backend)
    if GATE_BASE + op_count() * 32 > machine.memory_size:
        msg = "no room for the ops table's gates"
        raise LoadError(msg)
    table = lower(machine, backend, GATE_BASE)
    targets = table.targets(PAGE_OFFSET)
    memory = ImageMemory(machine, image)
    ops = image.symbol(OPS_SYMBOL)
    replaced = {n: addr for module in modules for n, addr in module.numbers.items()}
    for number, target in {**targets, **replaced}.items():
        memory.write_virt(VirtAddr(ops + 4 * number), target.to_bytes(4, "little"))
    session.table = table
    session.backend = backend.name
    if patch:
        patch_sites(session, image, modules)


def patch_sites(
    session: Session,
    image: GuestImage,
    modules: Sequence[BootModule] = (),
    *,
    keep: frozenset[int] = frozenset(),
) -> None:
    """Patch every site for the session's backend, from the image's original bytes.

    At boot the sites still hold what the image has; called again after
    the ops table changed hands (late registration), it puts the original
    bytes back first, so each site is patched once, for the new backend,
    as if the kernel had only ever known that one (Linux patches after
    setup_arch has picked the backend).  Sites at the addresses in ``keep``
    are left as they are: the one a gate was called from, when an op
    re-patches from inside a call (its return address must stay an
    instruction boundary).
    """
    table = session.table
    if table is None:
        return
    memory = ImageMemory(session.machine, image)
    sites = [record for record in image.sites if record.address not in keep]
    for record in sites:
        seg = image.segment_at(record.address)
        if seg is not None and seg.contains(record.address, record.length):
            start = record.address - seg.vaddr
            memory.write_virt(record.address, seg.data[start : start + record.length])
    replaced = {n: addr for module in modules for n, addr in module.numbers.items()}
    report = apply_paravirt(memory, sites, table.backend, table.targets(PAGE_OFFSET), replaced)
    table.note_patched_calls(
        site.record.address + 5 for site in report.sites if site.result.kind is PatchKind.CALL
    )
    session.patch = report


MODELS["native"] = BareMetal
