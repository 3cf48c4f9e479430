"""Xen init and apic ops: patching, early setup, and an APIC that is not there.

X:1500 ``xen_patch`` (Linux 2.6.23 ``arch/i386/xen/enlighten.c``) inlines
the irq ops as direct accesses to the vcpu_info mask where the kernel tells
where it maps vcpu_info (2.6.23 needs ``VCPUOP_register_vcpu_info``, which
none of these releases has, so by default there is nothing to inline):
``irq_disable`` becomes ``movb $1,mask`` and ``save_fl`` becomes
``testb $0xff,mask; setz %ah; addb %ah,%ah`` (IF in bit 9).  Enabling needs
the pending check and a possible hypercall, so it stays a call.  Everything
else gets ``paravirt_patch_default``.
"""

from __future__ import annotations

import struct

from pvops.backends.xen.xen_ops import domain_of, hypercall
from pvops.hw import Cpu
from pvops.patching import PatchResult, PatchSite, patch_default, patch_insns

_VCPU_INFO_VA: list[int] = []
APIC_LVR = 0x30


def set_vcpu_info_va(va: int | None) -> None:
    """Where the kernel maps vCPU 0's vcpu_info (None: unknown, nothing is inlined)."""
    _VCPU_INFO_VA.clear()
    if va is not None:
        _VCPU_INFO_VA.append(va)


def _direct(name: str) -> bytes | None:
    if not _VCPU_INFO_VA:
        return None
    mask = struct.pack("<I", _VCPU_INFO_VA[0] + 1)
    if name == "irq.irq_disable":
        return b"\xc6\x05" + mask + b"\x01"  # movb $1, mask
    if name == "irq.save_fl":
        return b"\xf6\x05" + mask + b"\xff\x0f\x94\xc4\x00\xe4"  # testb; setz %ah; addb %ah,%ah
    return None


def xen_patch(site: PatchSite) -> PatchResult:
    """Inline the vcpu_info mask accesses that fit, else the default answer."""
    insns = _direct(site.name)
    if insns is not None and len(insns) <= site.length:
        return patch_insns(site, insns)
    return patch_default(site)


def xen_arch_setup(cpu: Cpu) -> None:
    """Register the event and failsafe callbacks: the backend's gates, or the kernel's own."""
    xen, dom = domain_of(cpu, "init.arch_setup")
    event = dom.backend_pages.get("upcall", dom.symbols.get("xen_hypervisor_callback"))
    failsafe = dom.backend_pages.get("failsafe", dom.symbols.get("xen_failsafe_callback", event))
    if event is not None and failsafe is not None:
        cs = xen.host.get_segment("cs")[0]
        hypercall(xen, cpu, "set_callbacks", cs, event, cs, failsafe)


def xen_post_allocator_init(cpu: Cpu) -> None:
    """Nothing to hand over: the model has no pagetable pinning deferred to this point."""
    domain_of(cpu, "init.post_allocator_init")


def xen_apic_write(cpu: Cpu, reg: int, value: int) -> None:
    """A Xen guest has no local APIC: writes go nowhere."""
    domain_of(cpu, "apic.apic_write")
    del reg, value


def xen_apic_read(cpu: Cpu, reg: int) -> int:
    """Reads 0, except the version register Linux probes (``xen_apic_read``)."""
    domain_of(cpu, "apic.apic_read")
    return 0x10 if reg == APIC_LVR else 0
