/* paravirt/xen_entry.S: the pvops kernel's Xen entry point, startup_xen.
 *
 * X:100 A separate entry, named in the image's Xen ELF notes
 * (XEN_ELFNOTE_ENTRY), as Linux 2.6.23's xen-head.S: the Xen loader enters
 * here - paging on with Xen's page tables, kernel mapped at VIRT_BASE, ring
 * 1, ESI -> start_info - and never at the Multiboot entry, so nothing has to
 * guess the boot protocol from register contents.
 *
 * Only built when the pvops image is configured for Xen (build option
 * xen=xen-3.0).  M:030 What runs after this needs the Xen backend's ops in
 * pv_ops (filled by the host) and a Xen console; both land with the Xen
 * models. */
#include "x86.h"
#include "elfnote.h"

	.text
	.globl startup_xen
startup_xen:
	cld
	movl $boot_stack_top, %esp
	movl %esi, %eax			/* regparm: start_info */
	call pvops_xen_start
	ud2				/* never returns */

	ELFNOTE(Xen, "Xen", XEN_ELFNOTE_GUEST_OS, .asciz "linux")
	ELFNOTE(Xen, "Xen", XEN_ELFNOTE_GUEST_VERSION, .asciz "2.6")
	ELFNOTE(Xen, "Xen", XEN_ELFNOTE_XEN_VERSION, .asciz "xen-3.0")
	ELFNOTE(Xen, "Xen", XEN_ELFNOTE_VIRT_BASE, .long PAGE_OFFSET)
	ELFNOTE(Xen, "Xen", XEN_ELFNOTE_PADDR_OFFSET, .long PAGE_OFFSET)
	ELFNOTE(Xen, "Xen", XEN_ELFNOTE_ENTRY, .long startup_xen)
	ELFNOTE(Xen, "Xen", XEN_ELFNOTE_LOADER, .asciz "generic")
	ELFNOTE(Xen, "Xen", XEN_ELFNOTE_PAE_MODE, .asciz "no")
