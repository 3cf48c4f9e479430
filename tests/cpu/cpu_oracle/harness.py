"""Differential harness: the same code and state on pvops.cpu and on unicorn.

unicorn runs first, with a code hook that records the register state before
every instruction it executes (every iteration of a rep-prefixed string
instruction is one entry).  The core is then single-stepped
(``run(max_instructions=1)``) and compared against that trace after every
instruction, masking the flags and registers the SDM leaves undefined for the
instruction that ran (:mod:`.flags`) and copying unicorn's values for those
into the core, so the comparison can go on.  Memory is compared at the end.

Exceptions: unicorn reports them through an interrupt hook (with EIP at the
faulting instruction); the core delivers them through the IDT set up by
:mod:`.layout`, whose handlers are ``hlt``.  The harness checks that the core
ended in the handler of the same vector with the right frame.
"""

from __future__ import annotations

import ctypes
import os
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import capstone
from unicorn import (
    UC_ARCH_X86,
    UC_HOOK_CODE,
    UC_HOOK_INTR,
    UC_HOOK_MEM_UNMAPPED,
    UC_MODE_32,
    UC_PROT_ALL,
    Uc,
    UcError,
)
from unicorn import x86_const as ux

from . import layout
from .flags import ARITH, describe_flags, undefined_effects, writes_memory_undefined

REGS = ("eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi")
_UC_REGS = [
    ux.UC_X86_REG_EAX,
    ux.UC_X86_REG_ECX,
    ux.UC_X86_REG_EDX,
    ux.UC_X86_REG_EBX,
    ux.UC_X86_REG_ESP,
    ux.UC_X86_REG_EBP,
    ux.UC_X86_REG_ESI,
    ux.UC_X86_REG_EDI,
    ux.UC_X86_REG_EIP,
    ux.UC_X86_REG_EFLAGS,
]
_UC_BY_NAME = dict(zip((*REGS, "eip", "eflags"), _UC_REGS, strict=True))

# EFLAGS bits compared: the arithmetic flags, TF, IF, DF, IOPL, NT, AC, ID and
# the fixed bit 1.  RF/VM/VIF/VIP are not part of this test's world.
EFLAGS_COMPARED = ARITH | 0x2 | (1 << 8) | (1 << 9) | (1 << 10) | (3 << 12) | (1 << 14)
EFLAGS_COMPARED |= (1 << 18) | (1 << 21)


class Rejected(Exception):  # noqa: N818 - control flow for hypothesis, not an error
    """unicorn could not run the case as intended (unmapped access, runaway)."""


class CoreGap(AssertionError):  # noqa: N818 - a failed check, reported by pytest
    """The core lacks something the harness needs (named in the message)."""


@dataclass(frozen=True)
class Case:
    """Code plus initial state, loadable into both emulators."""

    code: bytes = b""
    regs: Mapping[str, int] = field(default_factory=dict)
    eflags: int = 0x2
    memory: tuple[tuple[int, bytes], ...] = ()
    code_base: int = layout.CODE_BASE
    entry: int | None = None
    end: int | None = None
    note: str = ""

    @property
    def start(self) -> int:
        """Where execution begins."""
        return self.code_base if self.entry is None else self.entry

    @property
    def stop(self) -> int:
        """The address whose fetch ends the run (holds a ``hlt``)."""
        return self.code_base + len(self.code) if self.end is None else self.end

    def initial_regs(self) -> dict[str, int]:
        """All eight GPRs (defaults: zero, ESP at the stack top)."""
        regs = dict.fromkeys(REGS, 0)
        regs["esp"] = layout.STACK_TOP
        regs.update({k: v & 0xFFFFFFFF for k, v in self.regs.items()})
        return regs

    def image(self) -> bytes:
        """All of memory as both emulators start with it (computed once)."""
        cached = self.__dict__.get("_image")
        if cached is None:
            cached = self._build_image()
            object.__setattr__(self, "_image", cached)
        return cached

    def _build_image(self) -> bytes:
        mem = bytearray(layout.base_image())
        mem[self.code_base : self.code_base + len(self.code)] = self.code
        if self.end is None:
            mem[self.stop] = 0xF4
        for addr, data in self.memory:
            mem[addr : addr + len(data)] = data
        return bytes(mem)


@dataclass
class Snapshot:
    """Registers, EIP and EFLAGS at one instruction boundary."""

    eip: int
    regs: dict[str, int]
    eflags: int

    @classmethod
    def from_tuple(cls, values: Sequence[int]) -> Snapshot:
        """From unicorn's batch read (REGS..., eip, eflags)."""
        return cls(values[8], dict(zip(REGS, values[:8], strict=True)), values[9])


@dataclass
class Reference:
    """What unicorn did."""

    trace: list[Snapshot]
    final: Snapshot
    fault: tuple[int, Snapshot] | None
    memory: bytes
    steps: int
    complete: bool = True
    core_final: Snapshot | None = None


# ---------------------------------------------------------------- unicorn --


def run_unicorn(
    case: Case, *, trace: bool = True, max_steps: int = 20_000, partial: bool = False
) -> Reference:
    """Run ``case`` on unicorn until it reaches ``case.stop`` or faults.

    With ``partial``, running out of ``max_steps`` returns the trace so far
    (``complete=False``) instead of rejecting the case.
    """
    buf = ctypes.create_string_buffer(case.image(), layout.MEM_SIZE)
    uc = Uc(UC_ARCH_X86, UC_MODE_32)
    uc.mem_map_ptr(0, layout.MEM_SIZE, UC_PROT_ALL, ctypes.addressof(buf))
    for name, value in case.initial_regs().items():
        uc.reg_write(_UC_BY_NAME[name], value)
    uc.reg_write(ux.UC_X86_REG_EFLAGS, case.eflags)
    snaps: list[Snapshot] = []
    fault: list[tuple[int, Snapshot]] = []
    problems: list[str] = []
    count = [0]
    exhausted: list[bool] = []

    def on_code(uc: Uc, _address: int, _size: int, _data: object) -> None:
        count[0] += 1
        if trace:
            snaps.append(Snapshot.from_tuple(uc.reg_read_batch(_UC_REGS)))
        if count[0] > max_steps:
            if not partial:
                problems.append(f"did not reach {case.stop:#x} within {max_steps} steps")
            exhausted.append(True)
            uc.emu_stop()

    def on_intr(uc: Uc, intno: int, _data: object) -> None:
        fault.append((intno, Snapshot.from_tuple(uc.reg_read_batch(_UC_REGS))))
        uc.emu_stop()

    def on_unmapped(_uc: Uc, access: int, address: int, size: int, _v: int, _d: object) -> bool:
        problems.append(f"unmapped access {access} at {address:#x} size {size}")
        return False

    uc.hook_add(UC_HOOK_CODE, on_code)
    uc.hook_add(UC_HOOK_INTR, on_intr)
    uc.hook_add(UC_HOOK_MEM_UNMAPPED, on_unmapped)
    try:
        uc.emu_start(case.start, case.stop)
    except UcError as exc:
        raise Rejected(f"unicorn: {exc} {'; '.join(problems)}") from None
    if problems:
        raise Rejected("; ".join(problems))
    final = Snapshot.from_tuple(uc.reg_read_batch(_UC_REGS))
    if exhausted:
        return Reference(snaps, final, None, bytes(buf), count[0], complete=False)
    if not fault and final.eip != case.stop:
        raise Rejected(f"unicorn stopped at {final.eip:#x}, not {case.stop:#x}")
    steps = count[0]
    memory = bytes(buf)
    del uc
    return Reference(snaps, final, fault[0] if fault else None, memory, steps)


# ------------------------------------------------------------------- core --


def _core() -> Any:
    if os.environ.get("PVOPS_CPU_SELFTEST") == "1":
        from . import ucmachine

        return ucmachine.Machine, ucmachine.StopReason
    try:
        from pvops.cpu import Machine, StopReason
    except ImportError as exc:  # pragma: no cover - the package is installed
        raise CoreGap(f"cannot import pvops.cpu: {exc}") from exc
    return Machine, StopReason


_NEEDED = (*REGS, "eip", "eflags")


def require(machine: object, names: Iterable[str], why: str) -> None:
    """Fail with one clear message when the core lacks attributes."""
    missing = [n for n in names if not hasattr(machine, n)]
    if missing:
        kind = type(machine).__name__
        raise CoreGap(f"pvops.cpu.{kind} has no {', '.join(missing)} (needed to {why})")


def core_state(m: Any) -> Snapshot:
    """Registers, EIP and EFLAGS of the core."""
    return Snapshot(m.eip, {r: getattr(m, r) for r in REGS}, m.eflags)


@dataclass
class CoreRun:
    """A core Machine loaded with a case."""

    machine: Any
    idt_ok: bool
    idt_problem: str = ""


def load_core(case: Case) -> CoreRun:
    """A fresh Machine with the case's memory, IDT/GDT and registers."""
    machine_cls, stop_reason = _core()
    image = case.image()
    m = machine_cls(memory_size=layout.MEM_SIZE)
    require(m, (*_NEEDED, "run", "write", "read"), "run differential tests")
    m.write(0, image)
    idt_ok, problem = True, ""
    m.eip = layout.PROLOGUE
    try:
        reason = m.run(max_instructions=layout.PROLOGUE_INSNS)
        expected = layout.PROLOGUE + len(layout.PROLOGUE_CODE)
        if m.eip != expected:
            idt_ok = False
            problem = (
                f"the lgdt/lidt prologue stopped at {m.eip:#x} ({stop_reason(reason).name}), "
                f"not {expected:#x}; exceptions cannot be compared"
            )
    except Exception as exc:
        idt_ok, problem = False, f"the lgdt/lidt prologue raised {exc!r}"
    if not idt_ok:
        m = machine_cls(memory_size=layout.MEM_SIZE)
        m.write(0, image)
    for name, value in case.initial_regs().items():
        setattr(m, name, value)
    m.eflags = case.eflags
    m.eip = case.start
    return CoreRun(m, idt_ok, problem)


# ------------------------------------------------------------- reporting --

_CS: capstone.Cs | None = None


def disassembler() -> capstone.Cs:
    """A shared capstone decoder (32-bit, with details)."""
    global _CS  # noqa: PLW0603 - one decoder per process
    if _CS is None:
        _CS = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_32)
        _CS.detail = True
    return _CS


@cache
def _decode_cached(code: bytes, addr: int) -> capstone.CsInsn | None:
    for insn in disassembler().disasm(code, addr, 1):
        return insn
    return None


def decode(memory: bytes, addr: int) -> capstone.CsInsn | None:
    """The instruction at ``addr`` in ``memory`` (None if undecodable)."""
    return _decode_cached(bytes(memory[addr : addr + 15]), addr)


def insn_text(insn: capstone.CsInsn | None, addr: int = 0) -> str:
    """``0x4003: 0f a5 c2   shld edx, eax, cl``."""
    if insn is None:
        return f"{addr:#x}: (undecodable)"
    return f"{insn.address:#x}: {insn.bytes.hex(' '):<24} {insn.mnemonic} {insn.op_str}".rstrip()


def listing(memory: bytes, start: int, end: int, mark: int | None = None, limit: int = 80) -> str:
    """Disassembly of ``memory[start:end]``, ``>>`` at ``mark``."""
    lines = []
    for insn in disassembler().disasm(bytes(memory[start:end]), start):
        arrow = ">>" if insn.address == mark else "  "
        lines.append(f"  {arrow} {insn_text(insn)}")
        if len(lines) >= limit:
            lines.append("     ...")
            break
    return "\n".join(lines)


def format_state(s: Snapshot) -> str:
    """One line of registers plus EFLAGS."""
    regs = " ".join(f"{r}={s.regs[r]:08x}" for r in REGS)
    return f"eip={s.eip:08x} {regs} eflags={s.eflags:08x} [{describe_flags(s.eflags)}]"


def state_diff(
    got: Snapshot, want: Snapshot, flag_mask: int, skip_regs: Iterable[str] = ()
) -> list[str]:
    """Lines describing where ``got`` differs from ``want``."""
    lines = []
    if got.eip != want.eip:
        lines.append(f"eip: unicorn {want.eip:#010x}, core {got.eip:#010x}")
    skip = set(skip_regs)
    for r in REGS:
        if r not in skip and got.regs[r] != want.regs[r]:
            lines.append(f"{r}: unicorn {want.regs[r]:#010x}, core {got.regs[r]:#010x}")
    mask = EFLAGS_COMPARED & flag_mask
    if (got.eflags ^ want.eflags) & mask:
        bad = (got.eflags ^ want.eflags) & mask
        lines.append(
            f"eflags: unicorn {want.eflags:#010x} [{describe_flags(want.eflags)}], "
            f"core {got.eflags:#010x} [{describe_flags(got.eflags)}], "
            f"differing [{describe_flags(bad, bad)}]"
            + (
                f", ignored undefined [{describe_flags(~flag_mask & ARITH, ~flag_mask & ARITH)}]"
                if ~flag_mask & ARITH
                else ""
            )
        )
    return lines


def memory_diff(
    got: bytes, want: bytes, ignore: Sequence[tuple[int, int]] = (), limit: int = 6
) -> list[str]:
    """Lines naming the first differing byte ranges of two memory images."""
    if got == want:
        return []
    lines: list[str] = []
    chunk = 4096
    n = min(len(got), len(want))
    for page in range(0, n, chunk):
        a, b = got[page : page + chunk], want[page : page + chunk]
        if a == b:
            continue
        i = 0
        while i < len(a):
            if a[i] != b[i] and not any(lo <= page + i < hi for lo, hi in ignore):
                j = i
                while j < len(a) and a[j] != b[j] and j - i < 16:
                    j += 1
                lines.append(
                    f"mem[{page + i:#x}..{page + j:#x}): "
                    f"unicorn {b[i:j].hex(' ')}, core {a[i:j].hex(' ')}"
                )
                if len(lines) >= limit:
                    return [*lines, "..."]
                i = j
            else:
                i += 1
    return lines


# ----------------------------------------------------------------- driver --


def _is_rep_string(insn: capstone.CsInsn | None) -> bool:
    if insn is None:
        return False
    return bool(set(insn.prefix) & {0xF2, 0xF3}) and insn.mnemonic.split()[-1][:4] in {
        "movs",
        "stos",
        "lods",
        "cmps",
        "scas",
        "ins",
        "outs",
    }


class Mismatch(AssertionError):  # noqa: N818 - a failed check, reported by pytest
    """The core disagrees with unicorn (the message says where and how)."""


@dataclass
class _Ctx:
    case: Case
    ref: Reference
    core: CoreRun

    def fail(
        self,
        headline: str,
        details: Sequence[str],
        at: int | None = None,
        pre: Snapshot | None = None,
    ) -> Mismatch:
        mem = self.ref.memory
        parts = [headline]
        if at is not None:
            parts.append("  insn  " + insn_text(decode(mem, at), at))
        if pre is not None:
            parts.append("  before " + format_state(pre))
        parts += ["  " + d for d in details]
        init = Snapshot(self.case.start, self.case.initial_regs(), self.case.eflags)
        parts.append("initial state:\n  " + format_state(init))
        for addr, data in self.case.memory:
            parts.append(
                f"  mem[{addr:#x}] = {data[:32].hex(' ')}{' ...' if len(data) > 32 else ''}"
            )
        if self.case.note:
            parts.append(f"generator: {self.case.note}")
        if self.case.end is None:
            parts.append("code:\n" + listing(mem, self.case.code_base, self.case.stop, at))
        if not self.core.idt_ok:
            parts.append(f"note: {self.core.idt_problem}")
        return Mismatch("\n".join(parts))


def _run_core(ctx: _Ctx, n: int) -> int:
    try:
        return int(ctx.core.machine.run(max_instructions=n))
    except CoreGap:
        raise
    except Exception as exc:
        at = ctx.core.machine.eip
        raise ctx.fail(f"core raised {exc!r} in run()", [], at) from exc


def check_case(
    case: Case, *, max_steps: int = 20_000, partial: bool = False, ref: Reference | None = None
) -> Reference:
    """Run ``case`` on both emulators in lockstep; raise Mismatch on a difference.

    Raises :class:`Rejected` when unicorn itself cannot run the case.  With
    ``partial``, only the first ``max_steps`` instructions are compared.
    """
    __tracebackhide__ = True
    if ref is None:
        ref = run_unicorn(case, max_steps=max_steps, partial=partial)
    core = load_core(case)
    ctx = _Ctx(case, ref, core)
    m = core.machine
    _, stop_reason = _core()
    trace = ref.trace
    i = 0
    frame: tuple[int, int] | None = None
    mem_undefined: list[tuple[int, int]] = []
    first = core_state(m)
    diff = state_diff(first, trace[0] if trace else ref.final, 0xFFFFFFFF)
    if diff:
        raise ctx.fail("core did not take the initial state as written", diff)
    limit = len(trace) if ref.complete else len(trace) - 1
    while i < limit:
        pre = core_state(m)
        insn = decode(ref.memory, pre.eip)

        def read(addr: int, n: int) -> bytes:
            return bytes(m.read(addr, n))

        try:
            und_flags, und_regs = (
                undefined_effects(insn, pre.regs, read) if insn else (0, frozenset())
            )
            if insn is not None and writes_memory_undefined(insn, pre.regs, read):
                mem_undefined.append((0, layout.MEM_SIZE))
        except (ValueError, KeyError, IndexError):
            und_flags, und_regs = ARITH, frozenset()
        reason = _run_core(ctx, 1)
        post = core_state(m)
        vector = layout.handler_vector(post.eip)
        if vector is not None and core.idt_ok:
            frame = _check_core_fault(ctx, pre, post, vector, i)
            break
        if ref.fault is not None and i == len(trace) - 1:
            fv, fs = ref.fault
            raise ctx.fail(
                f"unicorn raised {layout.vector_name(fv)} at {fs.eip:#x}; the core did not "
                f"(stopped with {stop_reason(reason).name} at {post.eip:#x})",
                state_diff(post, fs, ARITH),
                pre.eip,
                pre,
            )
        j = i + 1
        if post.eip != pre.eip and _is_rep_string(insn):
            while j < len(trace) and trace[j].eip == pre.eip:
                j += 1
        want = trace[j] if j < len(trace) else ref.final
        if ref.fault is not None and j >= len(trace):
            want = ref.fault[1]
        if reason != stop_reason.BUDGET:
            raise ctx.fail(
                f"core stopped with {stop_reason(reason).name} after one instruction",
                [f"core state: {format_state(post)}"],
                pre.eip,
                pre,
            )
        diff = state_diff(post, want, ~und_flags, und_regs)
        if diff:
            raise ctx.fail(f"core differs from unicorn after step {i}", diff, pre.eip, pre)
        if und_flags and (post.eflags ^ want.eflags) & und_flags:
            m.eflags = (post.eflags & ~und_flags) | (want.eflags & und_flags)
        for r in und_regs:
            if post.regs[r] != want.regs[r]:
                setattr(m, r, want.regs[r])
        i = j
    else:
        if not ref.complete:
            return ref
        if ref.fault is not None:
            raise ctx.fail(
                f"unicorn raised {layout.vector_name(ref.fault[0])}; the core did not",
                [format_state(core_state(m))],
            )
        if m.eip != case.stop:
            raise ctx.fail(f"core did not stop at {case.stop:#x}", [format_state(core_state(m))])
    ref.core_final = core_state(m)
    ignore = list(mem_undefined)
    if frame is not None:
        ignore.append(frame)
    got = bytes(m.read(0, layout.MEM_SIZE))
    mdiff = memory_diff(got, ref.memory, ignore)
    if mdiff:
        raise ctx.fail("memory differs at the end", mdiff)
    return ref


def _check_core_fault(
    ctx: _Ctx, pre: Snapshot, post: Snapshot, vector: int, i: int
) -> tuple[int, int]:
    """The core went to the handler of ``vector``: was that right?"""
    __tracebackhide__ = True
    m = ctx.core.machine
    name = layout.vector_name(vector)
    if ctx.ref.fault is None:
        raise ctx.fail(
            f"core raised {name} at {pre.eip:#x}; unicorn executed the instruction",
            [f"core state in handler: {format_state(post)}"],
            pre.eip,
            pre,
        )
    fv, fs = ctx.ref.fault
    if fv != vector:
        raise ctx.fail(f"core raised {name}, unicorn {layout.vector_name(fv)}", [], pre.eip, pre)
    has_code = vector in layout.ERROR_CODE_VECTORS
    size = 16 if has_code else 12
    esp = post.regs["esp"]
    raw = bytes(m.read(esp, size))
    words = struct.unpack(f"<{size // 4}I", raw)
    if has_code:
        words = words[1:]
    f_eip, _f_cs, f_eflags = words
    problems = []
    if f_eip != fs.eip:
        problems.append(f"frame EIP {f_eip:#x}, unicorn faulted at {fs.eip:#x}")
    if esp + size != fs.regs["esp"]:
        problems.append(f"frame at {esp:#x}, expected {fs.regs['esp'] - size:#x}")
    adjusted = Snapshot(fs.eip, {**post.regs, "esp": esp + size}, f_eflags)
    problems += state_diff(adjusted, fs, ~0)
    if problems:
        raise ctx.fail(
            f"core raised {name} as unicorn did, with a different state", problems, pre.eip, pre
        )
    _ = i
    return (esp, esp + size)


# --------------------------------------------------------------- whole runs --


@dataclass
class FinalRun:
    """Outcome of running a whole program on one emulator."""

    state: Snapshot
    memory: bytes
    reason: str
    instructions: int


def run_program_unicorn(case: Case, max_steps: int = 50_000_000) -> FinalRun:
    """Run to ``case.stop`` on unicorn without tracing."""
    buf = ctypes.create_string_buffer(case.image(), layout.MEM_SIZE)
    uc = Uc(UC_ARCH_X86, UC_MODE_32)
    uc.mem_map_ptr(0, layout.MEM_SIZE, UC_PROT_ALL, ctypes.addressof(buf))
    for name, value in case.initial_regs().items():
        uc.reg_write(_UC_BY_NAME[name], value)
    uc.reg_write(ux.UC_X86_REG_EFLAGS, case.eflags)
    faults: list[int] = []

    def on_intr(uc: Uc, intno: int, _data: object) -> None:
        faults.append(intno)
        uc.emu_stop()

    uc.hook_add(UC_HOOK_INTR, on_intr)
    uc.emu_start(case.start, case.stop, count=max_steps)
    state = Snapshot.from_tuple(uc.reg_read_batch(_UC_REGS))
    reason = f"fault {faults[0]}" if faults else ("end" if state.eip == case.stop else "budget")
    return FinalRun(state, bytes(buf), reason, -1)


def run_program_core(case: Case, budget: int = 50_000_000) -> FinalRun:
    """Run to the ``hlt`` at ``case.stop`` on the core."""
    core = load_core(case)
    m = core.machine
    _, stop_reason = _core()
    reason = stop_reason(m.run(max_instructions=budget))
    state = core_state(m)
    instructions = int(getattr(m, "instructions", -1))
    return FinalRun(state, bytes(m.read(0, layout.MEM_SIZE)), reason.name, instructions)


def check_program(
    case: Case,
    *,
    budget: int = 50_000_000,
    localize_steps: int = 200_000,
    describe: Callable[[], str] = lambda: "",
) -> tuple[FinalRun, FinalRun]:
    """Run a whole program on both and compare the final state and memory.

    On a difference, re-run in lockstep (up to ``localize_steps``
    instructions) to name the first instruction where they part.
    """
    __tracebackhide__ = True
    want = run_program_unicorn(case, budget)
    assert want.reason == "end", (
        f"unicorn did not finish the program: {want.reason} at {want.state.eip:#x}"
    )
    got = run_program_core(case, budget)
    problems = []
    if got.reason != "HALT" or got.state.eip not in {case.stop, case.stop + 1}:
        problems.append(
            f"core stopped with {got.reason} at {got.state.eip:#x}, expected HALT at {case.stop:#x}"
        )
    else:
        got.state.eip = case.stop
    problems += state_diff(got.state, want.state, ~ARITH)
    problems += memory_diff(got.memory, want.memory)
    if problems:
        where = ""
        try:
            check_case(case, max_steps=localize_steps, partial=True)
            where = f"(lockstep over the first {localize_steps} instructions found no difference)"
        except Mismatch as exc:
            where = f"first difference in lockstep:\n{exc}"
        except Rejected as exc:
            where = f"(lockstep localisation gave up: {exc})"
        msg = "\n".join([f"program differs at the end {describe()}", *problems, where])
        raise Mismatch(msg)
    return want, got
