/* workloads/run.c: what every user-mode workload needs from task 0. */
#include "kernel.h"
#include "paravirt.h"
#include "workload.h"

/* Let the user tasks run until none is left; task 0 idles in between. */
void run_until_idle(void)
{
	while (sched_user_tasks_alive()) {
		schedule();
		if (sched_user_tasks_alive())
			safe_halt();	/* only reached if everyone is blocked */
	}
}

void reap_children(void)
{
	while (task_wait() != 0xFFFFFFFFu)
		;
}

u32 run_user_task(u32 entry, u32 arg0, u32 arg1)
{
	create_user_task(entry, arg0, arg1);
	run_until_idle();
	return task_wait();
}
