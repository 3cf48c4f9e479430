"""The native backend: the default of every op (``pvops.backends.native.backend``).

This package holds the ``native_*`` implementations, one file per op group.
It imports nothing at package level because the op groups take their
defaults from these modules.
"""
