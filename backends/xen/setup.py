"""Xen init and apic ops: patching, early setup, and an APIC that is not there."""

from __future__ import annotations

from pvops.hw import Cpu
from pvops.patching import PatchResult, PatchSite
from pvops.pending import OpNotModeledError


def xen_patch(site: PatchSite) -> PatchResult:
    """Choose what replaces one patch site."""
    raise OpNotModeledError("xen", "init.patch", "the Xen hypervisor model")


def xen_arch_setup(cpu: Cpu) -> None:
    """Early architecture setup."""
    raise OpNotModeledError("xen", "init.arch_setup", "the Xen hypervisor model")


def xen_post_allocator_init(cpu: Cpu) -> None:
    """Runs once the page allocator works."""
    raise OpNotModeledError("xen", "init.post_allocator_init", "the Xen hypervisor model")


def xen_apic_write(cpu: Cpu, reg: int, value: int) -> None:
    """Write an APIC register."""
    raise OpNotModeledError("xen", "apic.apic_write", "the Xen hypervisor model")


def xen_apic_read(cpu: Cpu, reg: int) -> int:
    """Read an APIC register."""
    raise OpNotModeledError("xen", "apic.apic_read", "the Xen hypervisor model")
