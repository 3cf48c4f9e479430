# The compiled-slot contract, shared by _core.pxd (for Cython code outside
# the core) and _core.pyx.

# What CompiledSlot.call returns.
cdef enum:
    SLOT_OK = 0      # done: the core returns to the caller as if by `ret`
    SLOT_FAULT = 1   # deliver the exception set with slot_fault()
    SLOT_STOP = 2    # stop the run (StopReason.STOPPED) after the return


cdef inline int slot_fault(CpuState *s, int vector, int code) noexcept nogil:
    s.exc_vec = vector
    s.exc_code = code
    return SLOT_FAULT
