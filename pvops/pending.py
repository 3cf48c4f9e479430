"""Ops declared by a backend whose hypervisor model is not built yet.

A backend says which ops it takes over before every body exists, so that
``describe`` is already honest about the design; calling such an op stops
the guest with this error instead of silently doing the native thing.
"""

from __future__ import annotations


class OpNotModeledError(NotImplementedError):
    """An op a backend claims but whose hypervisor model does not exist yet."""

    def __init__(self, backend: str, op: str, needs: str) -> None:
        super().__init__(f"{backend}: op {op} needs {needs}, which is not modeled yet")
        self.backend = backend
        self.op = op
