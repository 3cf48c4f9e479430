/* xen/events.c: event channels, the timer VIRQ, and idling.
 *
 * X:230 Xen has no interrupt controller for a guest: it sets bits in
 * shared_info (evtchn_pending, grouped by evtchn_pending_sel in the vcpu
 * info) and, unless the vcpu's upcall mask is set, bounces to
 * hypervisor_callback.  We scan the bits, clear them, and dispatch. */
#include "kernel.h"
#include "paravirt.h"
#include "sched.h"
#include "xen/hypercall.h"
#include "xen/xen.h"

static u32 timer_port = 0xFFFFFFFFu;

static volatile u32 *sh_word(u32 off, u32 i)
{
	return (volatile u32 *)((u8 *)xen_vcpu + off) + i;
}

void xen_evtchn_do_upcall(struct pt_regs *regs)
{
	u32 sel;

	(void)regs;
	xen_vcpu->evtchn_upcall_pending = 0;
	sel = __atomic_exchange_n(&xen_vcpu->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
	while (sel) {
		u32 i = (u32)__builtin_ctz(sel), pend;

		sel &= sel - 1;
		pend = *sh_word(XEN_SH_EVTCHN_PENDING, i) & ~*sh_word(XEN_SH_EVTCHN_MASK, i);
		while (pend) {
			u32 j = (u32)__builtin_ctz(pend), port = i * 32 + j;

			pend &= pend - 1;
			__atomic_and_fetch(sh_word(XEN_SH_EVTCHN_PENDING, i), ~(1u << j), __ATOMIC_SEQ_CST);
			if (port == timer_port)
				timer_interrupt();
		}
	}
}

/* Any hypercall delivers pending events on the way out; xen_version(0) is
 * the cheapest one (XenoLinux's force_evtchn_callback). */
void xen_force_evtchn_callback(void)
{
	HYPERVISOR_xen_version(0);
}

/* Block until an event; Xen unmasks events atomically with blocking. */
void xen_safe_halt(void)
{
	HYPERVISOR_sched_op(XEN_SCHEDOP_block, 0);
}

/* X:240 The periodic timer VIRQ drives jiffies.  M:040 a tickless idle
 * would program set_timer_op (whose 64-bit argument is split hi/lo on 2.0
 * and lo/hi on 3.0: see hypercall.h) from the shared-info system time. */
void timer_init(void)
{
	struct xen_evtchn_op op;

	memset(&op, 0, sizeof(op));
	op.cmd = XEN_EVTCHNOP_bind_virq;
	op.u.bind_virq.virq = XEN_VIRQ_TIMER;
	if (HYPERVISOR_event_channel_op(&op) == 0) {
		timer_port = op.u.bind_virq.port;
		__atomic_and_fetch(sh_word(XEN_SH_EVTCHN_MASK, timer_port / 32),
				   ~(1u << (timer_port % 32)), __ATOMIC_SEQ_CST);
	} else {
		printk("xen: cannot bind the timer VIRQ\n");
	}
}
