"""activate_vmi: a pvops kernel's ops move into the VMI ROM it found.

V:300 Linux 2.6.21 merged VMI as a paravirt_ops backend (``vmi.c``): the
kernel boots on its native ops, probes for a ROM, calls the ROM's init, and
then ``activate_vmi()`` asks the ROM, call by call, what it implements
(``get_reloc``) and fills ``paravirt_ops``: an op whose VMI call the ROM
implements becomes a call into the ROM (``para_fill``, or a small wrapper
where the op's C arguments are not the call's, ``para_wrap``), one the ROM
makes a no-op becomes ``paravirt_nop``, and one the ROM leaves native stays
native.  ``apply_paravirt()`` then patches every call site again.

Here the kernel's half is ``vmi/vmi.c`` built into a pvops image
(``build("pvops", options={"vmi": "y"})``): it probes and initializes the ROM
and then calls ``pv_init_ops.arch_setup``, which a platform that offers a ROM
points at :func:`activate_vmi` before entry (:func:`prepare`).  The host half
is this module: it runs the ROM's own ``get_reloc`` (:func:`.rom.parse_rom`),
rebinds the kernel's gates to the ops of :mod:`.calls`, writes ``pv_info``,
and patches the sites again, with :func:`vmi_patch` sending the ops whose
arguments already sit where the ROM wants them straight to the ROM's slots.

The ops in :mod:`.calls` run on the host only to move arguments into the
registers a VMI call takes, then jump into the ROM's slot with the kernel's
return address still on the stack: the ROM's code, guest code, does the
work and returns to the kernel.  An op made of two calls (``safe_halt``:
EnableInterrupts then Halt) returns from the first into a *continuation*
gate that starts the second.
"""

from __future__ import annotations

import struct
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from pvops.backends.vmi.rom import RelocKind, RomError, parse_rom
from pvops.hw import VECTOR_GP, Cpu, GuestFault
from pvops.ops import paravirt_nop
from pvops.ops.catalog import catalog, lookup
from pvops.patching import (
    PatchResult,
    PatchSite,
    patch_call,
    patch_default,
    patch_jmp,
    patch_nop,
    patch_unchanged,
)
from pvops.registry import REGISTRY, Backend, get_op, replace_op
from pvops.types import PhysAddr, VirtAddr

ROM_UNIT = 512
PV_INFO_SYMBOL = "pv_info"
CONTINUATION_STRIDE = 32


@attrs.define(eq=False)
class ActiveRom:
    """The ROM a machine's kernel activated: where each VMI call's slot is, and what it is."""

    entries: Mapping[str, VirtAddr]  # call name -> its slot, in the kernel's map
    relocations: Mapping[str, RelocKind]
    continuation: VirtAddr  # the gate a first call of a pair returns into
    call_numbers: Mapping[str, int]
    host_native: bool = True  # whether ops left native may run on the host (see VmiBoot)

    def implements(self, call: str) -> bool:
        """Whether the ROM has code for ``call``."""
        return call in self.entries

    def enter(self, cpu: Cpu, call: str, *args: int) -> None:
        """Jump into ``call``'s slot with ``args`` in EAX, EDX, ECX (the caller's return stays)."""
        for reg, value in zip(("eax", "edx", "ecx"), args, strict=False):
            setattr(cpu, reg, value & 0xFFFFFFFF)
        cpu.eip = self.entries[call]

    def enter_pair(
        self, cpu: Cpu, first: str, first_args: tuple[int, ...], second: str, second_eax: int = 0
    ) -> None:
        """``first(*first_args)`` now, then ``second`` (EAX = ``second_eax``), then the caller.

        The first call returns into the continuation gate, which finds the
        second call and its EAX pushed under that return address.
        """
        frame = struct.pack("<III", self.continuation, self.call_numbers[second], second_eax)
        cpu.esp = (cpu.esp - len(frame)) & 0xFFFFFFFF
        cpu.write_virt(VirtAddr(cpu.esp), frame)
        self.enter(cpu, first, *first_args)

    def continue_pair(self, cpu: Cpu) -> None:
        """The continuation gate: pop (call, EAX) and jump into that call's slot."""
        number, eax = struct.unpack("<II", cpu.read_virt(VirtAddr(cpu.esp), 8))
        names = [n for n, k in self.call_numbers.items() if k == number and n in self.entries]
        if not names:  # the kernel wrote over the frame the first call kept for us
            raise GuestFault(VECTOR_GP, 0)
        cpu.esp = (cpu.esp + 8) & 0xFFFFFFFF
        self.enter(cpu, names[0], eax)


@attrs.define(eq=False)
class VmiBoot:
    """What a platform that maps a ROM tells activation about the kernel it booted."""

    session: Any  # pvops.platform.model.Session
    image: Any  # pvops.image.GuestImage
    rom_pa: PhysAddr
    page_offset: int
    continuation_pa: PhysAddr
    read_phys: Callable[[int, int], bytes]
    repatch: Callable[[frozenset[int]], None]  # patch every site again but these (addresses)
    add_gates: Callable[[int, Sequence[Callable[[Any], None]]], int]  # (base, slots) -> table
    write_kernel: Callable[[int, bytes], None]  # write at a kernel virtual address
    # Where the host's native ops are the machine's (bare metal, hvm): the ops
    # the ROM leaves native may run there.  In a VMI domain they may not (Xen
    # must see what the kernel does), so those keep the kernel's own code.
    host_native: bool = True
    point_ops: Callable[[Sequence[int]], None] = lambda numbers: None  # pv_ops[n] -> gate n


_BOOTS: weakref.WeakKeyDictionary[object, VmiBoot] = weakref.WeakKeyDictionary()
_ACTIVE: weakref.WeakKeyDictionary[object, ActiveRom] = weakref.WeakKeyDictionary()


class VmiNotActiveError(RuntimeError):
    """A vmi op ran on a CPU whose kernel has not activated a ROM: it has nothing to call."""

    def __init__(self, what: str) -> None:
        super().__init__(f"vmi: {what} needs a kernel that activated a VMI ROM on this machine")


def rom_of(cpu: object) -> ActiveRom:
    """The ROM activated on ``cpu``'s machine."""
    rom = _ACTIVE.get(cpu)
    if rom is None:
        raise VmiNotActiveError("an op")
    return rom


def prepare(machine: object, boot: VmiBoot) -> None:
    """Let the pvops kernel on ``machine`` activate the ROM at ``boot.rom_pa`` later."""
    _BOOTS[machine] = boot


def boot_stage(backend: Backend) -> Backend:
    """``backend`` whose ``arch_setup`` is :func:`activate_vmi`: what a ROM platform lowers."""
    return replace_op(backend, lookup("init.arch_setup"), activate_vmi)


def activate_vmi(cpu: Cpu) -> None:
    """``pv_init_ops.arch_setup`` before activation: take the ROM's calls (activate_vmi()).

    Raises:
        VmiNotActiveError: no platform prepared this machine with a ROM.
        RomError: the ROM's header or get_reloc misbehaves.
    """
    boot = _BOOTS.get(cpu)
    if boot is None:
        raise VmiNotActiveError("activate_vmi")
    header = boot.read_phys(boot.rom_pa, 4)
    length = header[2] * ROM_UNIT
    if header[:2] != b"\x55\xaa" or not length:
        msg = f"no ROM at {boot.rom_pa:#x} to activate"
        raise RomError(msg)
    info = parse_rom(boot.read_phys(boot.rom_pa, length))
    base = boot.page_offset + boot.rom_pa
    rom = ActiveRom(
        entries={
            r.name: VirtAddr(base + r.offset) for r in info.relocations if r.offset is not None
        },
        relocations={r.name: r.kind for r in info.relocations},
        continuation=VirtAddr(boot.page_offset + boot.continuation_pa),
        call_numbers={r.name: r.call for r in info.relocations},
        host_native=boot.host_native,
    )
    _ACTIVE[cpu] = rom
    boot.add_gates(boot.continuation_pa, [rom.continue_pair])
    session = boot.session
    backend = active_backend(rom)
    session.table.rebind(backend)
    session.backend = "vmi"
    boot.point_ops([spec.number for spec in catalog() if get_op(backend, spec) is not spec.default])
    if PV_INFO_SYMBOL in boot.image.symbols:
        kernel_rpl = cpu.cpl
        info_bytes = struct.pack("<II", kernel_rpl, 1) + b"vmi".ljust(24, b"\0")
        boot.write_kernel(boot.image.symbol(PV_INFO_SYMBOL), info_bytes)
    # The site this call came from stays as it is: its return address must
    # remain an instruction boundary.
    caller = int.from_bytes(cpu.read_virt(VirtAddr(cpu.esp), 4), "little")
    boot.repatch(
        frozenset(r.address for r in boot.image.sites if r.address < caller <= r.address + r.length)
    )


def active_backend(rom: ActiveRom) -> Backend:
    """The vmi backend as this ROM answers it (Linux's para_fill / para_wrap choices).

    For each op, the relocation of its VMI call decides: a call or jump
    into the ROM takes the op (all of the op's calls must have code); a
    NOP relocation makes it ``paravirt_nop`` (an op with a result has
    nothing to stand for it and stays native); NONE leaves it native.
    """
    from pvops.backends.vmi.calls import OP_CALLS  # noqa: PLC0415 - calls imports this module

    backend = REGISTRY.get("vmi")
    for name, calls in OP_CALLS.items():
        spec = lookup(name)
        kind = rom.relocations.get(calls[-1], RelocKind.NONE)
        if kind is RelocKind.NOP and not spec.returns_value:
            backend = replace_op(backend, spec, paravirt_nop)
        elif kind in (RelocKind.NONE, RelocKind.NOP) or not all(map(rom.implements, calls)):
            backend = replace_op(backend, spec, spec.default)
    return replace_op(backend, lookup("init.patch"), lambda site: vmi_patch(rom, site))


def vmi_patch(rom: ActiveRom, site: PatchSite) -> PatchResult:
    """``vmi_patch``: ops whose arguments are the call's go straight to the ROM's slot."""
    from pvops.backends.vmi.calls import DIRECT_CALLS, OP_CALLS  # noqa: PLC0415

    if site.native:  # the ROM left it native: the native patch, or the kernel's own code
        return REGISTRY.get("native").init.patch(site) if rom.host_native else patch_unchanged(site)
    if site.impl is paravirt_nop:
        return patch_nop(site)
    call = OP_CALLS.get(site.name, ("",))[-1]
    if site.name in DIRECT_CALLS and rom.implements(call):
        kind = rom.relocations.get(call)
        if kind is RelocKind.JUMP_REL:
            return patch_jmp(site, rom.entries[call])
        if kind is RelocKind.CALL_REL:
            return patch_call(site, rom.entries[call])
    return patch_default(site)  # through the gate, which moves the arguments and jumps in
