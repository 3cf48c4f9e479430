/* xen/hypercall.h: `int $0x82` with the registers Xen 2.0/3.0 expect.
 * (The hypercall transfer page came with 3.0.2, after both ABIs we model;
 * the trap instruction works on every version.) */
#ifndef PVOPS_XEN_HYPERCALL_H
#define PVOPS_XEN_HYPERCALL_H
#include "types.h"
#include "xen/abi.h"

#define _hypercall1(name, a1) ({					\
	long __r, __b;							\
	asm volatile("int $0x82" : "=a"(__r), "=b"(__b)			\
		     : "0"(__HYPERVISOR_##name), "1"((long)(a1)) : "memory");	\
	__r;								\
})
#define _hypercall2(name, a1, a2) ({					\
	long __r, __b, __c;						\
	asm volatile("int $0x82" : "=a"(__r), "=b"(__b), "=c"(__c)	\
		     : "0"(__HYPERVISOR_##name), "1"((long)(a1)),		\
		       "2"((long)(a2)) : "memory");				\
	__r;								\
})
#define _hypercall3(name, a1, a2, a3) ({				\
	long __r, __b, __c, __d;					\
	asm volatile("int $0x82"					\
		     : "=a"(__r), "=b"(__b), "=c"(__c), "=d"(__d)	\
		     : "0"(__HYPERVISOR_##name), "1"((long)(a1)),		\
		       "2"((long)(a2)), "3"((long)(a3)) : "memory");	\
	__r;								\
})
#define _hypercall4(name, a1, a2, a3, a4) ({				\
	long __r, __b, __c, __d, __S;					\
	asm volatile("int $0x82"					\
		     : "=a"(__r), "=b"(__b), "=c"(__c), "=d"(__d), "=S"(__S) \
		     : "0"(__HYPERVISOR_##name), "1"((long)(a1)),		\
		       "2"((long)(a2)), "3"((long)(a3)), "4"((long)(a4))	\
		     : "memory");					\
	__r;								\
})

static inline long HYPERVISOR_set_trap_table(const struct xen_trap_info *t)
{
	return _hypercall1(set_trap_table, t);
}
static inline long HYPERVISOR_stack_switch(u32 ss, u32 esp) { return _hypercall2(stack_switch, ss, esp); }
static inline long HYPERVISOR_set_callbacks(u32 ev_cs, u32 ev_eip, u32 fs_cs, u32 fs_eip)
{
	return _hypercall4(set_callbacks, ev_cs, ev_eip, fs_cs, fs_eip);
}
static inline long HYPERVISOR_console_io(u32 cmd, u32 count, const char *buf)
{
	return _hypercall3(console_io, cmd, count, buf);
}
static inline long HYPERVISOR_event_channel_op(struct xen_evtchn_op *op)
{
	return _hypercall1(event_channel_op, op);
}
static inline long HYPERVISOR_xen_version(u32 cmd) { return _hypercall1(xen_version, cmd); }
static inline long HYPERVISOR_multicall(struct xen_multicall_entry *calls, u32 n)
{
	return _hypercall2(multicall, calls, n);
}

#if XEN_ABI == 200
static inline long HYPERVISOR_mmu_update(struct xen_mmu_update *req, u32 count, u32 *done)
{
	return _hypercall3(mmu_update, req, count, done);
}
/* 2.0 names the page by its number. */
static inline long HYPERVISOR_update_va_mapping(u32 va, u32 pte, u32 flags)
{
	return _hypercall3(update_va_mapping, va >> 12, pte, flags);
}
static inline long HYPERVISOR_sched_op(u32 cmd, u32 reason)
{
	return _hypercall1(sched_op, cmd | (reason << 8));
}
/* s_time_t deadline: EBX = high word, ECX = low word on 2.0. */
static inline long HYPERVISOR_set_timer_op(u64 t)
{
	return _hypercall2(set_timer_op, (u32)(t >> 32), (u32)t);
}
#else
static inline long HYPERVISOR_mmu_update(struct xen_mmu_update *req, u32 count, u32 *done)
{
	return _hypercall4(mmu_update, req, count, done, XEN_DOMID_SELF);
}
static inline long HYPERVISOR_mmuext_op(struct xen_mmuext_op *op, u32 count, u32 *done)
{
	return _hypercall4(mmuext_op, op, count, done, XEN_DOMID_SELF);
}
static inline long HYPERVISOR_update_va_mapping(u32 va, u32 pte, u32 flags)
{
	return _hypercall4(update_va_mapping, va, pte, 0 /* pte_hi */, flags);
}
static inline long HYPERVISOR_sched_op(u32 cmd, u32 arg) { return _hypercall2(sched_op, cmd, arg); }
/* 3.0: EBX = low word, ECX = high word. */
static inline long HYPERVISOR_set_timer_op(u64 t)
{
	return _hypercall2(set_timer_op, (u32)t, (u32)(t >> 32));
}
#endif
#endif
