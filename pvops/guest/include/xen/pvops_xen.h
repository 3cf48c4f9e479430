/* xen/pvops_xen.h: what the pvops kernel's Xen entry tells the rest of it.
 *
 * X:120 A pvops image configured for Xen (CONFIG_PARAVIRT_XEN) boots either
 * way: at the Multiboot entry on bare metal, or at startup_xen under Xen.
 * Everything sensitive goes through pv_ops, which the host fills with the
 * xen backend; what is left is what pv_ops does not cover in this kernel:
 * the console (a UART on the PC, console_io under Xen), the tick (the PIT,
 * or the backend's time_init binding VIRQ_TIMER) and where free memory
 * starts (after the domain builder's bootstrap region, not after _end).
 * xen_booted() is the one switch (Linux 2.6.23: xen_start_info != NULL). */
#ifndef PVOPS_XEN_PVOPS_XEN_H
#define PVOPS_XEN_PVOPS_XEN_H
#include "types.h"

#if defined(CONFIG_XENOLINUX)
#define xen_booted() 1
#elif defined(CONFIG_PARAVIRT_XEN)
extern u32 pvops_booted_on_xen;
#define xen_booted() (pvops_booted_on_xen != 0)
#else
#define xen_booted() 0
#endif

#if defined(CONFIG_XENOLINUX) || defined(CONFIG_PARAVIRT_XEN)
u32 xen_phys_end(void);		/* end of the direct map: all of the domain's memory */
u32 xen_first_free(void);	/* first frame the domain builder left unused */
#endif
#ifdef CONFIG_PARAVIRT_XEN
void xen_console_write(const char *s, size_t n);
#endif
#endif
