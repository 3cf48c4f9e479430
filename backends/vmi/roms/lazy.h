/* lazy.h: the lazy MMU queue of a batching ROM (R:250), shared by xen.S
 * and native.S's hvm variant.
 *
 * Inside a window the kernel opens with SetLazyMode(MMU), a page-table
 * entry joins a queue in ROM memory instead of reaching the hypervisor;
 * closing the window, a full queue, or anything that needs the tables to be
 * current (a cr3 load, a TLB flush: the including ROM calls flush_pending
 * first) hands the queue over in one go.  A page-directory entry goes down
 * at once, after the queue, because the kernel walks through a new
 * directory entry right away; the ROM knows the directories from
 * AllocatePage and ReleasePage, which Linux calls for every one
 * (VMI_PAGE_PD).
 *
 * The including ROM defines, before including this file in its code:
 *   MMU_ENTRY_SHIFT    log2 of one queued entry's size;
 *   STORE_ENTRY        a macro: the entry at (%ecx) := {EDX physical
 *                      address of the entry, EAX value};
 *   ISSUE_QUEUE        a macro: hand ECX (> 0) entries at EDX (a kernel
 *                      virtual address) to the hypervisor; may clobber
 *                      EAX, ECX, EDX, must keep EBX, ESI, EDI;
 * and provides set_pxe_now (one update at once: EAX value, EDX physical
 * address), lin_off (kernel virtual minus physical), and LAZY_STATE in its
 * data. */

#define LAZY_MMU 1
#define VMI_PAGE_PD 2
#define QUEUE_MAX 32
#define PD_FRAMES 16384			/* 64 MiB of guest frames */
#define LZ_MMU 0
#define LZ_COUNT 4
#define LZ_QUEUE 16
#define LZ_PDMAP (LZ_QUEUE + (QUEUE_MAX << MMU_ENTRY_SHIFT))

.macro LAZY_STATE
	.balign 16
lazy_state:			/* LZ_* offsets */
	.long 0			/* LZ_MMU: in a lazy MMU window */
	.long 0			/* LZ_COUNT: queued updates */
	.skip 8
	.skip QUEUE_MAX << MMU_ENTRY_SHIFT	/* LZ_QUEUE */
	.skip PD_FRAMES / 8	/* LZ_PDMAP */
.endm

/* SetLazyMode(mode): MMU starts queueing; any other mode issues the queue. */
lazy_set_mode:
	pushl %ebx
	movl $lazy_state, %ebx; FIXUP
	cmpl $LAZY_MMU, %eax
	je 1f
	pushl %eax
	call flush_queue
	popl %eax
	movl $0, LZ_MMU(%ebx)
	popl %ebx
	ret
1:	movl $1, LZ_MMU(%ebx)
	popl %ebx
	ret

/* AllocatePage / ReleasePage(pfn, flags): set (bts) or clear (btr) the
 * frame's bit in the directory bitmap when flags say VMI_PAGE_PD. */
.macro PD_BITMAP op
	testl $VMI_PAGE_PD, %edx
	jz 1f
	cmpl $PD_FRAMES, %eax
	jae 1f
	movl $lazy_state, %ecx; FIXUP
	\op %eax, LZ_PDMAP(%ecx)
1:	ret
.endm

lazy_allocate_page:
	PD_BITMAP btsl
lazy_release_page:
	PD_BITMAP btrl

/* Issue what is queued, if anything.  Keeps EAX and EDX (the caller's
 * arguments), EBX, ESI, EDI; clobbers ECX. */
flush_pending:
	pushl %ebx
	movl $lazy_state, %ebx; FIXUP
	cmpl $0, LZ_COUNT(%ebx)
	je 1f
	pushl %eax
	pushl %edx
	call flush_queue
	popl %edx
	popl %eax
1:	popl %ebx
	ret

/* The queue, handed over.  In: EBX = lazy_state.  Keeps EBX, ESI, EDI. */
flush_queue:
	movl LZ_COUNT(%ebx), %ecx
	testl %ecx, %ecx
	jz 1f
	movl $0, LZ_COUNT(%ebx)
	leal LZ_QUEUE(%ebx), %edx
	ISSUE_QUEUE
1:	ret

/* SetPxE(value, ptep): queued in a lazy MMU window unless it is a
 * directory's entry; else set_pxe_now, after whatever is queued. */
lazy_set_pxe:
	subl lin_off, %edx; FIXUP
	pushl %ebx
	movl $lazy_state, %ebx; FIXUP
	cmpl $0, LZ_MMU(%ebx)
	je lazy_now
	movl %edx, %ecx
	shrl $12, %ecx
	cmpl $PD_FRAMES, %ecx
	jae lazy_enqueue
	btl %ecx, LZ_PDMAP(%ebx)
	jc lazy_now
lazy_enqueue:			/* EBX = lazy_state, pushed; {EDX, EAX} joins the queue */
	movl LZ_COUNT(%ebx), %ecx
	shll $MMU_ENTRY_SHIFT, %ecx
	leal LZ_QUEUE(%ebx, %ecx), %ecx
	STORE_ENTRY
	incl LZ_COUNT(%ebx)
	cmpl $QUEUE_MAX, LZ_COUNT(%ebx)
	jb 1f
	call flush_queue
1:	popl %ebx
	ret
lazy_now:			/* the queue, then {EDX, EAX} alone */
	pushl %eax
	pushl %edx
	call flush_queue
	popl %edx
	popl %eax
	popl %ebx
	jmp set_pxe_now

/* Any other entry the hypervisor takes in the same list ({EDX, EAX}, EDX
 * already what the hypervisor wants): queued in a window, else at once. */
lazy_queue_entry:
	pushl %ebx
	movl $lazy_state, %ebx; FIXUP
	cmpl $0, LZ_MMU(%ebx)
	jne lazy_enqueue
	jmp lazy_now
