"""The Xen hypervisor models: xen-2.0.2, xen-2.0.7 (ABI 2.0), xen-3.0.1 (3.0), xen-3.0.2 (3.0.2).

Read in this order (the ``X:`` tags): :mod:`.abi` (X:010, the ABIs as
data), :mod:`.host` (X:020, what the models need from the core),
:mod:`.hypervisor` (X:100, machine memory, entry points, vCPU switching),
:mod:`.loader` (X:200), :mod:`.mm` (X:300, page-table validation),
:mod:`.domain` (X:400, the builder), :mod:`.events` (X:500),
:mod:`.console` (X:600), :mod:`.timer` (X:700), :mod:`.traps` (X:800),
:mod:`.hypercalls` (X:900).
"""

from pvops.backends.xen.models.abi import ABI_2_0, ABI_3_0, ABI_3_0_2, VERSIONS, XenAbi, version
from pvops.backends.xen.models.domain import Domain, RunState
from pvops.backends.xen.models.hypervisor import Xen, xen_of
from pvops.backends.xen.models.loader import LoadError, check_image

__all__ = [
    "ABI_2_0",
    "ABI_3_0",
    "ABI_3_0_2",
    "VERSIONS",
    "Domain",
    "LoadError",
    "RunState",
    "Xen",
    "XenAbi",
    "check_image",
    "version",
    "xen_of",
]
