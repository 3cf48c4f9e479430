"""native-performance: what the paravirt indirection costs on bare metal."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import attrs

from pvops.lab.compare import Cell, compare
from pvops.lab.cost import CostModel
from pvops.lab.scenarios.base import ITERATIONS, Evidence, ScenarioResult, scenario

PERF_WORKLOADS = ("irq", "mmap", "fork")


@scenario("native-performance")
def native_performance(model: CostModel) -> ScenarioResult:
    """What the paravirt indirection costs on bare metal, patched and unpatched."""
    question = (
        "On bare metal, what does each flavour's paravirt indirection cost "
        "compared with the plain native kernel, with and without boot-time patching?"
    )
    variants = [
        ("native", Cell("native", "native", "", ITERATIONS)),
        ("pvops, patched", Cell("pvops", "native", "", ITERATIONS)),
        ("pvops, unpatched", Cell("pvops", "native", "", ITERATIONS, patch=False)),
        ("vmi, no ROM", Cell("vmi", "native", "", ITERATIONS)),
    ]
    cells = [attrs.evolve(c, workload=w) for w in PERF_WORKLOADS for _, c in variants]
    results = compare(cells, model=model, executor=ThreadPoolExecutor(1))
    labels = {c: label for label, c in variants}
    evidence = [
        Evidence.of_cell(labels[attrs.evolve(c, workload="")], r)
        for c, r in zip(cells, results, strict=True)
    ]
    parts = []
    for workload in PERF_WORKLOADS:
        row = [e for e in evidence if e.workload == workload]
        base = row[0].modeled_cycles
        shown = [
            f"{e.label} {e.modeled_cycles / base:.2f}x" if e.ok and base else f"{e.label} failed"
            for e in row[1:]
        ]
        parts.append(f"{workload}: " + ", ".join(shown))
    outcome = "cycles per iteration vs native: " + "; ".join(parts)
    return ScenarioResult("native-performance", question, outcome, evidence)
