"""The kernel-side layout that native ops assume, as Linux's ``asm/segment.h``.

Some native ops are more than one instruction: ``native_load_tr_desc`` loads
a fixed GDT slot, ``native_set_ldt`` writes the LDT descriptor into another,
``native_load_esp0`` stores into the TSS.  Those slots and offsets are a
contract between a kernel and its ops, as they were in Linux; these are the
reference kernel's (``pvops/guest/include/x86.h``, checked by the tests).
Its GDT has no TLS or LDT slots; a kernel that uses those ops provides them
right after its TSS, where these numbers put them.
"""

from __future__ import annotations

from pvops.types import Port

GDT_ENTRY_KERNEL_CS = 1
GDT_ENTRY_KERNEL_DS = 2
GDT_ENTRY_USER_CS = 3
GDT_ENTRY_USER_DS = 4
GDT_ENTRY_TSS = 5
GDT_ENTRY_TLS_MIN = 6
GDT_ENTRY_TLS_ENTRIES = 3
GDT_ENTRY_LDT = 9
DESCRIPTOR_SIZE = 8

# struct tss (the hardware's): backlink, esp0, ss0, esp1, ss1, ...
TSS_ESP0_OFFSET = 4
TSS_ESP1_OFFSET = 12

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
