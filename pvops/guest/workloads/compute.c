/* workloads/compute.c: a CPU-bound ring-3 loop with no sensitive operation
 * in it: the baseline every flavour should run at the same speed. */
#include "workload.h"

static u32 run(u32 n)
{
	return run_user_task(USER_ENTRY(user_compute_main), n, 0);
}
WORKLOAD(compute, run);
