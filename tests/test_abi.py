"""The layout native ops assume is the reference kernel's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pvops import abi

X86_H = Path(__file__).parent.parent / "pvops" / "guest" / "include" / "x86.h"


def _defines(text: str) -> dict[str, int]:
    return {
        name: int(value, 0)
        for name, value in re.findall(r"#define\s+(\w+)\s+(0x[0-9a-fA-F]+|\d+)u?\b", text)
    }


@pytest.mark.parametrize(
    "name",
    [
        "GDT_ENTRY_KERNEL_CS",
        "GDT_ENTRY_KERNEL_DS",
        "GDT_ENTRY_USER_CS",
        "GDT_ENTRY_USER_DS",
        "GDT_ENTRY_TSS",
    ],
)
def test_gdt_slots_match_the_kernel(name: str) -> None:
    """pvops.abi and the kernel's x86.h agree on every GDT slot they both name."""
    defines = _defines(X86_H.read_text())
    assert getattr(abi, name) == defines[name]


def test_extra_slots_follow_the_kernels_table() -> None:
    """TLS and LDT slots come after the kernel's last entry, not over it."""
    defines = _defines(X86_H.read_text())
    assert defines["GDT_ENTRIES"] <= abi.GDT_ENTRY_TLS_MIN
    assert abi.GDT_ENTRY_LDT >= abi.GDT_ENTRY_TLS_MIN + abi.GDT_ENTRY_TLS_ENTRIES
