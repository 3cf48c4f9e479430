"""hvm: hardware-assisted full virtualization, as VT-x was in 2006.

The guest kernel runs unmodified at ring 0; the VMM gets control only on a
VM exit. Which events exit is the point of this model (Adams & Agesen,
ASPLOS 2006; no nested paging yet):

- port I/O, cpuid, hlt, rdmsr/wrmsr, invlpg, writes to cr0/cr3/cr4 and reads
  of cr3: the instruction exits and the VMM emulates it;
- every guest page fault exits (the VMM must tell its own shadow-page-table
  faults from the guest's);
- every write to a guest page-table page exits: the VMM write-protects them
  to keep its shadow tables in sync; a page written three times with no use
  as a page table in between is taken for data and unshadowed (KVM's write
  flooding detection), and shadowing it again later costs a hidden fault;
- cli/sti/popf/pushf do *not* exit (interrupt virtualization), nor does
  rdtsc (TSC offsetting): that is what made VT-x a full virtualizer.

A native op that a pvops kernel performs through a gate stands for guest
code running that instruction, so it exits as the instruction would.

Late registration: a pvops kernel asks ``cpuid 0x40000000`` after boot;
this VMM answers with its signature and, if the kernel was built with the
``hvm`` backend (its image's notes say so), rebinds the kernel's ops table
to it: MMU ops become hypercalls, batched in lazy MMU mode (KVM's
paravirtual MMU, 2.6.25), so one exit carries a batch of updates.
"""

from __future__ import annotations

import collections
import struct
import weakref
from collections.abc import Callable, Sequence

from pvops.bootmod import BootModule
from pvops.cpu import Machine
from pvops.hw import Cpu
from pvops.image import GuestImage
from pvops.ops.catalog import lookup
from pvops.platform.bare import BareMetal, patch_sites
from pvops.platform.model import MODELS, ModelStats, Session
from pvops.registry import REGISTRY, get_op
from pvops.types import PhysAddr, VirtAddr

SIGNATURE = b"pvopsHVMlab\0"  # 12 bytes, as cpuid returns them in ebx, ecx, edx
HYPERVISOR_LEAF = 0x4000_0000
PTE_PRESENT = 0x001
PDE_LARGE = 0x080
PAGE_MASK = 0xFFFF_F000
EXTERNAL_VECTORS = range(32, 48)
# The backdoor its VMI ROM calls (backends/vmi/roms/native.S, R:300).
BDOOR_PORT = 0x5658  # "VX"
BDOOR_MAGIC = 0x564D5868  # "VMXh"
BDOOR_CMD_PT_UPDATE = 0x50
BDOOR_MAX = 32  # pairs per call: the ROM's queue
BDOOR_RETIRE = 1  # ptr[1:0] of a pair that retires the page table at ptr
RELEASE = -1  # a pv batch entry that retires a page table rather than writing one
FLOOD_WRITES = 3  # KVM's threshold: writes to a shadowed page before it is taken for data
MODRM_REGISTERS = ("eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi")

# Native ops performed through a gate, and the exit their instruction takes.
NATIVE_OP_EXITS = {
    "mmu.set_pte": "ptwrite",
    "mmu.set_pte_at": "ptwrite",
    "mmu.set_pmd": "ptwrite",
    "mmu.write_cr3": "cr",
    "mmu.read_cr3": "cr",
    "mmu.flush_tlb_user": "cr",
    "mmu.flush_tlb_kernel": "cr",
    "mmu.flush_tlb_single": "invlpg",
    "cpu.write_cr0": "cr",
    "cpu.write_cr4": "cr",
    "cpu.cpuid": "cpuid",
    "cpu.read_msr": "msr",
    "cpu.write_msr": "msr",
    "cpu.io_delay": "io",
    "irq.halt": "hlt",
    "irq.safe_halt": "hlt",
}

_VMMS: weakref.WeakKeyDictionary[object, Vmm] = weakref.WeakKeyDictionary()


def hvm_of(cpu: Cpu) -> Vmm:
    """The VMM running ``cpu`` (for the hvm backend's ops)."""
    try:
        return _VMMS[cpu]
    except (KeyError, TypeError):
        msg = "hvm: this op needs a CPU running under the hvm hypervisor model"
        raise RuntimeError(msg) from None


class Vmm:
    """The VMM's state for one VM: exit counts, shadowed page tables, the pv batch."""

    def __init__(self, machine: Machine, *, late_registration: bool, configured: bool) -> None:
        self.machine = machine
        self.exits: collections.Counter[str] = collections.Counter()
        self.mmu_entries = 0
        self.page_tables: set[int] = set()  # physical pages write-protected for shadowing
        self.directories: set[int] = set()
        self.flood: collections.Counter[int] = collections.Counter()  # writes since last use
        self.unshadowed: set[int] = set()  # page tables given up on for write flooding
        self.loaded = -1  # the page directory the guest's cr3 holds, once it has loaded one
        self.late_registration = late_registration
        self.configured = configured  # the kernel was built with the hvm backend
        self.session: Session | None = None
        self.registered = False
        self.image: GuestImage | None = None  # the kernel, to re-patch at late registration
        self.modules: Sequence[BootModule] = ()
        # The pv batch: (ptep, value) updates, and (RELEASE, page) retirements.
        self.batch: list[tuple[int, int]] | None = None
        _VMMS[machine] = self

    # --- exits from guest instructions ------------------------------------

    def install(self) -> None:
        """Program the exit controls."""
        m = self.machine
        m.set_intercept("port_io", self._port_io)
        m.set_intercept("invlpg", self._exit_as("invlpg"))
        m.set_intercept("hlt", self._exit_as("hlt"))
        m.set_intercept("msr", self._exit_as("msr"))
        m.set_intercept("cpuid", self._cpuid)
        m.set_intercept("mov_cr", self._mov_cr)
        m.set_intercept("mov_cr3", self._mov_cr)
        m.set_exception_intercept(14, self._page_fault)
        m.set_port_hook(BDOOR_PORT, self._backdoor, 4)

    def _port_io(self, machine: Machine, eip: int, length: int, kind: str) -> bool:
        """An I/O exit; the backdoor's (``in`` from DX = 0x5658, "VMXh") is its own reason.

        The VMM recognizes its backdoor before it emulates any device, so
        that exit costs a plain exit and entry, not a device access
        (``exit.backdoor`` in the cost model).
        """
        del eip, length, kind
        backdoor = machine.edx & 0xFFFF == BDOOR_PORT and machine.eax == BDOOR_MAGIC
        self.exits["backdoor" if backdoor else "io"] += 1
        return False  # the instruction then runs, reaching the port's device (or the backdoor)

    def _backdoor(self, machine: Machine, port: int, size: int, value: int | None) -> int:
        """The VMM's backdoor (VMware's ``in`` from 0x5658, "VMXh" in EAX): its ROM's MMU calls.

        The access has already exited as port I/O; a command the VMM does
        not know, or a wrong magic, reads as all ones, as an unclaimed port.
        """
        del port
        if value is not None or size != 4 or machine.eax != BDOOR_MAGIC:
            return 0xFFFFFFFF
        if machine.ecx & 0xFFFF != BDOOR_CMD_PT_UPDATE or not 0 < machine.esi <= BDOOR_MAX:
            return 0xFFFFFFFF
        base, count = machine.ebx, machine.esi
        if base + 8 * count > machine.memory_size:
            return 0xFFFFFFFF
        pairs = struct.unpack(f"<{2 * count}I", machine.read(PhysAddr(base), 8 * count))
        for ptr, entry in zip(pairs[::2], pairs[1::2], strict=True):
            if ptr & 3 == BDOOR_RETIRE:
                self._release(ptr & PAGE_MASK)
            elif ptr + 4 <= machine.memory_size and not ptr & 3:
                machine.write(PhysAddr(ptr), entry.to_bytes(4, "little"))
                self.mmu_entries += 1
        return 0

    def _exit_as(self, reason: str) -> Callable[[Machine, int, int, str], bool]:
        def hook(machine: Machine, eip: int, length: int, kind: str) -> bool:
            del machine, eip, length, kind
            self.exits[reason] += 1
            return False  # the instruction then runs as the VMM would emulate it

        return hook

    def _mov_cr(self, machine: Machine, eip: int, length: int, kind: str) -> bool:
        """cr0/cr3/cr4 writes and cr3 reads exit; cr0/cr2/cr4 reads are shadowed."""
        del length, kind
        raw = machine.read_virt(VirtAddr(eip), 3)
        opcode = raw[1] if raw[0] == 0x0F else raw[0]
        cr = (raw[2] >> 3) & 7
        write = opcode == 0x22
        if write or cr == 3:
            self.exits["cr"] += 1
        if write and cr == 3:  # the new page directory, from the instruction's source register
            self.shadow(getattr(machine, MODRM_REGISTERS[raw[2] & 7]))
        return False

    def _cpuid(self, machine: Machine, eip: int, length: int, kind: str) -> bool:
        del eip, length, kind
        self.exits["cpuid"] += 1
        if machine.eax != HYPERVISOR_LEAF:
            return False
        machine.eax = HYPERVISOR_LEAF
        machine.ebx, machine.ecx, machine.edx = (
            int.from_bytes(SIGNATURE[i : i + 4], "little") for i in (0, 4, 8)
        )
        if self.late_registration:
            self.register_late()
        return True

    def _page_fault(self, machine: Machine, vector: int, error_code: int) -> bool:
        del machine, vector, error_code
        self.exits["pagefault"] += 1
        return False  # reflected to the guest's own handler

    # --- shadow page tables ------------------------------------------------

    def shadow(self, cr3: int | None = None) -> None:
        """Write-protect the page directory at ``cr3`` and every page table it maps.

        A page the VMM unshadowed for write flooding and now finds in use
        as a page table again is shadowed anew: that rebuild is a hidden
        page fault, an exit the guest never sees.
        """
        m = self.machine
        pd = (m.cr3 if cr3 is None else cr3) & PAGE_MASK
        if pd >= m.memory_size:
            return
        self.loaded = pd
        self._watch(pd, directory=True)
        entries = m.read(pd, 4096)
        for i in range(1024):
            pde = int.from_bytes(entries[4 * i : 4 * i + 4], "little")
            if pde & PTE_PRESENT and not pde & PDE_LARGE:
                self._watch(pde & PAGE_MASK, directory=False)
        self.flood.clear()  # every shadowed page was just used as a page table

    def _live(self, page: int) -> bool:
        """Whether ``page`` is the loaded directory or one of its page tables.

        Those the CPU walks on every TLB miss: a real VMM that dropped their
        shadow would take a hidden fault at the next access and shadow them
        again, so they stay shadowed here.
        """
        if page == self.loaded:
            return True
        if self.loaded < 0:
            return False
        entries = self.machine.read(self.loaded, 4096)
        return any(
            pde & PTE_PRESENT and not pde & PDE_LARGE and pde & PAGE_MASK == page
            for pde in struct.unpack("<1024I", entries)
        )

    def _watch(self, page: int, *, directory: bool) -> None:
        if page >= self.machine.memory_size or page in self.page_tables | self.directories:
            return
        (self.directories if directory else self.page_tables).add(page)
        self.machine.watch_page(page, self._page_table_write)
        if page in self.unshadowed:
            self.unshadowed.discard(page)
            self.exits["pagefault"] += 1

    def _page_table_write(self, machine: Machine, addr: int, size: int, value: int) -> bool:
        del machine, size
        self.exits["ptwrite"] += 1
        page = addr & PAGE_MASK
        if page in self.directories and value & PTE_PRESENT and not value & PDE_LARGE:
            self._watch(value & PAGE_MASK, directory=False)
        # Write flooding (KVM's detection): a page written again and again
        # with no use as a page table in between has become data (a freed
        # table being cleared or reused); stop shadowing it.
        self.flood[page] += 1
        if self.flood[page] >= FLOOD_WRITES and not self._live(page):
            self.page_tables.discard(page)
            self.directories.discard(page)
            self.unshadowed.add(page)
            self.machine.watch_page(page, None)
            del self.flood[page]
        return True

    # --- gates: native ops exit as their instructions ----------------------

    def observe(self, op: str, via: str) -> None:
        """A pvops kernel's op call arrived at the host."""
        del via
        session = self.session
        reason = NATIVE_OP_EXITS.get(op)
        if reason is None or session is None or session.table is None:
            return
        spec = lookup(op)
        if get_op(session.table.backend, spec) is spec.default:  # the instruction itself ran
            self.exits[reason] += 1

    # --- late registration and the paravirtual MMU -------------------------

    def register_late(self) -> None:
        """Rebind a pvops kernel's ops table to the hvm backend (once)."""
        session = self.session
        if self.registered or session is None or session.table is None or not self.configured:
            return
        if session.backend == "vmi":
            return  # the kernel took this VMM's ROM at boot: its MMU path is already there
        session.table.rebind(REGISTRY.get("hvm"))
        session.backend = "hvm"
        self.registered = True
        if self.image is not None and session.patch is not None:
            # Sites the boot patched for the native ops (inlined stores,
            # nops) would never reach the new ones: patch again for them.
            patch_sites(session, self.image, self.modules)

    def pt_update(self, cpu: Cpu, ptep: VirtAddr, value: int, *, now: bool = False) -> None:
        """One page-table update by hypercall, or queued in lazy mode unless ``now``.

        ``now`` issues the queue first (lazy mode goes on), then the update.
        """
        if self.batch is not None and not now:
            self.batch.append((ptep, value))
            return
        if now:
            self.lazy_flush(cpu)
        self.exits["hypercall"] += 1
        self._apply(cpu, [(ptep, value)])

    def pt_release(self, cpu: Cpu, page: int) -> None:
        """The guest retired ``page`` as a page table: stop shadowing it (queued in lazy mode).

        KVM's paravirtual MMU had this (``KVM_MMU_OP_RELEASE_PT``, 2.6.25):
        without it the VMM only learns from write flooding, after the
        freed table's next writes have each exited.
        """
        if self.batch is not None:
            self.batch.append((RELEASE, page))
            return
        self.exits["hypercall"] += 1
        self._apply(cpu, [(RELEASE, page)])

    def _release(self, page: int) -> None:
        if page == self.loaded or page not in self.page_tables | self.directories:
            return  # the CPU still walks it, or it was never shadowed
        self.page_tables.discard(page)
        self.directories.discard(page)
        self.unshadowed.add(page)  # shadowing it again later is a hidden fault
        self.flood.pop(page, None)
        self.machine.watch_page(page, None)

    def lazy_enter(self) -> None:
        """Start a batch."""
        self.batch = []

    def lazy_flush(self, cpu: Cpu) -> None:
        """Issue the batch in one exit."""
        if self.batch:
            self.exits["hypercall"] += 1
            self._apply(cpu, self.batch)
            self.batch = []

    def lazy_leave(self, cpu: Cpu) -> None:
        """Issue the batch and stop batching."""
        self.lazy_flush(cpu)
        self.batch = None

    def _apply(self, cpu: Cpu, updates: Sequence[tuple[int, int]]) -> None:
        for ptep, value in updates:
            if ptep == RELEASE:
                self._release(value)
                continue
            cpu.write_virt(VirtAddr(ptep), (value & 0xFFFFFFFF).to_bytes(4, "little"))
            self.mmu_entries += 1

    def stats(self) -> ModelStats:
        """Exits by reason, plus the timer interrupts that exited to the VMM."""
        exits = dict(self.exits)
        interrupts = sum(
            n for v, n in self.machine.counters()["exceptions"].items() if v in EXTERNAL_VECTORS
        )
        if interrupts:
            exits["interrupt"] = interrupts
        return ModelStats(exits=exits, mmu_entries=self.mmu_entries)


class HardwareAssisted(BareMetal):
    """The ``hvm`` hypervisor model: a VMM with VT-x exits and shadow paging.

    It supplies its own VMI ROM (``hvm``: native instructions, page tables
    through the VMM's backdoor, batched), as a VMI-aware hypervisor would,
    and offers late registration to pvops kernels.
    """

    name = "hvm"

    def __init__(
        self,
        option_rom: bytes | None = None,
        boot_modules: Sequence[BootModule] = (),
        *,
        late_registration: bool = True,
    ) -> None:
        if option_rom is None:
            from pvops.backends.vmi.rom import build_rom  # noqa: PLC0415

            option_rom = build_rom("hvm")
        super().__init__(option_rom, boot_modules)
        self.late_registration = late_registration

    def boot(
        self, image: GuestImage, *, cmdline: str, memory: int, patch: bool, force: bool
    ) -> Session:
        """Boot as bare metal does, inside a VM whose exits are counted."""
        session = super().boot(image, cmdline=cmdline, memory=memory, patch=patch, force=force)
        backends = image.config.get("CONFIG_PARAVIRT_BACKENDS", "").split(",")
        vmm = Vmm(
            session.machine,
            late_registration=self.late_registration,
            configured="hvm" in backends,
        )
        vmm.session = session
        vmm.image = image
        vmm.modules = self.boot_modules
        vmm.install()
        if session.table is not None:
            session.table.observer = vmm.observe
        session.stats = vmm.stats
        return session


MODELS["hvm"] = HardwareAssisted
