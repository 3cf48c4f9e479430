/* pc/multiboot.c: read the Multiboot (v1) hand-off, then start the kernel.
 *
 * B:030 Only two fields matter: the memory size (mem_upper, KiB above 1 MiB)
 * and the command line.  Both live wherever the loader put them, so we copy
 * the command line now, while the boot map (first 8 MiB) still covers it. */
#include "kernel.h"

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002
#define MB_INFO_MEMORY 0x001
#define MB_INFO_CMDLINE 0x004
#define BOOT_MAP_END (8u << 20)

struct multiboot_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline;
};

void __noreturn multiboot_main(u32 magic, u32 info_phys);
void __noreturn multiboot_main(u32 magic, u32 info_phys)
{
	const struct multiboot_info *mbi;

	mem_bytes = 16u << 20;	/* if the loader says nothing */
	if (magic == MULTIBOOT_BOOTLOADER_MAGIC && info_phys < BOOT_MAP_END - sizeof(*mbi)) {
		mbi = __va(info_phys);
		if (mbi->flags & MB_INFO_MEMORY)
			mem_bytes = (1u << 20) + (mbi->mem_upper << 10);
		if ((mbi->flags & MB_INFO_CMDLINE) && mbi->cmdline < BOOT_MAP_END - 1) {
			const char *s = __va(mbi->cmdline);
			u32 i;

			for (i = 0; i < sizeof(boot_cmdline) - 1 && mbi->cmdline + i < BOOT_MAP_END && s[i]; i++)
				boot_cmdline[i] = s[i];
			boot_cmdline[i] = 0;
		}
	}
	start_kernel();
}
