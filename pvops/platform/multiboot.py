"""Loading a kernel image into guest memory, and the Multiboot (v1) hand-off.

The native entry protocol: segments at their physical load addresses, a
``multiboot_info`` with the memory size and the command line, EAX holding
the Multiboot magic and EBX the info's address, EIP at the ELF entry, in
the core's power-on state (flat protected mode, paging off, ring 0).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pvops.image import GuestImage
from pvops.types import PhysAddr, VirtAddr

MULTIBOOT_MAGIC = 0x2BADB002
INFO_MEMORY = 0x001
INFO_CMDLINE = 0x004
INFO_ADDR = 0x7000  # below the kernel, outside anything a loaded image occupies
CMDLINE_ADDR = INFO_ADDR + 0x100
CMDLINE_MAX = 0xE00
LOW_MEMORY_KIB = 640


HEADER_MAGIC = 0x1BADB002
HEADER_SEARCH = 8192  # the header must lie in the image's first 8 KiB, 4-byte aligned
NO_HEADER = "error: no multiboot header found."  # GRUB 2's words


class LoadError(Exception):
    """The image cannot be placed in this machine (the message says why)."""


def has_multiboot_header(image: GuestImage) -> bool:
    """Whether a Multiboot loader would take this image: a valid header in its first 8 KiB.

    The header is ``magic, flags, checksum`` with the three summing to zero
    (mod 2**32); a XenoLinux image has none, which is why bare metal will
    not boot it.
    """
    first = min(image.segments, key=lambda seg: seg.paddr, default=None)
    if first is None:
        return False
    head = first.data[:HEADER_SEARCH]
    for offset in range(0, len(head) - 11, 4):
        magic, flags, checksum = (
            int.from_bytes(head[offset + i : offset + i + 4], "little") for i in (0, 4, 8)
        )
        if magic == HEADER_MAGIC and (magic + flags + checksum) & 0xFFFFFFFF == 0:
            return True
    return False


@runtime_checkable
class PhysicalMemory(Protocol):
    """Guest physical memory and the registers an entry protocol sets."""

    memory_size: int
    eax: int
    ebx: int
    eip: int

    def write(self, addr: int, data: bytes) -> None: ...

    def read(self, addr: int, n: int) -> bytes: ...


def load_segments(memory: PhysicalMemory, image: GuestImage) -> None:
    """Copy every loadable segment to its physical address, zero-filling bss."""
    for seg in image.segments:
        end = seg.paddr + seg.memsz
        if end > memory.memory_size:
            msg = (
                f"segment at {seg.vaddr:#x} needs physical memory up to {end:#x}, "
                f"the machine has {memory.memory_size:#x}"
            )
            raise LoadError(msg)
        memory.write(seg.paddr, seg.data + bytes(seg.memsz - seg.filesz))


def multiboot_enter(memory: PhysicalMemory, image: GuestImage, cmdline: str) -> None:
    """Load the image and set up the Multiboot hand-off state at its entry."""
    raw = cmdline.encode("ascii", "replace")
    if len(raw) >= CMDLINE_MAX:
        msg = f"command line of {len(raw)} bytes exceeds the {CMDLINE_MAX - 1} this loader passes"
        raise LoadError(msg)
    load_segments(memory, image)
    mem_upper_kib = max(0, (memory.memory_size - (1 << 20)) >> 10)
    info = b"".join(
        value.to_bytes(4, "little")
        for value in (INFO_MEMORY | INFO_CMDLINE, LOW_MEMORY_KIB, mem_upper_kib, 0, CMDLINE_ADDR)
    )
    memory.write(INFO_ADDR, info)
    memory.write(CMDLINE_ADDR, raw + b"\0")
    memory.eax = MULTIBOOT_MAGIC
    memory.ebx = INFO_ADDR
    memory.eip = image.entry


class ImageMemory:
    """Writes by kernel-virtual address, before paging is on: through the image's segments.

    The patcher runs at load time, when the kernel's virtual addresses are
    not mapped yet; this translates each address to where its segment was
    loaded.
    """

    def __init__(self, memory: PhysicalMemory, image: GuestImage) -> None:
        self.memory = memory
        self.image = image

    def physical(self, addr: VirtAddr, length: int) -> PhysAddr:
        """Where ``[addr, addr + length)`` of the image lives in physical memory."""
        seg = self.image.segment_at(addr)
        if seg is None or not seg.contains(addr, length):
            msg = f"[{addr:#x}, {addr + length:#x}) is not inside one loaded segment"
            raise LoadError(msg)
        return PhysAddr(seg.paddr + (addr - seg.vaddr))

    def write_virt(self, addr: VirtAddr, data: bytes) -> None:
        """Write image bytes by virtual address."""
        self.memory.write(self.physical(addr, len(data)), data)

    def read_virt(self, addr: VirtAddr, n: int) -> bytes:
        """Read image bytes by virtual address."""
        return self.memory.read(self.physical(addr, n), n)
