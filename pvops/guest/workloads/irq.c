/* workloads/irq.c: the spinlock idiom in a tight kernel loop - save flags,
 * disable, (critical section), restore - the path that made irq ops the
 * hottest paravirt ops of all.  Runs in task 0, interrupts on. */
#include "kernel.h"
#include "paravirt.h"
#include "workload.h"

static u32 run(u32 n)
{
	u32 sum = 0;

	irq_enable();
	for (u32 i = 0; i < n; i++) {
		u32 flags;

		local_irq_save(flags);
		sum = rotl32(sum, 3) ^ (flags & X86_EFLAGS_IF) ^ i;
		local_irq_restore(flags);
	}
	return sum;
}
WORKLOAD(irq, run);
