"""The vmi backend: a pvops kernel that finds a VMI ROM runs its ops through it.

Linux 2.6.21's design: the kernel boots on native ops, its ``vmi_init()``
probes and initializes the ROM, and ``activate_vmi()`` moves each op the ROM
implements into the ROM (directly, or through a wrapper that moves the
arguments), then patches the call sites again.
"""

from __future__ import annotations

import pytest

from pvops.backends.vmi.activate import ActiveRom, active_backend
from pvops.backends.vmi.calls import DIRECT_CALLS, OP_CALLS
from pvops.backends.vmi.rom import RelocKind, build_rom
from pvops.backends.xen.platform import XenPlatform
from pvops.cpu import Machine
from pvops.guest.build import build
from pvops.guest.checksums import expected_checksum, parse_result
from pvops.hw import GuestFault
from pvops.image import GuestImage, load_image
from pvops.lab.run import DEFAULT_MEMORY, RunResult, cmdline, finish
from pvops.ops import paravirt_nop
from pvops.ops.catalog import lookup
from pvops.platform.bare import BareMetal
from pvops.platform.hvm import HardwareAssisted
from pvops.platform.model import HypervisorModel
from pvops.registry import REGISTRY, OpStatus, describe, get_op
from pvops.types import VirtAddr

ITERATIONS = 5


def image() -> GuestImage:
    """The pvops-vmi flavour: paravirt_ops with the vmi backend only."""
    return load_image(build("pvops-vmi"))


def run(hv: HypervisorModel, workload: str, *, patch: bool = True) -> RunResult:
    """Boot, run and verify one workload."""
    session = hv.boot(
        image(), cmdline=cmdline(workload, ITERATIONS), memory=DEFAULT_MEMORY, patch=patch,
        force=False,
    )  # fmt: skip
    return finish(session, RunResult("pvops-vmi", hv.name, workload, ITERATIONS))


def test_registered_backend_maps_every_op_it_names_to_a_vmi_call() -> None:
    """Each op of the map is implemented (not left at its default) in the registered backend."""
    backend = REGISTRY.get("vmi")
    implemented = {r.spec.name for r in describe(backend) if r.status is OpStatus.IMPLEMENTED}
    assert set(OP_CALLS) <= implemented
    assert DIRECT_CALLS.issubset(OP_CALLS)
    for name in ("cpu.cpuid", "cpu.write_msr", "time.sched_clock"):
        assert name not in implemented  # native in Linux's vmi.c too


@pytest.mark.parametrize("patch", [True, False], ids=["patched", "unpatched"])
@pytest.mark.parametrize("workload", ["syscall", "fork", "mmap", "ctxsw"])
def test_bare_metal_with_a_rom_that_calls_everything(workload: str, patch: bool) -> None:
    """With the native-calls ROM every op goes into the ROM; the checksum still holds."""
    result = run(BareMetal(option_rom=build_rom("native-calls")), workload, patch=patch)
    assert result.ok, result.reason + result.console[-400:]
    assert result.backend == "vmi"
    assert parse_result(result.console) == (
        workload, ITERATIONS, expected_checksum(workload, ITERATIONS),
    )  # fmt: skip
    assert "vmi: pv_ops now run through the ROM" in result.console
    calls = sum(sum(v.values()) for v in result.dispatches.values())
    if patch:
        # para_fill ops go straight to the ROM: irq ops never reach the host.
        assert "irq.irq_disable" not in result.dispatches
        assert result.patch_sites["call"] > 0
    else:
        assert result.dispatches["irq.irq_disable"]["indirect"] > 0
    assert calls > 0


def test_native_rom_leaves_native_what_it_says() -> None:
    """The native ROM answers NONE for the calls with native bytes: those ops stay native."""
    result = run(BareMetal(option_rom=build_rom("native")), "syscall")
    assert result.ok, result.reason
    assert result.backend == "vmi"
    assert result.patch_sites["inline"] > result.patch_sites["call"]  # cli/sti inlined, as native


def test_no_rom_no_activation() -> None:
    """On bare metal without a ROM the kernel stays on its native ops."""
    result = run(BareMetal(), "syscall")
    assert result.ok, result.reason
    assert result.backend == "native"
    assert "vmi: no ROM" in result.console


@pytest.mark.parametrize("release", ["xen-2.0.7", "xen-3.0.1"])
@pytest.mark.parametrize("patch", [True, False], ids=["patched", "unpatched"])
def test_xen_vmi_domain(release: str, patch: bool) -> None:
    """On Xen the same binary runs through each release's ROM, in a translated domain."""
    result = run(XenPlatform(release), "fork", patch=patch)
    assert result.ok, result.reason + result.console[-400:]
    assert result.backend == "vmi"
    assert result.hypercalls.get("mmu_update", 0) > 0  # SetPxE reached Xen
    assert result.exits == {}


def test_xen_keeps_the_kernels_native_code_for_what_the_rom_leaves_native() -> None:
    """In a VMI domain an op the ROM leaves native is the kernel's own code, never the host's."""
    result = run(XenPlatform("xen-3.0.1"), "syscall")
    assert result.ok, result.reason
    assert "cpu.cpuid" not in result.dispatches
    assert result.patch_sites["unchanged"] > 0
    assert lookup("init.arch_setup").name in result.dispatches  # activation came through a gate


def test_a_clobbered_continuation_frame_is_the_guests_fault() -> None:
    """The continuation gate finds no call where its frame was: #GP in the guest, no host error."""
    rom = ActiveRom(
        entries={"Halt": VirtAddr(0x1000)}, relocations={}, continuation=VirtAddr(0x2000),
        call_numbers={"Halt": 35},
    )  # fmt: skip
    m = Machine(memory_size=1 << 20)
    m.esp = 0x8000
    m.write(0x8000, (999).to_bytes(4, "little") + bytes(4))
    with pytest.raises(GuestFault):
        rom.continue_pair(m)
    m.write(0x8000, (35).to_bytes(4, "little") + bytes(4))
    rom.continue_pair(m)
    assert (m.eip, m.esp) == (0x1000, 0x8008)


def test_a_kernel_on_the_rom_keeps_it_under_late_registration() -> None:
    """Built with both the vmi and the hvm backend, the kernel keeps the ROM it took at boot."""
    both = load_image(build("pvops", options={"vmi": "y", "hvm": "y", "xen": "none"}))
    session = HardwareAssisted().boot(
        both, cmdline=cmdline("mmap", ITERATIONS), memory=DEFAULT_MEMORY, patch=True, force=False
    )
    result = finish(session, RunResult("pvops", "hvm", "mmap", ITERATIONS))
    assert result.ok, result.reason
    assert result.backend == "vmi"
    assert "paravirt: running on hypervisor" in result.console  # it did ask


def test_nop_relocations_only_replace_ops_without_a_result() -> None:
    """A ROM that answers NOP for GetCR0 leaves read_cr0 native; for SetCR0 it nops write_cr0."""
    rom = ActiveRom(
        entries={"GetCR0": VirtAddr(0x1000), "SetCR0": VirtAddr(0x1020)},
        relocations={"GetCR0": RelocKind.NOP, "SetCR0": RelocKind.NOP},
        continuation=VirtAddr(0x2000),
        call_numbers={"GetCR0": 19, "SetCR0": 14},
    )
    backend = active_backend(rom)
    read, write = lookup("cpu.read_cr0"), lookup("cpu.write_cr0")
    assert get_op(backend, read) is read.default
    assert get_op(backend, write) is paravirt_nop
