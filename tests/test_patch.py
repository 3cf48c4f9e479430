"""apply_paravirt: sites patched per the backend's answers, padded with NOPs."""

from __future__ import annotations

import attrs
import capstone
import pytest
from fakecpu import FakeCpu

from pvops.ops import PvInitOps, catalog, lookup
from pvops.patch import P6_NOPS, PatchError, SiteRecord, apply_paravirt, nops
from pvops.patching import CLBR_ANY, CLBR_EAX, PatchKind, PatchResult, PatchSite
from pvops.registry import REGISTRY
from pvops.types import PhysAddr, VirtAddr

TEXT = 0x1000
INDIRECT_CALL = b"\xff\x15\x00\x20\x00\x00"  # call *0x2000 (6 bytes)


def _disasm(code: bytes) -> list[str]:
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_32)
    return [insn.mnemonic for insn in md.disasm(code, 0)]


class TestNops:
    """nops() builds padding from the P6 long NOPs."""

    @pytest.mark.parametrize("length", range(20))
    def test_padding_is_nops_of_the_exact_length(self, length: int) -> None:
        """Every length decodes as NOP instructions only, as few as possible."""
        code = nops(length)
        assert len(code) == length
        mnemonics = _disasm(code)
        assert set(mnemonics) <= {"nop"}
        assert len(mnemonics) == -(-length // 8)

    def test_table_lengths(self) -> None:
        """P6_NOPS[n] is n bytes long."""
        assert [len(n) for n in P6_NOPS] == list(range(9))


def _sites(cpu: FakeCpu, names: list[str], length: int = 6) -> list[SiteRecord]:
    records = []
    for i, name in enumerate(names):
        address = TEXT + i * 16
        cpu.write(PhysAddr(address), INDIRECT_CALL)
        records.append(SiteRecord(VirtAddr(address), lookup(name).number, length, CLBR_ANY))
    return records


def _targets() -> dict[int, VirtAddr]:
    return {spec.number: VirtAddr(0x8000 + spec.number * 32) for spec in catalog()}


class TestApplyParavirt:
    """The native backend's answers, written into memory."""

    def test_native_backend_outcomes(self, cpu: FakeCpu) -> None:
        """cli inlined, set_pte called directly, alloc_pt nopped, counted by outcome."""
        records = _sites(cpu, ["irq.irq_disable", "mmu.set_pte", "mmu.alloc_pt", "irq.save_fl"])
        report = apply_paravirt(cpu, records, REGISTRY.get("native"), _targets())
        assert report.outcomes == {"inline": 2, "call": 1, "jmp": 0, "nop": 1, "unchanged": 0}
        assert _disasm(cpu.read(PhysAddr(TEXT), 6)) == ["cli", "nop"]
        call = cpu.read(PhysAddr(TEXT + 16), 6)
        target = 0x8000 + lookup("mmu.set_pte").number * 32
        assert call[:5] == b"\xe8" + ((target - (TEXT + 16 + 5)) & 0xFFFFFFFF).to_bytes(4, "little")
        assert _disasm(cpu.read(PhysAddr(TEXT + 32), 6)) == ["nop"]
        assert _disasm(cpu.read(PhysAddr(TEXT + 48), 6)) == ["pushfd", "pop", "nop"]
        assert report.by_op()["mmu.set_pte"] == {"call": 1}

    def test_unchanged_sites_are_not_written(self, cpu: FakeCpu) -> None:
        """A site that only allows %eax clobbered keeps its indirect call."""
        cpu.write(PhysAddr(TEXT), INDIRECT_CALL)
        record = SiteRecord(VirtAddr(TEXT), lookup("mmu.set_pte").number, 6, CLBR_EAX)
        report = apply_paravirt(cpu, [record], REGISTRY.get("native"), _targets())
        assert report.outcomes["unchanged"] == 1
        assert cpu.read(PhysAddr(TEXT), 6) == INDIRECT_CALL

    def test_a_patch_that_does_not_fit_is_an_error(self, cpu: FakeCpu) -> None:
        """A backend answering 7 bytes for a 6-byte site is refused, naming the op."""

        def greedy_patch(site: PatchSite) -> PatchResult:
            return PatchResult(PatchKind.INLINE, b"\x90" * (site.length + 1))

        backend = attrs.evolve(REGISTRY.get("native"), init=PvInitOps(patch=greedy_patch))
        records = _sites(cpu, ["irq.irq_enable"])
        with pytest.raises(PatchError, match=r"irq\.irq_enable at 0x1000: 7 bytes"):
            apply_paravirt(cpu, records, backend, _targets())
        assert cpu.read(PhysAddr(TEXT), 6) == INDIRECT_CALL
