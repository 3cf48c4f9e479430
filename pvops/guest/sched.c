/* sched.c: tasks and a round-robin scheduler.
 *
 * S:020 Task 0 is the boot context: it runs the workload driver and, when
 * nothing else is runnable, idles.  User tasks get their own address space
 * and a one-page kernel stack whose top holds their pt_regs.  Scheduling is
 * cooperative (yield, wait, exit): the timer interrupt only counts jiffies,
 * so the interleaving - and with it every workload's checksum - does not
 * depend on how fast the machine runs. */
#include "kernel.h"
#include "paravirt.h"
#include "sched.h"

static struct task tasks[NR_TASKS];
static u8 kstacks[NR_TASKS][KSTACK_SIZE] __attribute__((aligned(4096)));
struct task *current = &tasks[0];
static u32 next_pid = 1;
void (*yield_hook)(struct task *t, u32 arg);

void sched_init(void)
{
	struct task *t = &tasks[0];

	t->state = TASK_RUNNABLE;
	t->pid = 0;
	t->active_mm = &init_mm;
	t->kstack_top = (u32)&kstacks[0][KSTACK_SIZE];
}

struct pt_regs *task_regs(struct task *t)
{
	return (struct pt_regs *)(t->kstack_top - PT_REGS_SIZE);
}

struct task *task_alloc(void)
{
	for (int i = 1; i < NR_TASKS; i++) {
		struct task *t = &tasks[i];

		if (t->state != TASK_UNUSED)
			continue;
		memset(t, 0, sizeof(*t));
		t->pid = next_pid++;
		t->kstack_top = (u32)&kstacks[i][KSTACK_SIZE];
		t->active_mm = &t->mm;
		/* switch_to() pops four registers and returns to ret_from_fork,
		 * which leaves through the pt_regs above them. */
		u32 *sp = (u32 *)task_regs(t);
		*--sp = (u32)ret_from_fork;
		for (int r = 0; r < 4; r++)
			*--sp = 0;
		t->esp = (u32)sp;
		return t;
	}
	panic("too many tasks");
}

/* A ring-3 task entering `entry` with EAX = arg0, EDX = arg1 (regparm). */
struct task *create_user_task(u32 entry, u32 arg0, u32 arg1)
{
	struct task *t = task_alloc();
	struct pt_regs *regs = task_regs(t);

	mm_init(&t->mm);
	mm_map_user_text(&t->mm);
	mm_add_region(&t->mm, USER_STACK_TOP - USER_STACK_PAGES * PAGE_SIZE, USER_STACK_TOP);
	memset(regs, 0, sizeof(*regs));
	regs->eax = arg0;
	regs->edx = arg1;
	regs->ds = regs->es = __USER_DS;
	regs->eip = entry;
	regs->cs = __USER_CS;
	regs->eflags = X86_EFLAGS_IF | X86_EFLAGS_FIXED;
	/* A dummy return address, with esp+4 16-byte aligned as gcc expects. */
	regs->esp = USER_STACK_TOP - 20;
	regs->ss = __USER_DS;
	t->parent = current;
	t->state = TASK_RUNNABLE;
	return t;
}

int sched_user_tasks_alive(void)
{
	int n = 0;

	for (int i = 1; i < NR_TASKS; i++)
		if (tasks[i].state == TASK_RUNNABLE || tasks[i].state == TASK_WAITING)
			n++;
	return n;
}

/* Pick the next runnable task after current, round robin; task 0 only if
 * no other task can run. */
static struct task *pick_next(void)
{
	int cur = (int)(current - tasks);

	for (int k = 1; k <= NR_TASKS; k++) {
		int i = (cur + k) % NR_TASKS;

		if (i != 0 && tasks[i].state == TASK_RUNNABLE)
			return &tasks[i];
	}
	return &tasks[0];
}

void schedule(void)
{
	struct task *prev = current, *next;
	u32 flags;

	local_irq_save(flags);
	next = pick_next();
	if (next != prev) {
		/* The two updates a switch makes, in one lazy-CPU section so a
		 * backend may send them to its hypervisor together. */
		arch_enter_lazy_cpu_mode();
		load_sp0(&kernel_tss, next->kstack_top);
		switch_mm(prev->active_mm, next->active_mm);
		arch_leave_lazy_cpu_mode();
		current = next;
		switch_to(prev, next);
	}
	local_irq_restore(flags);
}

/* Exit: give back the address space (after moving off it), become a zombie
 * for the parent to reap, and never run again. */
void __noreturn task_exit(u32 code)
{
	struct task *t = current;

	switch_mm(t->active_mm, &init_mm);
	t->active_mm = &init_mm;
	mm_free_user(&t->mm);
	t->exit_code = code;
	t->state = TASK_ZOMBIE;
	if (t->parent && t->parent->state == TASK_WAITING)
		t->parent->state = TASK_RUNNABLE;
	schedule();
	panic("zombie %u ran again", t->pid);
}

/* Reap one zombie child of current (waiting until there is one). */
u32 task_wait(void)
{
	for (;;) {
		int children = 0;

		for (int i = 1; i < NR_TASKS; i++) {
			struct task *c = &tasks[i];

			if (c->parent != current || c->state == TASK_UNUSED)
				continue;
			children++;
			if (c->state == TASK_ZOMBIE) {
				c->state = TASK_UNUSED;
				return c->exit_code;
			}
		}
		if (!children)
			return 0xFFFFFFFFu;
		current->state = TASK_WAITING;
		schedule();
	}
}
