"""pvops.cpu: the Cython i386 interpreter core."""

from pvops.cpu._core import Machine, StopReason

__all__ = ["Machine", "StopReason"]
