# Public Cython declarations of pvops.cpu._core (the uvloop split: this
# file declares, _core.pyx implements).  Code that writes compiled gate
# slots does ``from pvops.cpu._core cimport CompiledSlot, Machine`` with
# cpu/include on its Cython include path, where pvops/cpu/_core.pxd maps
# here; setup.py builds the core with the same path.  A slot reads and
# writes m.s (registers, regs[4] = ESP, ...).

include "state.pxd"
include "slot_api.pxi"


cdef class Machine:
    cdef CpuState *s
    cdef readonly unsigned int memory_size
    cdef readonly object host_error
    cdef object _tables
    cdef dict _port_hooks
    cdef dict _int_hooks
    cdef dict _watch_hooks
    cdef object _gp_hook
    cdef object _hlt_hook
    cdef list _intercepts       # by SK_* kind
    cdef dict _exc_intercepts   # by vector
    cdef uint64_t _loads        # load_context() calls: hooks that switch contexts
    cdef object __weakref__

    # The run loop and its slow paths (implemented in _core.pyx).
    cdef _raise_pending(self)
    cdef uint32_t _read_cr(self, int n) noexcept
    cdef _write_cr(self, int n, v)
    cdef Seg *_seg(self, name) except NULL
    cdef _op(self, int kind, bint ok)
    cdef _install(self, int table, uint32_t k, slot)
    cdef int _run(self, uint64_t budget) except -1
    cdef int _status(self, int st) except -3
    cdef int _watch(self) except -3
    cdef void _watch_reset(self) noexcept
    cdef int _replay(self) noexcept
    cdef int _intercept(self) except -3
    cdef int _exception(self, int vec, int code, int kind) except -3
    cdef int _event(self, int vec, int code, int kind) except -3
    cdef int _guest_fault(self, e) except -3
    cdef int _call_hook(self, hook, tuple args) except -3
    cdef int _gate(self, int table, int k) except -3


cdef class CompiledSlot:
    # Called with the machine when the guest executes the slot's gate; must
    # not raise.  Returns SLOT_OK, SLOT_FAULT (after slot_fault()) or SLOT_STOP.
    cdef int call(self, Machine m) noexcept
