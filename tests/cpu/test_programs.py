"""Whole gcc-built C programs run to completion on the core and on unicorn.

Each program in ``programs/`` is compiled freestanding at -O0, -O2 and -Os
for -march=i386 and -march=i686, linked at 2 MiB, run from ``_start`` to
its final ``hlt``; final registers and all of memory must match, and on a
difference the first diverging instruction is found in lockstep.  Builds are
cached in pytest's cache directory.
"""

# Test names follow the blink style test<Thing>_<condition>_<expectation> (STYLE.md).

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from cpu_oracle.harness import Case, check_program, run_program_unicorn

from pvops.bench.build import Image, build_c

HERE = Path(__file__).parent / "programs"
PROGRAMS = ["sort", "crc32", "sieve", "div64"]
OPTS = ["-O0", "-O2", "-Os"]
ARCHES = ["i386", "i686"]

# Facts about the programs' results, independent of any emulator.
KNOWN = {
    "crc32": {4: 0xCBF43926},  # CRC-32 of "123456789"
    "sieve": {0: 3245, 2: 3245, 3: 500},  # primes below 30000, strlen
    "div64": {4: 0xFFFFFFFF},  # isqrt(2^64 - 1)
}


@pytest.fixture(scope="session")
def build_root(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where compiled programs are cached (pytest's cache dir, else a tmp dir)."""
    cache = getattr(request.config, "cache", None)
    if cache is None:
        return tmp_path_factory.mktemp("pvops-cpu-programs")
    return Path(cache.mkdir("pvops-cpu-programs"))


def build(name: str, opt: str, arch: str, root: Path) -> Image:
    """Compile one program variant (cached)."""
    sources = [HERE / "start.S", HERE / "lib.c", HERE / f"{name}.c"]
    return build_c(
        sources,
        cflags=[opt, f"-march={arch}", f"-I{HERE}"],
        ldscript=HERE / "link.ld",
        cache_root=root,
    )


def program_case(image: Image, note: str) -> Case:
    """The program as a differential case: from _start to __halt."""
    return Case(
        code=image.data,
        code_base=image.base,
        entry=image.symbol("_start"),
        end=image.symbol("__halt"),
        regs={"esp": 0x2E0000},
        note=note,
    )


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("opt", OPTS)
@pytest.mark.parametrize("name", PROGRAMS)
def testProgram_gccBuilt_matchesUnicornAtTheEnd(
    name: str, opt: str, arch: str, build_root: Path
) -> None:
    """A freestanding C program ends with the same registers and memory as on unicorn."""
    image = build(name, opt, arch, build_root)
    case = program_case(image, f"{name} {opt} -march={arch}")
    want = run_program_unicorn(case)
    assert want.reason == "end", f"unicorn: {want.reason} at {want.state.eip:#x}"
    out = image.symbol("out")
    values = struct.unpack("<64I", want.memory[out : out + 256])
    for index, expected in KNOWN.get(name, {}).items():
        assert values[index] == expected, f"program bug: out[{index}] = {values[index]:#x}"
    assert values[63] == 1, "the program's own self-check failed (on unicorn)"
    check_program(case, budget=20_000_000, describe=lambda: f"({name} {opt} -march={arch})")
