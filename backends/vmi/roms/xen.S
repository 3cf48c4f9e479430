/* xen.S: the VMI ROM for a Xen hypervisor, one source for two ABIs:
 * -DXEN_ABI=200 (Xen 2.0.x, ROM "xen-2.0") and -DXEN_ABI=300 (Xen 3.0.x,
 * ROM "xen-3.0").  Numbers and layouts are FACTS 3a-3d.
 *
 * R:200 The kernel carries no Xen code: this ROM is the whole of its Xen
 * port, and it is Xen's to ship (Amsden: the ROM hides the hypercall ABI
 * so the hypervisor can change it).  What each VMI call becomes:
 *
 *   interrupt flag      the vcpu_info upcall mask byte, no hypercall; an
 *                       unmask with an event pending forces delivery with
 *                       a cheap hypercall (xen_version), as XenoLinux does
 *   IRET                unmask per the frame's IF, then a ring-1 `iret`
 *   Halt                sched_op(block); with events masked nothing can
 *                       wake the vCPU, so sched_op(shutdown, poweroff)
 *   SetIDT              the native IDT read and handed over as a trap
 *                       table (set_trap_table); 2.0 adds set_fast_trap(0x80)
 *                       and entry trampolines (R:230)
 *   SetGDT              a sanitized copy (no system descriptors, no DPL 0)
 *                       in a ROM page, given to set_gdt
 *   UpdateKernelStack   stack_switch(SS, esp0)
 *   SetCR3, FlushTLB,   3.0: mmuext_op NEW_BASEPTR / TLB_FLUSH_LOCAL /
 *   InvalPage           INVLPG_LOCAL; 2.0: the same as mmu_update
 *                       extended commands (ptr[1:0] = 3)
 *   SetPxE              mmu_update(ptr = physical address of the entry);
 *                       in a lazy MMU window, queued (R:250)
 *   SetLazyMode         MMU: start queueing; leaving it: one mmu_update
 *                       for the whole queue (R:250)
 *   AllocatePage,       Xen translates, so nothing to pin: the ROM only
 *   ReleasePage         remembers which frames are page directories
 *   SetCR0, GetCR0/2/3  shadows (TS changes: fpu_taskswitch); cr2 from
 *                       vcpu_info.arch.cr2 (3.0) or the 2.0 fault frame
 *   SetTR               nothing (NOP): Xen keeps the TSS
 *   RDTSC, CPUID        native: allowed in ring 1
 *
 * Addresses handed to Xen are the kernel's physical addresses: the VMI
 * domain runs with Xen translating them (README.md, "contract"). */
#include "vrom.h"

#ifndef XEN_ABI
#error "build with -DXEN_ABI=200 or 300"
#endif

/* Hypercalls (FACTS 3a), by int $0x82: EAX = number, EBX.. = arguments. */
#define __HYPERVISOR_set_trap_table 0
#define __HYPERVISOR_mmu_update 1
#define __HYPERVISOR_set_gdt 2
#define __HYPERVISOR_stack_switch 3
#define __HYPERVISOR_set_callbacks 4
#define __HYPERVISOR_fpu_taskswitch 5
#define __HYPERVISOR_sched_op 6		/* 3.0.2: sched_op_compat, same arguments */
#define __HYPERVISOR_set_fast_trap 11	/* 2.0 only */
#define __HYPERVISOR_event_channel_op 16
#define __HYPERVISOR_xen_version 17
#define __HYPERVISOR_physdev_op 19
#define __HYPERVISOR_mmuext_op 26	/* 3.0 only */
#define TRAP_INSTR int $0x82

#define DOMID_SELF 0x7FF0
#define MMU_NORMAL_PT_UPDATE 0
#define MMU_EXTENDED_COMMAND 3		/* 2.0 */
#define MMUEXT_NEW_BASEPTR 5
#define MMUEXT_TLB_FLUSH 6		/* 3.0: TLB_FLUSH_LOCAL */
#define MMUEXT_INVLPG 7			/* 3.0: INVLPG_LOCAL */
#define SCHEDOP_block 1
#define SCHEDOP_shutdown 2
#define SHUTDOWN_poweroff 0
#define EVTCHNOP_bind_virq 1
#define VIRQ_TIMER 0
#define PHYSDEVOP_SET_IOPL 6
#define TI_IF 4				/* trap_info flags: mask events on entry */

/* vcpu_info (vCPU 0 at the start of shared_info) and shared_info offsets. */
#define VCPU_pending 0
#define VCPU_mask 1
#define VCPU_sel 4
#if XEN_ABI >= 300 && defined(XEN_SECFIX)
#define VCPU_cr2 16			/* the hypothetical fix moved arch.cr2 (ABI_3_0_SECFIX) */
#elif XEN_ABI >= 300
#define VCPU_cr2 8
#endif
#if XEN_ABI >= 300
#define SHINFO_evtchn_pending 2048
#define SHINFO_evtchn_mask 2176
#define BIND_VIRQ_port 12		/* {cmd, virq, vcpu, port} */
#else
#define SHINFO_evtchn_pending 260
#define SHINFO_evtchn_mask 388
#define BIND_VIRQ_port 8		/* {cmd, virq, port} */
#endif
#define NTRAMP 48
#if XEN_ABI >= 300
#define MMU_ENTRY_SHIFT 4		/* mmu_update_t {u64 ptr, u64 val} */
#else
#define MMU_ENTRY_SHIFT 3		/* mmu_update_t {u32 ptr, u32 val} */
#endif			/* 2.0: vectors 0-47 get entry trampolines */

	VROM_HEADER
	VROM_PARAMS shared_info_pa=0xDF000, timer_vector=0x20
	.org 128
vmi_init:
	jmp vmi_init_impl
	.org 136
get_reloc:
	jmp get_reloc_impl
	.org 144
	PCI_HEADER
	GET_RELOC

/* R:210 vmi_init: called once, events off, through the kernel's linear map.
 * Relocate; learn where the kernel's linear map puts physical 0 (our own
 * virtual minus physical address); find shared_info; register the event
 * callback; bind the timer VIRQ and unmask it; ask for I/O privilege (the
 * kernel drives its console UART and PIC itself).  Returns 0, or -1: the
 * kernel then runs native, which under Xen fails for that real reason. */
vmi_init_impl:
	pushl %ebx
	pushl %esi
	pushl %edi
	call 1f
1:	popl %ecx
	subl $1b, %ecx
	APPLY_FIXUPS
	jne 9f
	movl %ecx, %edi
	movl %ecx, %eax
	subl PARAM_ROM_PA(%edi), %eax
	movl %eax, lin_off(%edi)
	movl PARAM_SHARED_INFO_PA(%edi), %edx
	addl %eax, %edx
	movl %edx, vcpu_va(%edi)
	movb $1, VCPU_mask(%edx)
	movl PARAM_TIMER_VECTOR(%edi), %eax
	movl %eax, timer_vector(%edi)

	xorl %ebx, %ebx			/* set_callbacks(cs, event, cs, failsafe) */
	movw %cs, %bx
	leal event_entry(%edi), %ecx
	movl %ebx, %edx
	leal failsafe_entry(%edi), %esi
	movl $__HYPERVISOR_set_callbacks, %eax
	TRAP_INSTR
	testl %eax, %eax
	jnz 9f

	.rept 8				/* evtchn_op_t bind_virq(VIRQ_TIMER) */
	pushl $0
	.endr
	movl $EVTCHNOP_bind_virq, (%esp)
	movl %esp, %ebx
	movl $__HYPERVISOR_event_channel_op, %eax
	TRAP_INSTR
	movl BIND_VIRQ_port(%esp), %edx
	addl $32, %esp
	testl %eax, %eax
	jnz 9f
	movl %edx, timer_port(%edi)
	movl vcpu_va(%edi), %eax
	lock btrl %edx, SHINFO_evtchn_mask(%eax)

	.rept 8				/* physdev_op set_iopl(1): result ignored */
	pushl $0
	.endr
	movl $PHYSDEVOP_SET_IOPL, (%esp)
	movl $1, 4(%esp)
	movl %esp, %ebx
	movl $__HYPERVISOR_physdev_op, %eax
	TRAP_INSTR
	addl $32, %esp
	xorl %eax, %eax
	jmp 10f
9:	movl $-1, %eax
10:	popl %edi
	popl %esi
	popl %ebx
	ret

/* ---- the call slots (R:220) -------------------------------------------- */
	SLOT VMI_CALL_CPUID, VMI_RELOCATION_NONE
	cpuid
	ret
	SLOT VMI_CALL_SetGDT, VMI_RELOCATION_CALL_REL
	jmp xen_set_gdt
	SLOT VMI_CALL_SetIDT, VMI_RELOCATION_CALL_REL
	jmp xen_set_idt
	SLOT VMI_CALL_SetTR, VMI_RELOCATION_NOP	/* no TSS: stack_switch does its job */
	ret
	SLOT VMI_CALL_UpdateKernelStack, VMI_RELOCATION_CALL_REL
	jmp xen_update_kernel_stack
	SLOT VMI_CALL_SetCR0, VMI_RELOCATION_CALL_REL
	jmp xen_set_cr0
	SLOT VMI_CALL_SetCR3, VMI_RELOCATION_CALL_REL
	jmp xen_set_cr3
	SLOT VMI_CALL_GetCR0, VMI_RELOCATION_CALL_REL
	movl cr0_shadow, %eax; FIXUP
	ret
	SLOT VMI_CALL_GetCR2, VMI_RELOCATION_CALL_REL
#if XEN_ABI >= 300
	movl vcpu_va, %eax; FIXUP
	movl VCPU_cr2(%eax), %eax
#else
	movl saved_cr2, %eax; FIXUP
#endif
	ret
	SLOT VMI_CALL_GetCR3, VMI_RELOCATION_CALL_REL
	movl cr3_shadow, %eax; FIXUP
	ret
	SLOT VMI_CALL_RDTSC, VMI_RELOCATION_NONE
	rdtsc
	ret
	SLOT VMI_CALL_EnableInterrupts, VMI_RELOCATION_CALL_REL
	movl vcpu_va, %eax; FIXUP
	movb $0, VCPU_mask(%eax)
	cmpb $0, VCPU_pending(%eax)
	jne force_upcall
	ret
	SLOT VMI_CALL_DisableInterrupts, VMI_RELOCATION_CALL_REL
	movl vcpu_va, %eax; FIXUP
	movb $1, VCPU_mask(%eax)
	ret
	SLOT VMI_CALL_GetInterruptMask, VMI_RELOCATION_CALL_REL
	movl vcpu_va, %eax; FIXUP
	cmpb $0, VCPU_mask(%eax)
	sete %al
	movzbl %al, %eax
	shll $9, %eax			/* X86_EFLAGS_IF when events are on */
	ret
	SLOT VMI_CALL_SetInterruptMask, VMI_RELOCATION_CALL_REL
	testl $X86_EFLAGS_IF, %eax
	movl vcpu_va, %eax; FIXUP
	jz 1f
	movb $0, VCPU_mask(%eax)
	cmpb $0, VCPU_pending(%eax)
	jne force_upcall
	ret
1:	movb $1, VCPU_mask(%eax)
	ret
	SLOT VMI_CALL_IRET, VMI_RELOCATION_JUMP_REL
	jmp xen_iret
	SLOT VMI_CALL_Halt, VMI_RELOCATION_CALL_REL
	jmp xen_halt
	SLOT VMI_CALL_SetPxE, VMI_RELOCATION_CALL_REL
	jmp lazy_set_pxe
	SLOT VMI_CALL_AllocatePage, VMI_RELOCATION_CALL_REL	/* (pfn, flags) */
	jmp lazy_allocate_page
	SLOT VMI_CALL_ReleasePage, VMI_RELOCATION_CALL_REL	/* (pfn, flags) */
	jmp lazy_release_page
#ifdef XEN_AUTO_FLUSH
	/* The hypothetical auto-flush release invalidates inside mmu_update
	 * whatever a SetPxE unmapped: the kernel's InvalPage sites become nops. */
	SLOT VMI_CALL_InvalPage, VMI_RELOCATION_NOP
	ret
#else
	SLOT VMI_CALL_InvalPage, VMI_RELOCATION_CALL_REL
	jmp xen_invlpg
#endif
	SLOT VMI_CALL_FlushTLB, VMI_RELOCATION_CALL_REL
	jmp xen_flush_tlb
	SLOT VMI_CALL_SetLazyMode, VMI_RELOCATION_CALL_REL	/* (mode) */
	jmp lazy_set_mode
	SLOTS_END

/* ---- the bodies --------------------------------------------------------- */

/* An event arrived while masked: any hypercall returns through Xen's
 * test_all_events, which delivers it (XenoLinux force_evtchn_callback). */
force_upcall:
	pushl %ebx
	xorl %ebx, %ebx
	movl $__HYPERVISOR_xen_version, %eax
	TRAP_INSTR
	popl %ebx
	ret

/* IRET (jumped to): the frame is {eip, cs, eflags[, esp, ss]}.  Its IF says
 * whether the interrupted context had events on; the CPU's own iret then
 * returns to ring 1 or 3 (3.0 keeps the saved mask in CS bits 16-23, which
 * iret ignores). */
xen_iret:
	pushl %eax
	movl vcpu_va, %eax; FIXUP
	testl $X86_EFLAGS_IF, 12(%esp)
	jz 2f
	movb $0, VCPU_mask(%eax)
	cmpb $0, VCPU_pending(%eax)
	jne 3f
	popl %eax
	iret
2:	movb $1, VCPU_mask(%eax)
	popl %eax
	iret
3:	call force_upcall
	popl %eax
	iret

xen_halt:
	pushl %ebx
	movl vcpu_va, %eax; FIXUP
	cmpb $0, VCPU_mask(%eax)
	jne 1f
#if XEN_ABI >= 300
	movl $SCHEDOP_block, %ebx
	xorl %ecx, %ecx
#else
	movl $SCHEDOP_block, %ebx
#endif
	movl $__HYPERVISOR_sched_op, %eax
	TRAP_INSTR
	popl %ebx
	ret
1:	/* hlt with interrupts off: nothing can ever wake it */
#if XEN_ABI >= 300
	movl $SCHEDOP_shutdown, %ebx
	movl $SHUTDOWN_poweroff, %ecx
#else
	movl $(SCHEDOP_shutdown | SHUTDOWN_poweroff << 8), %ebx
#endif
	movl $__HYPERVISOR_sched_op, %eax
	TRAP_INSTR
	popl %ebx
	ret

/* One MMU extended command: EAX = command, EDX = its argument (a frame
 * number for NEW_BASEPTR in 3.0, an address otherwise). */
do_mmuext:
	pushl %ebx
	pushl %esi
#if XEN_ABI >= 300
	pushl $0			/* struct mmuext_op {cmd, arg1, arg2} */
	pushl %edx
	pushl %eax
	movl %esp, %ebx
	movl $1, %ecx
	xorl %edx, %edx
	movl $DOMID_SELF, %esi
	movl $__HYPERVISOR_mmuext_op, %eax
	TRAP_INSTR
	addl $12, %esp
#else
	pushl %eax			/* mmu_update_t {ptr | 3, val = command} */
	andl $~3, %edx
	orl $MMU_EXTENDED_COMMAND, %edx
	pushl %edx
	movl %esp, %ebx
	movl $1, %ecx
	xorl %edx, %edx
	movl $__HYPERVISOR_mmu_update, %eax
	TRAP_INSTR
	addl $8, %esp
#endif
	popl %esi
	popl %ebx
	ret

xen_set_cr3:
	call flush_pending		/* the new tables as the kernel wrote them */
	movl %eax, cr3_shadow; FIXUP
	movl %eax, %edx
	andl $~0xfff, %edx
#if XEN_ABI >= 300
	shrl $12, %edx
#endif
	movl $MMUEXT_NEW_BASEPTR, %eax
	jmp do_mmuext

xen_invlpg:
	call flush_pending		/* an update after the invalidation would be stale */
	movl %eax, %edx
	movl $MMUEXT_INVLPG, %eax
	jmp do_mmuext

xen_flush_tlb:
	call flush_pending
	xorl %edx, %edx
	movl $MMUEXT_TLB_FLUSH, %eax
	jmp do_mmuext

/* R:250 batching (lazy.h): the queue's entries are mmu_update_t, handed
 * to Xen as one mmu_update. */
.macro STORE_ENTRY
	movl %edx, (%ecx)
#if XEN_ABI >= 300
	movl $0, 4(%ecx)
	movl %eax, 8(%ecx)
	movl $0, 12(%ecx)
#else
	movl %eax, 4(%ecx)
#endif
.endm

.macro ISSUE_QUEUE
	pushl %ebx
	pushl %esi
	movl %edx, %ebx
	xorl %edx, %edx
#if XEN_ABI >= 300
	movl $DOMID_SELF, %esi
#endif
	movl $__HYPERVISOR_mmu_update, %eax
	TRAP_INSTR
	popl %esi
	popl %ebx
.endm

#include "lazy.h"

/* One normal update at physical EDX (value EAX). */
set_pxe_now:
	pushl %ebx
	pushl %esi
#if XEN_ABI >= 300
	pushl $0			/* mmu_update_t {u64 ptr, u64 val} */
	pushl %eax
	pushl $0
	pushl %edx
	movl $DOMID_SELF, %esi
#else
	pushl %eax			/* mmu_update_t {ptr, val} */
	pushl %edx
#endif
	movl %esp, %ebx
	movl $1, %ecx
	xorl %edx, %edx
	movl $__HYPERVISOR_mmu_update, %eax
	TRAP_INSTR
#if XEN_ABI >= 300
	addl $16, %esp
#else
	addl $8, %esp
#endif
	popl %esi
	popl %ebx
	ret

/* UpdateKernelStack(tss, esp0): the TSS words the native code would write
 * (the kernel may read them back), then stack_switch on the current SS. */
xen_update_kernel_stack:
	movl %edx, 4(%eax)
	movl %edx, 12(%eax)
	pushl %ebx
	xorl %ebx, %ebx
	movw %ss, %bx
	movl %edx, %ecx
	movl $__HYPERVISOR_stack_switch, %eax
	TRAP_INSTR
	popl %ebx
	ret

xen_set_cr0:
	movl cr0_shadow, %edx; FIXUP
	movl %eax, cr0_shadow; FIXUP
	xorl %eax, %edx
	testl $X86_CR0_TS, %edx
	jz 2f
	pushl %ebx
#if XEN_ABI >= 300
	xorl %ebx, %ebx			/* fpu_taskswitch(set) */
	testl $X86_CR0_TS, %eax
	setnz %bl
#else
	testl $X86_CR0_TS, %eax		/* 2.0: fpu_taskswitch() only sets TS */
	jz 1f
#endif
	movl $__HYPERVISOR_fpu_taskswitch, %eax
	TRAP_INSTR
1:	popl %ebx
2:	ret

/* SetGDT(&desc_ptr): Xen refuses system descriptors (the kernel's TSS) and,
 * in 2.0, DPL-0 segments; the kernel's own table keeps them, Xen gets a
 * sanitized copy in a ROM page. */
xen_set_gdt:
	pushl %ebx
	pushl %esi
	pushl %edi
	movzwl (%eax), %ecx
	incl %ecx
	shrl $3, %ecx
	cmpl $512, %ecx
	jbe 1f
	movl $512, %ecx
1:	movl 2(%eax), %esi
	movl $rom_gdt, %edi; FIXUP
	pushl %ecx
2:	movl (%esi), %eax
	movl 4(%esi), %edx
	testl $0x8000, %edx		/* not present: harmless */
	jz 4f
	testl $0x1000, %edx		/* code or data */
	jnz 3f
	xorl %eax, %eax			/* system descriptor: left out */
	xorl %edx, %edx
	jmp 4f
3:	testl $0x6000, %edx
	jnz 4f
	orl $0x2000, %edx		/* DPL 0 -> 1 */
4:	movl %eax, (%edi)
	movl %edx, 4(%edi)
	addl $8, %esi
	addl $8, %edi
	loop 2b
	popl %ecx			/* entries */
	movl $rom_gdt, %eax; FIXUP
	subl lin_off, %eax; FIXUP
	shrl $12, %eax
	pushl %eax			/* the frame list: one frame */
	movl %esp, %ebx
	movl $__HYPERVISOR_set_gdt, %eax
	TRAP_INSTR
	addl $4, %esp
	popl %edi
	popl %esi
	popl %ebx
	ret

/* SetIDT(&desc_ptr): every present 32-bit interrupt or trap gate becomes a
 * trap_info {vector, flags = DPL | (interrupt gate ? TI_IF : 0), cs,
 * address}; the table ends with a zero address. */
xen_set_idt:
	pushl %ebx
	pushl %esi
	pushl %edi
	pushl %ebp
	movzwl (%eax), %ecx
	incl %ecx
	shrl $3, %ecx
	cmpl $256, %ecx
	jbe 1f
	movl $256, %ecx
1:	movl 2(%eax), %esi
	movl %esi, idt_base; FIXUP
	movl %ecx, idt_vectors; FIXUP
	movl $trap_table, %edi; FIXUP
	xorl %ebp, %ebp
2:	cmpl %ecx, %ebp
	jae 9f
	movl 4(%esi, %ebp, 8), %edx	/* high word of the gate */
	testl $0x8000, %edx
	jz 8f
	movl %edx, %eax
	shrl $8, %eax
	andl $0x1f, %eax
	cmpl $0x0e, %eax
	jb 8f
	cmpl $0x0f, %eax
	ja 8f
	movl %edx, %ebx
	shrl $13, %ebx
	andl $3, %ebx
	cmpl $0x0e, %eax
	jne 3f
	orl $TI_IF, %ebx
3:	movl %ebp, %eax
	movb %al, (%edi)
	movb %bl, 1(%edi)
	movl (%esi, %ebp, 8), %eax	/* low word: selector, offset 15:0 */
	movl %eax, %ebx
	shrl $16, %ebx
	movw %bx, 2(%edi)
	andl $0xffff, %eax
	andl $0xffff0000, %edx
	orl %edx, %eax
	movl %eax, 4(%edi)
#if XEN_ABI < 300
	/* R:230 2.0: a page fault's frame carries cr2, and a bounce frame does
	 * not record the event mask: such vectors enter through a trampoline
	 * that fixes both before the kernel's handler sees the frame. */
	cmpl $NTRAMP, %ebp
	jae 7f
	cmpl $14, %ebp
	je 6f
	testb $TI_IF, 1(%edi)
	jz 7f
6:	andb $~TI_IF, 1(%edi)
	leal (, %ebp, 8), %eax
	addl $trampolines, %eax; FIXUP
	movl %eax, 4(%edi)
7:
#endif
	addl $8, %edi
8:	incl %ebp
	jmp 2b
9:	movl $0, (%edi)
	movl $0, 4(%edi)
	movl $trap_table, %ebx; FIXUP
	movl $__HYPERVISOR_set_trap_table, %eax
	TRAP_INSTR
#if XEN_ABI < 300
	/* A DPL-3 trap gate for int $0x80: let system calls bypass Xen. */
	cmpl $0x80, %ecx
	jbe 10f
	movl 0x404(%esi), %edx
	andl $0xef00, %edx
	cmpl $0xef00, %edx		/* present, DPL 3, 32-bit trap gate */
	jne 10f
	movl $0x80, %ebx
	movl $__HYPERVISOR_set_fast_trap, %eax
	TRAP_INSTR
10:
#endif
	popl %ebp
	popl %edi
	popl %esi
	popl %ebx
	ret

/* R:240 The event callback: Xen enters here with a frame like an
 * interrupt's and events masked.  The timer VIRQ becomes the kernel's timer
 * vector, entered through the kernel's own IDT with events still masked
 * (an interrupt gate's IF=0); anything else is acknowledged and dropped. */
event_entry:
	pushl %eax
	pushl %edx
	movl vcpu_va, %edx; FIXUP
	movb $0, VCPU_pending(%edx)
	xorl %eax, %eax
	xchgl %eax, VCPU_sel(%edx)
	movl timer_port, %eax; FIXUP
	lock btrl %eax, SHINFO_evtchn_pending(%edx)
	popl %edx
	popl %eax
	jnc xen_iret
	pushl %eax
	pushl %ecx
	movl idt_base, %ecx; FIXUP
	movl timer_vector, %eax; FIXUP
	leal (%ecx, %eax, 8), %ecx
	movl 4(%ecx), %eax
	andl $0xffff0000, %eax
	movzwl (%ecx), %ecx
	orl %ecx, %eax
	popl %ecx
	xchgl %eax, (%esp)
	ret				/* to the handler, EAX restored */

/* The failsafe callback (a bad segment on the way out): drop the
 * {ds, es, fs, gs} Xen pushed and return with null selectors. */
failsafe_entry:
	addl $16, %esp
	jmp xen_iret

#if XEN_ABI < 300
	.balign 8
trampolines:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	.balign 8, 0xcc
	pushl $\v
	jmp tramp_common
	.endr

/* Stack: vector, [cr2 if 14], [error code], eip, cs, eflags[, esp, ss]. */
tramp_common:
	cmpl $14, (%esp)
	jne 1f
	pushl %eax
	movl 8(%esp), %eax		/* cr2: keep it for GetCR2 */
	movl %eax, saved_cr2; FIXUP
	movl 4(%esp), %eax
	movl %eax, 8(%esp)
	popl %eax
	addl $4, %esp
1:	pushl %eax
	pushl %ecx
	pushl %edx			/* 0 edx, 4 ecx, 8 eax, 12 vector, 16 frame */
	movl 12(%esp), %eax
	leal 16(%esp), %edx
	cmpl $32, %eax
	jae 2f
	movl $0x27d00, %ecx		/* vectors with an error code: 8, 10-14, 17 */
	btl %eax, %ecx
	jnc 2f
	addl $4, %edx
2:	movl idt_base, %ecx; FIXUP
	leal (%ecx, %eax, 8), %ecx
	movl 4(%ecx), %eax
	testl $0x100, %eax		/* trap gate: events as they were */
	jnz 4f
	pushl %eax			/* interrupt gate: IF := events on; mask */
	movl vcpu_va, %eax; FIXUP
	orl $X86_EFLAGS_IF, 8(%edx)
	cmpb $0, VCPU_mask(%eax)
	je 3f
	andl $~X86_EFLAGS_IF, 8(%edx)
3:	movb $1, VCPU_mask(%eax)
	popl %eax
4:	andl $0xffff0000, %eax
	movzwl (%ecx), %ecx
	orl %ecx, %eax
	movl %eax, 12(%esp)		/* the vector's slot becomes the target */
	popl %edx
	popl %ecx
	popl %eax
	ret
#endif

	RELOC_TABLE

/* ---- data ----------------------------------------------------------------- */
	.balign 4
rom_base:	.long 0
lin_off:	.long 0		/* kernel virtual - physical, in its linear map */
vcpu_va:	.long 0		/* vCPU 0's vcpu_info = shared_info */
timer_port:	.long 0
timer_vector:	.long 0x20
idt_base:	.long 0
idt_vectors:	.long 0
cr0_shadow:	.long 0x80010011	/* PG WP ET PE: what the kernel set */
cr3_shadow:	.long 0
saved_cr2:	.long 0
	LAZY_STATE		/* R:250 */
	.balign 8
trap_table:	.skip 257 * 8
	.balign 4096
rom_gdt:	.skip 4096
