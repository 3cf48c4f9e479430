"""The Xen guest ABIs as data: one object per ABI, and the versions that speak them.

X:010 Everything a guest kernel compiles in about its hypervisor lives here:
hypercall numbers, the byte layouts of the shared structures, the flat
selectors, the MMUEXT numbers.  Three ABIs (FACTS 3a-3d, from
``xen/include/public/xen.h`` and ``arch-x86_32.h`` at each release):

- :data:`ABI_2_0` (Xen 2.0.2 and 2.0.7): ``mmu_update`` carries the
  extended commands in ``ptr[1:0] = 3``, multicall results land in
  ``args[5]``, ``set_timer_op`` takes the high word first, vcpu_info is 8
  bytes, flat selectors sit at GDT entries 256-295;
- :data:`ABI_3_0` (Xen 3.0.0 and 3.0.1): ``mmuext_op`` is hypercall 26, the
  multicall entry has a ``result`` field, vcpu_info is 64 bytes with cr2 and
  the time record, start_info begins with a magic string, flat selectors at
  entry 7168 (``FLAT_RING1_CS 0xe019``);
- :data:`ABI_3_0_2` (Xen 3.0.2): 3.0 plus the hypercall transfer page, the
  ``iret`` hypercall (23) and ``sched_op`` 29 (6 becomes ``sched_op_compat``).

Xen 3.0.1 came from the 3.0-testing tree, which is not in the stored
history; that it lacks the hypercall page is inferred (FACTS 3b).

Nothing outside this module hard-codes a number or an offset: the models
read them from the ABI of the domain they serve, so a kernel built for one
ABI running on another fails where the layouts disagree, not because a
table said so.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from types import MappingProxyType

import attrs

# errno values Xen returns (Linux's, negated by the hypervisor).
EPERM = 1
ENOENT = 2
ESRCH = 3
EFAULT = 14
EBUSY = 16
EINVAL = 22
ENOMEM = 12
ENOSYS = 38
EAGAIN = 11

DOMID_SELF = 0x7FF0
DOMID_XEN = 0x7FF2  # owner of the hypervisor's own frames

# trap_info flags (unchanged 2.0 -> 3.0): DPL in bits 0-1, bit 2 = mask events on entry.
TI_DPL_MASK = 3
TI_IF = 4

# Console, vm_assist, event channels: unchanged between the ABIs.
CONSOLEIO_WRITE = 0
CONSOLEIO_READ = 1
VMASST_CMD_ENABLE = 0
VMASST_CMD_DISABLE = 1
VMASST_TYPE_MAX = 2  # 4gb_segments 0, 4gb_segments_notify 1, writable_pagetables 2
EVTCHNOP_BIND_INTERDOMAIN = 0
EVTCHNOP_BIND_VIRQ = 1
EVTCHNOP_BIND_PIRQ = 2
EVTCHNOP_CLOSE = 3
EVTCHNOP_SEND = 4
EVTCHNOP_STATUS = 5
EVTCHNOP_ALLOC_UNBOUND = 6
EVTCHNOP_BIND_IPI = 7
EVTCHNOP_BIND_VCPU = 8  # 3.0
EVTCHNOP_UNMASK = 9  # 3.0
NR_EVENT_CHANNELS = 1024  # 32 words of 32 bits on x86_32
VIRQ_TIMER = 0
VIRQ_DEBUG = 1
VIRQ_CONSOLE = 2
VIRQ_DOM_EXC = 3
VIRQ_PARITY_ERR = 4
VIRQ_MISDIRECT = 5
VIRQ_DEBUGGER = 6  # 3.0 only

# sched_op commands and shutdown reasons.
SCHEDOP_YIELD = 0
SCHEDOP_BLOCK = 1
SCHEDOP_SHUTDOWN = 2
SHUTDOWN_POWEROFF = 0
SHUTDOWN_REBOOT = 1
SHUTDOWN_SUSPEND = 2
SHUTDOWN_CRASH = 3

# mmu_update ptr[1:0] commands common to both ABIs.
MMU_NORMAL_PT_UPDATE = 0

# Page-table entry bits (i386 non-PAE).
PTE_PRESENT = 0x001
PTE_RW = 0x002
PTE_USER = 0x004
PTE_PWT = 0x008
PTE_PCD = 0x010
PTE_ACCESSED = 0x020
PTE_DIRTY = 0x040
PTE_PSE = 0x080
PTE_GLOBAL = 0x100
PTE_FRAME = 0xFFFFF000

HYPERCALL_VECTOR = 0x82  # TRAP_INSTR "int $0x82" in every ABI here
HYPERCALL_STUB_SIZE = 32


@attrs.frozen
class Layout:
    """A C struct as offsets: ``fields`` maps a name to (offset, struct format)."""

    name: str
    size: int
    fields: Mapping[str, tuple[int, str]]

    def offset(self, field: str) -> int:
        """The byte offset of ``field``."""
        return self.fields[field][0]

    def pack_into(self, buf: bytearray, base: int, **values: int | bytes) -> None:
        """Write fields of one instance at ``buf[base:]``."""
        for name, value in values.items():
            off, fmt = self.fields[name]
            if isinstance(value, bytes):
                size = struct.calcsize(fmt)
                buf[base + off : base + off + size] = value[:size].ljust(size, b"\0")
            else:
                struct.pack_into("<" + fmt, buf, base + off, value)

    def unpack(self, data: bytes, field: str) -> int:
        """Read one integer field from an instance's bytes."""
        off, fmt = self.fields[field]
        value: int = struct.unpack_from("<" + fmt, data, off)[0]
        return value


def _layout(name: str, size: int, **fields: tuple[int, str]) -> Layout:
    return Layout(name, size, MappingProxyType(dict(fields)))


# --- hypercall numbers (FACTS 3a) ----------------------------------------------------------

_COMMON = {
    "set_trap_table": 0,
    "mmu_update": 1,
    "set_gdt": 2,
    "stack_switch": 3,
    "set_callbacks": 4,
    "fpu_taskswitch": 5,
    "dom0_op": 7,
    "set_debugreg": 8,
    "get_debugreg": 9,
    "update_descriptor": 10,
    "multicall": 13,
    "update_va_mapping": 14,
    "set_timer_op": 15,
    "event_channel_op": 16,
    "xen_version": 17,
    "console_io": 18,
    "physdev_op": 19,
    "grant_table_op": 20,
    "vm_assist": 21,
    "update_va_mapping_otherdomain": 22,
}
HYPERCALLS_2_0 = MappingProxyType(
    _COMMON
    | {
        "sched_op": 6,
        "set_fast_trap": 11,
        "dom_mem_op": 12,
        "switch_vm86": 23,
        "boot_vcpu": 24,
    }
)
HYPERCALLS_3_0 = MappingProxyType(
    _COMMON
    | {"sched_op": 6, "memory_op": 12, "switch_vm86": 23, "vcpu_op": 24, "mmuext_op": 26}
    | {"acm_op": 27}
)
HYPERCALLS_3_0_2 = MappingProxyType(
    _COMMON
    | {"sched_op_compat": 6, "memory_op": 12, "iret": 23, "vcpu_op": 24, "mmuext_op": 26}
    | {"acm_op": 27, "nmi_op": 28, "sched_op": 29}
)

# --- MMUEXT numbers (FACTS 3d) ---------------------------------------------------------------

MMUEXT_2_0 = MappingProxyType(
    {
        "pin_l1_table": 0,
        "pin_l2_table": 1,
        "pin_l3_table": 2,
        "pin_l4_table": 3,
        "unpin_table": 4,
        "new_baseptr": 5,
        "tlb_flush": 6,
        "invlpg": 7,
        "flush_cache": 8,
        "set_ldt": 9,
        "set_foreigndom": 10,
        "clear_foreigndom": 11,
        "transfer_page": 12,
        "reassign_page": 13,
    }
)
MMUEXT_3_0 = MappingProxyType(
    {
        "pin_l1_table": 0,
        "pin_l2_table": 1,
        "pin_l3_table": 2,
        "pin_l4_table": 3,
        "unpin_table": 4,
        "new_baseptr": 5,
        "tlb_flush_local": 6,
        "invlpg_local": 7,
        "tlb_flush_multi": 8,
        "invlpg_multi": 9,
        "tlb_flush_all": 10,
        "invlpg_all": 11,
        "flush_cache": 12,
        "set_ldt": 13,
        "reassign_page": 14,
        "new_user_baseptr": 15,
    }
)
MMUEXT_CMD_SHIFT_2_0 = 8  # 2.0: SET_LDT's entry count sits above the command byte

# --- shared structures (FACTS 3d; offsets from gcc -m32) --------------------------------------

VCPU_INFO_2_0 = _layout(
    "vcpu_info_t (2.0)",
    8,
    evtchn_upcall_pending=(0, "B"),
    evtchn_upcall_mask=(1, "B"),
    evtchn_pending_sel=(4, "I"),
)
VCPU_INFO_3_0 = _layout(
    "vcpu_info_t (3.0)",
    64,
    evtchn_upcall_pending=(0, "B"),
    evtchn_upcall_mask=(1, "B"),
    evtchn_pending_sel=(4, "I"),
    arch_cr2=(8, "I"),
    time_version=(32, "I"),
    time_tsc_timestamp=(40, "Q"),
    time_system_time=(48, "Q"),
    time_tsc_to_system_mul=(56, "I"),
    time_tsc_shift=(60, "b"),
)
SHARED_INFO_2_0 = _layout(
    "shared_info_t (2.0)",
    596,
    vcpu_data=(0, "B"),
    n_vcpu=(256, "I"),
    evtchn_pending=(260, "I"),
    evtchn_mask=(388, "I"),
    cpu_freq=(516, "Q"),
    time_version1=(524, "I"),
    time_version2=(528, "I"),
    tsc_timestamp=(532, "Q"),
    system_time=(540, "Q"),
    wc_sec=(548, "I"),
    wc_usec=(552, "I"),
    domain_time=(556, "Q"),
    wall_timeout=(564, "Q"),
    domain_timeout=(572, "Q"),
    arch=(580, "I"),
)
SHARED_INFO_3_0 = _layout(
    "shared_info_t (3.0)",
    2324,
    vcpu_info=(0, "B"),
    evtchn_pending=(2048, "I"),
    evtchn_mask=(2176, "I"),
    wc_version=(2304, "I"),
    wc_sec=(2308, "I"),
    wc_nsec=(2312, "I"),
    arch_max_pfn=(2316, "I"),
    arch_pfn_to_mfn_frame_list_list=(2320, "I"),
)
START_INFO_2_0 = _layout(
    "start_info_t (2.0)",
    320,
    nr_pages=(0, "I"),
    shared_info=(8, "I"),
    flags=(16, "I"),
    domain_controller_evtchn=(20, "H"),
    pt_base=(24, "I"),
    nr_pt_frames=(32, "I"),
    mfn_list=(40, "I"),
    mod_start=(48, "I"),
    mod_len=(56, "I"),
    cmd_line=(64, "256s"),
)
START_INFO_3_0 = _layout(
    "start_info_t (3.0)",
    1104,
    magic=(0, "32s"),
    nr_pages=(32, "I"),
    shared_info=(36, "I"),
    flags=(40, "I"),
    store_mfn=(44, "I"),
    store_evtchn=(48, "I"),
    console_mfn=(52, "I"),
    console_evtchn=(56, "I"),
    pt_base=(60, "I"),
    nr_pt_frames=(64, "I"),
    mfn_list=(68, "I"),
    mod_start=(72, "I"),
    mod_len=(76, "I"),
    cmd_line=(80, "1024s"),
)
TRAP_INFO = _layout(
    "trap_info_t", 8, vector=(0, "B"), flags=(1, "B"), cs=(2, "H"), address=(4, "I")
)
MULTICALL_2_0 = _layout("multicall_entry_t (2.0)", 32, op=(0, "I"), args=(4, "I"), result=(24, "I"))
MULTICALL_3_0 = _layout("multicall_entry_t (3.0)", 32, op=(0, "I"), result=(4, "I"), args=(8, "I"))
MMU_UPDATE_2_0 = _layout("mmu_update_t (2.0)", 8, ptr=(0, "I"), val=(4, "I"))
MMU_UPDATE_3_0 = _layout("mmu_update_t (3.0)", 16, ptr=(0, "Q"), val=(8, "Q"))
MMUEXT_OP_3_0 = _layout("struct mmuext_op", 12, cmd=(0, "I"), arg1=(4, "I"), arg2=(8, "I"))
# evtchn_op_t: u32 cmd, then the union at +4.  Only bind_virq's port moves (FACTS 3d).
EVTCHN_OP_2_0 = _layout(
    "evtchn_op_t (2.0)", 4 + 16, cmd=(0, "I"), virq=(4, "I"), virq_port=(8, "I"), port=(4, "I")
)
EVTCHN_OP_3_0 = _layout(
    "evtchn_op_t (3.0)",
    4 + 16,
    cmd=(0, "I"),
    virq=(4, "I"),
    virq_vcpu=(8, "I"),
    virq_port=(12, "I"),
    port=(4, "I"),
)


@attrs.frozen
class Selectors:
    """Xen's reserved GDT entries and the flat selectors guests are entered with."""

    first_reserved_entry: int
    reserved_entries: int
    hypervisor_cs: int
    hypervisor_ds: int
    ring1_cs: int
    ring1_ds: int
    ring3_cs: int
    ring3_ds: int


SELECTORS_2_0 = Selectors(256, 40, 0x0808, 0x0810, 0x0819, 0x0821, 0x082B, 0x0833)
SELECTORS_3_0 = Selectors(7168, 1024, 0xE008, 0xE010, 0xE019, 0xE021, 0xE02B, 0xE033)


@attrs.frozen
class XenAbi:
    """One Xen guest ABI: what a kernel built against it has compiled in."""

    name: str
    xen_ver_tag: str  # what the loader looks for after XEN_VER= in __xen_guest
    major: int
    minor: int
    hypercalls: Mapping[str, int]
    mmuext: Mapping[str, int]
    vcpu_info: Layout
    shared_info: Layout
    start_info: Layout
    multicall: Layout
    mmu_update: Layout
    evtchn_op: Layout
    selectors: Selectors
    mmu_machphys_update: int  # ptr[1:0] value of MMU_MACHPHYS_UPDATE
    mmu_extended_command: int | None  # 2.0's ptr[1:0] = 3; gone in 3.0
    uvmf_flush: int
    uvmf_invlpg: int
    uvmf_all: int | None
    virt_start: int = 0xFC000000  # HYPERVISOR_VIRT_START, i386 non-PAE
    nr_virqs: int = 6
    hypercall_page: bool = False
    start_info_magic: bytes = b""
    set_timer_hi_first: bool = False
    max_gdt_frames: int = 1
    vmi_rom: str = "xen-3.0"  # the VMI ROM (backends/vmi/rom.py) this ABI's releases ship
    auto_flush: bool = False  # what-if: mmu_update invalidates the TLB entries it changes

    def number(self, name: str) -> int | None:
        """The hypercall number of ``name`` in this ABI, if it has one."""
        return self.hypercalls.get(name)

    def name_of(self, nr: int) -> str | None:
        """The hypercall called by number ``nr``, if any."""
        for name, n in self.hypercalls.items():
            if n == nr:
                return name
        return None

    @property
    def flat_ring1_cs(self) -> int:
        """FLAT_RING1_CS: the kernel's code selector at entry."""
        return self.selectors.ring1_cs

    @property
    def flat_ring1_ds(self) -> int:
        """FLAT_RING1_DS (also SS) at entry."""
        return self.selectors.ring1_ds

    @property
    def vcpu_info_shift(self) -> int:
        """log2(sizeof(vcpu_info_t)): XenLinux entry.S's ``sizeof_vcpu_shift``."""
        return self.vcpu_info.size.bit_length() - 1


ABI_2_0 = XenAbi(
    name="2.0",
    xen_ver_tag="2.0",
    major=2,
    minor=0,
    hypercalls=HYPERCALLS_2_0,
    mmuext=MMUEXT_2_0,
    vcpu_info=VCPU_INFO_2_0,
    shared_info=SHARED_INFO_2_0,
    start_info=START_INFO_2_0,
    multicall=MULTICALL_2_0,
    mmu_update=MMU_UPDATE_2_0,
    evtchn_op=EVTCHN_OP_2_0,
    selectors=SELECTORS_2_0,
    mmu_machphys_update=2,
    mmu_extended_command=3,
    uvmf_flush=1,
    uvmf_invlpg=2,
    uvmf_all=None,
    set_timer_hi_first=True,
    vmi_rom="xen-2.0",
)
ABI_3_0 = XenAbi(
    name="3.0",
    xen_ver_tag="xen-3.0",
    major=3,
    minor=0,
    hypercalls=HYPERCALLS_3_0,
    mmuext=MMUEXT_3_0,
    vcpu_info=VCPU_INFO_3_0,
    shared_info=SHARED_INFO_3_0,
    start_info=START_INFO_3_0,
    multicall=MULTICALL_3_0,
    mmu_update=MMU_UPDATE_3_0,
    evtchn_op=EVTCHN_OP_3_0,
    selectors=SELECTORS_3_0,
    mmu_machphys_update=1,
    mmu_extended_command=None,
    uvmf_flush=1,
    uvmf_invlpg=2,
    uvmf_all=4,
    nr_virqs=7,
    start_info_magic=b"xen-3.0-x86_32",
    max_gdt_frames=14,
)
ABI_3_0_2 = attrs.evolve(ABI_3_0, name="3.0.2", hypercalls=HYPERCALLS_3_0_2, hypercall_page=True)

# --- a hypothetical security fix (``pvops scenarios``: shared-layout-fix) --------------------
#
# Not a Xen release: a what-if for the debate's question "a fix changes a
# shared-data layout: who must change what?".  The fix moves
# ``vcpu_info.arch.cr2``, which Xen writes on every page fault it bounces,
# from offset 8 to 16 and leaves 8-15 reserved.  The version tag stays
# ``xen-3.0`` (a point release does not bump the interface), so every
# 3.0 image still loads: whether it *works* is for the runs to say.
VCPU_INFO_3_0_SECFIX = attrs.evolve(
    VCPU_INFO_3_0,
    name="vcpu_info_t (3.0, arch.cr2 moved)",
    fields=MappingProxyType(dict(VCPU_INFO_3_0.fields) | {"arch_cr2": (16, "I")}),
)
ABI_3_0_SECFIX = attrs.evolve(
    ABI_3_0, name="3.0-secfix", vcpu_info=VCPU_INFO_3_0_SECFIX, vmi_rom="xen-3.0-secfix"
)

# --- a hypothetical faster operation (``pvops scenarios``: faster-operation) ---------------
#
# The what-if release invalidates, inside ``mmu_update``, the TLB entry of
# every present page-table entry it changes (it knows where the current
# tables map each one), so a guest no longer needs its own invalidation
# hypercall after unmapping: a TLB flush that costs nothing extra.  A guest
# learns of it from start_info's flags (``SIF_AUTO_FLUSH``, a what-if bit
# above Xen's own), as real guests learn of optional features; a kernel
# built before it never looks.
SIF_AUTO_FLUSH = 1 << 8
ABI_3_0_AUTOFLUSH = attrs.evolve(
    ABI_3_0, name="3.0-autoflush", auto_flush=True, vmi_rom="xen-3.0-autoflush"
)


@attrs.frozen
class XenVersion:
    """A Xen release: its name, the ABI it speaks, and its version numbers."""

    name: str
    abi: XenAbi
    major: int
    minor: int
    extraversion: str


VERSIONS: Mapping[str, XenVersion] = MappingProxyType(
    {
        "xen-2.0.2": XenVersion("xen-2.0.2", ABI_2_0, 2, 0, ".2"),
        "xen-2.0.7": XenVersion("xen-2.0.7", ABI_2_0, 2, 0, ".7"),
        "xen-3.0.1": XenVersion("xen-3.0.1", ABI_3_0, 3, 0, ".1"),
        "xen-3.0.2": XenVersion("xen-3.0.2", ABI_3_0_2, 3, 0, ".2"),
    }
)
"""Every modeled release, by the name ``pvops run --hv`` takes."""

WHAT_IF: Mapping[str, XenVersion] = MappingProxyType(
    {
        "xen-3.0.1-secfix": XenVersion("xen-3.0.1-secfix", ABI_3_0_SECFIX, 3, 0, ".1-secfix"),
        "xen-3.0.1-autoflush": XenVersion(
            "xen-3.0.1-autoflush", ABI_3_0_AUTOFLUSH, 3, 0, ".1-autoflush"
        ),
    }
)
"""Hypothetical releases the scenarios boot (``XenPlatform(WHAT_IF[name])``), not --hv targets."""

KERNEL_INTERFACES: Mapping[str, XenAbi] = MappingProxyType(
    {"xen-3.0": ABI_3_0, "xen-3.0-secfix": ABI_3_0_SECFIX, "xen-3.0-autoflush": ABI_3_0_AUTOFLUSH}
)
"""The Xen interface a kernel is compiled against (build option ``xen=``) -> its layouts."""


def version(name: str) -> XenVersion:
    """The modeled release called ``name`` (``xen-2.0.2`` ...).

    Raises:
        KeyError: not a modeled Xen release; the message lists the known ones.
    """
    try:
        return VERSIONS[name]
    except KeyError:
        msg = f"no Xen model {name!r} (known: {', '.join(VERSIONS)})"
        raise KeyError(msg) from None


def hypercall_stub(nr: int, *, iret: bool = False) -> bytes:
    """Stub ``nr`` of the 3.0.2 transfer page: ``mov $nr,%eax; int $0x82; ret``.

    The iret stub is jumped to and pushes %eax first (``hypercall_page_initialise``).
    """
    body = struct.pack("<BI", 0xB8, nr) + bytes([0xCD, HYPERCALL_VECTOR])
    body = b"\x50" + body if iret else body + b"\xc3"
    return body.ljust(HYPERCALL_STUB_SIZE, b"\xcc")
