/* x86.h: architectural constants (Intel SDM vol. 3) and the kernel's own
 * segment and address-space layout.  Kept apart from paravirt.h, which holds
 * the *operations*; these are only numbers. */
#ifndef PVOPS_X86_H
#define PVOPS_X86_H

/* EFLAGS */
#define X86_EFLAGS_IF 0x00000200
#define X86_EFLAGS_IOPL 0x00003000
#define X86_EFLAGS_FIXED 0x00000002

/* CR0 */
#define X86_CR0_PE 0x00000001
#define X86_CR0_WP 0x00010000
#define X86_CR0_PG 0x80000000

/* Page-table entry bits (two-level, 4 KiB pages). */
#define _PAGE_PRESENT 0x001
#define _PAGE_RW 0x002
#define _PAGE_USER 0x004
#define _PAGE_ACCESSED 0x020
#define _PAGE_DIRTY 0x040
/* Bit 9 is available to software: we mark frames that are shared by every
 * address space (the user text) so fork maps them instead of copying and exit
 * does not free them. */
#define _PAGE_SHARED_TEXT 0x200
#define PAGE_SHIFT 12
#define PAGE_SIZE 4096u
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PTRS_PER_PTE 1024
#define PGDIR_SHIFT 22

/* Virtual layout.  The kernel is linked at PAGE_OFFSET + 1 MiB and loaded at
 * 1 MiB; all RAM is mapped at PAGE_OFFSET (Linux's "lowmem" direct map). */
#define PAGE_OFFSET 0xC0000000u
#define KERNEL_PGD_FIRST (PAGE_OFFSET >> PGDIR_SHIFT) /* 768 */
#define __pa(v) ((phys_addr_t)(v) - PAGE_OFFSET)
#define __va(p) ((void *)((phys_addr_t)(p) + PAGE_OFFSET))

/* User layout (ring 3). */
#define USER_TEXT_BASE 0x00400000u  /* the kernel's .utext pages, shared */
#define USER_MMAP_BASE 0x40000000u  /* mmap() and the demand-zero regions */
#define USER_STACK_TOP 0xBFFFF000u  /* below it: demand-zero stack */
#define USER_STACK_PAGES 16u

/* GDT slots.  Kernel descriptors carry DPL = kernel_rpl (0 on bare metal, 1
 * when a hypervisor runs the kernel in ring 1); user ones DPL 3.  Data
 * segments for ds/es are the user one, as Linux i386 does: flat, and valid at
 * every CPL, so entry code need not reload them on the fast path. */
#define GDT_ENTRY_KERNEL_CS 1
#define GDT_ENTRY_KERNEL_DS 2
#define GDT_ENTRY_USER_CS 3
#define GDT_ENTRY_USER_DS 4
#define GDT_ENTRY_TSS 5
#define GDT_ENTRIES 6

#ifdef CONFIG_XENOLINUX
#include "xen/abi.h"
#define __KERNEL_CS XEN_FLAT_RING1_CS
#define __KERNEL_DS XEN_FLAT_RING1_DS
#define __USER_CS XEN_FLAT_RING3_CS
#define __USER_DS XEN_FLAT_RING3_DS
#else
#define __KERNEL_CS ((GDT_ENTRY_KERNEL_CS << 3) | kernel_rpl)
#define __KERNEL_DS ((GDT_ENTRY_KERNEL_DS << 3) | kernel_rpl)
#define __USER_CS ((GDT_ENTRY_USER_CS << 3) | 3)
#define __USER_DS ((GDT_ENTRY_USER_DS << 3) | 3)
#endif
#define __TSS_SEL (GDT_ENTRY_TSS << 3)

/* Interrupt vectors. */
#define FIRST_EXTERNAL_VECTOR 32  /* 8259 PIC remapped here */
#define TIMER_VECTOR 32
#define SYSCALL_VECTOR 0x80
#define NR_VECTORS 256

#ifndef __ASSEMBLER__
#include "types.h"

/* The pseudo-descriptor lgdt/lidt take (and load_gdt/load_idt receive). */
struct desc_ptr {
	u16 size;
	u32 address;
} __packed;

/* The 32-bit TSS: the CPU reads ss0:esp0 (or ss1:esp1 for a ring-1 kernel)
 * when an interrupt arrives from a less privileged ring. */
struct tss {
	u32 link, esp0, ss0, esp1, ss1, esp2, ss2, cr3;
	u32 eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
	u32 es, cs, ss, ds, fs, gs, ldt;
	u16 trap, iomap_base;
} __packed;

extern u32 kernel_rpl;
#endif
#endif
