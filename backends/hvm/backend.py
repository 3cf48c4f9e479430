"""The hvm backend: native everywhere except the MMU, which talks to the VMM."""

from __future__ import annotations

import attrs

from pvops.backends.hvm import mmu
from pvops.backends.native.boot import native_boot
from pvops.ops import PvInfo, PvLazyOps, PvMmuOps
from pvops.registry import Backend

BACKEND = Backend(
    name="hvm",
    description="Native ops plus a paravirtual MMU (batched hypercalls) for a hardware VMM.",
    boot=native_boot,
    hypervisors=("hvm",),
    info=PvInfo(name="hvm", kernel_rpl=0, paravirt_enabled=True, shared_kernel_pmd=True),
    mmu=attrs.evolve(
        PvMmuOps(),
        set_pte=mmu.hvm_set_pte,
        set_pte_at=mmu.hvm_set_pte_at,
        set_pmd=mmu.hvm_set_pmd,
        release_pt=mmu.hvm_release_pt,
        release_pd=mmu.hvm_release_pd,
        lazy_mode=PvLazyOps(
            enter=mmu.hvm_enter_lazy_mmu,
            leave=mmu.hvm_leave_lazy_mmu,
            flush=mmu.hvm_flush_lazy_mmu,
        ),
    ),
)
