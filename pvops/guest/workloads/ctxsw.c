/* workloads/ctxsw.c: lmbench's lat_ctx with two processes: two ring-3 tasks,
 * each with its own address space, yielding to each other `iterations` times
 * (each switch reloads cr3 and the TSS stack).  The kernel folds (task tag,
 * argument) at every yield, so the checksum proves the strict alternation. */
#include "kernel.h"
#include "workload.h"

static u32 sum;

static void on_yield(struct task *t, u32 arg)
{
	sum = rotl32(sum, 3) ^ ((t->tag << 24) | (arg & 0xFFFFFF));
}

static u32 run(u32 n)
{
	struct task *a, *b;

	sum = 0;
	yield_hook = on_yield;
	a = create_user_task(USER_ENTRY(user_ctxsw_main), n, 0);
	a->tag = 1;
	b = create_user_task(USER_ENTRY(user_ctxsw_main), n, 0);
	b->tag = 2;
	run_until_idle();
	reap_children();
	yield_hook = NULL;
	return sum;
}
WORKLOAD(ctxsw, run);
