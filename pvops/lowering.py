"""Lowering: a backend's typed ops become a gate table the guest can call.

The kernel calls an op as C code would: ``call *pv_ops[N]`` with the
``regparm(3)`` convention of Linux i386 (arguments in %eax, %edx, %ecx,
then on the stack above the return address; results in %eax, or
%edx:%eax for 64-bit values).  The boot code fills ``pv_ops[N]`` with the
address of gate N, and executing a gate makes the core call slot N on the
host.  This module builds those slots: each reads its op's arguments
according to that ABI, calls the backend's typed op, writes the result
back, and counts whether it was reached by a patched direct call or by the
original indirect one.

Most ops marshal mechanically (one 32-bit word per argument); the few whose
C signature passes results through pointers say so in :data:`C_ABI`.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

import attrs

from pvops.hw import VECTOR_UD, Cpu, GuestFault
from pvops.ops.catalog import OpSpec, catalog, op_count
from pvops.registry import Backend, get_op
from pvops.types import PhysAddr, VirtAddr

ARG_REGISTERS = ("eax", "edx", "ecx")
Slot = Callable[[Any], None]  # a Python gate slot: called with the machine
GATE_STRIDE = 32  # the core's slot size: a VMI ROM call slot, a Xen hypercall stub


class GateMachine(Cpu, Protocol):
    """A CPU with gate tables: what lowering needs from the core."""

    def add_gate_table(self, base: int, slots: Sequence[Slot]) -> int: ...

    def set_gate_slot(self, table: int, index: int, slot: Slot) -> None: ...

    def gate_address(self, table: int, index: int) -> int: ...


Marshaller = Callable[[Cpu, Callable[..., Any]], None]


def _stack_word(cpu: Cpu, index: int) -> int:
    """Argument ``index`` (0-based) of a regparm(3) call, counting past the registers."""
    # At the gate, [esp] is the return address; stack arguments follow it.
    addr = VirtAddr((cpu.esp + 4 + 4 * (index - len(ARG_REGISTERS))) & 0xFFFFFFFF)
    return int.from_bytes(cpu.read_virt(addr, 4), "little")


def _args(cpu: Cpu, count: int) -> list[int]:
    words = [getattr(cpu, reg) for reg in ARG_REGISTERS[:count]]
    words += [_stack_word(cpu, i) for i in range(len(ARG_REGISTERS), count)]
    return words


def _set_u64(cpu: Cpu, value: int) -> None:
    cpu.eax = value & 0xFFFFFFFF
    cpu.edx = (value >> 32) & 0xFFFFFFFF


def _word(cpu: Cpu, addr: int) -> int:
    return int.from_bytes(cpu.read_virt(VirtAddr(addr), 4), "little")


def _put_word(cpu: Cpu, addr: int, value: int) -> None:
    cpu.write_virt(VirtAddr(addr), (value & 0xFFFFFFFF).to_bytes(4, "little"))


def _cpuid(cpu: Cpu, op: Callable[..., Any]) -> None:
    """``void cpuid(u32 *eax, u32 *ebx, u32 *ecx, u32 *edx)``: leaf in *eax, subleaf in *ecx."""
    pointers = _args(cpu, 4)
    result = op(cpu, _word(cpu, pointers[0]), _word(cpu, pointers[2]))
    for pointer, value in zip(pointers, result, strict=True):
        _put_word(cpu, pointer, value)


def _read_msr(cpu: Cpu, op: Callable[..., Any]) -> None:
    """``u64 read_msr(u32 msr, int *err)``."""
    msr, err_pointer = _args(cpu, 2)
    value, error = op(cpu, msr)
    _put_word(cpu, err_pointer, error)
    _set_u64(cpu, value)


def _write_msr(cpu: Cpu, op: Callable[..., Any]) -> None:
    """``int write_msr(u32 msr, u32 low, u32 high)`` (the 2.6.32 split form)."""
    msr, low, high = _args(cpu, 3)
    cpu.eax = op(cpu, msr, low | high << 32) & 0xFFFFFFFF


def _not_callable_from_the_guest(cpu: Cpu, op: Callable[..., Any]) -> None:
    """``init.patch`` runs on the host at boot; a guest call is a bug, as a NULL op's ``ud2``."""
    del cpu, op
    raise GuestFault(VECTOR_UD)


# Ops whose C signature is not one word per argument and a word result.
C_ABI: dict[str, Marshaller] = {
    "init.patch": _not_callable_from_the_guest,
    "cpu.cpuid": _cpuid,
    "cpu.read_msr": _read_msr,
    "cpu.write_msr": _write_msr,
}
U64_RESULTS = frozenset({"time.sched_clock", "cpu.read_tsc", "cpu.read_pmc"})


def marshaller(spec: OpSpec) -> Marshaller:
    """How a gate for ``spec`` reads arguments and writes results."""
    if spec.name in C_ABI:
        return C_ABI[spec.name]
    count = len(spec.parameters) - 1  # without the cpu
    # An op that moved EIP has jumped on to code that returns to the caller
    # itself (a VMI ROM's slot, Xen's iret): the result is that code's to give.
    if spec.name in U64_RESULTS:

        def call_u64(cpu: Cpu, op: Callable[..., Any]) -> None:
            eip = cpu.eip
            result = op(cpu, *_args(cpu, count))
            if cpu.eip == eip:
                _set_u64(cpu, result)

        return call_u64
    if not spec.returns_value:

        def call_void(cpu: Cpu, op: Callable[..., Any]) -> None:
            op(cpu, *_args(cpu, count))

        return call_void

    def call_word(cpu: Cpu, op: Callable[..., Any]) -> None:
        eip = cpu.eip
        result = op(cpu, *_args(cpu, count))
        if cpu.eip == eip:
            cpu.eax = int(result) & 0xFFFFFFFF

    return call_word


@attrs.define
class DispatchTable:
    """A backend's ops as one gate table on one machine, with call counts."""

    machine: GateMachine
    base: PhysAddr
    table: int
    backend: Backend
    direct_returns: frozenset[int] = frozenset()
    calls: collections.Counter[tuple[str, str]] = attrs.field(factory=collections.Counter)
    observer: Callable[[str, str], None] | None = None  # told (op, via) on every call

    def gate(self, number: int) -> PhysAddr:
        """Physical address of op ``number``'s gate."""
        return PhysAddr(self.machine.gate_address(self.table, number))

    def targets(self, virt_offset: int) -> dict[int, VirtAddr]:
        """Where each op's gate is in a kernel that maps physical memory at ``virt_offset``."""
        return {
            spec.number: VirtAddr((self.gate(spec.number) + virt_offset) & 0xFFFFFFFF)
            for spec in catalog()
        }

    def note_patched_calls(self, return_addresses: Iterable[int]) -> None:
        """Tell the table which return addresses follow a patched direct call."""
        self.direct_returns = frozenset(return_addresses)

    def rebind(self, backend: Backend) -> None:
        """Point every gate at another backend's ops (late registration)."""
        self.backend = backend
        for spec in catalog():
            self.machine.set_gate_slot(self.table, spec.number, self.slot_for(spec))

    def counts(self) -> dict[str, dict[str, int]]:
        """Calls per op, split by how they arrived (``direct``, ``indirect``)."""
        table: dict[str, dict[str, int]] = collections.defaultdict(dict)
        for (name, via), count in sorted(self.calls.items()):
            table[name][via] = count
        return dict(table)

    def slot_for(self, spec: OpSpec) -> Slot:
        """The gate slot that marshals one op of this table's backend."""
        op = get_op(self.backend, spec)
        marshal = marshaller(spec)
        name = spec.name
        calls = self.calls

        def slot(cpu: Any) -> None:
            via = "direct" if _return_address(cpu) in self.direct_returns else "indirect"
            calls[name, via] += 1
            if self.observer is not None:
                self.observer(name, via)
            marshal(cpu, op)

        slot.__qualname__ = f"gate[{name}]"
        return slot


def _return_address(cpu: Cpu) -> int:
    try:
        return int.from_bytes(cpu.read_virt(VirtAddr(cpu.esp), 4), "little")
    except GuestFault:
        return -1


def lower(machine: GateMachine, backend: Backend, base: PhysAddr) -> DispatchTable:
    """Install ``backend``'s ops as a gate table at physical ``base`` (op N at gate N)."""
    table = DispatchTable(machine, base, -1, backend)
    by_number: Mapping[int, OpSpec] = {spec.number: spec for spec in catalog()}
    slots: list[Slot] = [
        table.slot_for(by_number[n]) if n in by_number else _unused_slot for n in range(op_count())
    ]
    table.table = machine.add_gate_table(base, slots)
    return table


def _unused_slot(cpu: Any) -> None:
    """A number no op has: calling it is a bug in the kernel (``ud2``)."""
    del cpu
    raise GuestFault(VECTOR_UD)


def table_size() -> int:
    """Bytes of guest physical memory a dispatch table occupies."""
    return op_count() * GATE_STRIDE
