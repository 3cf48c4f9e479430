/* workloads/syscall.c: lmbench's lat_syscall null: one ring-3 task making
 * `iterations` null system calls; the checksum folds every answer. */
#include "workload.h"

static u32 run(u32 n)
{
	return run_user_task(USER_ENTRY(user_syscall_main), n, 0);
}
WORKLOAD(syscall, run);
