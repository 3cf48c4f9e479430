/* paravirt/xen_start.c: the C half of the pvops Xen entry (X:100).
 *
 * Reads start_info (Xen 3.0 layout, FACTS 3d: nr_pages@32, pt_base@60,
 * nr_pt_frames@64, mfn_list@68, cmd_line@80) into the boot globals, tells
 * the rest of the kernel it is a Xen guest (xen/pvops_xen.h), lets the
 * backend set itself up (pv_init_ops.arch_setup: Xen's callbacks, as Linux
 * 2.6.23's xen_start_kernel/xen_arch_setup), then runs start_kernel() as on
 * bare metal, through pv_ops. */
#include "kernel.h"
#include "paravirt.h"
#include "xen/pvops_xen.h"

#define XEN3_START_INFO_NR_PAGES 32
#define XEN3_START_INFO_PT_BASE 60
#define XEN3_START_INFO_NR_PT_FRAMES 64
#define XEN3_START_INFO_MFN_LIST 68
#define XEN3_START_INFO_CMD_LINE 80
#define XEN3_CMD_LINE_SIZE 1024
#define XEN3_CONSOLEIO_WRITE 0
#define XEN3_HYPERCALL_CONSOLE_IO 18
#define DIRECT_MAP_MAX (512u << 20)
#define SI(off) (*(const u32 *)(start_info + (off)))

u32 pvops_booted_on_xen;
static u32 first_free;
void __noreturn pvops_xen_start(const u8 *start_info);

static u32 page_up(u32 v) { return (v + PAGE_SIZE - 1) & PAGE_MASK; }

void __noreturn pvops_xen_start(const u8 *start_info)
{
	const char *cmd = (const char *)start_info + XEN3_START_INFO_CMD_LINE;
	u32 nr_pages = SI(XEN3_START_INFO_NR_PAGES), end, i;

	pvops_booted_on_xen = 1;
	mem_bytes = nr_pages << PAGE_SHIFT;
	for (i = 0; i < sizeof(boot_cmdline) - 1 && i < XEN3_CMD_LINE_SIZE && cmd[i]; i++)
		boot_cmdline[i] = cmd[i];
	boot_cmdline[i] = 0;
	/* Past the boot page tables, the p2m list and start_info, whichever
	 * the builder put last (as xen/setup.c). */
	first_free = __pa(SI(XEN3_START_INFO_PT_BASE)) + SI(XEN3_START_INFO_NR_PT_FRAMES) * PAGE_SIZE;
	end = __pa(page_up(SI(XEN3_START_INFO_MFN_LIST) + nr_pages * 4));
	if (end > first_free)
		first_free = end;
	if (__pa(page_up((u32)start_info + 1)) > first_free)
		first_free = __pa(page_up((u32)start_info + 1));
	paravirt_arch_setup();
	start_kernel();
}

u32 xen_phys_end(void)
{
	return mem_bytes < DIRECT_MAP_MAX ? mem_bytes : DIRECT_MAP_MAX;
}

u32 xen_first_free(void)
{
	return first_free;
}

/* The emergency console (hvc_xen's early path): console_io, hypercall 18 in
 * every Xen ABI, by the trap instruction (3.0.1 has no hypercall page). */
void xen_console_write(const char *s, size_t n)
{
	long r, b, c, d;

	asm volatile("int $0x82"
		     : "=a"(r), "=b"(b), "=c"(c), "=d"(d)
		     : "0"(XEN3_HYPERCALL_CONSOLE_IO), "1"(XEN3_CONSOLEIO_WRITE), "2"(n), "3"(s)
		     : "memory");
}
