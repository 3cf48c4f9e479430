"""The native backend: every slot at its default, i.e. bare hardware.

It is the reference point of every comparison (the pvops kernel on bare
metal pays only for the indirection) and the backend a fully virtualizing
hypervisor runs an unmodified kernel on.
"""

from __future__ import annotations

from pvops.backends.native.boot import native_boot
from pvops.registry import Backend

BACKEND = Backend(
    name="native",
    description="Bare hardware: every op is the privileged instruction it stands for.",
    boot=native_boot,
    hypervisors=("native", "hvm"),
)
