"""Helpers for the Xen model tests: a fake machine with the core's hooks, tiny images."""

from __future__ import annotations

import struct
from collections.abc import Callable

from fakecpu import FakeCpu

from pvops.backends.xen.models.abi import ABI_2_0, ABI_3_0, XenAbi, XenVersion
from pvops.backends.xen.models.domain import Domain
from pvops.backends.xen.models.hypervisor import Xen
from pvops.hw import VECTOR_GP, GuestFault
from pvops.image import ElfNote, GuestImage, Segment, parse_xen_guest
from pvops.types import PhysAddr, VirtAddr

VIRT_BASE = 0xC0000000
SCRATCH = VIRT_BASE + 0x100000  # inside the bootstrap region, mapped writable
PAGE_VA = VIRT_BASE + 0x200000  # an ordinary page to remap


class FakeHost(FakeCpu):
    """FakeCpu plus segments and the hooks a hypervisor model installs."""

    def __init__(self, memory_size: int = 24 << 20) -> None:
        super().__init__(memory_size)
        self.memory_size = memory_size
        self.segs: dict[str, tuple[int, int, int, int, int]] = {}
        self.int_hooks: dict[int, Callable[[object], None]] = {}
        self.gates: list[tuple[int, list[Callable[[object], None]]]] = []
        self.timer: tuple[int, int] = (0, 0)
        self.watched: dict[int, object] = {}
        self.stopped = False

    def get_segment(self, name: str) -> tuple[int, int, int, int, int]:
        return self.segs.get(name, (0, 0, 0, 0, 0))

    def set_segment(self, name, selector, base=None, limit=None, access=None, flags=None):
        if selector & 0xFFFC == 0 and name in ("cs", "ss"):
            raise GuestFault(VECTOR_GP, 0)
        self.segs[name] = (
            selector,
            base or 0,
            0xFFFFFFFF if limit is None else limit,
            access or 0,
            flags or 0,
        )
        if name == "cs":
            self._cpl = selector & 3

    def set_int_hook(self, vector, hook):
        self.int_hooks[vector] = hook

    def add_gate_table(self, base, slots):
        self.gates.append((base, list(slots)))
        return len(self.gates) - 1

    def set_timer(self, period, vector=0x20):
        self.timer = (period, vector)

    def watch_page(self, addr, hook):
        if hook is None:
            self.watched.pop(addr >> 12, None)
        else:
            self.watched[addr >> 12] = hook

    def stop(self):
        self.stopped = True

    def rdtsc(self) -> int:
        return self.tsc

    def read(self, addr: PhysAddr, n: int) -> bytes:
        return bytes(self.memory[addr : addr + n])

    def _walk(self, va: int) -> int:
        if not self.cr0 & 0x80000000:
            return va
        pde = int.from_bytes(self.memory[(self.cr3 & ~0xFFF) + (va >> 22) * 4 :][:4], "little")
        if not pde & 1:
            raise GuestFault(14, 0)
        pte_at = (pde & ~0xFFF) + ((va >> 12) & 1023) * 4
        pte = int.from_bytes(self.memory[pte_at : pte_at + 4], "little")
        if not pte & 1:
            raise GuestFault(14, 0)
        return (pte & ~0xFFF) | (va & 0xFFF)

    def read_virt(self, addr: VirtAddr, n: int) -> bytes:
        return b"".join(self.read(PhysAddr(self._walk(addr + i)), 1) for i in range(n))

    def write_virt(self, addr: VirtAddr, data: bytes) -> None:
        for i, b in enumerate(data):
            self.write(PhysAddr(self._walk(addr + i)), bytes([b]))


def make_image(
    xen_guest: str | None = "GUEST_OS=linux,GUEST_VER=2.6,XEN_VER=xen-3.0,VIRT_BASE=0xC0000000,"
    "LOADER=generic",
    *,
    code: bytes = b"\xf4",
    notes: tuple[ElfNote, ...] = (),
    entry: int = VIRT_BASE,
) -> GuestImage:
    """A one-segment kernel at VIRT_BASE with the given ``__xen_guest`` string."""
    seg = Segment(VirtAddr(VIRT_BASE), PhysAddr(VIRT_BASE), 0x4000, code, 7)
    return GuestImage(
        entry=entry,
        segments=(seg,),
        symbols={},
        sites=(),
        vmi_annotations=(),
        xen_guest_string=xen_guest,
        xen_guest=parse_xen_guest(xen_guest) if xen_guest is not None else None,
        notes=notes,
    )


def guest_string(abi: XenAbi, extra: str = "") -> str:
    """The __xen_guest string a XenoLinux kernel for ``abi`` carries."""
    tag = "2.0" if abi is ABI_2_0 else "xen-3.0"
    return f"GUEST_OS=linux,GUEST_VER=2.6,XEN_VER={tag},VIRT_BASE=0xC0000000,LOADER=generic{extra}"


def boot(
    release: str | XenVersion, *, memory: int = 8 << 20, extra: str = ""
) -> tuple[Xen, Domain]:
    """A hypervisor on a fake machine with one running domain."""
    xen = Xen(FakeHost(), release)
    abi = xen.abi
    dom = xen.create_domain(make_image(guest_string(abi, extra)), memory=memory, cmdline="ro")
    xen.start(dom)
    return xen, dom


def hcall(xen: Xen, nr: int, *args: int) -> int:
    """``int $0x82`` from the current guest: registers in, the hook, EAX out (signed)."""
    host = xen.host
    host.eax = nr
    regs = [a & 0xFFFFFFFF for a in args] + [0] * (5 - len(args))
    host.ebx, host.ecx, host.edx, host.esi, host.edi = regs
    host.int_hooks[0x82](host)  # type: ignore[attr-defined]
    eax = host.eax
    return eax - (1 << 32) if eax & 0x80000000 else eax


def put(xen: Xen, dom: Domain, va: int, data: bytes) -> None:
    """A guest store (through its writable mappings)."""
    assert xen.write_guest(dom, va, data) == 0


def get(xen: Xen, dom: Domain, va: int, n: int) -> bytes:
    """A guest load."""
    raw = xen.read_guest(dom, va, n)
    assert isinstance(raw, bytes)
    return raw


def u32s(*words: int) -> bytes:
    """Little-endian u32s."""
    return struct.pack(f"<{len(words)}I", *(w & 0xFFFFFFFF for w in words))


def pte_ma(xen: Xen, dom: Domain, va: int) -> int:
    """Machine address of the PTE mapping ``va`` in the domain's current tables."""
    pde = xen.mem.u32((dom.baseptr << 12) + (va >> 22) * 4)
    return (pde & ~0xFFF) + ((va >> 12) & 1023) * 4


def mmu_req(xen: Xen, ptr: int, val: int) -> bytes:
    """One mmu_update_t in the hypervisor's layout (8 bytes in 2.0, 16 in 3.0)."""
    return struct.pack("<II" if xen.abi.mmu_update.size == 8 else "<QQ", ptr, val)


def mmu_update(xen: Xen, dom: Domain, *reqs: tuple[int, int]) -> int:
    """Issue mmu_update with requests staged in guest memory."""
    put(xen, dom, SCRATCH, b"".join(mmu_req(xen, p, v) for p, v in reqs))
    return hcall(xen, 1, SCRATCH, len(reqs), SCRATCH + 0x800, 0x7FF0)


def mmuext(xen: Xen, dom: Domain, name: str, arg1: int, arg2: int = 0) -> int:
    """One MMUEXT command the release's way (2.0: mmu_update ptr|3; 3.0: hypercall 26)."""
    cmd = xen.abi.mmuext[name]
    if xen.abi.mmu_extended_command is not None:
        if name in ("invlpg", "tlb_flush"):  # the linear address in ptr
            return mmu_update(xen, dom, ((arg1 & ~0xFFF) | 3, cmd))
        return mmu_update(xen, dom, ((arg1 << 12) | 3, cmd | arg2 << 8))
    put(xen, dom, SCRATCH, u32s(cmd, arg1, arg2))
    return hcall(xen, 26, SCRATCH, 1, 0, 0x7FF0)


__all__ = [
    "ABI_3_0",
    "SCRATCH",
    "FakeCpu",
    "FakeHost",
    "boot",
    "get",
    "hcall",
    "make_image",
    "mmu_update",
    "mmuext",
    "pte_ma",
    "put",
    "u32s",
]
