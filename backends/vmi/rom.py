"""VMI option ROMs: built from source, checked and described.

R:001 A VMI ROM is what a hypervisor hands a VMI kernel: an x86 option ROM
mapped at physical 0xC0000, whose header (FACTS 2) the kernel probes and
whose 32-byte call slots it calls or patches into its own code.  The ROMs
are real i386 code in ``roms/*.S``, assembled by GNU as at run time and
cached by a content hash (like the guest kernel, :mod:`pvops.guest.build`):

- ``native``: native semantics in every slot; relocation NONE (keep the
  kernel's native bytes) wherever it has them, NOP where a call has no
  native counterpart;
- ``native-calls``: the same slots, but every site is patched into a call
  (CALL_REL, IRET: JUMP_REL): what VMI costs when nothing is inlined;
- ``xen-2.0``, ``xen-3.0``: the calls the kernel uses, on that Xen ABI's
  hypercalls and shared structures (``roms/xen.S``, README.md for the
  contract with a Xen model).

``parse_rom`` reads a ROM back: header fields, and each call's relocation
as the ROM's own ``get_reloc`` code answers it, run on a :class:`Machine`.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import attrs

from pvops.cpu import Machine, StopReason
from pvops.guest.build import CC, LD, OBJCOPY, default_cache_dir
from pvops.types import PhysAddr

__all__ = [
    "ROMS",
    "ROM_BASE",
    "VMI_CALLS",
    "RelocKind",
    "Relocation",
    "RomError",
    "RomInfo",
    "build_rom",
    "parse_rom",
    "with_header",
    "with_params",
]

ROM_DIR = Path(__file__).resolve().parent / "roms"
ROM_BASE = PhysAddr(0xC0000)
"""Where a hypervisor model maps the ROM (the start of the kernel's probe window)."""

ROM_UNIT = 512
HEADER_SIZE = 144
SLOTS = 0x400
SLOT_SIZE = 32
NCALLS = 80
PARAM_ROM_PA = 32
PARAM_SHARED_INFO_PA = 36
PARAM_TIMER_VECTOR = 40
VMI_SIGNATURE = 0x696D5663
VMI_INIT = 128
GET_RELOC = 136

VMI_CALLS: Mapping[int, str] = MappingProxyType(
    {
        0: "CPUID",
        1: "WRMSR",
        2: "RDMSR",
        3: "SetGDT",
        4: "SetLDT",
        5: "SetIDT",
        6: "SetTR",
        7: "GetGDT",
        8: "GetLDT",
        9: "GetIDT",
        10: "GetTR",
        11: "WriteGDTEntry",
        12: "WriteLDTEntry",
        13: "WriteIDTEntry",
        14: "UpdateKernelStack",
        15: "SetCR0",
        16: "SetCR2",
        17: "SetCR3",
        18: "SetCR4",
        19: "GetCR0",
        20: "GetCR2",
        21: "GetCR3",
        22: "GetCR4",
        23: "WBINVD",
        24: "SetDR",
        25: "GetDR",
        26: "RDPMC",
        27: "RDTSC",
        28: "CLTS",
        29: "EnableInterrupts",
        30: "DisableInterrupts",
        31: "GetInterruptMask",
        32: "SetInterruptMask",
        33: "IRET",
        34: "SYSEXIT",
        35: "Halt",
        36: "Reboot",
        37: "Shutdown",
        38: "SetPxE",
        39: "SetPxELong",
        40: "UpdatePxE",
        41: "UpdatePxELong",
        42: "MachineToPhysical",
        43: "PhysicalToMachine",
        44: "AllocatePage",
        45: "ReleasePage",
        46: "InvalPage",
        47: "FlushTLB",
        48: "SetLinearMapping",
        61: "SetIOPLMask",
        62: "SetInitialAPState",
        63: "APICWrite",
        64: "APICRead",
        65: "IODelay",
        66: "GetCycleFrequency",
        67: "GetCycleCounter",
        68: "SetAlarm",
        69: "CancelAlarm",
        70: "GetWallclockTime",
        71: "WallclockUpdated",
        73: "SetLazyMode",
    }
)
"""VMI call number -> name (FACTS 2, ``VMI_CALL_*``)."""


@attrs.frozen
class _Spec:
    source: str
    defines: tuple[str, ...]


_SPECS: Mapping[str, _Spec] = MappingProxyType(
    {
        "native": _Spec("native.S", ()),
        "native-calls": _Spec("native.S", ("NATIVE_CALLS",)),
        # What a hardware VMM ships (the hvm model): page tables through its backdoor.
        "hvm": _Spec("native.S", ("HVM_BACKDOOR",)),
        "xen-2.0": _Spec("xen.S", ("XEN_ABI=200",)),
        "xen-3.0": _Spec("xen.S", ("XEN_ABI=300",)),
        # The ROM the hypothetical xen-3.0.1-secfix ships (arch.cr2 moved).
        "xen-3.0-secfix": _Spec("xen.S", ("XEN_ABI=300", "XEN_SECFIX")),
        # The ROM of the hypothetical xen-3.0.1-autoflush (InvalPage needs no hypercall).
        "xen-3.0-autoflush": _Spec("xen.S", ("XEN_ABI=300", "XEN_AUTO_FLUSH")),
    }
)
ROMS: tuple[str, ...] = tuple(_SPECS)
"""Every ROM :func:`build_rom` knows."""


class RomError(Exception):
    """A ROM did not build, or bytes are not a ROM (the message says why)."""


class RelocKind(enum.IntEnum):
    """``VMI_RELOCATION_*``: what the kernel does with a site of this call."""

    NONE = 0  # keep the native instructions
    CALL_REL = 1  # call rel32 into the slot
    JUMP_REL = 2  # jmp rel32 into the slot
    NOP = 3  # the whole site becomes NOPs


@attrs.frozen
class Relocation:
    """One call's relocation info, as the ROM's ``get_reloc`` returns it."""

    call: int
    name: str
    kind: RelocKind
    offset: int | None  # the slot's offset in the ROM; None: the ROM does not implement it


@attrs.frozen
class RomInfo:
    """A ROM's header and relocation info."""

    size: int
    rom_signature: int
    length_units: int
    checksum_ok: bool
    vrom_signature: int
    api_version: tuple[int, int]  # (major, minor)
    jump_slots: int
    virtual_top: int
    license: str | None
    pci_vendor: int | None
    pci_device: int | None
    params: Mapping[str, int]
    relocations: tuple[Relocation, ...]  # every call number 0..79 with a name

    def relocation(self, call: int | str) -> Relocation:
        """The relocation of a call, by number or name."""
        for r in self.relocations:
            if call in (r.call, r.name):
                return r
        msg = f"no VMI call {call!r}"
        raise KeyError(msg)

    def implemented(self) -> tuple[Relocation, ...]:
        """The calls whose slot holds code."""
        return tuple(r for r in self.relocations if r.offset is not None)

    def describe(self) -> list[tuple[str, str]]:
        """(call, what the kernel does with its sites) for every implemented call."""
        how = {
            RelocKind.NONE: "native bytes kept",
            RelocKind.CALL_REL: "call into the ROM",
            RelocKind.JUMP_REL: "jump into the ROM",
            RelocKind.NOP: "nothing (NOPs)",
        }
        return [(r.name, how[r.kind]) for r in self.implemented()]


# -- building ---------------------------------------------------------------------------------


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as e:
        msg = f"{argv[0]}: not found (the VMI ROMs need gcc -m32 and GNU binutils)"
        raise RomError(msg) from e


@functools.lru_cache(maxsize=1)
def _toolchain() -> str:
    return "\n".join(
        (_run([tool, "--version"], Path.cwd()).stdout.splitlines() or [tool])[0]
        for tool in (CC, LD, OBJCOPY)
    )


def _digest(name: str, spec: _Spec) -> str:
    h = hashlib.sha256(f"{name}\0{spec!r}\0{_toolchain()}\0".encode())
    for path in sorted(ROM_DIR.iterdir()):
        if path.suffix in (".S", ".h", ".ld"):
            h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:24]


def _finish(image: bytes) -> bytes:
    """Pad to whole 512-byte units, set the length and the checksum byte."""
    units = -(-len(image) // ROM_UNIT)
    if units > 0xFF or units * ROM_UNIT > 0x20000:
        msg = f"ROM of {len(image)} bytes does not fit the option-ROM window"
        raise RomError(msg)
    rom = bytearray(image.ljust(units * ROM_UNIT, b"\0"))
    rom[2] = units
    _fix_checksum(rom)
    return bytes(rom)


def _fix_checksum(rom: bytearray) -> None:
    rom[7] = 0
    rom[7] = -sum(rom) & 0xFF


def _assemble(spec: _Spec, tmp: Path) -> bytes:
    obj, elf, binary = tmp / "rom.o", tmp / "rom.elf", tmp / "rom.bin"
    steps = [
        [
            CC,
            "-m32",
            "-c",
            "-I",
            str(ROM_DIR),
            *(f"-D{d}" for d in spec.defines),
            str(ROM_DIR / spec.source),
            "-o",
            str(obj),
        ],
        [
            LD,
            "-m",
            "elf_i386",
            "-T",
            str(ROM_DIR / "rom.ld"),
            "--build-id=none",
            "-o",
            str(elf),
            str(obj),
        ],
        [OBJCOPY, "-O", "binary", "-j", ".rom", str(elf), str(binary)],
    ]
    for argv in steps:
        result = _run(argv, tmp)
        if result.returncode:
            msg = f"{Path(argv[0]).name} failed on {spec.source}:\n{result.stderr.strip()}"
            raise RomError(msg)
    return binary.read_bytes()


@functools.cache
def _build_cached(name: str, cache_dir: Path) -> bytes:
    spec = _SPECS[name]
    path = cache_dir / f"{name}-{_digest(name, spec)}.rom"
    if path.is_file():
        return path.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        rom = _finish(_assemble(spec, Path(tmp)))
    cache_dir.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(".part")
    part.write_bytes(rom)
    part.replace(path)
    return rom


def build_rom(name: str, *, cache_dir: Path | None = None) -> bytes:
    """The ROM image called ``name`` (one of :data:`ROMS`), built if not cached.

    Raises:
        RomError: unknown name, or the toolchain failed (its diagnostics in the message).
    """
    if name not in _SPECS:
        msg = f"unknown VMI ROM {name!r} (known: {', '.join(ROMS)})"
        raise RomError(msg)
    return _build_cached(name, cache_dir or default_cache_dir().parent / "vmi-rom")


# -- rewriting --------------------------------------------------------------------------------


def _u16(data: bytes | bytearray, off: int) -> int:
    return int.from_bytes(data[off : off + 2], "little")


def _u32(data: bytes | bytearray, off: int) -> int:
    return int.from_bytes(data[off : off + 4], "little")


def with_params(
    rom: bytes,
    *,
    rom_pa: int | None = None,
    shared_info_pa: int | None = None,
    timer_vector: int | None = None,
) -> bytes:
    """``rom`` with its hypervisor parameters (R:030) rewritten and the checksum fixed.

    ``rom_pa``: the guest-physical address the ROM is mapped at;
    ``shared_info_pa``: where the hypervisor mapped shared_info (Xen ROMs);
    ``timer_vector``: the vector the ROM injects the timer event as.
    """
    out = bytearray(rom)
    for off, value in (
        (PARAM_ROM_PA, rom_pa),
        (PARAM_SHARED_INFO_PA, shared_info_pa),
        (PARAM_TIMER_VECTOR, timer_vector),
    ):
        if value is not None:
            out[off : off + 4] = value.to_bytes(4, "little")
    _fix_checksum(out)
    return bytes(out)


def with_header(
    rom: bytes,
    *,
    api_version: tuple[int, int] | None = None,
    license: str | None = None,
    vrom_signature: int | None = None,
    pci_ids: tuple[int, int] | None = None,
    length_units: int | None = None,
) -> bytes:
    """``rom`` with header fields rewritten and the checksum fixed (for probe tests).

    Raises:
        RomError: the new license string does not fit the room the ROM left for it.
    """
    out = bytearray(rom)
    if api_version is not None:
        out[13], out[12] = api_version
    if vrom_signature is not None:
        out[8:12] = vrom_signature.to_bytes(4, "little")
    if length_units is not None:
        out[2] = length_units
    if pci_ids is not None:
        pci = _u16(out, 24)
        out[pci + 4 : pci + 8] = pci_ids[0].to_bytes(2, "little") + pci_ids[1].to_bytes(2, "little")
    if license is not None:
        off = _u16(out, 22)
        room = 32 - (off % 16)  # PCI_HEADER leaves the string's 16-byte line plus 16
        raw = license.encode() + b"\0"
        if len(raw) > room:
            msg = f"license {license!r} does not fit the {room} bytes the ROM reserves"
            raise RomError(msg)
        out[off : off + len(raw)] = raw
    _fix_checksum(out)
    return bytes(out)


# -- reading ----------------------------------------------------------------------------------

_PROBE_MEMORY = 2 << 20
_STUB = PhysAddr(0x1000)
_STACK = 0x8000


def _get_relocs(rom: bytes) -> tuple[Relocation, ...]:
    """Run the ROM's own get_reloc for every call number, on a scratch machine."""
    m = Machine(memory_size=_PROBE_MEMORY)
    m.write(ROM_BASE, rom)
    target = ROM_BASE + GET_RELOC
    rel = (target - (_STUB + 5)) & 0xFFFFFFFF
    m.write(_STUB, b"\xe8" + rel.to_bytes(4, "little") + b"\xf4")  # call get_reloc; hlt
    out = []
    for call in range(NCALLS):
        name = VMI_CALLS.get(call)
        m.eip, m.esp, m.eax = _STUB, _STACK, call
        stop = m.run(max_instructions=10_000)
        if stop is not StopReason.HALT or m.eip != _STUB + 6:
            msg = f"get_reloc({call}) did not return (stopped: {StopReason(stop).name})"
            raise RomError(msg)
        eip, kind = m.eax, m.edx & 0xFF
        if name is None:
            continue
        try:
            reloc = RelocKind(kind)
        except ValueError:
            msg = f"get_reloc({name}) returned relocation type {kind}"
            raise RomError(msg) from None
        offset = eip - ROM_BASE if eip else None
        if offset is not None and not 0 <= offset < len(rom):
            msg = f"get_reloc({name}) points outside the ROM: {eip:#x}"
            raise RomError(msg)
        out.append(Relocation(call, name, reloc, offset))
    return tuple(out)


def _license(data: bytes, off: int) -> str | None:
    if not off or off >= len(data):
        return None
    end = data.find(b"\0", off)
    return data[off : end if end >= 0 else len(data)].decode("latin-1")


def parse_rom(data: bytes) -> RomInfo:
    """Read a ROM's header and relocation info (its get_reloc is run, not guessed).

    Raises:
        RomError: too short for a header, or get_reloc misbehaves.
    """
    if len(data) < SLOTS:
        msg = f"{len(data)} bytes is too short for a VMI ROM"
        raise RomError(msg)
    pci = _u16(data, 24)
    has_pci = 0 < pci <= len(data) - 24 and data[pci : pci + 4] == b"PCIR"
    return RomInfo(
        size=len(data),
        rom_signature=_u16(data, 0),
        length_units=data[2],
        checksum_ok=sum(data[: data[2] * ROM_UNIT]) & 0xFF == 0,
        vrom_signature=_u32(data, 8),
        api_version=(data[13], data[12]),
        jump_slots=data[14],
        virtual_top=_u32(data, 16),
        license=_license(data, _u16(data, 22)),
        pci_vendor=_u16(data, pci + 4) if has_pci else None,
        pci_device=_u16(data, pci + 6) if has_pci else None,
        params=MappingProxyType(
            {
                "rom_pa": _u32(data, PARAM_ROM_PA),
                "shared_info_pa": _u32(data, PARAM_SHARED_INFO_PA),
                "timer_vector": _u32(data, PARAM_TIMER_VECTOR),
            }
        ),
        relocations=_get_relocs(data),
    )
