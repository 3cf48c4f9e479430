/* sched.h: tasks, their saved registers, and the scheduler. */
#ifndef PVOPS_SCHED_H
#define PVOPS_SCHED_H
#include "types.h"
#include "mm.h"

/* The frame entry.S builds on the kernel stack for every trap, interrupt and
 * system call (Linux's struct pt_regs, i386).  The last five words are what
 * the CPU pushed; esp and ss only when it came from a less privileged ring. */
struct pt_regs {
	u32 ebx, ecx, edx, esi, edi, ebp, eax;
	u32 ds, es;
	u32 vector, error_code;
	u32 eip, cs, eflags, esp, ss;
};
#define PT_REGS_SIZE 64

enum task_state { TASK_UNUSED = 0, TASK_RUNNABLE, TASK_WAITING, TASK_ZOMBIE };

#define KSTACK_SIZE 4096u
#define NR_TASKS 16

struct task {
	u32 esp;		/* saved kernel stack pointer (switch_to) */
	u32 kstack_top;
	u32 state;
	u32 pid;
	struct task *parent;
	u32 exit_code;
	u32 tag;		/* workload-defined */
	struct mm_struct mm;
	struct mm_struct *active_mm;	/* init_mm for kernel tasks */
};
#define TASK_ESP 0		/* used by switch.S */

extern struct task *current;
extern struct tss kernel_tss;

void sched_init(void);
struct task *task_alloc(void);
struct task *create_user_task(u32 entry, u32 arg0, u32 arg1);
void schedule(void);
int sched_user_tasks_alive(void);
void __noreturn task_exit(u32 code);
u32 task_wait(void);		/* reap one zombie child: its exit code */
struct pt_regs *task_regs(struct task *t);

/* switch.S */
void switch_to(struct task *prev, struct task *next);
void ret_from_fork(void);

/* syscall.c */
#define SYS_null 0
#define SYS_exit 1
#define SYS_yield 2
#define SYS_fork 3
#define SYS_wait 4
#define SYS_mmap 5
#define SYS_munmap 6
#define SYS_getpid 7
#define NR_SYSCALLS 8
#define MAP_POPULATE 1
void do_syscall(struct pt_regs *regs);

/* Workloads can hook yield for their bookkeeping. */
extern void (*yield_hook)(struct task *t, u32 arg);

/* traps.c, timer */
extern volatile u32 jiffies;
void timer_init(void);		/* platform timer at HZ */
void timer_interrupt(void);
#define HZ 100
#endif
