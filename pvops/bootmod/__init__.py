"""Replacement ops loaded at boot: new code for an old kernel.

Jeremy Fitzhardinge's proposal in the 2006 debate: a kernel binary that
predates a hypervisor (or a fix) need not be rebuilt if the boot loader can
hand it a module that installs replacement ops.  A boot module here is real
guest code: C compiled by gcc for the kernel's op ABI (``regparm(3)``),
linked at the address the loader puts it, with a table naming the ops it
replaces::

    struct pvops_module_op { u32 op; void *fn; } pvops_module_ops[] = {
        { PV_OP_MMU_SET_PTE, mod_set_pte }, { PVOPS_MODULE_END, 0 },
    };

The loader copies the module into the guest, points those slots of the
kernel's ``pv_ops[]`` at its functions instead of the backend's gates, and
the patcher then writes direct calls to them.  Replaced ops run as guest
code: they no longer reach the host at all.
"""

from pvops.bootmod.module import (
    MODULE_SOURCES,
    BootModule,
    ModuleError,
    build_module,
    module_source,
)

__all__ = ["MODULE_SOURCES", "BootModule", "ModuleError", "build_module", "module_source"]
