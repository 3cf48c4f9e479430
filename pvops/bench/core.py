"""Benchmarks of the interpreter core, with unicorn measured in the same run.

:func:`run_core_bench` returns medians over ``repeats`` runs:

- ``alu_mips`` / ``mem_mips``: guest MIPS of an ALU-bound and of a
  memory-bound loop (``loops/alu.S``, ``loops/mem.S``), both with paging on
  through identity-mapped 4 KiB page tables; the memory loop strides across a
  16-page working set.
- ``dispatch_compiled_ns`` / ``dispatch_python_ns``: nanoseconds per
  iteration of ``call *%ebx; dec; jnz`` (``loops/dispatch.S``) where EBX is a
  gate whose slot is the core's compiled ``SetEaxSlot`` or a Python callable,
  minus the same loop calling a plain ``ret`` (so: the cost of one gate
  dispatch over one ``ret``).
- ``unicorn_alu_mips`` / ``unicorn_mem_mips``: the same loops on unicorn
  (when importable), so the ratio comes from one run on one host.
- ``gcc_program_s`` / ``unicorn_gcc_program_s`` / ``gcc_program_minstr``: wall
  time of a gcc-built C program (``programs/workload.c``, about 2 million
  instructions) from a fresh machine, unicorn's translation time included.

Guest code is assembled and compiled at run time (:mod:`pvops.bench.build`).
"""

from __future__ import annotations

import ctypes
import importlib
import math
import statistics
import struct
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, cast

from pvops.bench.build import Image, assemble, build_c

HERE = Path(__file__).parent
LOOPS = HERE / "loops"
PROGRAMS = HERE / "programs"

MEM_SIZE = 16 << 20
CODE = 0x100000
PAGE_DIR = 0x200000  # page directory, then 4 page tables (identity, 16 MiB)
STACK_TOP = 0x300000
WORKING_SET = 0x400000
WORKING_SET_SIZE = 16 << 12
GATES = 0x500000
RET_STUB = 0x501000

ALU_ITERATIONS = 200_000
MEM_ITERATIONS = 150_000
DISPATCH_ITERATIONS = 100_000


class BenchError(RuntimeError):
    """The guest did not run as the benchmark expects."""


class _Machine(Protocol):
    """The part of pvops.cpu.Machine the benchmarks use."""

    eax: int
    ebx: int
    ecx: int
    edx: int
    esi: int
    edi: int
    ebp: int
    esp: int
    eip: int
    eflags: int

    @property
    def instructions(self) -> int: ...

    def write(self, addr: int, data: bytes) -> None: ...

    def read(self, addr: int, n: int) -> bytes: ...

    def run(self, max_instructions: int = ...) -> int: ...

    def add_gate_table(self, base: int, slots: list[Any]) -> int: ...

    def gate_address(self, table: int, index: int) -> int: ...


def page_tables() -> bytes:
    """A page directory and four page tables identity-mapping 16 MiB (4 KiB pages)."""
    present_rw = 0x3
    directory = bytearray(4096)
    for k in range(4):
        struct.pack_into("<I", directory, 4 * k, (PAGE_DIR + 4096 * (k + 1)) | present_rw)
    tables = struct.pack("<4096I", *((4096 * n) | present_rw for n in range(4096)))
    return bytes(directory) + tables


def _loop(name: str) -> Image:
    return assemble((LOOPS / f"{name}.S").read_text(), base=CODE)


def _workload() -> Image:
    sources = [PROGRAMS / "start.S", PROGRAMS / "workload.c"]
    return build_c(sources, cflags=["-O2", "-march=i686"], ldscript=PROGRAMS / "link.ld")


# ------------------------------------------------------------------ the core --


def _cpu() -> ModuleType:
    # Imported by name: pvops.cpu is the compiled core (cpu/ mapped by setup.py),
    # which type checkers run on the source tree cannot resolve.
    return importlib.import_module("pvops.cpu")


def _new_machine() -> _Machine:
    return cast("_Machine", _cpu().Machine(memory_size=MEM_SIZE))


def _stop_name(reason: int) -> str:
    return str(_cpu().StopReason(reason).name)


def _core_run(
    image: Image,
    regs: dict[str, int],
    setup: Callable[[_Machine], None] | None = None,
    budget: int = 1 << 40,
) -> tuple[float, int, _Machine]:
    m = _new_machine()
    m.write(PAGE_DIR, page_tables())
    m.write(image.base, image.data)
    m.write(RET_STUB, b"\xc3")
    for name, value in regs.items():
        setattr(m, name, value)
    if setup is not None:
        setup(m)
    m.esp = STACK_TOP
    m.eip = image.symbol("_start")
    start = time.perf_counter()
    reason = m.run(max_instructions=budget)
    elapsed = time.perf_counter() - start
    if _stop_name(reason) != "HALT":
        msg = f"core stopped with {_stop_name(reason)} at {m.eip:#x}, not at the final hlt"
        raise BenchError(msg)
    return elapsed, m.instructions, m


# ------------------------------------------------------------------- unicorn --


def _unicorn() -> ModuleType | None:
    try:
        return importlib.import_module("unicorn")
    except ImportError:
        return None


def unicorn_available() -> bool:
    """True when the unicorn package can be imported."""
    return _unicorn() is not None


def _unicorn_run(image: Image, regs: dict[str, int], count_only: bool = False) -> tuple[float, int]:
    """Run on a fresh unicorn until the final hlt; (seconds, instructions if counted)."""
    uc_mod = _unicorn()
    if uc_mod is None:
        msg = "unicorn is not installed"
        raise BenchError(msg)
    ux = importlib.import_module("unicorn.x86_const")
    regmap = {
        "eax": ux.UC_X86_REG_EAX,
        "ebx": ux.UC_X86_REG_EBX,
        "ecx": ux.UC_X86_REG_ECX,
        "edx": ux.UC_X86_REG_EDX,
        "esi": ux.UC_X86_REG_ESI,
        "edi": ux.UC_X86_REG_EDI,
        "ebp": ux.UC_X86_REG_EBP,
        "esp": ux.UC_X86_REG_ESP,
    }
    start = time.perf_counter()
    buf = ctypes.create_string_buffer(MEM_SIZE)
    uc = uc_mod.Uc(uc_mod.UC_ARCH_X86, uc_mod.UC_MODE_32)
    uc.mem_map_ptr(0, MEM_SIZE, uc_mod.UC_PROT_ALL, ctypes.addressof(buf))
    tables = page_tables()
    ctypes.memmove(ctypes.addressof(buf) + PAGE_DIR, tables, len(tables))
    ctypes.memmove(ctypes.addressof(buf) + image.base, image.data, len(image.data))
    for name, value in regs.items():
        uc.reg_write(regmap[name], value)
    uc.reg_write(ux.UC_X86_REG_ESP, STACK_TOP)
    count = [0]
    if count_only:

        def on_code(_uc: Any, _addr: int, _size: int, _data: Any) -> None:
            count[0] += 1

        uc.hook_add(uc_mod.UC_HOOK_CODE, on_code)
    uc.emu_start(image.symbol("_start"), image.symbol("__halt"))
    elapsed = time.perf_counter() - start
    return elapsed, count[0] + 1  # + the hlt, which the core counts


def _unicorn_instructions(image: Image, regs: dict[str, int], iterations: int) -> int:
    """Instructions of a loop run, from counted runs of 1 and 2 iterations."""
    one = _unicorn_run(image, {**regs, "ecx": 1}, count_only=True)[1]
    two = _unicorn_run(image, {**regs, "ecx": 2}, count_only=True)[1]
    return one + (two - one) * (iterations - 1)


# --------------------------------------------------------------------- bench --


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def run_core_bench(repeats: int = 5, *, scale: float = 1.0) -> dict[str, float]:
    """Measure the core (and unicorn) and return the medians described above.

    ``scale`` multiplies every iteration count (tests use a small one).
    """
    alu, mem, dispatch = _loop("alu"), _loop("mem"), _loop("dispatch")
    workload = _workload()
    alu_regs = {"ecx": max(1, int(ALU_ITERATIONS * scale)), "edi": PAGE_DIR}
    mem_regs = {
        "ecx": max(1, int(MEM_ITERATIONS * scale)),
        "edi": PAGE_DIR,
        "esi": WORKING_SET,
        "ebp": WORKING_SET_SIZE - 1,
    }
    n_dispatch = max(1, int(DISPATCH_ITERATIONS * scale))
    results: dict[str, list[float]] = {}

    def record(key: str, value: float) -> None:
        results.setdefault(key, []).append(value)

    def python_slot(m: _Machine) -> None:
        m.eax = 1

    def gate_setup(slot: object) -> Callable[[_Machine], None]:
        def setup(m: _Machine) -> None:
            table = m.add_gate_table(GATES, [slot])
            m.ebx = m.gate_address(table, 0)

        return setup

    compiled_slot = importlib.import_module("pvops.cpu._core").SetEaxSlot(1)
    for _ in range(repeats):
        t, n, _m = _core_run(alu, alu_regs)
        record("alu_mips", n / t / 1e6)
        t, n, _m = _core_run(mem, mem_regs)
        record("mem_mips", n / t / 1e6)
        regs = {"ecx": n_dispatch, "edi": PAGE_DIR, "ebx": RET_STUB}
        base, _n, _m = _core_run(dispatch, regs)
        t, _n, m = _core_run(dispatch, regs, gate_setup(compiled_slot))
        if m.eax != 1:
            msg = "the compiled gate slot did not run"
            raise BenchError(msg)
        record("dispatch_compiled_ns", (t - base) / n_dispatch * 1e9)
        t, _n, m = _core_run(dispatch, regs, gate_setup(python_slot))
        if m.eax != 1:
            msg = "the Python gate slot did not run"
            raise BenchError(msg)
        record("dispatch_python_ns", (t - base) / n_dispatch * 1e9)
        t, n, _m = _core_run(workload, {})
        record("gcc_program_s", t)
        record("gcc_program_minstr", n / 1e6)
    if unicorn_available():
        alu_n = _unicorn_instructions(alu, alu_regs, alu_regs["ecx"])
        mem_n = _unicorn_instructions(mem, mem_regs, mem_regs["ecx"])
        for _ in range(repeats):
            record("unicorn_alu_mips", alu_n / _unicorn_run(alu, alu_regs)[0] / 1e6)
            record("unicorn_mem_mips", mem_n / _unicorn_run(mem, mem_regs)[0] / 1e6)
            record("unicorn_gcc_program_s", _unicorn_run(workload, {})[0])
    return {key: _median(values) for key, values in results.items()}


def format_results(results: dict[str, float]) -> str:
    """One line per figure, with the core/unicorn ratios when both exist."""
    lines = [f"{key:24} {value:12.3f}" for key, value in sorted(results.items())]
    for kind in ("alu", "mem"):
        core, uc = results.get(f"{kind}_mips"), results.get(f"unicorn_{kind}_mips")
        if core and uc:
            lines.append(f"{kind + ' core/unicorn':24} {core / uc:12.3f}")
    core_s, uc_s = results.get("gcc_program_s"), results.get("unicorn_gcc_program_s")
    if core_s and uc_s:
        lines.append(f"{'gcc_program unicorn/core':24} {uc_s / core_s:12.3f}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - manual runs
    print(format_results(run_core_bench()))
