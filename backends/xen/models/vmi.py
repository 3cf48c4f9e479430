"""The VMI domain builder: a native kernel, entered natively, on Xen's own interface.

X:450 A VMI kernel carries no Xen loader information: it is a native
Multiboot kernel that probes for a ROM at 0xC0000 and, finding one, hands
every sensitive operation to it.  The hypervisor's half is that ROM plus
a domain shaped like a PC (``backends/vmi/README.md``, "contract"):

1. memory is *translated* (:mod:`.shadow`): the kernel's page tables hold
   guest-physical frames, as on bare metal; Xen's shadows hold the machine
   frames the CPU walks;
2. the guest-physical layout is a PC's: the kernel's segments at their ELF
   physical addresses, a Multiboot info block and command line, the Xen
   VMI ROM of this release's ABI at 0xC0000, shared_info at guest-physical
   :data:`SHARED_INFO_PA` (the top page of the option-ROM window);
3. the entry is the ELF entry with the Multiboot registers, in ring 1 on
   the ABI's flat ring-1 selectors, on a boot map of low memory at 0 and at
   0xC0000000 (what ``pc/boot.S`` would build), events masked;
4. until the ROM takes over, what the kernel does natively from ring 1 is
   emulated (:mod:`.emulate`): port I/O against a PC of its own
   (:class:`~.emulate.VirtualPc`), cli/sti as the event mask, lgdt/lidt,
   its ring-0 selector loads, cr0/cr3.

The builder grants the domain I/O privilege over that PC from the start
(``dom.iopl``), as the ROM's ``physdev_op(SET_IOPL)`` later asks: the
kernel's console is a UART it programs before it probes for a ROM.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pvops.backends.vmi.rom import build_rom, with_params
from pvops.backends.xen.models.domain import Domain, ring1_entry
from pvops.backends.xen.models.emulate import VirtualPc
from pvops.backends.xen.models.shadow import ShadowPager
from pvops.image import GuestImage
from pvops.platform.multiboot import multiboot_enter
from pvops.types import PAGE_SIZE

if TYPE_CHECKING:
    from pvops.backends.xen.models.hypervisor import Xen

ROM_PA = 0xC0000
SHARED_INFO_PA = 0xDF000  # the Xen ROMs' default shared_info_pa (top page of the ROM window)
TIMER_VECTOR = 0x20  # where pc/timer.c maps IRQ 0: the ROM injects VIRQ_TIMER there
PAGE_OFFSET = 0xC0000000
KERNEL_IOPL = 1  # the kernel's ring under Xen
MIN_PAGES = (SHARED_INFO_PA >> 12) + 1


def is_vmi_kernel(image: GuestImage) -> bool:
    """Whether ``image`` probes for a ROM: VMI annotations, or a pvops vmi backend."""
    return bool(image.vmi_annotations) or image.config.get("CONFIG_PARAVIRT_VMI") == "y"


def rom_for(xen: Xen) -> bytes:
    """The Xen VMI ROM of this release's ABI, with this builder's layout in its parameters."""
    return with_params(
        build_rom(xen.abi.vmi_rom),
        rom_pa=ROM_PA,
        shared_info_pa=SHARED_INFO_PA,
        timer_vector=TIMER_VECTOR,
    )


class _PseudoPhysical:
    """A domain being built, as the Multiboot loader sees it: memory and entry registers."""

    def __init__(self, xen: Xen, dom: Domain) -> None:
        self.xen = xen
        self.dom = dom
        self.memory_size = dom.nr_pages * PAGE_SIZE
        self.eax = self.ebx = self.eip = 0

    def write(self, addr: int, data: bytes) -> None:
        self.xen.write_pseudo(self.dom, addr, data)

    def read(self, addr: int, n: int) -> bytes:
        return self.xen.read_pseudo(self.dom, addr, n)


def build(xen: Xen, image: GuestImage, *, memory: int, cmdline: str, name: str) -> Domain:
    """Build a translated domain for a VMI kernel, ready to enter at its native entry.

    Raises:
        MemoryError: not enough free machine memory.
        ValueError: the domain is too small for a PC's layout, or the image
            does not fit in it (pvops.platform.multiboot.LoadError is one).
    """
    nr_pages = memory >> 12
    if nr_pages < MIN_PAGES:
        msg = f"a VMI domain needs at least {MIN_PAGES * PAGE_SIZE >> 20} MiB"
        raise ValueError(msg)
    dom = xen.new_domain(nr_pages, name)
    dom.native_boot = True
    dom.virt_base = PAGE_OFFSET
    dom.symbols = dict(image.symbols)
    dom.iopl = KERNEL_IOPL
    # shared_info is guest-physical SHARED_INFO_PA: that pfn is backed by the
    # shared_info frame (the frame it displaces stays the domain's, unused).
    si_pfn = SHARED_INFO_PA >> 12
    dom.p2m[si_pfn] = dom.shared_info_mfn
    xen.set_m2p(dom.shared_info_mfn, si_pfn)
    from pvops.backends.xen.models import timer  # noqa: PLC0415 - cycle through hypervisor

    timer.init_shared_info(xen, dom)
    dom.platform = VirtualPc(clock=lambda: int(getattr(xen.host, "instructions", 0)))
    pager = ShadowPager(xen, dom)
    dom.shadow = pager
    # Guest-physical memory as a PC's, then the Multiboot hand-off registers.
    loader = _PseudoPhysical(xen, dom)
    try:
        multiboot_enter(loader, image, cmdline)
    except Exception as e:  # the loader's LoadError: placement, command line
        raise ValueError(str(e)) from None
    xen.write_pseudo(dom, ROM_PA, rom_for(xen))
    dom.baseptr = pager.boot_map(nr_pages, PAGE_OFFSET)
    dom.kernel_ss, dom.kernel_sp = xen.abi.selectors.ring1_ds, 0  # until the ROM's stack_switch
    dom.saved = ring1_entry(xen.abi, eip=loader.eip, eax=loader.eax, ebx=loader.ebx)
    xen.log.append(f"built {dom.name} ({nr_pages} pages, translated, VMI) for {xen.version.name}")
    return dom
