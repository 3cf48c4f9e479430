"""Boot the vmi flavour on bare metal with a given option ROM and run one workload."""

from __future__ import annotations

import re
from pathlib import Path

from pvops.backends.vmi.rom import VMI_CALLS
from pvops.guest.build import SOURCE_DIR, build
from pvops.image import load_image
from pvops.lab.run import DEFAULT_MEMORY, RunResult, cmdline, finish
from pvops.platform.bare import BareMetal

CALL_DEFINE = re.compile(r"^#define VMI_CALL_(\w+) (\d+)$", re.MULTILINE)


def kernel_call_numbers(src: Path = SOURCE_DIR) -> dict[str, int]:
    """The VMI call numbers the vmi flavour is compiled with (its ``include/vmi.h``)."""
    text = (src / "include" / "vmi.h").read_text()
    return {name: int(nr) for name, nr in CALL_DEFINE.findall(text)}


def abi_mismatches(src: Path = SOURCE_DIR) -> dict[str, tuple[int, int]]:
    """Calls whose number in the kernel differs from VMI 3.0's: name -> (kernel, ABI)."""
    abi = {name: nr for nr, name in VMI_CALLS.items()}
    return {
        name: (nr, abi[name])
        for name, nr in kernel_call_numbers(src).items()
        if name in abi and abi[name] != nr
    }


def run_vmi(rom: bytes | None, workload: str, iterations: int) -> RunResult:
    """Boot the vmi kernel on :class:`BareMetal` with ``rom`` mapped; verify the checksum."""
    image = load_image(build("vmi"))
    session = BareMetal(option_rom=rom).boot(
        image, cmdline=cmdline(workload, iterations), memory=DEFAULT_MEMORY, patch=True, force=False
    )
    result = RunResult(guest="vmi", hv="native", workload=workload, iterations=iterations)
    return finish(session, result)
