/* native.S: the VMI ROM for bare hardware (and for a full-virtualizing
 * hypervisor that traps the native instructions itself, hvm).
 *
 * R:100 Every slot does what the native instruction does, so a kernel that
 * calls the ROM (the vmi *backend*'s para_fill, or a site patched with
 * CALL_REL) gets native behaviour.  But a call costs a call and a ret, and
 * natively nothing is gained by it (Eli Collins, <44233332.3070404@vmware.com>:
 * "natively, VMI adds no indirection"; Amsden, 44163596.50207@vmware.com:
 * calls for cli/sti/pushf/popf cannot reach native speed).  So this ROM's
 * relocation info says:
 *
 *   NONE  (keep the kernel's native bytes) for every call that has them;
 *   NOP   for the calls with no native counterpart (AllocatePage,
 *         ReleasePage, SetLazyMode): nothing to do on real hardware.
 *
 * Built with -DNATIVE_CALLS (ROM "native-calls") the same slots are
 * returned as CALL_REL (IRET: JUMP_REL): every site becomes a call into the
 * ROM, the cost Amsden describes, for the lab to measure.
 *
 * R:300 Built with -DHVM_BACKDOOR (ROM "hvm") it is the ROM a hardware VMM
 * (the hvm model) ships: native instructions everywhere the hardware traps
 * them anyway, but page-table updates go to the VMM through its backdoor
 * port, batched in lazy MMU windows (lazy.h), instead of exiting on every
 * write to a shadowed table.  VMware's guests reached their VMM the same
 * way: `in` from port 0x5658 with 0x564D5868 ("VMXh") in EAX, a command in
 * ECX.  A cr3 load and the TLB flushes hand the queue over first. */
#include "vrom.h"

#ifdef NATIVE_CALLS
#define INLINE VMI_RELOCATION_CALL_REL
#define JUMP VMI_RELOCATION_JUMP_REL
#else
#define INLINE VMI_RELOCATION_NONE
#define JUMP VMI_RELOCATION_NONE
#endif
#define NOTHING VMI_RELOCATION_NOP
#define CALL VMI_RELOCATION_CALL_REL

#ifdef HVM_BACKDOOR
#define BDOOR_MAGIC 0x564D5868		/* "VMXh" */
#define BDOOR_PORT 0x5658		/* "VX" */
#define BDOOR_CMD_PT_UPDATE 0x50	/* EBX: physical address of ESI {ptr, val} pairs */
#define BDOOR_RETIRE 1			/* ptr[1:0] = 1: frame ptr stopped being a table */
#define MMU_ENTRY_SHIFT 3		/* {u32 physical address, u32 value} */
#endif

	VROM_HEADER
	VROM_PARAMS
	.org 128
vmi_init:
	jmp vmi_init_impl
	.org 136
get_reloc:
	jmp get_reloc_impl
	.org 144
	PCI_HEADER
	GET_RELOC

/* vmi_init: relocate, and nothing else: the hardware is already ours. */
vmi_init_impl:
	call 1f
1:	popl %ecx
	subl $1b, %ecx
	APPLY_FIXUPS
	movl $0, %eax
	je 4f
	decl %eax		/* mapped somewhere else since: refuse */
	ret
4:
#ifdef HVM_BACKDOOR
	movl %ecx, %edx		/* where the kernel maps us, minus where we are */
	subl PARAM_ROM_PA(%ecx), %edx
	movl %edx, lin_off(%ecx)
#endif
	ret

	SLOT VMI_CALL_CPUID, INLINE
	cpuid			/* EAX, ECX in; EAX, EBX, ECX, EDX out */
	ret
	SLOT VMI_CALL_SetGDT, INLINE
	lgdt (%eax)
	ret
	SLOT VMI_CALL_SetIDT, INLINE
	lidt (%eax)
	ret
	SLOT VMI_CALL_SetTR, INLINE
	ltr %ax
	ret
	SLOT VMI_CALL_GetGDT, INLINE
	sgdt (%eax)
	ret
	SLOT VMI_CALL_GetIDT, INLINE
	sidt (%eax)
	ret
	SLOT VMI_CALL_GetTR, INLINE
	xorl %eax, %eax
	str %ax
	ret
	SLOT VMI_CALL_UpdateKernelStack, INLINE	/* (tss, esp0): esp0 and esp1 */
	movl %edx, 4(%eax)
	movl %edx, 12(%eax)
	ret
	SLOT VMI_CALL_SetCR0, INLINE
	movl %eax, %cr0
	ret
	SLOT VMI_CALL_SetCR2, INLINE
	movl %eax, %cr2
	ret
#ifndef HVM_BACKDOOR
	SLOT VMI_CALL_SetCR3, INLINE
	movl %eax, %cr3
	ret
#else
	SLOT VMI_CALL_SetCR3, CALL	/* the new tables as the kernel wrote them */
	call flush_pending
	movl %eax, %cr3
	ret
#endif
	SLOT VMI_CALL_SetCR4, INLINE
	movl %eax, %cr4
	ret
	SLOT VMI_CALL_GetCR0, INLINE
	movl %cr0, %eax
	ret
	SLOT VMI_CALL_GetCR2, INLINE
	movl %cr2, %eax
	ret
	SLOT VMI_CALL_GetCR3, INLINE
	movl %cr3, %eax
	ret
	SLOT VMI_CALL_GetCR4, INLINE
	movl %cr4, %eax
	ret
	SLOT VMI_CALL_WBINVD, INLINE
	wbinvd
	ret
	SLOT VMI_CALL_RDTSC, INLINE
	rdtsc
	ret
	SLOT VMI_CALL_CLTS, INLINE
	clts
	ret
	SLOT VMI_CALL_EnableInterrupts, INLINE
	sti			/* the ret runs in sti's shadow */
	ret
	SLOT VMI_CALL_DisableInterrupts, INLINE
	cli
	ret
	SLOT VMI_CALL_GetInterruptMask, INLINE
	pushfl
	popl %eax
	ret
	SLOT VMI_CALL_SetInterruptMask, INLINE
	pushl %eax
	popfl
	ret
	SLOT VMI_CALL_IRET, JUMP	/* jumped to, with the frame on the stack */
	iret
	SLOT VMI_CALL_Halt, INLINE
	hlt
	ret
#ifndef HVM_BACKDOOR
	SLOT VMI_CALL_SetPxE, INLINE	/* (value, ptep) */
	movl %eax, (%edx)
	ret
	SLOT VMI_CALL_AllocatePage, NOTHING	/* (pfn, flags) */
	ret
	SLOT VMI_CALL_ReleasePage, NOTHING	/* (pfn, flags) */
	ret
	SLOT VMI_CALL_InvalPage, INLINE
	invlpg (%eax)
	ret
	SLOT VMI_CALL_FlushTLB, INLINE	/* (flags): VMI_FLUSH_TLB, no global pages here */
	movl %cr3, %ecx
	movl %ecx, %cr3
	ret
#else
	SLOT VMI_CALL_SetPxE, CALL	/* (value, ptep) */
	jmp lazy_set_pxe
	SLOT VMI_CALL_AllocatePage, CALL	/* (pfn, flags) */
	jmp lazy_allocate_page
	SLOT VMI_CALL_ReleasePage, CALL	/* (pfn, flags) */
	jmp hvm_release_page
	SLOT VMI_CALL_InvalPage, CALL
	call flush_pending
	invlpg (%eax)
	ret
	SLOT VMI_CALL_FlushTLB, CALL	/* (flags): VMI_FLUSH_TLB, no global pages here */
	call flush_pending
	movl %cr3, %ecx
	movl %ecx, %cr3
	ret
#endif
	SLOT VMI_CALL_IODelay, INLINE
	outb %al, $0x80
	ret
#ifndef HVM_BACKDOOR
	SLOT VMI_CALL_SetLazyMode, NOTHING	/* (mode): no batching on hardware */
	ret
#else
	SLOT VMI_CALL_SetLazyMode, CALL	/* (mode) */
	jmp lazy_set_mode
#endif
	SLOTS_END

#ifdef HVM_BACKDOOR
/* R:300 The backdoor: hand ECX {ptr, val} pairs at physical EDX to the VMM. */
.macro BACKDOOR_PT_UPDATE
	pushl %ebx
	pushl %esi
	movl %edx, %ebx
	movl %ecx, %esi
	movl $BDOOR_CMD_PT_UPDATE, %ecx
	movl $BDOOR_MAGIC, %eax
	movl $BDOOR_PORT, %edx
	inl %dx, %eax
	popl %esi
	popl %ebx
.endm

.macro STORE_ENTRY
	movl %edx, (%ecx)
	movl %eax, 4(%ecx)
.endm

.macro ISSUE_QUEUE
	subl lin_off, %edx; FIXUP
	BACKDOOR_PT_UPDATE
.endm

#include "lazy.h"

/* ReleasePage(pfn, flags): the VMM stops shadowing the frame (as KVM's
 * RELEASE_PT), in the same list as the updates. */
hvm_release_page:
	call lazy_release_page
	shll $12, %eax
	orl $BDOOR_RETIRE, %eax
	movl %eax, %edx
	xorl %eax, %eax
	jmp lazy_queue_entry

/* One update at once: value EAX at physical EDX, from a pair on the stack. */
set_pxe_now:
	pushl %eax
	pushl %edx
	movl %esp, %edx
	subl lin_off, %edx; FIXUP
	movl $1, %ecx
	BACKDOOR_PT_UPDATE
	addl $8, %esp
	ret
#endif

	RELOC_TABLE
	.balign 4
rom_base:
	.long 0
#ifdef HVM_BACKDOOR
lin_off:
	.long 0			/* kernel virtual - physical, in its linear map */
	LAZY_STATE		/* R:250 */
#endif
