"""Replacement ops handed to a kernel at boot: new code for an old kernel."""

from __future__ import annotations

import pytest

from pvops.bootmod import ModuleError, build_module, module_source
from pvops.guest.build import build
from pvops.image import load_image
from pvops.lab.run import DEFAULT_MEMORY, RunResult, cmdline, finish
from pvops.ops import lookup
from pvops.platform.bare import BareMetal
from pvops.registry import REGISTRY
from pvops.types import PhysAddr, Pte, VirtAddr

BASE = PhysAddr(0x90000)


def run(modules: tuple = (), *, patch: bool = True) -> RunResult:  # type: ignore[type-arg]
    """The pvops image on bare metal running fork, with some boot modules."""
    image = load_image(build("pvops"))
    session = BareMetal(boot_modules=modules).boot(
        image, cmdline=cmdline("fork", 5), memory=DEFAULT_MEMORY, patch=patch, force=False
    )
    return finish(session, RunResult(guest="pvops", hv="native", workload="fork", iterations=5))


class TestBuild:
    """build_module compiles C and reads the op table."""

    def test_native_mmu_replaces_three_ops(self) -> None:
        """The shipped module names set_pte, set_pte_at and set_pmd, inside its own code."""
        module = build_module("native_mmu", module_source("native_mmu"), BASE)
        assert set(module.ops) == {"mmu.set_pte", "mmu.set_pte_at", "mmu.set_pmd"}
        start = 0xC000_0000 + BASE
        assert all(start <= addr < start + len(module.code) for addr in module.ops.values())
        assert module.numbers[lookup("mmu.set_pte").number] == module.ops["mmu.set_pte"]

    def test_a_module_without_a_table_is_refused(self) -> None:
        """No PVOPS_MODULE_OPS: a clear error, not a silent no-op."""
        with pytest.raises(ModuleError, match=r"no \.pvops_module_ops table"):
            build_module("empty", "int x;\n", BASE)

    def test_an_unknown_op_number_is_refused(self) -> None:
        """A table entry that names no op is refused with its index."""
        source = (
            '#include "pvops_module.h"\nstatic void f(void) {}\nPVOPS_MODULE_OPS({ 250, f });\n'
        )
        with pytest.raises(ModuleError, match="entry 0 names no op"):
            build_module("bad", source, BASE)

    def test_compile_errors_show_the_compiler(self) -> None:
        """gcc's diagnostics reach the user."""
        with pytest.raises(ModuleError, match="error"):
            build_module("broken", "this is not C", BASE)


class TestOldKernel:
    """A module fixes or speeds up a kernel that is not rebuilt."""

    def test_replaced_ops_run_as_guest_code(self) -> None:
        """With the module the PTE ops stop reaching the host; the run still verifies."""
        module = build_module("native_mmu", module_source("native_mmu"), BASE)
        plain, with_module = run(), run((module,))
        assert plain.ok
        assert with_module.ok, with_module.reason
        assert "mmu.set_pte" in plain.dispatches
        assert "mmu.set_pte" not in with_module.dispatches
        assert with_module.patch_sites == plain.patch_sites

    def test_a_module_rescues_a_broken_backend(self) -> None:
        """A kernel whose backend loses PTE writes fails; the same image with the module passes."""

        def lossy_set_pte(cpu: object, ptep: VirtAddr, pte: Pte) -> None:
            del cpu, ptep, pte

        module = build_module("native_mmu", module_source("native_mmu"), BASE)
        with REGISTRY.override("mmu.set_pte", lossy_set_pte):
            broken, rescued = run(), run((module,))
            unpatched = run((module,), patch=False)
        assert not broken.ok
        assert rescued.ok, rescued.reason
        assert unpatched.ok, unpatched.reason
