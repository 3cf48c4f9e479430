/* xen/xen.h: what the rest of the kernel sees of the XenoLinux port. */
#ifndef PVOPS_XEN_H
#define PVOPS_XEN_H
#include "types.h"
#include "x86.h"
#include "xen/abi.h"

#define XEN_EVENT_VECTOR 0x100		/* pt_regs.vector of an event upcall */
#define XEN_FAILSAFE_VECTOR 0x101

#ifndef __ASSEMBLER__
struct pt_regs;
extern struct xen_vcpu_info *xen_vcpu;	/* vcpu 0's slot in shared_info */
extern u32 *xen_mfn_list;		/* pfn -> mfn, from start_info */
extern u32 xen_nr_pages;
#ifdef XEN_AUTO_FLUSH
extern u32 xen_auto_flush;
#endif
extern u32 xen_cr0_shadow, xen_cr3, xen_fault_cr2;
extern int xen_lazy_mmu;

static inline u32 xen_pfn_to_mfn(u32 pfn) { return pfn < xen_nr_pages ? xen_mfn_list[pfn] : pfn; }
static inline u32 xen_mfn_to_pfn(u32 mfn) { return ((const u32 *)XEN_HYPERVISOR_VIRT_START)[mfn]; }

/* xen/events.c */
void xen_force_evtchn_callback(void);
void xen_evtchn_do_upcall(struct pt_regs *regs);
void xen_safe_halt(void);
/* xen/traps.c */
struct desc_ptr;
void xen_load_idt(const struct desc_ptr *d);
void xen_stack_switch(u32 ss, u32 esp);
u32 xen_read_cr2(void);
/* xen/mmu.c */
void xen_write_cr3(u32 pa);
void xen_flush_tlb(void);
void xen_invlpg(u32 va);
void xen_set_pte(u32 *ptep, u32 val);
void xen_set_pmd(u32 *pmdp, u32 val);
void xen_pin_table(u32 pfn, int level);
void xen_unpin_table(u32 pfn);
void xen_mmu_flush(void);
/* xen/setup.c */
u32 xen_phys_end(void);
u32 xen_first_free(void);
#endif
#endif
