"""The registry's boot entrypoints: each backend's own way into the kernel."""

from __future__ import annotations

import pytest

from pvops.boot import BootNotAvailableError, BootRequest
from pvops.cpu import Machine, StopReason
from pvops.guest.build import build
from pvops.guest.checksums import expected_checksum, parse_result
from pvops.image import load_image
from pvops.platform.multiboot import MULTIBOOT_MAGIC
from pvops.platform.pc import PcPlatform
from pvops.registry import REGISTRY


def test_native_boot_enters_a_native_kernel_that_runs() -> None:
    """Multiboot hand-off: magic in EAX, the ELF entry; the kernel runs to its result."""
    machine = Machine(memory_size=32 << 20)
    pc = PcPlatform(bus=machine, clock=lambda: machine.instructions).attach()
    image = load_image(build("native"))
    REGISTRY.get("native").boot(
        BootRequest(machine, image, "workload=syscall iterations=3", "native")
    )
    assert machine.eax == MULTIBOOT_MAGIC
    assert machine.eip == image.entry
    assert machine.run(max_instructions=20_000_000) is StopReason.HALT
    assert parse_result(pc.console) == ("syscall", 3, expected_checksum("syscall", 3))


def test_native_boot_refuses_a_xen_kernel() -> None:
    """XenoLinux has no Multiboot header: the loader's own words."""
    with pytest.raises(BootNotAvailableError, match="multiboot"):
        REGISTRY.get("native").boot(
            BootRequest(
                Machine(memory_size=32 << 20), load_image(build("xenolinux-3.0")), "", "native"
            )
        )


def test_vmi_boot_maps_the_native_rom() -> None:
    """The vmi entrypoint is the native one plus the hypervisor's ROM at 0xC0000."""
    machine = Machine(memory_size=32 << 20)
    REGISTRY.get("vmi").boot(BootRequest(machine, load_image(build("vmi")), "", "hvm"))
    assert machine.read(0xC0000, 2) == b"\x55\xaa"


def test_vmi_boot_on_xen_points_at_the_model() -> None:
    """On Xen a ROM is not enough: the entrypoint says to use the model's VMI builder."""
    with pytest.raises(BootNotAvailableError, match="domain builder"):
        REGISTRY.get("vmi").boot(
            BootRequest(Machine(memory_size=32 << 20), load_image(build("vmi")), "", "xen-3.0.1")
        )
