/* paravirt/xen_start.c: the C half of the pvops Xen entry (X:100).
 *
 * Reads start_info (Xen 3.0 layout, FACTS 3d: nr_pages@32, cmd_line@80)
 * into the boot globals and tells the rest of the kernel it is a Xen guest.
 * M:031 then start_kernel() runs as on bare metal, through pv_ops; the UART
 * console and PIT timer it would use are replaced by Xen's console and timer
 * event channel in the Xen-models issue. */
#include "kernel.h"
#include "paravirt.h"

#define XEN3_START_INFO_NR_PAGES 32
#define XEN3_START_INFO_CMD_LINE 80
#define XEN3_CMD_LINE_SIZE 1024

u32 pvops_booted_on_xen;
void __noreturn pvops_xen_start(const u8 *start_info);

void __noreturn pvops_xen_start(const u8 *start_info)
{
	const char *cmd = (const char *)start_info + XEN3_START_INFO_CMD_LINE;
	u32 i;

	pvops_booted_on_xen = 1;
	mem_bytes = *(const u32 *)(start_info + XEN3_START_INFO_NR_PAGES) << PAGE_SHIFT;
	for (i = 0; i < sizeof(boot_cmdline) - 1 && i < XEN3_CMD_LINE_SIZE && cmd[i]; i++)
		boot_cmdline[i] = cmd[i];
	boot_cmdline[i] = 0;
	start_kernel();
}
