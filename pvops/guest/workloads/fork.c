/* workloads/fork.c: lmbench's lat_proc fork: fork, the child exits at once,
 * the parent waits; each fork copies the parent's address space. */
#include "workload.h"

static u32 run(u32 n)
{
	return run_user_task(USER_ENTRY(user_fork_main), n, 0);
}
WORKLOAD(fork, run);
