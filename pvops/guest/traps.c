/* traps.c: trap_dispatch(), where every entry from entry.S lands.
 *
 * T:010 A fault in ring 3 that the kernel cannot fix kills the task with an
 * exit code of 0xDEAD00vv (vv = vector), which the workloads' checksums can
 * never produce by accident, so a broken execution shows as a wrong result
 * rather than a hang.  A fault in the kernel is a panic. */
#include "kernel.h"
#include "paravirt.h"
#include "sched.h"

void platform_irq(u32 vector);
void trap_dispatch(struct pt_regs *regs);
#ifdef CONFIG_XENOLINUX
#include "xen/xen.h"
#endif

volatile u32 jiffies;

void timer_interrupt(void)
{
	jiffies++;
}

static int from_user(const struct pt_regs *regs)
{
	return (regs->cs & 3) == 3;
}

static void __noreturn die(struct pt_regs *regs, const char *what)
{
	panic("%s: vector %u error %x at eip %x cs %x eflags %x cr2 %x", what,
	      regs->vector, regs->error_code, regs->eip, regs->cs, regs->eflags, read_cr2());
}

void trap_dispatch(struct pt_regs *regs)
{
	u32 v = regs->vector;

	if (v == SYSCALL_VECTOR) {
		do_syscall(regs);
		return;
	}
	if (v >= FIRST_EXTERNAL_VECTOR && v < FIRST_EXTERNAL_VECTOR + 16) {
#ifndef CONFIG_XENOLINUX
		platform_irq(v);
#endif
		return;
	}
#ifdef CONFIG_XENOLINUX
	if (v == XEN_EVENT_VECTOR) {
		xen_evtchn_do_upcall(regs);
		return;
	}
#endif
	if (v == 14) {
		u32 cr2 = read_cr2();

		if (from_user(regs) && handle_page_fault(current->active_mm, cr2, regs->error_code) == 0)
			return;
		if (from_user(regs)) {
			printk("PVOPS-FAULT pid=%u page fault at %x eip %x error %x\n", current->pid, cr2,
			       regs->eip, regs->error_code);
			task_exit(0xDEAD0000u | v);
		}
		die(regs, "kernel page fault");
	}
	if (from_user(regs)) {
		printk("PVOPS-FAULT pid=%u vector %u at eip %x\n", current->pid, v, regs->eip);
		task_exit(0xDEAD0000u | v);
	}
	die(regs, "kernel trap");
}
