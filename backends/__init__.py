"""Backends: native, xen, vmi."""
