"""Figures: the comparison as grouped bars, one group per workload."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")  # files only: no display is needed or wanted
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from pvops.lab.compare import CellResult


def plot_compare(results: Sequence[CellResult], path: Path) -> Path:
    """Write :func:`draw_compare`'s figure to ``path`` (PNG, SVG, PDF: by its suffix)."""
    fig = draw_compare(results)
    path = Path(path)
    try:
        fig.savefig(path, dpi=120)
    finally:
        plt.close(fig)
    return path


def bar_colors(results: Sequence[CellResult]) -> dict[str, tuple[float, float, float]]:
    """One hue per guest flavour, lighter for each further hypervisor it runs on.

    A reader finds a design by its colour and the platforms by its shades.
    """
    guests = list(dict.fromkeys(r.guest for r in results))
    hue = plt.get_cmap("tab10")
    shades: dict[str, list[str]] = {}
    for r in results:
        shades.setdefault(r.guest, [])
        if r.label not in shades[r.guest]:
            shades[r.guest].append(r.label)
    colors = {}
    for g, guest in enumerate(guests):
        red, green, blue, _ = hue(g % 10)
        for k, label in enumerate(shades[guest]):
            mix = 0.55 * k / max(1, len(shades[guest]) - 1) if len(shades[guest]) > 1 else 0.0
            colors[label] = (
                red + (1 - red) * mix,
                green + (1 - green) * mix,
                blue + (1 - blue) * mix,
            )
    return colors


def draw_compare(results: Sequence[CellResult]) -> Figure:
    """Grouped bars of modeled cycles per iteration (log scale), failed cells marked."""
    workloads = list(dict.fromkeys(r.workload for r in results))
    labels = list(dict.fromkeys(r.label for r in results))
    by_key = {(r.workload, r.label): r for r in results}
    fig, ax = plt.subplots(figsize=(max(8.0, 1.3 * len(workloads) * max(1, len(labels)) / 3), 5))
    width = 0.8 / max(1, len(labels))
    colors = bar_colors(results)
    for j, label in enumerate(labels):
        xs, heights = [], []
        for i, workload in enumerate(workloads):
            r = by_key.get((workload, label))
            if r is not None and r.ok and r.modeled_cycles_per_iteration:
                xs.append(i + (j - (len(labels) - 1) / 2) * width)
                heights.append(r.modeled_cycles_per_iteration)
            elif r is not None and not r.ok:
                # x in data, y in axes fractions: on a log axis no data y is sure to show.
                x = i + (j - (len(labels) - 1) / 2) * width
                ax.annotate(
                    "x",
                    (x, 0.01),
                    xycoords=ax.get_xaxis_transform(),
                    ha="center",
                    va="bottom",
                    color="red",
                    fontsize=8,
                )
        ax.bar(xs, heights, width, label=label, color=colors[label], edgecolor="white", lw=0.3)
    ax.set_yscale("log")
    ax.set_xticks(range(len(workloads)), workloads)
    ax.set_xlim(-0.5, len(workloads) - 0.5)  # every group's slots, with bars or not
    ax.set_ylabel("modeled cycles per iteration (log scale)")
    ax.set_xlabel("workload (x: the cell failed or was refused)")
    ax.set_title("pvops compare: guest flavour @ hypervisor")
    ax.legend(fontsize=8, ncols=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    return fig
