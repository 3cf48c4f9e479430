"""The kernel-side layout that native ops assume, as in Linux's ``asm/segment.h``.

Some native ops are more than one instruction: ``native_load_tr_desc`` loads
a fixed GDT slot, ``native_set_ldt`` writes the LDT descriptor into another,
``native_load_esp0`` stores into the TSS.  Those slots and offsets are a
contract between the kernel and its ops; these are Linux 2.6.2x i386's.
"""

from __future__ import annotations

from pvops.types import Port

GDT_ENTRY_TLS_MIN = 6
GDT_ENTRY_TLS_ENTRIES = 3
GDT_ENTRY_KERNEL_CS = 12
GDT_ENTRY_KERNEL_DS = 13
GDT_ENTRY_TSS = 16
GDT_ENTRY_LDT = 17
DESCRIPTOR_SIZE = 8

TSS_ESP0_OFFSET = 4  # struct i386_hw_tss: backlink, esp0, ss0, ...

HZ = 100  # timer ticks per second

# Bare-metal platform devices (the PC's).
PIT_CHANNEL0 = Port(0x40)
PIT_COMMAND = Port(0x43)
PIT_HZ = 1_193_182
PIC_MASTER_CMD = Port(0x20)
PIC_MASTER_DATA = Port(0x21)
PIC_SLAVE_CMD = Port(0xA0)
PIC_SLAVE_DATA = Port(0xA1)
IRQ0_VECTOR = 0x20  # where the kernel remaps the master 8259
CMOS_INDEX = Port(0x70)
CMOS_DATA = Port(0x71)
IO_DELAY_PORT = Port(0x80)
LOCAL_APIC_BASE = 0xFEE0_0000
