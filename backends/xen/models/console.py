"""The emergency console: ``console_io`` writes collected per domain.

X:600 Xen 2.0 and 3.0 let only dom0 use ``console_io`` unless the
hypervisor was built verbose; domUs talked to the console daemon through
the domain controller (2.0) or a shared ring and xenstore (3.0).  The model
behaves as a verbose build: every domain may write, and its output is what
the lab shows as that guest's console.  The 3.0 console ring page is
allocated and announced in start_info but nothing reads it.
"""

from __future__ import annotations

from pvops.backends.xen.models.domain import Domain

MAX_WRITE = 1 << 16  # bytes per call, so one hypercall cannot stall the host


def write(dom: Domain, data: bytes) -> None:
    """Append guest output to the domain's console."""
    dom.console += data


def text(dom: Domain) -> str:
    """The domain's console output so far."""
    return dom.console.decode("latin-1")
