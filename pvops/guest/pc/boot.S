/* pc/boot.S: the bare-metal entry (native, pvops and vmi flavours).
 *
 * B:010 A Multiboot (v1) loader - GRUB, qemu -kernel, or pvops' own native
 * backend - enters _start_phys with: 32-bit protected mode, paging off,
 * flat segments, CPL 0, interrupts off, EAX = 0x2BADB002, EBX = physical
 * address of the multiboot info.  We are linked at PAGE_OFFSET + 1 MiB but
 * loaded at 1 MiB, so until paging is on every address is `sym - PAGE_OFFSET`.
 *
 * This is the kernel's pre-paravirt code, like Linux's head.S: it builds the
 * boot page tables with plain stores and turns paging on natively.  A Xen
 * guest never runs it; it enters at startup_xen with paging already on. */
#include "x86.h"

#define MULTIBOOT_MAGIC 0x1BADB002
#define MULTIBOOT_FLAGS 0x00000003	/* page-align modules, want mem info */
#define BOOT_PT_COUNT 2			/* boot map: first 8 MiB */
#define PHYS(sym) ((sym) - PAGE_OFFSET)

	.section .multiboot, "a"
	.balign 4
multiboot_header:
	.long MULTIBOOT_MAGIC
	.long MULTIBOOT_FLAGS
	.long -(MULTIBOOT_MAGIC + MULTIBOOT_FLAGS)

	.section .text.boot, "ax"
	.globl _start, _start_phys
	.set _start_phys, PHYS(_start)	/* the ELF entry: paging is off */
_start:
	cli
	cld
	movl $PHYS(boot_stack_top), %esp
	movl %eax, PHYS(boot_magic)
	movl %ebx, PHYS(boot_info)

	/* The loader's GDT is unknown: load ours (flat, ring 0). */
	lgdt PHYS(boot_gdt_desc)
	ljmp $0x08, $PHYS(1f)
1:	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs

	/* B:020 Map physical [0, 8 MiB) twice: at 0, so the next instruction
	 * after setting CR0.PG still fetches, and at PAGE_OFFSET, where we are
	 * linked.  paging_init() replaces this with the real direct map. */
	movl $PHYS(boot_pgtables), %edi
	movl $(_PAGE_PRESENT | _PAGE_RW), %eax
	movl $(BOOT_PT_COUNT * PTRS_PER_PTE), %ecx
2:	stosl
	addl $PAGE_SIZE, %eax
	loop 2b

	movl $PHYS(boot_pgdir), %edi
	movl $(PHYS(boot_pgtables) + _PAGE_PRESENT + _PAGE_RW), %eax
	xorl %ebx, %ebx
3:	movl %eax, (%edi, %ebx, 4)
	movl %eax, (KERNEL_PGD_FIRST * 4)(%edi, %ebx, 4)
	addl $PAGE_SIZE, %eax
	incl %ebx
	cmpl $BOOT_PT_COUNT, %ebx
	jb 3b

	movl $PHYS(boot_pgdir), %eax
	movl %eax, %cr3
	movl %cr0, %eax
	orl $(X86_CR0_PG | X86_CR0_WP), %eax
	movl %eax, %cr0
	movl $4f, %eax
	jmp *%eax			/* now run at the linked address */
4:	movl $boot_stack_top, %esp
	movl boot_magic, %eax		/* regparm: (magic, info_phys) */
	movl boot_info, %edx
	call multiboot_main
5:	cli
	hlt
	jmp 5b

	.section .rodata
	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: code, base 0, 4 GiB, ring 0 */
	.quad 0x00cf92000000ffff	/* 0x10: data, base 0, 4 GiB, ring 0 */
boot_gdt_desc:
	.word 3 * 8 - 1
	.long PHYS(boot_gdt)

	.section .data
	.balign 4
boot_magic:	.long 0
boot_info:	.long 0

	.section .bss
	.balign PAGE_SIZE
	.globl boot_pgdir
boot_pgdir:	.skip PAGE_SIZE
boot_pgtables:	.skip BOOT_PT_COUNT * PAGE_SIZE
	.globl boot_stack_top
boot_stack:	.skip 2 * PAGE_SIZE
boot_stack_top:
