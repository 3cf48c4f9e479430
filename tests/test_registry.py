"""Backends: registration, validation, describe, override, entry points."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from pvops.boot import BootRequest
from pvops.ops import PvIrqOps, PvMmuOps, lookup, paravirt_nop
from pvops.registry import (
    REGISTRY,
    Backend,
    OpStatus,
    Registry,
    RegistryError,
    describe,
    get_op,
    validate,
)
from pvops.types import IrqFlags, Pte, VirtAddr


def _boot(request: BootRequest) -> None:
    del request


def good_irq_disable(cpu: object) -> None:
    """A stand-in that does nothing."""
    del cpu


def _backend(**groups: object) -> Backend:
    return Backend(
        name="sample", description="a test backend", boot=_boot, hypervisors=("native",), **groups
    )  # type: ignore[arg-type]


class TestValidation:
    """Registration checks each slot against its contract."""

    def test_complete_backend_is_accepted(self) -> None:
        """A backend built from the default groups is valid."""
        validate(_backend())

    def test_wrong_parameter_names_are_refused_naming_the_op(self) -> None:
        """set_pte(cpu, p, v) does not match set_pte(cpu, ptep, pte)."""

        def bad_set_pte(cpu: object, p: VirtAddr, v: Pte) -> None:
            del cpu, p, v

        backend = _backend(mmu=attrs.evolve(PvMmuOps(), set_pte=bad_set_pte))
        with pytest.raises(RegistryError, match=r"op mmu\.set_pte: .*takes \(cpu, p, v\)"):
            validate(backend)

    def test_wrong_arity_is_refused(self) -> None:
        """An irq_disable that wants an argument is refused."""

        def bad(cpu: object, extra: int) -> None:
            del cpu, extra

        with pytest.raises(RegistryError, match=r"irq\.irq_disable"):
            validate(_backend(irq=attrs.evolve(PvIrqOps(), irq_disable=bad)))

    def test_nop_for_a_value_returning_op_is_refused(self) -> None:
        """save_fl must return flags; a nop cannot."""
        irq = PvIrqOps()
        object.__setattr__(irq, "save_fl", paravirt_nop)  # bypass the group validator
        with pytest.raises(RegistryError, match=r"irq\.save_fl: returns a value"):
            validate(_backend(irq=irq))

    def test_none_slot_is_refused_by_the_registry_too(self) -> None:
        """Even a None smuggled past attrs is caught at registration."""
        irq = PvIrqOps()
        object.__setattr__(irq, "irq_enable", None)
        with pytest.raises(RegistryError, match=r"irq\.irq_enable: the slot is None"):
            validate(_backend(irq=irq))

    def test_duplicate_names_need_replace(self) -> None:
        """A second backend of the same name is refused unless replace=True."""
        registry = Registry()
        registry._discovered = True
        registry.register(_backend())
        with pytest.raises(RegistryError, match="already registered"):
            registry.register(_backend())
        registry.register(_backend(), replace=True)

    def test_bad_name_is_refused(self) -> None:
        """Names are identifiers the CLI can take."""
        with pytest.raises(RegistryError, match="backend name"):
            validate(attrs.evolve(_backend(), name="no spaces"))


class TestDescribe:
    """describe() tells implemented ops from defaults and nops."""

    def test_native_implements_nothing(self) -> None:
        """The native backend is all defaults."""
        statuses = {r.status for r in describe(REGISTRY.get("native"))}
        assert statuses == {OpStatus.NATIVE_DEFAULT, OpStatus.NOP}

    def test_a_replaced_op_is_implemented(self) -> None:
        """One evolved slot shows as implemented, the rest as before."""
        backend = _backend(irq=attrs.evolve(PvIrqOps(), irq_disable=good_irq_disable))
        reports = {r.spec.name: r for r in describe(backend)}
        assert reports["irq.irq_disable"].status is OpStatus.IMPLEMENTED
        assert reports["irq.irq_disable"].impl_name.endswith("good_irq_disable")
        assert reports["irq.irq_enable"].status is OpStatus.NATIVE_DEFAULT
        assert reports["mmu.alloc_pt"].status is OpStatus.NOP

    def test_xen_declares_its_ops(self) -> None:
        """The xen backend takes over irq and mmu ops and leaves msr reads native."""
        reports = {r.spec.name: r.status for r in describe(REGISTRY.get("xen"))}
        assert reports["irq.irq_disable"] is OpStatus.IMPLEMENTED
        assert reports["mmu.set_pte"] is OpStatus.IMPLEMENTED
        assert reports["cpu.read_msr"] is OpStatus.NATIVE_DEFAULT
        assert reports["cpu.io_delay"] is OpStatus.NOP

    def test_xen_op_off_xen_says_what_it_needs(self) -> None:
        """A xen op called on a CPU with no Xen domain names the op and what is missing."""
        xen = REGISTRY.get("xen")
        with pytest.raises(RuntimeError, match=r"xen: op irq\.irq_disable needs a CPU running"):
            xen.irq.irq_disable(object())  # type: ignore[arg-type]


class TestOverride:
    """override() swaps one op for a with-block."""

    def test_swaps_and_restores(self) -> None:
        """Inside the block the op is replaced; after it, the original is back."""
        original = REGISTRY.get("native")
        with REGISTRY.override("irq.irq_disable", good_irq_disable) as swapped:
            assert REGISTRY.get("native").irq.irq_disable is good_irq_disable
            assert swapped.irq.irq_disable is good_irq_disable
        assert REGISTRY.get("native") is original

    def test_restores_after_an_exception(self) -> None:
        """An exception in the block does not leave the swap in place."""
        original = REGISTRY.get("native")
        with (
            pytest.raises(ZeroDivisionError),
            REGISTRY.override(lookup("irq.irq_disable"), good_irq_disable),
        ):
            _ = 1 / 0
        assert REGISTRY.get("native") is original

    def test_override_validates(self) -> None:
        """A wrong signature is refused before anything is swapped."""

        def wrong(cpu: object, flags: IrqFlags) -> None:
            del cpu, flags

        original = REGISTRY.get("native")
        with pytest.raises(RegistryError), REGISTRY.override("irq.irq_disable", wrong):
            pass
        assert REGISTRY.get("native") is original


ENTRY_MODULE = '''
from pvops.registry import Backend
from pvops.ops import PvIrqOps
import attrs

def sample_irq_disable(cpu):
    """Pretend to mask interrupts."""

def boot(request):
    """Enter the kernel."""

BACKEND = Backend(
    name="{name}",
    description="registered through an entry point",
    boot=boot,
    hypervisors=("native",),
    irq=attrs.evolve(PvIrqOps(), irq_disable=sample_irq_disable),
)

def make():
    return BACKEND
'''


@pytest.fixture
def plugin_dist(tmp_path: Path) -> Iterator[Path]:
    """A fake installed distribution declaring pvops.backends entry points."""
    (tmp_path / "pvops_sample_backend.py").write_text(ENTRY_MODULE.format(name="sample"))
    (tmp_path / "pvops_broken_backend.py").write_text("raise ImportError('no such thing')\n")
    dist = tmp_path / "pvops_sample-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: pvops-sample\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        textwrap.dedent(
            """
            [pvops.backends]
            sample = pvops_sample_backend:make
            broken = pvops_broken_backend:BACKEND
            misnamed = pvops_sample_backend:BACKEND
            """
        )
    )
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for mod in ("pvops_sample_backend", "pvops_broken_backend"):
            sys.modules.pop(mod, None)


class TestEntryPoints:
    """Discovery through the pvops.backends entry-point group."""

    def test_in_tree_backends_arrive_by_entry_point(self) -> None:
        """native, xen and vmi are registered the same way third-party ones are."""
        registry = Registry()
        registry.discover()
        assert {"native", "xen", "vmi"} <= set(registry.names())

    def test_third_party_backend_is_discovered(self, plugin_dist: Path) -> None:
        """An installed distribution's backend (here via a factory) is registered."""
        del plugin_dist
        registry = Registry()
        registry.discover()
        sample = registry.get("sample")
        assert get_op(sample, lookup("irq.irq_disable")).__name__ == "sample_irq_disable"

    def test_broken_entry_points_are_reported_not_fatal(self, plugin_dist: Path) -> None:
        """A failing import or a name mismatch is recorded; the rest still load."""
        del plugin_dist
        registry = Registry()
        registry.discover()
        assert "no such thing" in registry.discovery_errors["broken"]
        assert "named 'sample', registered as 'misnamed'" in registry.discovery_errors["misnamed"]
        assert "native" in registry.names()
        with pytest.raises(RegistryError, match="failed to load"):
            registry.get("broken")
