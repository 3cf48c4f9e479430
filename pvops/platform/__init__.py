"""Platforms: the devices around the CPU that a kernel talks to."""
