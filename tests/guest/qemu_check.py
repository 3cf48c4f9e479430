"""Boot every bare-metal flavour and workload on qemu and check the checksums.

A development aid, not a test (committed tests must not need qemu)::

    python tests/guest/qemu_check.py [iterations]

Runs native, pvops and vmi (without a ROM, and with the native test ROM of
the native ROM of pvops.backends.vmi) under ``qemu-system-i386 -kernel`` and compares each
``PVOPS-RESULT`` line with :func:`pvops.guest.expected_checksum`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from pvops.guest import build, expected_checksum, parse_result
from pvops.guest.checksums import WORKLOADS

HERE = Path(__file__).resolve().parent


def build_rom(tmp: Path) -> Path:
    """The native VMI ROM (pvops.backends.vmi), written where qemu can read it."""
    from pvops.backends.vmi.rom import build_rom as build_vmi_rom

    rom = tmp / "rom.bin"
    rom.write_bytes(build_vmi_rom("native"))
    return rom


def boot(kernel: Path, cmdline: str, rom: Path | None) -> str:
    """The serial console of one qemu boot."""
    argv = [
        "qemu-system-i386", "-kernel", str(kernel), "-append", f"{cmdline} debug_exit=1",
        "-display", "none", "-serial", "stdio", "-no-reboot", "-m", "64",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
    ]  # fmt: skip
    if rom is not None:
        argv += ["-option-rom", str(rom)]
    r = subprocess.run(argv, capture_output=True, timeout=60, check=False)
    return r.stdout.decode("latin-1")


def main() -> int:
    """Run the matrix; non-zero exit if any checksum is wrong."""
    if shutil.which("qemu-system-i386") is None:
        print("qemu-system-i386 not found")
        return 2
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        rom = build_rom(Path(tmp))
        for flavour, with_rom in (("native", None), ("pvops", None), ("vmi", None), ("vmi", rom)):
            kernel = build(flavour)
            for w in WORKLOADS:
                out = boot(kernel, f"workload={w} iterations={n}", with_rom)
                got = parse_result(out)
                ok = got is not None and got[2] == expected_checksum(w, n)
                vmi = [line for line in out.splitlines() if line.startswith("vmi:")]
                label = flavour + ("+rom" if with_rom else "")
                print(f"{label:9} {w:10} {'ok' if ok else 'WRONG'} {vmi[-1] if vmi else ''}")
                bad += not ok
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
