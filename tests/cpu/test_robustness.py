"""Random byte streams and register states never crash or hang the host.

The cases run in a child process (``cpu_oracle/robust_child.py``) so that a
segfault or an endless loop in the core fails this test, naming the case,
instead of killing the session.  Every run must end with a StopReason within
its instruction budget; no IDT is set up, so faults end in whatever the core
does for an unusable IDT (triple fault, usually).
"""

# Test names follow the blink style test<Thing>_<condition>_<expectation> (STYLE.md).

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
CHILD = HERE / "cpu_oracle" / "robust_child.py"
REGS = ("eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eflags")
INTERESTING = (0, 1, 0x7F, 0x80, 0xFFFF, 0x8000_0000, 0xFFFF_FFFF, 0x10000, 0xFFFF0)


def make_cases(seed: int, count: int, budget: int) -> list[str]:
    """Lines for the child: random code, random registers, a budget."""
    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        size = rng.choice((1, 4, 16, 64, 256))
        if rng.random() < 0.3:
            # Mostly-valid prefixes and opcodes make deeper decode paths likely.
            pool = [0x0F, 0x66, 0x67, 0xF2, 0xF3, 0xF0, 0x26, 0x2E, 0x64, 0x65, 0xC4, 0xD9, 0xFF]
            code = bytes(
                rng.choice(pool) if rng.random() < 0.4 else rng.randrange(256) for _ in range(size)
            )
        else:
            code = rng.randbytes(size)
        regs = {}
        for r in REGS:
            v = rng.choice(INTERESTING) if rng.random() < 0.4 else rng.getrandbits(32)
            regs[r] = v
        regs["eflags"] = (regs["eflags"] & 0x3F7FD7) | 0x2
        lines.append(f"{code.hex()} {json.dumps(regs, separators=(',', ':'))} {budget}")
    return lines


def run_child(lines: list[str], timeout: float) -> tuple[int, list[str], str]:
    """Run the cases; (return code, output lines, stderr)."""
    env = dict(os.environ)
    # No empty entry: it would put the working directory, maybe the source
    # tree (whose pvops has no compiled core), ahead of the installed package.
    extra = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), *extra])
    try:
        proc = subprocess.run(
            [sys.executable, str(CHILD)],
            input="\n".join(lines) + "\n",
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=HERE,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return -999, out.splitlines(), "timeout"
    return proc.returncode, proc.stdout.splitlines(), proc.stderr


@pytest.mark.parametrize("seed", [1, 2, 3])
def testRandomBytes_anyRegisters_endWithStopReason(seed: int) -> None:
    """300 random byte streams per seed all stop within budget, no crash, no hang."""
    count = int(os.environ.get("PVOPS_FUZZ_EXAMPLES", "300"))
    budget = 2000
    lines = make_cases(seed, count, budget)
    code, out, err = run_child(lines, timeout=60)
    started = [line for line in out if line.startswith("start")]
    done = [line for line in out if line.startswith("done")]
    if code != 0 or len(done) != len(lines):
        last = int(started[-1].split()[1]) if started else 0
        raise AssertionError(
            f"core {'hung' if code == -999 else f'exited with {code}'} on case {last} "
            f"(seed {seed}): {lines[last]}\nstderr:\n{err[-2000:]}"
        )
    for line in done:
        _, _n, reason, instructions = line.split()
        assert int(instructions) <= budget + 1, line
        assert reason in {"HALT", "BUDGET", "TRIPLE_FAULT", "STOPPED", "HOST_ERROR"}, line


@pytest.mark.parametrize("eip", [0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFF0, 0x000FFFFF, 0x00100000])
def testFetch_nearEndOfMemoryOrAddressSpace_endsWithStopReason(eip: int) -> None:
    """Fetching at the last bytes of RAM or of the 4 GiB space stops cleanly, no crash."""
    regs = json.dumps({"eip": eip, "esp": 0x8000}, separators=(",", ":"))
    line = f"90 {regs} 5"
    code, out, _err = run_child([line], timeout=30)
    assert code == 0, (
        f"core {'hung' if code == -999 else f'exited with {code}'} fetching at {eip:#x}"
    )
    assert any(x.startswith("done") for x in out), out
