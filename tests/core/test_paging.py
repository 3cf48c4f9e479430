"""Paging: page faults and their error codes, U/S and R/W with WP, A/D bits,
PSE, and when the TLB may (and may not) serve stale translations."""

from __future__ import annotations

import struct

import pytest
from core_asm import assemble
from core_env import (
    K_CS,
    enter_ring,
    identity_paging,
    load,
    machine,
    pte_addr,
    read32,
    set_gate,
    write32,
)

from pvops.cpu import StopReason
from pvops.hw import GuestFault

PF_HANDLER = 0x20000
# The #PF handler records CR2 and the error code, then halts.
PF_SOURCE = """
    mov %cr2, %eax
    mov (%esp), %ebx
    hlt
"""


def paged(user_pages: bool = True):
    m = machine()
    identity_paging(m, user=user_pages)
    set_gate(m, 14, PF_HANDLER)
    load(m, PF_HANDLER, PF_SOURCE)
    return m


def run_at(m, source: str, addr: int = 0x10000) -> StopReason:
    load(m, addr, source)
    m.eip = addr
    return m.run(max_instructions=1000)


class TestPageFault:
    def testNotPresent_read_errorCode0AndCr2(self):
        """A read of a not-present page faults with error code 0 and CR2 = address."""
        m = paged()
        write32(m, pte_addr(0x300000), 0)
        assert run_at(m, "mov 0x300123, %ecx\n hlt") == StopReason.HALT
        assert m.eax == 0x300123
        assert m.ebx == 0
        assert m.eip == PF_HANDLER + len(assemble(PF_SOURCE, PF_HANDLER))

    def testNotPresent_write_errorCodeHasW(self):
        """A write to a not-present page sets the W/R bit of the error code."""
        m = paged()
        write32(m, pte_addr(0x300000), 0)
        run_at(m, "movl $1, 0x300010\n hlt")
        assert (m.eax, m.ebx) == (0x300010, 0x2)

    def testFaultFrame_pointsAtFaultingInstruction(self):
        """The pushed EIP is the faulting instruction, not the next one."""
        m = paged()
        write32(m, pte_addr(0x300000), 0)
        end = load(m, 0x10000, "nop\n mov 0x300000, %eax\n hlt")
        m.eip = 0x10000
        m.run(max_instructions=100)
        assert read32(m, m.esp + 4) == 0x10001
        assert read32(m, m.esp + 8) == K_CS
        assert end > 0x10001

    def testUserReadOfSupervisorPage_protectionErrorCode(self):
        """Ring 3 reading a supervisor page gets error code P|U (5)."""
        m = paged()
        write32(m, pte_addr(0x300000), 0x300000 | 3)  # present, writable, supervisor
        load(m, 0x10000, "mov 0x300000, %eax\n hlt")
        enter_ring(m, 3, 0x10000, 0xB000)
        m.run(max_instructions=100)
        assert (m.eax, m.ebx) == (0x300000, 5)
        assert m.cpl == 0

    def testUserWriteToReadOnlyPage_errorCode7(self):
        """Ring 3 writing a read-only user page gets error code P|W|U (7)."""
        m = paged()
        write32(m, pte_addr(0x300000), 0x300000 | 5)
        load(m, 0x10000, "movl $1, 0x300004\n hlt")
        enter_ring(m, 3, 0x10000, 0xB000)
        m.run(max_instructions=100)
        assert (m.eax, m.ebx) == (0x300004, 7)


class TestWriteProtect:
    def testSupervisorWriteToReadOnly_allowedWhenWpClear(self):
        """With CR0.WP=0 ring 0 may write a read-only page."""
        m = paged()
        write32(m, pte_addr(0x300000), 0x300000 | 5)
        assert run_at(m, "movl $0x1234, 0x300008\n hlt") == StopReason.HALT
        assert read32(m, 0x300008) == 0x1234
        assert m.eip == 0x10000 + 11

    def testSupervisorWriteToReadOnly_faultsWhenWpSet(self):
        """With CR0.WP=1 the same write is a protection #PF (error code 3)."""
        m = paged()
        m.cr0 = m.cr0 | 0x10000
        write32(m, pte_addr(0x300000), 0x300000 | 5)
        run_at(m, "movl $0x1234, 0x300008\n hlt")
        assert (m.eax, m.ebx) == (0x300008, 3)
        assert read32(m, 0x300008) == 0


class TestAccessedDirty:
    def testRead_setsAccessedOnly(self):
        """A read sets A in the PTE and PDE but not D."""
        m = paged()
        write32(m, pte_addr(0x300000), 0x300000 | 7)
        run_at(m, "mov 0x300000, %eax\n hlt")
        assert read32(m, pte_addr(0x300000)) & 0x60 == 0x20
        assert read32(m, 0x4000) & 0x20

    def testWriteAfterRead_setsDirty(self):
        """A write after a read (TLB already filled) still sets D."""
        m = paged()
        write32(m, pte_addr(0x300000), 0x300000 | 7)
        run_at(m, "mov 0x300000, %eax\n movl $5, 0x300000\n hlt")
        assert read32(m, pte_addr(0x300000)) & 0x60 == 0x60


class TestPse:
    def testLargePage_mapsFourMegabytes(self):
        """With CR4.PSE a PDE with PS maps 4 MiB; A and D land in the PDE."""
        m = paged()
        m.cr4 = 0x10
        write32(m, 0x4000 + 4 * 2, 0x00000000 | 0x83 | 4)  # 0x800000 -> phys 0
        m.write(0x1234, struct.pack("<I", 0xCAFE))
        run_at(m, "mov 0x801234, %eax\n movl $7, 0x802000\n hlt")
        assert m.eax == 0xCAFE
        assert read32(m, 0x2000) == 7
        assert read32(m, 0x4008) & 0x60 == 0x60

    def testPsBitIgnoredWithoutPse_walksPageTable(self):
        """Without CR4.PSE the PS bit is ignored and the PDE points at a page table."""
        m = paged()
        write32(m, 0x4000 + 4 * 2, 0x6000 | 0x87)
        write32(m, 0x6000 + 4 * 1, 0x300000 | 7)  # 0x801000 -> 0x300000
        write32(m, 0x300010, 0xBEEF)
        run_at(m, "mov 0x801010, %eax\n hlt")
        assert m.eax == 0xBEEF


class TestTlb:
    SOURCE = """
        mov 0x300000, %eax          # fills the TLB
        movl $0x301007, (%edi)      # remap 0x300000 -> 0x301000 behind its back
        mov 0x300000, %ebx          # stale: still the old page
        {flush}
        mov 0x300000, %ecx
        hlt
    """

    def run(self, flush: str, glob: bool = False, pge: bool = False):
        m = paged()
        if pge:
            m.cr4 = 0x80
        write32(m, pte_addr(0x300000), 0x300007 | (0x100 if glob else 0))
        write32(m, 0x300000, 0xAAAA)
        write32(m, 0x301000, 0xBBBB)
        m.edi = pte_addr(0x300000)
        run_at(m, self.SOURCE.format(flush=flush))
        return m

    def testNoFlush_staleTranslationServed(self):
        """Changing a PTE without a flush keeps the old translation."""
        m = self.run("nop")
        assert (m.eax, m.ebx, m.ecx) == (0xAAAA, 0xAAAA, 0xAAAA)

    def testInvlpg_dropsTheEntry(self):
        """invlpg makes the next access walk the new PTE."""
        m = self.run("invlpg 0x300000")
        assert (m.ebx, m.ecx) == (0xAAAA, 0xBBBB)

    def testCr3Write_dropsNonGlobal(self):
        """A CR3 write flushes non-global entries."""
        m = self.run("mov %cr3, %edx\n mov %edx, %cr3")
        assert m.ecx == 0xBBBB

    def testCr3Write_keepsGlobalWithPge(self):
        """A global entry survives a CR3 write when CR4.PGE is set."""
        m = self.run("mov %cr3, %edx\n mov %edx, %cr3", glob=True, pge=True)
        assert m.ecx == 0xAAAA
        assert m.counters()["tlb_flushes"] >= 1

    def testReadVirt_goesThroughPageTables(self):
        """read_virt translates and raises GuestFault(14) with CR2 for a hole."""
        m = paged()
        write32(m, 0x123000, 0x11223344)
        assert m.read_virt(0x123000, 4) == bytes.fromhex("44332211")
        write32(m, pte_addr(0x300000), 0)
        with pytest.raises(GuestFault) as err:
            m.read_virt(0x300010, 1)
        assert (err.value.vector, m.cr2) == (14, 0x300010)
