"""The op groups, their types, and the catalog of every op.

- :mod:`pvops.ops.signatures`: the type of each op (one Protocol each);
- :mod:`pvops.ops.groups`: the groups, each slot with its number and default;
- :mod:`pvops.ops.catalog`: the flat list the rest of pvops works from.
"""

from pvops.ops.catalog import OpSpec, by_number, c_header, catalog, lookup, op_count
from pvops.ops.groups import (
    GROUPS,
    PvApicOps,
    PvCpuOps,
    PvInfo,
    PvInitOps,
    PvIrqOps,
    PvLazyOps,
    PvLockOps,
    PvMmuOps,
    PvTimeOps,
)
from pvops.ops.nop import paravirt_nop

__all__ = [
    "GROUPS",
    "OpSpec",
    "PvApicOps",
    "PvCpuOps",
    "PvInfo",
    "PvInitOps",
    "PvIrqOps",
    "PvLazyOps",
    "PvLockOps",
    "PvMmuOps",
    "PvTimeOps",
    "by_number",
    "c_header",
    "catalog",
    "lookup",
    "op_count",
    "paravirt_nop",
]
