"""Native spinlock ops: Linux's ticket locks (2.6.25+), on guest memory.

``raw_spinlock_t`` is 16 bits for fewer than 256 CPUs: the low byte is the
ticket now being served (head), the high byte the next ticket to hand out
(tail).  ``lock xaddw`` takes a ticket; the holder is done when
``incb head``.  On the single modeled CPU a lock that is taken when we
arrive can never be released while we spin, so instead of hanging the host
the op reports a :class:`~pvops.hw.GuestDeadlock`.
"""

from __future__ import annotations

from pvops.hw import Cpu, GuestDeadlock
from pvops.types import IrqFlags, VirtAddr


def _load(cpu: Cpu, lock: VirtAddr) -> tuple[int, int]:
    raw = cpu.read_virt(lock, 2)
    return raw[0], raw[1]


def _store(cpu: Cpu, lock: VirtAddr, head: int, tail: int) -> None:
    cpu.write_virt(lock, bytes([head & 0xFF, tail & 0xFF]))


def native_spin_is_locked(cpu: Cpu, lock: VirtAddr) -> bool:
    """Held when a ticket is out that has not been served."""
    head, tail = _load(cpu, lock)
    return head != tail


def native_spin_is_contended(cpu: Cpu, lock: VirtAddr) -> bool:
    """Contended when someone queues behind the holder."""
    head, tail = _load(cpu, lock)
    return ((tail - head) & 0xFF) > 1


def native_spin_trylock(cpu: Cpu, lock: VirtAddr) -> bool:
    """cmpxchg a ticket in only if the lock is free."""
    head, tail = _load(cpu, lock)
    if head != tail:
        return False
    _store(cpu, lock, head, tail + 1)
    return True


def native_spin_lock(cpu: Cpu, lock: VirtAddr) -> None:
    """Take a ticket and wait to be served."""
    if not native_spin_trylock(cpu, lock):
        msg = f"spin_lock({lock:#x}): lock already held on the only CPU; it would spin forever"
        raise GuestDeadlock(msg)


def native_spin_lock_flags(cpu: Cpu, lock: VirtAddr, flags: IrqFlags) -> None:
    """As spin_lock; the flags only matter while spinning."""
    del flags
    native_spin_lock(cpu, lock)


def native_spin_unlock(cpu: Cpu, lock: VirtAddr) -> None:
    """Serve the next ticket."""
    head, tail = _load(cpu, lock)
    _store(cpu, lock, head + 1, tail)
