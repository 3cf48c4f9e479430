"""The native defaults do what the instructions they stand for do."""

from __future__ import annotations

import pytest
from fakecpu import FakeCpu

from pvops.abi import GDT_ENTRY_LDT, GDT_ENTRY_TSS, TSS_ESP0_OFFSET
from pvops.backends.native import cpu as ncpu
from pvops.backends.native import irq as nirq
from pvops.backends.native import lock as nlock
from pvops.backends.native import mmu as nmmu
from pvops.backends.native import time as ntime
from pvops.backends.native.init import native_patch
from pvops.hw import EFLAGS_IF, GuestDeadlock, GuestFault
from pvops.ops import lookup, paravirt_nop
from pvops.patching import (
    CLBR_ANY,
    CLBR_EAX,
    PatchKind,
    PatchSite,
    patch_call,
)
from pvops.types import IrqFlags, Msr, PhysAddr, Pte, VirtAddr


class TestIrqOps:
    """Interrupt-flag ops, including the popf hole."""

    def test_disable_enable_toggle_if(self, cpu: FakeCpu) -> None:
        """cli/sti at ring 0 clear and set IF."""
        nirq.native_irq_enable(cpu)
        assert cpu.eflags & EFLAGS_IF
        nirq.native_irq_disable(cpu)
        assert not cpu.eflags & EFLAGS_IF

    def test_save_restore_round_trip(self, cpu: FakeCpu) -> None:
        """restore_fl(save_fl()) puts IF back as it was."""
        nirq.native_irq_enable(cpu)
        flags = nirq.native_save_fl(cpu)
        nirq.native_irq_disable(cpu)
        nirq.native_restore_fl(cpu, flags)
        assert cpu.eflags & EFLAGS_IF

    def test_restore_fl_at_ring1_silently_keeps_if(self) -> None:
        """popf at CPL 1 > IOPL leaves IF alone without faulting: why native ops fail under Xen."""
        ring1 = FakeCpu(cpl=1)
        nirq.native_restore_fl(ring1, IrqFlags(EFLAGS_IF))
        assert not ring1.eflags & EFLAGS_IF

    def test_cli_at_ring1_faults(self) -> None:
        """cli at CPL 1 > IOPL raises #GP(0)."""
        with pytest.raises(GuestFault) as info:
            nirq.native_irq_disable(FakeCpu(cpl=1))
        assert (info.value.vector, info.value.error_code) == (13, 0)

    def test_init_irq_programs_the_8259s(self, cpu: FakeCpu) -> None:
        """The timer is remapped to vector 0x20 and is the only IRQ unmasked."""
        nirq.native_init_IRQ(cpu)
        assert ("out", 0x21, 0x20) in cpu.port_log
        assert cpu.port_values[0x21] == 0xFE
        assert cpu.port_values[0xA1] == 0xFF

    def test_safe_halt_enables_then_halts(self, cpu: FakeCpu) -> None:
        """sti; hlt."""
        nirq.native_safe_halt(cpu)
        assert cpu.halted
        assert cpu.eflags & EFLAGS_IF


class TestCpuOps:
    """Descriptor tables, MSRs, control registers."""

    def test_load_gdt_reads_the_pseudo_descriptor(self, cpu: FakeCpu) -> None:
        """lgdt takes limit (u16) and base (u32) from memory."""
        cpu.write(PhysAddr(0x100), (0x7F).to_bytes(2, "little") + (0x2000).to_bytes(4, "little"))
        ncpu.native_load_gdt(cpu, VirtAddr(0x100))
        assert cpu.gdtr == (0x2000, 0x7F)

    def test_store_idt_writes_the_pseudo_descriptor(self, cpu: FakeCpu) -> None:
        """sidt writes limit then base."""
        cpu.idtr = (VirtAddr(0x3000), 0x7FF)
        ncpu.native_store_idt(cpu, VirtAddr(0x200))
        assert cpu.read(PhysAddr(0x200), 6) == b"\xff\x07\x00\x30\x00\x00"

    def test_read_msr_unknown_is_eio_not_a_fault(self, cpu: FakeCpu) -> None:
        """The safe variant turns #GP into -EIO."""
        assert ncpu.native_read_msr(cpu, Msr(0xDEAD)) == (0, -5)
        assert ncpu.native_read_msr(cpu, Msr(0x1B)).value == 0xFEE00900

    def test_write_msr_unknown_is_eio(self, cpu: FakeCpu) -> None:
        """wrmsr_safe to a missing MSR returns -EIO."""
        assert ncpu.native_write_msr(cpu, Msr(0xDEAD), 1) == -5
        assert ncpu.native_write_msr(cpu, Msr(0x10), 7) == 0
        assert cpu.msrs[0x10] == 7

    def test_load_tr_desc_uses_the_tss_slot(self, cpu: FakeCpu) -> None:
        """ltr of GDT entry 16."""
        ncpu.native_load_tr_desc(cpu)
        assert cpu.tr == GDT_ENTRY_TSS * 8

    def test_set_ldt_writes_descriptor_and_loads_it(self, cpu: FakeCpu) -> None:
        """A non-empty LDT gets an LDT descriptor in its GDT slot and lldt."""
        cpu.gdtr = (VirtAddr(0x1000), 0xFF)
        ncpu.native_set_ldt(cpu, VirtAddr(0x12345678), 4)
        raw = cpu.read(PhysAddr(0x1000 + GDT_ENTRY_LDT * 8), 8)
        assert raw == bytes([0x1F, 0x00, 0x78, 0x56, 0x34, 0x82, 0x00, 0x12])
        assert cpu.ldtr == GDT_ENTRY_LDT * 8
        ncpu.native_set_ldt(cpu, VirtAddr(0), 0)
        assert cpu.ldtr == 0

    def test_load_esp0_stores_into_the_tss(self, cpu: FakeCpu) -> None:
        """TSS.esp0 is at offset 4."""
        ncpu.native_load_esp0(cpu, VirtAddr(0x400), VirtAddr(0xC0FFEE00))
        assert cpu.read(PhysAddr(0x400 + TSS_ESP0_OFFSET), 4) == (0xC0FFEE00).to_bytes(4, "little")

    def test_set_iopl_mask_only_works_in_ring0(self) -> None:
        """popf cannot change IOPL outside ring 0."""
        ring0, ring3 = FakeCpu(), FakeCpu(cpl=3)
        ncpu.native_set_iopl_mask(ring0, 3 << 12)
        ncpu.native_set_iopl_mask(ring3, 3 << 12)
        assert ring0.eflags & (3 << 12) == 3 << 12
        assert ring3.eflags & (3 << 12) == 0


class TestMmuOps:
    """Page-table stores and TLB flushes."""

    def test_set_pte_is_a_store(self, cpu: FakeCpu) -> None:
        """set_pte writes the 32-bit value at ptep."""
        nmmu.native_set_pte(cpu, VirtAddr(0x800), Pte(0x1234_5067))
        assert cpu.read(PhysAddr(0x800), 4) == (0x1234_5067).to_bytes(4, "little")

    def test_flushes_say_what_they_flush(self, cpu: FakeCpu) -> None:
        """user, kernel and single flushes map to distinct TLB operations."""
        nmmu.native_flush_tlb(cpu)
        nmmu.native_flush_tlb_global(cpu)
        nmmu.native_flush_tlb_single(cpu, VirtAddr(0xC0001000))
        assert cpu.tlb_flushes == ["user", "all", "invlpg 0xc0001000"]

    def test_cr3_round_trip(self, cpu: FakeCpu) -> None:
        """write_cr3 then read_cr3."""
        nmmu.native_write_cr3(cpu, PhysAddr(0x5000))
        assert nmmu.native_read_cr3(cpu) == 0x5000


class TestTimeOps:
    """PIT, RTC and TSC."""

    def test_time_init_programs_pit_at_hz(self, cpu: FakeCpu) -> None:
        """Channel 0, mode 2, divisor 1193182/100."""
        ntime.native_time_init(cpu)
        outs = [(p, v) for kind, p, v in cpu.port_log if kind == "out"]
        assert outs == [(0x43, 0x34), (0x40, 11931 & 0xFF), (0x40, 11931 >> 8)]

    def test_cpu_khz_from_cpuid(self, cpu: FakeCpu) -> None:
        """Leaf 0x16 gives 3800 MHz."""
        assert ntime.native_get_cpu_khz(cpu) == 3_800_000

    def test_wallclock_with_no_rtc_is_zero(self, cpu: FakeCpu) -> None:
        """Ports that read 0xFF (nothing there) give no time rather than garbage."""
        assert ntime.native_get_wallclock(cpu) == 0


class TestLockOps:
    """Ticket spinlocks on guest memory."""

    def test_lock_unlock(self, cpu: FakeCpu) -> None:
        """A free lock is taken, reported held, then released."""
        lock = VirtAddr(0x900)
        assert not nlock.native_spin_is_locked(cpu, lock)
        nlock.native_spin_lock(cpu, lock)
        assert nlock.native_spin_is_locked(cpu, lock)
        assert not nlock.native_spin_trylock(cpu, lock)
        nlock.native_spin_unlock(cpu, lock)
        assert not nlock.native_spin_is_locked(cpu, lock)
        assert nlock.native_spin_trylock(cpu, lock)

    def test_relocking_on_one_cpu_is_a_deadlock(self, cpu: FakeCpu) -> None:
        """Taking a held lock on the only CPU stops with GuestDeadlock instead of hanging."""
        lock = VirtAddr(0x900)
        nlock.native_spin_lock(cpu, lock)
        with pytest.raises(GuestDeadlock, match="0x900"):
            nlock.native_spin_lock(cpu, lock)


def _site(name: str, length: int = 6, clobbers: int = CLBR_ANY) -> PatchSite:
    spec = lookup(name)
    impl = paravirt_nop if spec.default_is_nop else spec.default
    return PatchSite(
        VirtAddr(0xC0100000),
        length,
        spec.number,
        name,
        clobbers,
        VirtAddr(0xC0010000),
        impl,
        native=impl is spec.default,
    )


class TestNativePatch:
    """native_patch answers like Linux 2.6.22's."""

    def test_irq_disable_inlines_cli(self) -> None:
        """cli fits any site."""
        result = native_patch(_site("irq.irq_disable"))
        assert (result.kind, result.code) == (PatchKind.INLINE, b"\xfa")

    def test_save_fl_inlines_pushf_pop(self) -> None:
        """pushf; pop %eax."""
        assert native_patch(_site("irq.save_fl")).code == b"\x9c\x58"

    def test_nop_op_is_nopped(self) -> None:
        """An op whose slot is paravirt_nop becomes nops."""
        assert native_patch(_site("mmu.alloc_pt")).kind is PatchKind.NOP

    def test_other_ops_become_direct_calls(self) -> None:
        """set_pte gets e8 rel32 to its target."""
        result = native_patch(_site("mmu.set_pte"))
        assert result.kind is PatchKind.CALL
        rel = (0xC0010000 - (0xC0100000 + 5)) & 0xFFFFFFFF
        assert result.code == b"\xe8" + rel.to_bytes(4, "little")

    def test_iret_is_inlined_and_jumped_when_not(self) -> None:
        """iret fits; an iret site with a non-native op gets a jump, never a call."""
        assert native_patch(_site("cpu.iret")).code == b"\xcf"
        from pvops.patching import patch_default

        other = PatchSite(
            VirtAddr(0x1000), 5, 44, "cpu.iret", CLBR_ANY, VirtAddr(0x2000), ncpu.native_iret
        )
        assert patch_default(other).code[0] == 0xE9

    def test_identity_ops_patch_to_nothing(self) -> None:
        """make_pte's argument is already its result in %eax: the site becomes nops."""
        result = native_patch(_site("mmu.make_pte"))
        assert (result.kind, result.code) == (PatchKind.INLINE, b"")

    def test_replaced_op_is_called_not_inlined(self) -> None:
        """A backend that keeps native_patch but replaces irq_disable gets a call to its op."""
        spec = lookup("irq.irq_disable")
        site = PatchSite(
            VirtAddr(0x1000),
            6,
            spec.number,
            spec.name,
            CLBR_ANY,
            VirtAddr(0x2000),
            lambda cpu: None,
            native=False,
        )
        assert native_patch(site).kind is PatchKind.CALL

    def test_call_refused_when_clobbers_do_not_allow_it(self) -> None:
        """A site allowing only %eax keeps its indirect call."""
        result = patch_call(_site("mmu.set_pte", clobbers=CLBR_EAX), VirtAddr(0x1000))
        assert result.kind is PatchKind.UNCHANGED

    def test_too_short_site_keeps_native_code(self) -> None:
        """A 2-byte site cannot take a 5-byte call."""
        assert native_patch(_site("mmu.set_pte", length=2)).kind is PatchKind.UNCHANGED
