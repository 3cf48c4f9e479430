"""Lowering: ops reached from guest code through gates, with the regparm(3) ABI."""

from __future__ import annotations

from guestasm import assemble

from pvops.cpu import Machine, StopReason
from pvops.lowering import DispatchTable, lower
from pvops.ops import by_number, lookup, op_count
from pvops.patch import SiteRecord, apply_paravirt
from pvops.patching import CLBR_ANY
from pvops.registry import REGISTRY
from pvops.testing import recording
from pvops.types import PhysAddr, VirtAddr

CODE = 0x1000
OPS_TABLE = 0x3000  # the kernel's pv_ops[] array
GATES = 0x10000
STACK = 0x9000


def boot(source: str, backend_name: str = "native") -> tuple[Machine, DispatchTable]:
    """A flat machine whose pv_ops[] points at the gates of a backend."""
    m = Machine(memory_size=1 << 20)
    table = lower(m, REGISTRY.get(backend_name), PhysAddr(GATES))
    for number, target in table.targets(0).items():
        m.write(OPS_TABLE + 4 * number, target.to_bytes(4, "little"))
    m.write(CODE, assemble(source + "\nhlt", CODE))
    m.eip, m.esp = CODE, STACK
    return m, table


def call(op: str) -> str:
    """The kernel's indirect call for one op."""
    return f"call *{OPS_TABLE + 4 * lookup(op).number:#x}"


class TestMarshalling:
    """Arguments come from %eax, %edx, %ecx and the stack; results go back."""

    def test_two_register_arguments(self) -> None:
        """set_pte(ptep=%eax, pte=%edx) stores into memory."""
        m, _ = boot(f"mov $0x800, %eax\nmov $0x5007, %edx\n{call('mmu.set_pte')}")
        assert m.run(100) is StopReason.HALT
        assert m.read(0x800, 4) == (0x5007).to_bytes(4, "little")

    def test_fourth_argument_on_the_stack(self) -> None:
        """write_gdt_entry(table, index, low, high): high is pushed."""
        m, _ = boot(
            "mov $0x2000, %eax\nmov $2, %edx\nmov $0x1111, %ecx\n"
            f"push $0x2222\n{call('cpu.write_gdt_entry')}\nadd $4, %esp"
        )
        assert m.run(100) is StopReason.HALT
        assert m.read(0x2010, 8) == (0x1111).to_bytes(4, "little") + (0x2222).to_bytes(4, "little")
        assert m.esp == STACK

    def test_word_result_in_eax(self) -> None:
        """save_fl returns EFLAGS in %eax."""
        m, _ = boot(f"sti\n{call('irq.save_fl')}\ncli")
        assert m.run(100) is StopReason.HALT
        assert m.eax & 0x200

    def test_u64_result_in_edx_eax(self) -> None:
        """read_tsc returns 64 bits in %edx:%eax, as rdtsc."""
        m, _ = boot(f"{call('cpu.read_tsc')}\nmov %eax, %esi\nmov %edx, %edi\nrdtsc")
        assert m.run(100) is StopReason.HALT
        assert (m.edi << 32 | m.esi) <= (m.edx << 32 | m.eax)

    def test_cpuid_through_pointers(self) -> None:
        """cpuid(u32 *eax, *ebx, *ecx, *edx) reads the leaf and writes four words."""
        m, _ = boot(
            "movl $0, 0x700\nmovl $0, 0x708\n"
            "mov $0x700, %eax\nmov $0x704, %edx\nmov $0x708, %ecx\n"
            f"push $0x70c\n{call('cpu.cpuid')}\nadd $4, %esp\n"
            "xor %eax, %eax\ncpuid"
        )
        assert m.run(200) is StopReason.HALT
        words = [int.from_bytes(m.read(0x700 + 4 * i, 4), "little") for i in range(4)]
        assert words == [m.eax, m.ebx, m.ecx, m.edx]

    def test_read_msr_sets_err(self) -> None:
        """read_msr of an MSR the CPU lacks returns 0 and writes -EIO through err."""
        m, _ = boot(f"mov $0xdeadbeef, %eax\nmov $0x600, %edx\n{call('cpu.read_msr')}")
        assert m.run(100) is StopReason.HALT
        assert int.from_bytes(m.read(0x600, 4), "little", signed=True) == -5
        assert (m.eax, m.edx) == (0, 0)

    def test_guest_call_to_patch_is_invalid_opcode(self) -> None:
        """init.patch is host-only: a guest call gets #UD, like Linux's ud2 for a NULL op."""
        m, _ = boot(call("init.patch"))
        m.run(100)
        assert m.counters()["exceptions"].get(6, 0) >= 1


class TestCounting:
    """Calls are counted per op and by how they arrived."""

    def test_indirect_and_direct_calls(self) -> None:
        """An unpatched site is an indirect call; after apply_paravirt, a direct one."""
        source = "\n".join(
            [
                "site1:",
                call("mmu.set_pte"),
                ".byte 0x90, 0x90",
                "site2:",
                call("mmu.set_pte"),
                ".byte 0x90, 0x90",
            ]
        )
        m, table = boot("mov $0x800, %eax\nxor %edx, %edx\n" + source)
        site2 = CODE + len(assemble("mov $0x800, %eax\nxor %edx, %edx\n", CODE)) + 8
        record = SiteRecord(VirtAddr(site2), lookup("mmu.set_pte").number, 8, CLBR_ANY)
        report = apply_paravirt(m, [record], table.backend, table.targets(0))
        table.note_patched_calls([site2 + 5])
        assert report.outcomes["call"] == 1
        assert m.run(100) is StopReason.HALT
        assert table.counts()["mmu.set_pte"] == {"direct": 1, "indirect": 1}

    def test_rebind_switches_backend_at_run_time(self) -> None:
        """Late registration: the same gates call another backend's ops afterwards."""
        m, table = boot(f"{call('irq.irq_disable')}\n{call('irq.irq_disable')}")
        assert m.run(2) is StopReason.BUDGET  # the first call and its gate
        recorder = recording(REGISTRY.get("native"))
        table.rebind(recorder.backend)
        m.run(100)
        assert recorder.names() == ["irq.irq_disable"]


def test_every_op_number_has_a_gate() -> None:
    """The table covers 0..op_count-1; unused numbers fault like a NULL op."""
    m, table = boot("nop")
    assert table.gate(op_count() - 1) == GATES + 32 * (op_count() - 1)
    unused = next(n for n in range(op_count()) if _unused(n))
    m.write(OPS_TABLE, (GATES + 32 * unused).to_bytes(4, "little"))
    m.write(CODE, assemble(f"call *{OPS_TABLE:#x}\nhlt", CODE))
    m.eip = CODE
    m.run(100)
    assert m.counters()["exceptions"].get(6, 0) == 1


def _unused(number: int) -> bool:
    try:
        by_number(number)
    except KeyError:
        return True
    return False
