"""The hvm backend (``pvops.backends.hvm.backend``): paravirtual MMU ops for a hardware VMM.

Registered late, by the hypervisor, after a pvops kernel booted on the native
ops and found it (see ``pvops/platform/hvm.py`` and ``paravirt/late.c``).
"""
