"""The vmi flavour on bare metal: the probe rules, and every workload with each ROM."""

from __future__ import annotations

import re

import pytest
from vmirun import abi_mismatches, run_vmi

from pvops.backends.vmi.rom import build_rom, with_header
from pvops.guest.checksums import WORKLOADS

ITERATIONS = 4
PATCHED = re.compile(r"vmi: (\d+) sites patched, (\d+) native, (\d+) refused; kernel_rpl=(\d)")


def patch_line(console: str) -> tuple[int, int, int, int] | None:
    """(patched, native, refused, kernel_rpl) from the kernel's vmi line."""
    m = PATCHED.search(console)
    return (int(m[1]), int(m[2]), int(m[3]), int(m[4])) if m else None


class TestProbe:
    def test_no_rom_runs_the_base_abi(self) -> None:
        """Without a ROM the kernel says so and runs native."""
        run = run_vmi(None, "syscall", ITERATIONS)
        assert run.ok, run.reason
        assert "vmi: no ROM, running the native base ABI" in run.console

    def test_native_rom_is_found_at_0xc0000(self) -> None:
        """The probe accepts the native ROM and reports VMI 3.0 at 0xc0000."""
        run = run_vmi(build_rom("native"), "syscall", ITERATIONS)
        assert run.ok, run.reason
        assert "vmi: ROM at c0000, VMI 3.0" in run.console

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"license": "Proprietary"}, "license is not GPL, refused"),
            ({"api_version": (2, 0)}, "is VMI 2.0, need 3.x"),
            ({"api_version": (4, 0)}, "is VMI 4.0, need 3.x"),
            ({"length_units": 0}, "has a bad length"),
        ],
    )
    def test_bad_rom_is_refused_and_native_runs(
        self, change: dict[str, object], message: str
    ) -> None:
        """A ROM failing a probe rule is reported, never run: the base ABI does the work."""
        rom = with_header(build_rom("native-calls"), **change)  # type: ignore[arg-type]
        run = run_vmi(rom, "syscall", ITERATIONS)
        assert run.ok, run.reason
        assert message in run.console
        assert "vmi: no ROM, running the native base ABI" in run.console
        assert patch_line(run.console) is None

    def test_gpl_v2_license_is_accepted(self) -> None:
        """The license "GPL v2" passes the check as "GPL" does."""
        run = run_vmi(with_header(build_rom("native-calls"), license="GPL v2"), "syscall", 2)
        assert run.ok, run.reason
        assert patch_line(run.console) is not None

    def test_wrong_signature_is_not_a_vmi_rom(self) -> None:
        """Without "cVmi" the option ROM is not even considered."""
        run = run_vmi(with_header(build_rom("native"), vrom_signature=0), "syscall", 2)
        assert run.ok, run.reason
        assert "vmi: no ROM" in run.console

    def test_unknown_pci_id_only_warns(self) -> None:
        """A vendor mismatch is a warning; the ROM is still used (Linux's probe)."""
        run = run_vmi(with_header(build_rom("native"), pci_ids=(0x1234, 0x5678)), "syscall", 2)
        assert run.ok, run.reason
        assert "unexpected PCI id 1234:5678 (continuing)" in run.console
        assert patch_line(run.console) is not None


@pytest.mark.parametrize("workload", sorted(WORKLOADS))
@pytest.mark.parametrize("rom_name", ["native", "native-calls"])
def test_workload_with_rom(rom_name: str, workload: str) -> None:
    """Every workload's checksum is right with the ROM patched in."""
    run = run_vmi(build_rom(rom_name), workload, ITERATIONS)
    assert run.ok, f"{run.reason}\n{run.console[-2000:]}"
    patched, native, refused, rpl = patch_line(run.console) or (-1, -1, -1, -1)
    assert refused == 0
    assert rpl == 0
    if rom_name == "native-calls":
        assert native == 0  # every site became a call, a jump or NOPs
    else:
        assert patched > 0  # the NOP calls
        assert native > patched


def test_site_counts_add_up() -> None:
    """native and native-calls see the same sites; the native ROM patches only the NOP calls."""
    native = patch_line(run_vmi(build_rom("native"), "compute", 2).console)
    calls = patch_line(run_vmi(build_rom("native-calls"), "compute", 2).console)
    assert native is not None
    assert calls is not None
    assert native[0] + native[1] == calls[0] + calls[1]


def test_kernel_call_numbers_match_vmi_3_0() -> None:
    """The kernel's VMI_CALL_* numbers are the ABI's (else a ROM answers for the wrong call)."""
    assert abi_mismatches() == {}
