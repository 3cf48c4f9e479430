"""The vmi backend (``pvops.backends.vmi.backend``): paravirt_ops that call a VMI ROM."""
