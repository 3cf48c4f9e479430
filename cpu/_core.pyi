import enum

class StopReason(enum.IntEnum):
    HALT = 0
    BUDGET = 1
    TRIPLE_FAULT = 2

class Machine:
    memory_size: int
    def __init__(self, memory_size: int = ...) -> None: ...
    def write(self, addr: int, data: bytes) -> None: ...
    def read(self, addr: int, n: int) -> bytes: ...
