/* xen/setup.c: read start_info, map shared_info, register the callbacks,
 * then start the kernel (XenoLinux's setup_arch, in small). */
#include "kernel.h"
#include "paravirt.h"
#include "xen/hypercall.h"
#include "xen/xen.h"

#define SI(off, type) (*(const type *)(si + (off)))
#define DIRECT_MAP_MAX (512u << 20)

struct xen_vcpu_info *xen_vcpu;
u32 *xen_mfn_list;
u32 xen_nr_pages;
u32 xen_cr0_shadow = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP;
u32 xen_cr3;
#ifdef XEN_AUTO_FLUSH
u32 xen_auto_flush;	/* Xen invalidates what mmu_update unmaps: no invlpg after */
#endif
static u32 first_free;
/* A page of our own bss, remapped onto the shared_info frame (XenoLinux
 * uses a fixmap slot; any kernel page whose old frame we give up will do). */
static u8 shared_info_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

void hypervisor_callback(void);
void failsafe_callback(void);
void __noreturn xen_start_kernel(const u8 *si);

static u32 page_up(u32 v) { return (v + PAGE_SIZE - 1) & PAGE_MASK; }

void __noreturn xen_start_kernel(const u8 *si)
{
	const char *cmd = (const char *)si + XEN_SI_CMD_LINE;
	u32 pt_base = SI(XEN_SI_PT_BASE, u32), i;

	xen_nr_pages = SI(XEN_SI_NR_PAGES, u32);
	xen_mfn_list = (u32 *)SI(XEN_SI_MFN_LIST, u32);
	xen_cr3 = __pa(pt_base);
#ifdef XEN_AUTO_FLUSH
	xen_auto_flush = SI(XEN_SI_FLAGS, u32) & XEN_SIF_AUTO_FLUSH;
#endif
	mem_bytes = xen_nr_pages << PAGE_SHIFT;
	for (i = 0; i < sizeof(boot_cmdline) - 1 && i < XEN_SI_CMD_LINE_SIZE && cmd[i]; i++)
		boot_cmdline[i] = cmd[i];
	boot_cmdline[i] = 0;

	/* The first frame nobody uses: past the boot page tables, the p2m list
	 * and start_info, whichever the builder put last (the order differs
	 * between builders; Xen guarantees 512 KiB of mapped slack after). */
	first_free = __pa(pt_base) + SI(XEN_SI_NR_PT_FRAMES, u32) * PAGE_SIZE;
	if (__pa(page_up((u32)xen_mfn_list + xen_nr_pages * 4)) > first_free)
		first_free = __pa(page_up((u32)xen_mfn_list + xen_nr_pages * 4));
	if (__pa(page_up((u32)si + 1)) > first_free)
		first_free = __pa(page_up((u32)si + 1));

	HYPERVISOR_update_va_mapping((u32)shared_info_page,
				     SI(XEN_SI_SHARED_INFO, u32) | _PAGE_PRESENT | _PAGE_RW, 0);
	xen_vcpu = (struct xen_vcpu_info *)shared_info_page;	/* vcpu 0 */
	HYPERVISOR_set_callbacks(__KERNEL_CS, (u32)hypervisor_callback, __KERNEL_CS,
				 (u32)failsafe_callback);
	start_kernel();
}

u32 xen_phys_end(void)
{
	u32 end = xen_nr_pages << PAGE_SHIFT;

	return end < DIRECT_MAP_MAX ? end : DIRECT_MAP_MAX;
}

u32 xen_first_free(void)
{
	return first_free;
}

void __noreturn machine_power_off(void)
{
	for (;;)
		HYPERVISOR_sched_op(XEN_SCHEDOP_shutdown, XEN_SHUTDOWN_poweroff);
}
