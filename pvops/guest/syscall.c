/* syscall.c: the int $0x80 system calls (EAX = number, EBX, ECX, EDX =
 * arguments, EAX = result), the same convention as Linux i386. */
#include "kernel.h"
#include "paravirt.h"
#include "sched.h"

/* SYS_null's answer is a function of its argument so that the workload's
 * checksum proves each call really went through the kernel and back. */
static u32 sys_null(u32 x)
{
	return x * 0x9E3779B1u + 0x7F4A7C15u;
}

static u32 sys_mmap(u32 addr, u32 len, u32 flags)
{
	u32 end = addr + ((len + PAGE_SIZE - 1) & PAGE_MASK);

	if ((addr & ~PAGE_MASK) || addr < USER_MMAP_BASE || end > USER_STACK_TOP - 0x10000000u || end <= addr)
		return (u32)-1;
	if (mm_add_region(&current->mm, addr, end))
		return (u32)-1;
	if (flags & MAP_POPULATE)
		mm_populate_range(&current->mm, addr, end);
	return addr;
}

static u32 sys_munmap(u32 addr, u32 len)
{
	u32 end = addr + ((len + PAGE_SIZE - 1) & PAGE_MASK);

	mm_unmap_range(&current->mm, addr, end);
	mm_del_region(&current->mm, addr, end);
	return 0;
}

static u32 sys_fork(struct pt_regs *regs)
{
	struct task *child = task_alloc();

	copy_mm(&child->mm, &current->mm);
	*task_regs(child) = *regs;
	task_regs(child)->eax = 0;	/* the child's fork() returns 0 */
	child->parent = current;
	child->tag = current->tag;
	child->state = TASK_RUNNABLE;
	return child->pid;
}

void do_syscall(struct pt_regs *regs)
{
	u32 r;

	switch (regs->eax) {
	case SYS_null:
		r = sys_null(regs->ebx);
		break;
	case SYS_exit:
		task_exit(regs->ebx);
	case SYS_yield:
		if (yield_hook)
			yield_hook(current, regs->ebx);
		schedule();
		r = 0;
		break;
	case SYS_fork:
		r = sys_fork(regs);
		break;
	case SYS_wait:
		r = task_wait();
		break;
	case SYS_mmap:
		r = sys_mmap(regs->ebx, regs->ecx, regs->edx);
		break;
	case SYS_munmap:
		r = sys_munmap(regs->ebx, regs->ecx);
		break;
	case SYS_getpid:
		r = current->pid;
		break;
	default:
		r = (u32)-38;	/* -ENOSYS */
	}
	regs->eax = r;
}
