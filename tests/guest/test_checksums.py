"""expected_checksum: the host's independent recomputation of each workload."""

from __future__ import annotations

import pytest

from pvops.guest.checksums import WORKLOADS, expected_checksum, parse_result

# Printed by the native, pvops and vmi (no ROM) flavours under qemu 7.2
# (qemu-system-i386 -kernel, 64 MiB), and recomputed here: the guest and the
# formulas in checksums.py agree.
QEMU_1000 = {
    "syscall": 0x9C6600BB,
    "ctxsw": 0xDEDC679A,
    "pagefault": 0x24D76D73,
    "fork": 0xCE888F0B,
    "irq": 0xA822E322,
    "mmap": 0x6CCFEBCA,
    "compute": 0x5758F391,
}


class TestExpectedChecksum:
    """expected_checksum()"""

    def test_workloads_are_the_contract_exactly_seven(self) -> None:
        """The workload names are the ones the guest's command line accepts."""
        assert set(WORKLOADS) == set(QEMU_1000)

    @pytest.mark.parametrize(("workload", "value"), sorted(QEMU_1000.items()))
    def test_thousand_iterations_matches_qemu_run(self, workload: str, value: int) -> None:
        """The formula reproduces what the kernel printed on a real machine model."""
        assert expected_checksum(workload, 1000) == value

    @pytest.mark.parametrize("workload", sorted(QEMU_1000))
    def test_any_count_fits_in32_bits(self, workload: str) -> None:
        """Checksums are u32, as the guest prints them (0x%08x)."""
        for n in (0, 1, 2, 33, 257):
            assert 0 <= expected_checksum(workload, n) <= 0xFFFFFFFF

    @pytest.mark.parametrize("workload", sorted(QEMU_1000))
    def test_different_counts_different_checksums(self, workload: str) -> None:
        """A run that stopped early does not pass for a complete one."""
        values = {expected_checksum(workload, n) for n in (1, 2, 3, 10, 100)}
        assert len(values) == 5

    def test_unknown_workload_raises(self) -> None:
        """A typo is an error, not a checksum of 0."""
        with pytest.raises(ValueError, match="unknown workload"):
            expected_checksum("sycall", 10)

    def test_negative_iterations_raises(self) -> None:
        """The guest's counter is unsigned."""
        with pytest.raises(ValueError, match="iterations"):
            expected_checksum("syscall", -1)


class TestParseResult:
    """parse_result()"""

    def test_result_line_is_parsed(self) -> None:
        """The machine-readable line is found among the boot messages."""
        console = "pvops guest: ...\nPVOPS-RESULT workload=irq iterations=5 checksum=0x0000abcd\n"
        assert parse_result(console) == ("irq", 5, 0xABCD)

    def test_no_result_line_is_none(self) -> None:
        """A run that panicked has no result."""
        assert parse_result("PVOPS-PANIC kernel page fault\n") is None
