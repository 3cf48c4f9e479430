/* xen/head.S: where Xen enters a XenoLinux kernel, and the loader string.
 *
 * X:210 The domain builder reads __xen_guest (FACTS 3c), maps the kernel at
 * VIRT_BASE with page tables of its own making (read-only to us), puts
 * start_info after the image and jumps to the ELF entry, startup_xen, in
 * ring 1 with ESI -> start_info and events masked.  There is no Multiboot
 * header and no real-mode past: paging has been on from the first
 * instruction. */
#include "x86.h"
#include "xen/xen.h"

	.section __xen_guest
#if XEN_ABI == 200
	.ascii "GUEST_OS=linux,GUEST_VER=2.6,XEN_VER=2.0,VIRT_BASE=0xC0000000,LOADER=generic"
#else
	.ascii "GUEST_OS=linux,GUEST_VER=2.6,XEN_VER=xen-3.0,VIRT_BASE=0xC0000000,PAE=no,LOADER=generic"
#endif
	.byte 0

	.text
	.globl startup_xen
startup_xen:
	cld
	movl $xen_stack_top, %esp
	movl %esi, %eax			/* regparm: start_info */
	call xen_start_kernel
	ud2				/* never returns */

/* X:220 Event upcall: Xen bounces to here like an interrupt (eip, cs,
 * eflags[, esp, ss]) with events masked.  Make it look like one. */
	.globl hypervisor_callback
hypervisor_callback:
	pushl $0
	pushl $XEN_EVENT_VECTOR
	jmp common_entry

/* Xen could not reload the segment registers of the frame it was returning
 * to: it left ds, es, fs, gs on top of the iret frame.  Drop them (ours are
 * flat anyway) and report it as a fault of the interrupted context. */
	.globl failsafe_callback
failsafe_callback:
	addl $16, %esp
	pushl $0
	pushl $XEN_FAILSAFE_VECTOR
	jmp common_entry

	.section .bss
	.balign PAGE_SIZE
xen_stack:	.skip 2 * PAGE_SIZE
	.globl xen_stack_top
xen_stack_top:
