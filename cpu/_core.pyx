# cython: language_level=3
"""Placeholder core: guest physical memory only (the interpreter lands next)."""

from libc.stdlib cimport calloc, free
from libc.string cimport memcpy
import enum


class StopReason(enum.IntEnum):
    HALT = 0
    BUDGET = 1
    TRIPLE_FAULT = 2


cdef class Machine:
    cdef unsigned char *mem
    cdef readonly unsigned int memory_size

    def __cinit__(self, unsigned int memory_size=16 << 20):
        self.mem = <unsigned char *>calloc(memory_size, 1)
        if self.mem == NULL:
            raise MemoryError("cannot allocate guest memory")
        self.memory_size = memory_size

    def __dealloc__(self):
        free(self.mem)

    def write(self, unsigned int addr, const unsigned char[:] data):
        if addr + <unsigned int>data.shape[0] > self.memory_size:
            raise ValueError("write past the end of guest memory")
        if data.shape[0]:
            memcpy(self.mem + addr, &data[0], data.shape[0])

    def read(self, unsigned int addr, unsigned int n):
        if addr + n > self.memory_size:
            raise ValueError("read past the end of guest memory")
        return bytes(self.mem[addr:addr + n])
