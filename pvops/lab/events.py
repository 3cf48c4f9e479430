"""From what a run counted to the events the cost model prices.

The core counts instructions, traps by vector, TLB misses and the
sensitive instructions it executed (by kind, whether guest code ran them or
a native op performed them); the dispatch table counts op calls by how
they arrived; hypervisor models count hypercalls, upcalls and exits.  This
module names each of those an event of :mod:`pvops.lab.cost`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from pvops.lab.run import RunResult

SYSCALL_VECTOR = 0x80
PAGE_FAULT_VECTOR = 14
FIRST_EXTERNAL_VECTOR = 32

# VM exit reasons with a published cost of their own; the rest cost a
# plain exit and entry (cpuid, hlt, msr, invlpg, interrupts, hypercalls).
# A backdoor call is that plain exit too, less the `in` it is made with.
EXIT_EVENTS: Mapping[str, str] = {
    "io": "exit.io",
    "cr": "exit.cr",
    "pagefault": "exit.pagefault",
    "ptwrite": "exit.ptwrite",
    "backdoor": "exit.backdoor",
}


def events(result: RunResult) -> dict[str, int]:
    """The cost-model events of one run, with counts (zero counts left out)."""
    counts: Counter[str] = Counter()
    counts["instruction"] = result.guest_instructions
    for via in result.dispatches.values():
        counts["call.direct"] += via.get("direct", 0)
        counts["call.indirect"] += via.get("indirect", 0)
    for vector_text, n in result.traps.items():
        vector = int(vector_text)
        if vector == SYSCALL_VECTOR:
            counts["trap.syscall"] += n
        elif vector == PAGE_FAULT_VECTOR:
            counts["trap.pagefault"] += n
        elif vector >= FIRST_EXTERNAL_VECTOR:
            counts["trap.interrupt"] += n
        else:
            counts["trap.exception"] += n
    for kind, n in result.sensitive.items():
        counts[f"insn.{kind}"] += n  # the core's kind names are the cost model's
    counts["tlb.miss"] += result.tlb_misses
    counts["tlb.flush"] += result.tlb_flushes
    counts["hypercall"] += sum(result.hypercalls.values())
    counts["hypercall.mmu_entry"] += result.mmu_entries
    counts["upcall"] += result.upcalls
    for reason, n in result.exits.items():
        counts[EXIT_EVENTS.get(reason, "exit.other")] += n
    return {name: n for name, n in counts.items() if n}


def per_iteration(
    full: Mapping[str, int], base: Mapping[str, int], iterations: int
) -> dict[str, float]:
    """Events per iteration: the difference between a run of ``iterations`` and one of none."""
    if iterations <= 0:
        return {}
    names = set(full) | set(base)
    return {
        name: (full.get(name, 0) - base.get(name, 0)) / iterations
        for name in sorted(names)
        if full.get(name, 0) != base.get(name, 0)
    }
