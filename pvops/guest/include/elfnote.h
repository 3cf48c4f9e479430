/* elfnote.h: ELFNOTE(name, type, desc) for assembly, as Linux's
 * include/linux/elfnote.h: namesz, descsz, type, name (NUL, padded to 4),
 * desc (padded to 4).  Notes go to .note.<section> and end up in PT_NOTE. */
#ifndef PVOPS_ELFNOTE_H
#define PVOPS_ELFNOTE_H

#define ELFNOTE(sect, name, type, desc)				\
	.pushsection .note.sect, "a";				\
	.balign 4;						\
	.long 2f - 1f;						\
	.long 4f - 3f;						\
	.long type;						\
1:	.asciz name;						\
2:	.balign 4;						\
3:	desc;							\
4:	.balign 4;						\
	.popsection

/* N:010 The pvops notes (name "PVOPS"): how this image was built.  The host
 * reads them instead of guessing (no register sniffing, no table of pairs). */
#define PVOPS_NOTE_FLAVOUR 1	/* asciz: native, pvops, vmi, xenolinux-2.0/3.0 */
#define PVOPS_NOTE_CONFIG 2	/* asciz: KEY=value lines, like a .config */
#define PVOPS_NOTE_OPS 3	/* asciz: group.name=number lines (pvops only):
				 * the pv_ops[] layout this image was built for */
#define PVOPS_NOTE_SITE_LEN 4	/* u32: length of every patchable site */

/* The Xen notes (name "Xen", XEN_ELFNOTE_*), as Linux 2.6.23 xen-head.S. */
#define XEN_ELFNOTE_ENTRY 1
#define XEN_ELFNOTE_HYPERCALL_PAGE 2
#define XEN_ELFNOTE_VIRT_BASE 3
#define XEN_ELFNOTE_PADDR_OFFSET 4
#define XEN_ELFNOTE_XEN_VERSION 5
#define XEN_ELFNOTE_GUEST_OS 6
#define XEN_ELFNOTE_GUEST_VERSION 7
#define XEN_ELFNOTE_LOADER 8
#define XEN_ELFNOTE_PAE_MODE 9
#endif
