"""The xen backend (``pvops.backends.xen.backend``): one file per op group, as arch/x86/xen."""
