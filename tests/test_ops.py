"""The op groups and the catalog: completeness, numbers, contracts."""

from __future__ import annotations

import collections

import attrs
import pytest

from pvops.ops import GROUPS, PvIrqOps, PvMmuOps, by_number, c_header, catalog, lookup, op_count
from pvops.ops.nop import paravirt_nop

# Op numbers are an ABI between the registry and built kernels: pin them.
PINNED_NUMBERS = {
    "init.patch": 0,
    "time.time_init": 8,
    "cpu.cpuid": 16,
    "cpu.load_idt": 32,
    "cpu.iret": 44,
    "cpu.lazy_mode.enter": 60,
    "cpu.lazy_mode.flush": 62,
    "irq.init_IRQ": 64,
    "irq.save_fl": 65,
    "irq.restore_fl": 66,
    "irq.irq_disable": 67,
    "irq.irq_enable": 68,
    "apic.apic_write": 72,
    "mmu.read_cr2": 82,
    "mmu.write_cr3": 85,
    "mmu.flush_tlb_single": 88,
    "mmu.set_pte": 95,
    "mmu.set_pmd": 97,
    "mmu.lazy_mode.enter": 124,
    "mmu.lazy_mode.leave": 125,
    "lock.spin_lock": 130,
    "lock.spin_unlock": 133,
}


class TestCatalog:
    """catalog() walks every group into a flat, numbered list."""

    def test_catalog_has_the_groups_of_a_2_6_2x_kernel(self) -> None:
        """init, time, cpu, irq, apic, mmu and lock are all there, with at least 45 ops."""
        groups = collections.Counter(spec.group for spec in catalog())
        assert set(groups) == {"init", "time", "cpu", "irq", "apic", "mmu", "lock"}
        assert len(catalog()) >= 45
        assert groups["irq"] == 7
        assert groups["lock"] == 6

    def test_numbers_are_unique_and_fit_a_site_record(self) -> None:
        """No two ops share a number, and every number fits the record's u8."""
        numbers = [spec.number for spec in catalog()]
        assert len(numbers) == len(set(numbers))
        assert all(0 <= n < 256 for n in numbers)
        assert op_count() == max(numbers) + 1

    @pytest.mark.parametrize(("name", "number"), sorted(PINNED_NUMBERS.items()))
    def test_numbers_are_stable(self, name: str, number: int) -> None:
        """Op numbers do not move between releases."""
        assert lookup(name).number == number
        assert by_number(number).name == name

    def test_lazy_modes_are_nested_in_cpu_and_mmu(self) -> None:
        """Both cpu and mmu carry enter/leave/flush, numbered apart."""
        lazy = [s.name for s in catalog() if "lazy_mode" in s.path]
        assert lazy == [
            "cpu.lazy_mode.enter",
            "cpu.lazy_mode.leave",
            "cpu.lazy_mode.flush",
            "mmu.lazy_mode.enter",
            "mmu.lazy_mode.leave",
            "mmu.lazy_mode.flush",
        ]

    def test_every_op_has_a_contract_and_a_default(self) -> None:
        """Each op has a one-line doc, a callable default and a signature naming its params."""
        for spec in catalog():
            assert spec.doc, spec.name
            assert "\n" not in spec.doc, spec.name
            assert callable(spec.default), spec.name
            assert spec.signature.startswith(spec.path[-1] + "("), spec.name

    def test_nop_defaults_only_where_nothing_is_returned(self) -> None:
        """paravirt_nop never stands in for an op whose result is used."""
        for spec in catalog():
            if spec.default_is_nop:
                assert not spec.returns_value, spec.name

    def test_lookup_unknown_suggests_close_names(self) -> None:
        """A wrong group prefix gets a did-you-mean."""
        with pytest.raises(KeyError, match=r"did you mean mmu\.set_pte"):
            lookup("cpu.set_pte")


class TestGroups:
    """The attrs groups: complete, frozen, never None."""

    def test_default_instances_hold_native_or_nop(self) -> None:
        """Instantiating a group with no arguments gives the bare-hardware ops."""
        irq = PvIrqOps()
        assert irq.irq_disable.__name__ == "native_irq_disable"
        assert PvMmuOps().alloc_pt is paravirt_nop

    def test_none_is_refused(self) -> None:
        """A slot cannot be set to None, even by mistake at run time."""
        with pytest.raises(TypeError, match="irq_disable"):
            PvIrqOps(irq_disable=None)  # type: ignore[arg-type]

    def test_groups_are_frozen(self) -> None:
        """A group cannot be changed in place: backends evolve copies."""
        irq = PvIrqOps()
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            irq.irq_disable = paravirt_nop  # type: ignore[misc]

    def test_group_table_is_in_template_order(self) -> None:
        """GROUPS lists the groups in the order their numbers run."""
        assert list(GROUPS) == ["init", "time", "cpu", "irq", "apic", "mmu", "lock"]


class TestCHeader:
    """c_header() is what the guest kernel compiles against."""

    def test_header_defines_every_op_and_the_count(self) -> None:
        """One #define per op plus PV_OP_COUNT."""
        text = c_header()
        assert "#define PV_OP_IRQ_IRQ_DISABLE 67 " in text
        assert "#define PV_OP_MMU_LAZY_MODE_ENTER 124 " in text
        assert f"#define PV_OP_COUNT {op_count()}" in text
        assert text.count("#define PV_OP_") == len(catalog()) + 1
