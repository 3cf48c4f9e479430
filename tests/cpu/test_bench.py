"""pvops.bench.core: the result's structure (tiny runs), and pytest-benchmark entries.

The benchmark entries run with ``--benchmark-disable`` by default (repo
config): then each body runs once, as a smoke test.
"""

# Test names follow the blink style test<Thing>_<condition>_<expectation> (STYLE.md).

from __future__ import annotations

import math

import pytest

from pvops.bench import core

KEYS = {
    "alu_mips",
    "mem_mips",
    "dispatch_compiled_ns",
    "dispatch_python_ns",
    "gcc_program_s",
    "gcc_program_minstr",
    "unicorn_alu_mips",
    "unicorn_mem_mips",
    "unicorn_gcc_program_s",
}


@pytest.fixture(scope="module")
def tiny() -> dict[str, float]:
    """One repeat at 2% of the normal iteration counts."""
    return core.run_core_bench(repeats=1, scale=0.02)


def testRunCoreBench_tinyRun_hasEveryFigure(tiny: dict[str, float]) -> None:
    """Every documented key is present (unicorn ones because unicorn is installed)."""
    assert core.unicorn_available()
    assert set(tiny) == KEYS


def testRunCoreBench_tinyRun_figuresArePositiveFloats(tiny: dict[str, float]) -> None:
    """All figures are finite positive floats."""
    for key, value in tiny.items():
        assert isinstance(value, float), key
        assert math.isfinite(value), key
        assert value > 0 or key.startswith("dispatch"), (key, value)


def testRunCoreBench_gccProgram_isMillionsOfInstructions(tiny: dict[str, float]) -> None:
    """The C workload is in the 1-3 million instruction range it is sized for."""
    assert 1.0 <= tiny["gcc_program_minstr"] <= 3.0


def testFormatResults_ratios_areListed(tiny: dict[str, float]) -> None:
    """format_results adds the core/unicorn ratios."""
    text = core.format_results(tiny)
    assert "alu core/unicorn" in text
    assert "gcc_program unicorn/core" in text


def testPageTables_identityMap_coversSixteenMiB() -> None:
    """The bench's page tables map 16 MiB one to one."""
    import struct

    tables = core.page_tables()
    assert len(tables) == 5 * 4096
    pde0 = struct.unpack_from("<I", tables, 0)[0]
    assert pde0 & ~0xFFF == core.PAGE_DIR + 4096
    last_pte = struct.unpack_from("<I", tables, 4096 + 4 * 4095)[0]
    assert last_pte & ~0xFFF == 4095 * 4096


def test_bench_alu_loop(benchmark: pytest.FixtureRequest) -> None:
    """pytest-benchmark: the ALU loop on the core."""
    image = core._loop("alu")
    regs = {"ecx": 20_000, "edi": core.PAGE_DIR}
    benchmark(lambda: core._core_run(image, regs))  # type: ignore[operator]


def test_bench_python_gate(benchmark: pytest.FixtureRequest) -> None:
    """pytest-benchmark: 10k dispatches to a Python slot."""
    image = core._loop("dispatch")
    regs = {"ecx": 10_000, "edi": core.PAGE_DIR}

    def setup(m: core._Machine) -> None:
        table = m.add_gate_table(core.GATES, [lambda _m: None])
        m.ebx = m.gate_address(table, 0)

    benchmark(lambda: core._core_run(image, regs, setup))  # type: ignore[operator]
