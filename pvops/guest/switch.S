/* switch.S: switch_to(prev, next), the kernel-stack switch at the heart of
 * every context switch.
 *
 * S:010 Only the callee-saved registers need saving (the caller of
 * switch_to, schedule(), was compiled to expect the regparm caller-saved ones
 * clobbered); everything else about the old task is already on its kernel
 * stack.  The address space (cr3) and the TSS stack pointer (load_sp0) are
 * switched by schedule() before this, through paravirt.h. */
#include "x86.h"

#define TASK_ESP 0

	.text
	.globl switch_to
switch_to:			/* EAX = prev, EDX = next */
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl %esp, TASK_ESP(%eax)
	movl TASK_ESP(%edx), %esp
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret

/* A new task's first switch_to "returns" here, onto a pt_regs frame that
 * create_user_task() or fork built: leave through the normal exit path. */
	.globl ret_from_fork
ret_from_fork:
	jmp ret_from_trap
