/* entry.S: every way into the kernel after boot - exceptions, interrupts,
 * system calls (and, under Xen, event callbacks) - and the one way out.
 *
 * E:010 Each vector has a three-instruction stub that makes the frame uniform
 * (a dummy error code where the CPU pushed none, then the vector number) and
 * jumps to common_entry, which saves the general registers into a struct
 * pt_regs (sched.h) and calls trap_dispatch(regs) in C.  The way back pops
 * them and leaves through INTERRUPT_RETURN, which is where the flavours
 * differ (paravirt.h: a plain iret, a jump through pv_ops, or an annotated
 * iret a VMI ROM may redirect). */
#include "x86.h"
#include "paravirt.h"

#define PT_EFLAGS 52		/* offsetof(struct pt_regs, eflags) */

.macro VEC_NOERR n
	.text
vector_\n:
	pushl $0
	pushl $\n
	jmp common_entry
	.pushsection .rodata.vectors, "a"
	.long \n, vector_\n
	.popsection
.endm

.macro VEC_ERR n
	.text
vector_\n:
	pushl $\n
	jmp common_entry
	.pushsection .rodata.vectors, "a"
	.long \n, vector_\n
	.popsection
.endm

	.pushsection .rodata.vectors, "a"
	.balign 4
	.globl vector_table
vector_table:
	.popsection

/* CPU exceptions; those with an error code per the SDM (8, 10-14, 17). */
.irp n, 0, 1, 2, 3, 4, 5, 6, 7, 9, 15, 16, 18, 19
	VEC_NOERR \n
.endr
.irp n, 8, 10, 11, 12, 13, 17
	VEC_ERR \n
.endr
#if defined(CONFIG_XENOLINUX) && XEN_ABI == 200
/* X:020 Xen 2.0 bounces a page fault with CR2 pushed below the error code
 * (TBF_EXCEPTION_CR2); save it where read_cr2() looks and drop it. */
	.text
vector_14:
	pushl %eax
	movl 4(%esp), %eax
	movl %eax, xen_fault_cr2
	popl %eax
	addl $4, %esp
	pushl $14
	jmp common_entry
	.pushsection .rodata.vectors, "a"
	.long 14, vector_14
	.popsection
#else
	VEC_ERR 14
#endif
/* The 16 PIC lines, and the system call gate. */
.irp n, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47
	VEC_NOERR \n
.endr
	VEC_NOERR 128

	.pushsection .rodata.vectors, "a"
	.long 0xFFFFFFFF, 0		/* end of the table */
	.popsection

	.text
	.globl common_entry
common_entry:
	cld
	pushl %es
	pushl %ds
	pushl %eax
	pushl %ebp
	pushl %edi
	pushl %esi
	pushl %edx
	pushl %ecx
	pushl %ebx
	/* ds/es: the flat user data segment, valid at any CPL (as Linux). */
	movl $__USER_DS, %edx
	movl %edx, %ds
	movl %edx, %es
	movl %esp, %eax
	call trap_dispatch

	.globl ret_from_trap
ret_from_trap:
#ifdef CONFIG_XENOLINUX
	/* X:030 Returning to a context that had events enabled: unmask them,
	 * then look for one that arrived while masked; if there is one,
	 * mask again and handle it before leaving (XenoLinux restore_all). */
	testl $X86_EFLAGS_IF, PT_EFLAGS(%esp)
	jz 2f
	movl xen_vcpu, %esi
	movb $0, 1(%esi)		/* evtchn_upcall_mask = 0 */
	testb $0xFF, 0(%esi)		/* evtchn_upcall_pending? */
	jz 2f
	movb $1, 1(%esi)
	movl %esp, %eax
	call xen_evtchn_do_upcall
	jmp ret_from_trap
2:
#endif
	popl %ebx
	popl %ecx
	popl %edx
	popl %esi
	popl %edi
	popl %ebp
	popl %eax
	popl %ds
	popl %es
	addl $8, %esp			/* vector, error code */
	INTERRUPT_RETURN
