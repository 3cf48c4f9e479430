/* xen/mmu.c: page tables are Xen's to check.
 *
 * X:250 A XenoLinux kernel never writes a page table.  It asks Xen to, with
 * mmu_update (a batch of {machine address of the entry, new value}), and it
 * registers each page-table page first: mapped read-only everywhere, then
 * pinned as an L1 or L2 table, after which Xen validates every entry written
 * into it.  In lazy MMU mode updates queue here and go down in one
 * hypercall when the mode is left (or the queue fills).  Extended commands
 * (pin, new base pointer, TLB flushes) are a separate hypercall on 3.0 and
 * an mmu_update with ptr[1:0] = 3 on 2.0 (FACTS 3d). */
#include "kernel.h"
#include "mm.h"
#include "paravirt.h"
#include "xen/hypercall.h"
#include "xen/xen.h"

#define MMU_QUEUE 32
static struct xen_mmu_update queue[MMU_QUEUE];
static u32 queued;
int xen_lazy_mmu;

static u32 machine_addr(const void *kva)
{
	return (xen_pfn_to_mfn(__pa(kva) >> PAGE_SHIFT) << PAGE_SHIFT) | ((u32)kva & ~PAGE_MASK);
}

void xen_mmu_flush(void)
{
	u32 done = 0;

	if (queued && HYPERVISOR_mmu_update(queue, queued, &done) < 0)
		panic("xen: mmu_update of %u entries failed after %u", queued, done);
	queued = 0;
}

static void queue_update(u32 ptr, u32 val)
{
	queue[queued].ptr = ptr;
	queue[queued].val = val;
	if (++queued == MMU_QUEUE || !xen_lazy_mmu)
		xen_mmu_flush();
}

void xen_set_pte(u32 *ptep, u32 val)
{
	queue_update(machine_addr(ptep) | XEN_MMU_NORMAL_PT_UPDATE, val);
}

/* A directory entry goes down at once, even in lazy mode (XenoLinux's
 * xen_l2_entry_update): the caller walks through it right after. */
void xen_set_pmd(u32 *pmdp, u32 val)
{
	queue_update(machine_addr(pmdp) | XEN_MMU_NORMAL_PT_UPDATE, val);
	xen_mmu_flush();
}

static void mmuext(u32 cmd, u32 arg)
{
#if XEN_ABI == 200
	/* arg is a machine address (pin, base pointer) or a linear one. */
	queue_update((arg & PAGE_MASK) | XEN_MMU_EXTENDED_COMMAND, cmd);
	xen_mmu_flush();
#else
	struct xen_mmuext_op op = { .cmd = cmd, .arg1 = arg, .arg2 = 0 };
	u32 done = 0;

	xen_mmu_flush();	/* keep the order the kernel asked for */
	if (HYPERVISOR_mmuext_op(&op, 1, &done) < 0)
		panic("xen: mmuext_op %u (%x) failed", cmd, arg);
#endif
}

/* 2.0 names tables by machine address, 3.0 by frame number. */
static u32 table_arg(u32 pfn)
{
#if XEN_ABI == 200
	return xen_pfn_to_mfn(pfn) << PAGE_SHIFT;
#else
	return xen_pfn_to_mfn(pfn);
#endif
}

void xen_write_cr3(u32 pa)
{
	mmuext(XEN_MMUEXT_NEW_BASEPTR, table_arg(pa >> PAGE_SHIFT));
	xen_cr3 = pa;
}

void xen_flush_tlb(void)
{
#if XEN_ABI == 200
	mmuext(XEN_MMUEXT_TLB_FLUSH, 0);
#else
	mmuext(XEN_MMUEXT_TLB_FLUSH_LOCAL, 0);
#endif
}

void xen_invlpg(u32 va)
{
#if XEN_ABI == 200
	mmuext(XEN_MMUEXT_INVLPG, va);
#else
	mmuext(XEN_MMUEXT_INVLPG_LOCAL, va);
#endif
}

/* Read-only in the direct map, then pinned (level 1: L1, 2: L2). */
void xen_pin_table(u32 pfn, int level)
{
	u32 va = (u32)pfn_to_virt(pfn);

	xen_mmu_flush();
	if (HYPERVISOR_update_va_mapping(va, (xen_pfn_to_mfn(pfn) << PAGE_SHIFT) | _PAGE_PRESENT, 0))
		panic("xen: cannot make frame %x read-only", pfn);
	mmuext(level == 1 ? XEN_MMUEXT_PIN_L1_TABLE : XEN_MMUEXT_PIN_L2_TABLE, table_arg(pfn));
}

/* Unpin and make writable again, in one multicall (its entry layout is one
 * of the things that changed between 2.0 and 3.0: the result moved). */
void xen_unpin_table(u32 pfn)
{
	struct xen_multicall_entry mc[2];
	u32 va = (u32)pfn_to_virt(pfn);
	u32 pte = (xen_pfn_to_mfn(pfn) << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_RW;

	xen_mmu_flush();
	memset(mc, 0, sizeof(mc));
#if XEN_ABI == 200
	static struct xen_mmu_update unpin;

	unpin.ptr = table_arg(pfn) | XEN_MMU_EXTENDED_COMMAND;
	unpin.val = XEN_MMUEXT_UNPIN_TABLE;
	mc[0].op = __HYPERVISOR_mmu_update;
	mc[0].args[0] = (u32)&unpin;
	mc[0].args[1] = 1;
	mc[1].op = __HYPERVISOR_update_va_mapping;
	mc[1].args[0] = va >> PAGE_SHIFT;
	mc[1].args[1] = pte;
#else
	static struct xen_mmuext_op unpin;

	unpin.cmd = XEN_MMUEXT_UNPIN_TABLE;
	unpin.arg1 = table_arg(pfn);
	mc[0].op = __HYPERVISOR_mmuext_op;
	mc[0].args[0] = (u32)&unpin;
	mc[0].args[1] = 1;
	mc[0].args[3] = XEN_DOMID_SELF;
	mc[1].op = __HYPERVISOR_update_va_mapping;
	mc[1].args[0] = va;
	mc[1].args[1] = pte;
#endif
	if (HYPERVISOR_multicall(mc, 2) || (long)XEN_MC_RESULT(&mc[0]) < 0 ||
	    (long)XEN_MC_RESULT(&mc[1]) < 0)
		panic("xen: cannot unpin frame %x", pfn);
}
