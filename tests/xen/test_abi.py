"""The ABI tables against FACTS section 3."""

from __future__ import annotations

import pytest

from pvops.backends.xen.models.abi import (
    ABI_2_0,
    ABI_3_0,
    ABI_3_0_2,
    VERSIONS,
    hypercall_stub,
    version,
)


class TestHypercallNumbers:
    """FACTS 3a."""

    @pytest.mark.parametrize("abi", [ABI_2_0, ABI_3_0, ABI_3_0_2])
    def test_common_numbers(self, abi) -> None:
        """0-5, 13-22 are the same in every ABI."""
        for name, nr in [
            ("set_trap_table", 0),
            ("mmu_update", 1),
            ("fpu_taskswitch", 5),
            ("multicall", 13),
            ("update_va_mapping", 14),
            ("set_timer_op", 15),
            ("event_channel_op", 16),
            ("console_io", 18),
            ("vm_assist", 21),
        ]:
            assert abi.number(name) == nr

    def test_2_0_only(self) -> None:
        """2.0: set_fast_trap 11, dom_mem_op 12, boot_vcpu 24, no mmuext_op."""
        assert ABI_2_0.number("set_fast_trap") == 11
        assert ABI_2_0.name_of(12) == "dom_mem_op"
        assert ABI_2_0.number("boot_vcpu") == 24
        assert ABI_2_0.number("mmuext_op") is None

    def test_3_0_changes(self) -> None:
        """3.0: memory_op 12, vcpu_op 24, mmuext_op 26, no set_fast_trap, 23 is switch_vm86."""
        assert ABI_3_0.name_of(12) == "memory_op"
        assert ABI_3_0.number("mmuext_op") == 26
        assert ABI_3_0.number("set_fast_trap") is None
        assert ABI_3_0.name_of(23) == "switch_vm86"

    def test_3_0_2_changes(self) -> None:
        """3.0.2: iret 23, sched_op 29, 6 renamed sched_op_compat, nmi_op 28."""
        assert ABI_3_0_2.name_of(23) == "iret"
        assert ABI_3_0_2.number("sched_op") == 29
        assert ABI_3_0_2.name_of(6) == "sched_op_compat"
        assert ABI_3_0_2.number("nmi_op") == 28
        assert ABI_3_0_2.hypercall_page
        assert not ABI_3_0.hypercall_page


class TestLayouts:
    """FACTS 3d offsets."""

    def test_vcpu_info(self) -> None:
        """8 bytes in 2.0; 64 in 3.0 with cr2 at 8 and time at 32."""
        assert ABI_2_0.vcpu_info.size == 8
        assert ABI_2_0.vcpu_info_shift == 3
        assert ABI_3_0.vcpu_info.size == 64
        assert ABI_3_0.vcpu_info.offset("arch_cr2") == 8
        assert ABI_3_0.vcpu_info.offset("time_version") == 32
        for abi in (ABI_2_0, ABI_3_0):
            assert abi.vcpu_info.offset("evtchn_upcall_pending") == 0
            assert abi.vcpu_info.offset("evtchn_upcall_mask") == 1
            assert abi.vcpu_info.offset("evtchn_pending_sel") == 4

    def test_shared_info(self) -> None:
        """evtchn_pending 260 -> 2048, mask 388 -> 2176; wc at 548/552 vs 2308/2312."""
        s2, s3 = ABI_2_0.shared_info, ABI_3_0.shared_info
        assert (s2.offset("evtchn_pending"), s2.offset("evtchn_mask")) == (260, 388)
        assert (s3.offset("evtchn_pending"), s3.offset("evtchn_mask")) == (2048, 2176)
        assert (s2.offset("wc_sec"), s2.offset("wc_usec"), s2.offset("cpu_freq")) == (548, 552, 516)
        assert (s3.offset("wc_sec"), s3.offset("wc_nsec")) == (2308, 2312)
        assert (s2.size, s3.size) == (596, 2324)

    def test_start_info(self) -> None:
        """2.0: nr_pages 0, cmd_line 64, 320 bytes; 3.0: magic 0, nr_pages 32, cmd_line 80."""
        s2, s3 = ABI_2_0.start_info, ABI_3_0.start_info
        assert (s2.offset("nr_pages"), s2.offset("shared_info"), s2.offset("pt_base")) == (0, 8, 24)
        assert (s2.offset("cmd_line"), s2.size) == (64, 320)
        assert (s3.offset("nr_pages"), s3.offset("shared_info"), s3.offset("pt_base")) == (
            32,
            36,
            60,
        )
        assert (s3.offset("cmd_line"), s3.size) == (80, 1104)

    def test_multicall_and_mmu_update(self) -> None:
        """Multicall result args[5] (24) vs result (4); mmu_update 8 vs 16 bytes."""
        assert ABI_2_0.multicall.offset("result") == 24
        assert ABI_3_0.multicall.offset("result") == 4
        assert ABI_3_0.multicall.offset("args") == 8
        assert (ABI_2_0.mmu_update.size, ABI_3_0.mmu_update.size) == (8, 16)
        assert ABI_2_0.mmu_machphys_update == 2
        assert ABI_3_0.mmu_machphys_update == 1
        assert ABI_2_0.mmu_extended_command == 3
        assert ABI_3_0.mmu_extended_command is None

    def test_mmuext_numbers(self) -> None:
        """0-5 shared; 2.0 SET_LDT 9 vs 3.0 13; 3.0 NEW_USER_BASEPTR 15."""
        for name, nr in [
            ("pin_l1_table", 0),
            ("pin_l2_table", 1),
            ("unpin_table", 4),
            ("new_baseptr", 5),
        ]:
            assert ABI_2_0.mmuext[name] == ABI_3_0.mmuext[name] == nr
        assert ABI_2_0.mmuext["set_ldt"] == 9
        assert ABI_3_0.mmuext["set_ldt"] == 13
        assert ABI_2_0.mmuext["tlb_flush"] == 6
        assert ABI_3_0.mmuext["tlb_flush_all"] == 10
        assert ABI_3_0.mmuext["new_user_baseptr"] == 15

    def test_selectors_and_misc(self) -> None:
        """FLAT_RING1_CS 0x0819 vs 0xe019; reserved entries 256 vs 7168; timer hi/lo order."""
        assert (ABI_2_0.flat_ring1_cs, ABI_2_0.flat_ring1_ds) == (0x0819, 0x0821)
        assert (ABI_3_0.flat_ring1_cs, ABI_3_0.flat_ring1_ds) == (0xE019, 0xE021)
        assert ABI_2_0.selectors.first_reserved_entry == 256
        assert ABI_3_0.selectors.first_reserved_entry == 7168
        assert ABI_2_0.set_timer_hi_first
        assert not ABI_3_0.set_timer_hi_first
        assert ABI_2_0.virt_start == ABI_3_0.virt_start == 0xFC000000
        assert (ABI_2_0.nr_virqs, ABI_3_0.nr_virqs) == (6, 7)
        assert ABI_3_0.evtchn_op.offset("virq_port") - 4 == 8
        assert ABI_2_0.evtchn_op.offset("virq_port") - 4 == 4


class TestVersions:
    """The four modeled releases."""

    def test_releases_share_abis(self) -> None:
        """2.0.2 and 2.0.7 share one ABI; 3.0.1 lacks the hypercall page 3.0.2 has."""
        assert VERSIONS["xen-2.0.2"].abi is VERSIONS["xen-2.0.7"].abi is ABI_2_0
        assert VERSIONS["xen-3.0.1"].abi is ABI_3_0
        assert VERSIONS["xen-3.0.2"].abi is ABI_3_0_2

    def test_unknown_release(self) -> None:
        """An unknown name lists the known ones."""
        with pytest.raises(KeyError, match=r"xen-3\.0\.2"):
            version("xen-4.0")

    def test_hypercall_stub(self) -> None:
        """Stub i is `b8 i; cd 82; c3`; the iret stub pushes %eax first."""
        assert hypercall_stub(13)[:8] == bytes.fromhex("b80d000000cd82c3")
        assert hypercall_stub(23, iret=True)[:8] == bytes.fromhex("50b817000000cd82")
        assert len(hypercall_stub(1)) == 32
