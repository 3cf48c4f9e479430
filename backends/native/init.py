"""Native init ops: the patcher's answers on bare hardware.

``native_patch`` is Linux 2.6.22's: the handful of ops that are one short
native instruction sequence are copied straight into their sites (which the
kernel padded for them), the identity ops (``pte_val``, ``make_pte``, ...)
become nothing at all, and everything else gets ``paravirt_patch_default``.
The sequences assume the kernel's ``regparm(3)`` convention: an op's first
argument and its result travel in %eax.

Only a slot that still holds the native default is inlined: a backend that
keeps ``native_patch`` but replaces, say, ``irq_disable`` gets a call to its
own op at those sites, not a ``cli``.
"""

from __future__ import annotations

from pvops.patching import PatchResult, PatchSite, patch_default, patch_insns

NATIVE_SEQUENCES: dict[str, bytes] = {
    "irq.irq_disable": b"\xfa",  # cli
    "irq.irq_enable": b"\xfb",  # sti
    "irq.restore_fl": b"\x50\x9d",  # push %eax; popf
    "irq.save_fl": b"\x9c\x58",  # pushf; pop %eax
    "cpu.iret": b"\xcf",  # iret
    "mmu.read_cr2": b"\x0f\x20\xd0",  # mov %cr2,%eax
    "mmu.read_cr3": b"\x0f\x20\xd8",  # mov %cr3,%eax
    "mmu.write_cr3": b"\x0f\x22\xd8",  # mov %eax,%cr3
    "cpu.clts": b"\x0f\x06",  # clts
    "cpu.read_tsc": b"\x0f\x31",  # rdtsc (result in %edx:%eax)
    # Identities: the argument is already where the result goes.
    "mmu.pte_val": b"",
    "mmu.make_pte": b"",
    "mmu.pgd_val": b"",
    "mmu.make_pgd": b"",
}


def native_patch(site: PatchSite) -> PatchResult:
    """Inline the native instruction where it fits, else the default answer."""
    insns = NATIVE_SEQUENCES.get(site.name)
    if insns is not None and site.native:
        return patch_insns(site, insns)
    return patch_default(site)
