"""Child process of the robustness test: runs cases read from stdin on the core.

Each stdin line is ``hex_code hex_regs_json``; before running a case the
child prints ``start N`` (flushed), after it ``done N REASON``.  A crash or a
hang therefore leaves the parent knowing which case did it.
"""

from __future__ import annotations

import json
import sys

from pvops.cpu import Machine, StopReason

MEM = 1 << 20
BASE = 0x10000


def main() -> None:
    """Run every case; exit 0 if all ended with a StopReason."""
    for n, line in enumerate(sys.stdin):
        code_hex, regs_json, budget = line.split()
        print(f"start {n}", flush=True)
        m = Machine(memory_size=MEM)
        m.write(BASE, bytes.fromhex(code_hex))
        m.eip = BASE
        for name, value in json.loads(regs_json).items():
            setattr(m, name, value)
        reason = StopReason(m.run(max_instructions=int(budget)))
        print(f"done {n} {reason.name} {m.instructions}", flush=True)


if __name__ == "__main__":
    main()
