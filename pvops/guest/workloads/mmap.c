/* workloads/mmap.c: map a populated 4-page region, write it, unmap it. */
#include "workload.h"

static u32 run(u32 n)
{
	return run_user_task(USER_ENTRY(user_mmap_main), n, 0);
}
WORKLOAD(mmap, run);
