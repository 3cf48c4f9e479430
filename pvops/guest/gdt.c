/* gdt.c: the global descriptor table and the TSS.
 *
 * G:010 Kernel descriptors get DPL = kernel_rpl, so the same code runs in
 * ring 0 on bare metal and in ring 1 under a hypervisor that deprivileges
 * the kernel.  Under XenoLinux Xen owns the GDT (flat ring-1 and ring-3
 * selectors in its reserved entries) and there is no TSS: gdt_init() still
 * runs, and load_gdt()/load_tr_desc() compile to nothing there. */
#include "kernel.h"
#include "paravirt.h"
#include "sched.h"

static u64 gdt[GDT_ENTRIES] __attribute__((aligned(8)));
struct tss kernel_tss __attribute__((aligned(128)));

static u64 make_desc(u32 base, u32 limit, u32 type, u32 dpl, u32 flags)
{
	u32 lo = (limit & 0xFFFF) | ((base & 0xFFFF) << 16);
	u32 hi = ((base >> 16) & 0xFF) | (type << 8) | (dpl << 13) | (1u << 15) |
		 (limit & 0xF0000) | (flags << 20) | (base & 0xFF000000);
	return ((u64)hi << 32) | lo;
}

/* type: 0x1A code r/x, 0x12 data r/w (S bit set); 0x09 32-bit TSS.
 * flags 0xC: 4 KiB granularity, 32-bit. */
void gdt_init(void);
void gdt_init(void)
{
	struct desc_ptr d;

	gdt[GDT_ENTRY_KERNEL_CS] = make_desc(0, 0xFFFFF, 0x1A, kernel_rpl, 0xC);
	gdt[GDT_ENTRY_KERNEL_DS] = make_desc(0, 0xFFFFF, 0x12, kernel_rpl, 0xC);
	gdt[GDT_ENTRY_USER_CS] = make_desc(0, 0xFFFFF, 0x1A, 3, 0xC);
	gdt[GDT_ENTRY_USER_DS] = make_desc(0, 0xFFFFF, 0x12, 3, 0xC);
	gdt[GDT_ENTRY_TSS] = make_desc((u32)&kernel_tss, sizeof(kernel_tss) - 1, 0x09, 0, 0);

	kernel_tss.ss0 = __KERNEL_DS;
	kernel_tss.ss1 = __KERNEL_DS;
	kernel_tss.iomap_base = sizeof(kernel_tss);	/* no I/O bitmap */

	d.size = sizeof(gdt) - 1;
	d.address = (u32)gdt;
	load_gdt(&d);
#ifndef CONFIG_XENOLINUX
	/* Reload every segment register from the new table.  CS needs a far
	 * transfer: lret to the same privilege level. */
	asm volatile("pushl %0\n\t"
		     "pushl $1f\n\t"
		     "lret\n"
		     "1:\n\t"
		     "movl %1, %%ss\n\t"
		     "movl %2, %%ds\n\t"
		     "movl %2, %%es\n\t"
		     "movl %3, %%fs\n\t"
		     "movl %3, %%gs\n"
		     : : "r"((u32)__KERNEL_CS), "r"((u32)__KERNEL_DS), "r"((u32)__USER_DS), "r"(0u)
		     : "memory");
#endif
	load_tr_desc();
}
