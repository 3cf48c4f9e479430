/* workload.h: the workloads named on the command line (a contract with the
 * host: pvops/guest/checksums.py recomputes each one's checksum). */
#ifndef PVOPS_WORKLOAD_H
#define PVOPS_WORKLOAD_H
#include "types.h"
#include "mm.h"
#include "sched.h"

struct workload {
	const char *name;
	u32 (*run)(u32 iterations);	/* returns the checksum */
};

/* The user-mode entry points (user/user.c), as addresses in the kernel
 * image; USER_ENTRY() gives where a user task sees them. */
#define USER_ENTRY(sym) (USER_TEXT_BASE + ((u32)(sym) - (u32)__utext_start))
extern char user_syscall_main[], user_ctxsw_main[], user_pagefault_main[], user_fork_main[],
	user_mmap_main[], user_compute_main[];

/* workloads/run.c: run one user task to completion, return its exit code. */
u32 run_user_task(u32 entry, u32 arg0, u32 arg1);
void run_until_idle(void);
void reap_children(void);

#define WORKLOAD(n, fn) \
	const struct workload workload_##n __section(".workloads") __used = { #n, fn }
#endif
