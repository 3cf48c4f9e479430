/* workloads/pagefault.c: touch fresh pages; every first touch is a
 * demand-zero page fault (lmbench lat_pagefault, anonymous memory). */
#include "workload.h"

static u32 run(u32 n)
{
	return run_user_task(USER_ENTRY(user_pagefault_main), n, 0);
}
WORKLOAD(pagefault, run);
