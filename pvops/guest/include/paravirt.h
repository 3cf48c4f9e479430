/* paravirt.h: the typed wrappers.  Every sensitive operation in the kernel is
 * one of the inline functions below; no other file writes a privileged
 * instruction, a pv_ops call or a hypercall for these operations.
 * (Linux's second layer: asm/paravirt.h.  Types and the op ABI are in
 * paravirt_types.h, the instructions in native.h.)
 *
 * P:030 The flavour, chosen by the build driver with one -D, decides what a
 * wrapper emits, from this one source:
 *   CONFIG_NATIVE      the instruction itself;
 *   CONFIG_PARAVIRT    call *pv_ops[N] + a .parainstructions record;
 *   CONFIG_VMI         the instruction, NOP-padded, + a __vmi_annotation;
 *   CONFIG_XENOLINUX   a hypercall or a shared-info access for one Xen ABI
 *                      (XEN_ABI = 200 or 300), compiled in.
 */
#ifndef PVOPS_PARAVIRT_H
#define PVOPS_PARAVIRT_H
#include "paravirt_types.h"
#include "x86.h"
#ifdef CONFIG_VMI
#include "vmi.h"
#endif
#ifdef CONFIG_PARAVIRT
#include "pv_ops_numbers.h"	/* generated from the host's registry */
/* Linux renamed load_esp0 to load_sp0 in 2.6.25; accept either spelling
 * from the registry. */
#if !defined(PV_OP_CPU_LOAD_SP0) && defined(PV_OP_CPU_LOAD_ESP0)
#define PV_OP_CPU_LOAD_SP0 PV_OP_CPU_LOAD_ESP0
#endif
#endif

#ifndef __ASSEMBLER__
#include "native.h"
struct mm_struct;

/* ========================================================================= */
#if defined(CONFIG_PARAVIRT)
/* P:040 A pvops site.  The call goes through the table in memory, so the
 * unpatched kernel works with whatever the host wrote there; the record lets
 * the host's patcher replace the 8 bytes by native code, a direct call, or
 * NOPs (apply_paravirt). */
#define PVOP_SITE(insn, clobbers)					\
	"771:\n\t" insn "\n\t.nops 2\n772:\n"				\
	"\t.pushsection .parainstructions,\"a\"\n"			\
	"\t.balign 4\n"							\
	"\t.long 771b\n"						\
	"\t.byte %c[op]\n"						\
	"\t.byte 772b-771b\n"						\
	"\t.short " #clobbers "\n"					\
	"\t.popsection\n"
#define PVOP_CALL_INSN "call *pv_ops+4*%c[op]"
#define PVOP_CLOBBERS "memory", "cc"

#define PVOP_VCALL0(_op) do {						\
	u32 _a, _d, _c;							\
	asm volatile(PVOP_SITE(PVOP_CALL_INSN, 7)			\
		     : "=a"(_a), "=d"(_d), "=c"(_c)			\
		     : [op] "i"(_op) : PVOP_CLOBBERS);			\
} while (0)
#define PVOP_VCALL1(_op, a1) do {					\
	u32 _a, _d, _c;							\
	asm volatile(PVOP_SITE(PVOP_CALL_INSN, 7)			\
		     : "=a"(_a), "=d"(_d), "=c"(_c)			\
		     : [op] "i"(_op), "0"((u32)(a1)) : PVOP_CLOBBERS);	\
} while (0)
#define PVOP_VCALL2(_op, a1, a2) do {					\
	u32 _a, _d, _c;							\
	asm volatile(PVOP_SITE(PVOP_CALL_INSN, 7)			\
		     : "=a"(_a), "=d"(_d), "=c"(_c)			\
		     : [op] "i"(_op), "0"((u32)(a1)), "1"((u32)(a2))	\
		     : PVOP_CLOBBERS);					\
} while (0)
/* Four arguments: the fourth is pushed, and popped by the caller (cdecl
 * stack discipline under regparm), outside the patchable site. */
#define PVOP_VCALL4(_op, a1, a2, a3, a4) do {				\
	u32 _a, _d, _c;							\
	asm volatile("pushl %[arg4]\n\t"					\
		     PVOP_SITE(PVOP_CALL_INSN, 7)			\
		     "addl $4, %%esp\n"					\
		     : "=a"(_a), "=d"(_d), "=c"(_c)			\
		     : [op] "i"(_op), "0"((u32)(a1)), "1"((u32)(a2)),	\
		       "2"((u32)(a3)), [arg4] "g"((u32)(a4))		\
		     : PVOP_CLOBBERS);					\
} while (0)
#define PVOP_CALL0_32(_op) ({						\
	u32 _a, _d, _c;							\
	asm volatile(PVOP_SITE(PVOP_CALL_INSN, 7)			\
		     : "=a"(_a), "=d"(_d), "=c"(_c)			\
		     : [op] "i"(_op) : PVOP_CLOBBERS);			\
	_a;								\
})
#define PVOP_CALL0_64(_op) ({						\
	u64 _r; u32 _c;							\
	asm volatile(PVOP_SITE(PVOP_CALL_INSN, 7)			\
		     : "=A"(_r), "=c"(_c)				\
		     : [op] "i"(_op) : PVOP_CLOBBERS);			\
	_r;								\
})
#define PVOP_CALL1_32(_op, a1) ({					\
	u32 _a, _d, _c;							\
	asm volatile(PVOP_SITE(PVOP_CALL_INSN, 7)			\
		     : "=a"(_a), "=d"(_d), "=c"(_c)			\
		     : [op] "i"(_op), "0"((u32)(a1)) : PVOP_CLOBBERS);	\
	_a;								\
})

static inline u32 save_fl(void) { return PVOP_CALL0_32(PV_OP_IRQ_SAVE_FL); }
static inline void restore_fl(u32 f) { PVOP_VCALL1(PV_OP_IRQ_RESTORE_FL, f); }
static inline void irq_disable(void) { PVOP_VCALL0(PV_OP_IRQ_IRQ_DISABLE); }
static inline void irq_enable(void) { PVOP_VCALL0(PV_OP_IRQ_IRQ_ENABLE); }
static inline void safe_halt(void) { PVOP_VCALL0(PV_OP_IRQ_SAFE_HALT); }
static inline void halt(void) { PVOP_VCALL0(PV_OP_IRQ_HALT); }
static inline void load_gdt(const struct desc_ptr *d) { PVOP_VCALL1(PV_OP_CPU_LOAD_GDT, d); }
static inline void load_idt(const struct desc_ptr *d) { PVOP_VCALL1(PV_OP_CPU_LOAD_IDT, d); }
static inline void load_tr_desc(void) { PVOP_VCALL0(PV_OP_CPU_LOAD_TR_DESC); }
static inline void load_sp0(struct tss *t, u32 sp0) { PVOP_VCALL2(PV_OP_CPU_LOAD_SP0, t, sp0); }
static inline u32 read_cr0(void) { return PVOP_CALL0_32(PV_OP_CPU_READ_CR0); }
static inline void write_cr0(u32 v) { PVOP_VCALL1(PV_OP_CPU_WRITE_CR0, v); }
static inline u32 read_cr2(void) { return PVOP_CALL0_32(PV_OP_MMU_READ_CR2); }
static inline u32 read_cr3(void) { return PVOP_CALL0_32(PV_OP_MMU_READ_CR3); }
static inline void write_cr3(u32 pa) { PVOP_VCALL1(PV_OP_MMU_WRITE_CR3, pa); }
static inline void flush_tlb_user(void) { PVOP_VCALL0(PV_OP_MMU_FLUSH_TLB_USER); }
static inline void flush_tlb_single(u32 va) { PVOP_VCALL1(PV_OP_MMU_FLUSH_TLB_SINGLE, va); }
static inline void set_pte(pte_t *p, pte_t v) { PVOP_VCALL2(PV_OP_MMU_SET_PTE, p, v); }
static inline void set_pte_at(struct mm_struct *mm, u32 addr, pte_t *p, pte_t v)
{
	PVOP_VCALL4(PV_OP_MMU_SET_PTE_AT, mm, addr, p, v);
}
static inline void set_pmd(pmd_t *p, pmd_t v) { PVOP_VCALL2(PV_OP_MMU_SET_PMD, p, v); }
static inline void paravirt_alloc_pt(pfn_t pfn) { PVOP_VCALL1(PV_OP_MMU_ALLOC_PT, pfn); }
static inline void paravirt_release_pt(pfn_t pfn) { PVOP_VCALL1(PV_OP_MMU_RELEASE_PT, pfn); }
static inline void paravirt_alloc_pd(pfn_t pfn) { PVOP_VCALL1(PV_OP_MMU_ALLOC_PD, pfn); }
static inline void paravirt_release_pd(pfn_t pfn) { PVOP_VCALL1(PV_OP_MMU_RELEASE_PD, pfn); }
static inline void arch_enter_lazy_mmu_mode(void) { PVOP_VCALL0(PV_OP_MMU_LAZY_MODE_ENTER); }
static inline void arch_leave_lazy_mmu_mode(void) { PVOP_VCALL0(PV_OP_MMU_LAZY_MODE_LEAVE); }
static inline void arch_enter_lazy_cpu_mode(void) { PVOP_VCALL0(PV_OP_CPU_LAZY_MODE_ENTER); }
static inline void arch_leave_lazy_cpu_mode(void) { PVOP_VCALL0(PV_OP_CPU_LAZY_MODE_LEAVE); }
static inline u64 sched_clock(void) { return PVOP_CALL0_64(PV_OP_TIME_SCHED_CLOCK); }
/* X:130 Called only on the Xen path (xen/pvops_xen.h): on bare metal the PC
 * code does this work itself and these slots keep their defaults. */
static inline void paravirt_arch_setup(void) { PVOP_VCALL0(PV_OP_INIT_ARCH_SETUP); }
static inline void paravirt_time_init(void) { PVOP_VCALL0(PV_OP_TIME_TIME_INIT); }
/* pte_val/make_pte became ops in 2.6.23 so Xen could translate frames.  When
 * the registry has them, use them; otherwise a PTE holds a guest frame.
 * M:010 a pvops kernel on a non-translated Xen needs these two ops. */
#ifdef PV_OP_MMU_MAKE_PTE
static inline pte_t make_pte(u32 v) { return PVOP_CALL1_32(PV_OP_MMU_MAKE_PTE, v); }
#else
static inline pte_t make_pte(u32 v) { return v; }
#endif
#ifdef PV_OP_MMU_PTE_VAL
static inline u32 pte_val(pte_t v) { return PVOP_CALL1_32(PV_OP_MMU_PTE_VAL, v); }
#else
static inline u32 pte_val(pte_t v) { return v; }
#endif
/* P:065 Hypervisor detection asks the CPU itself, not the ops: the ops are
 * what a hypervisor found this way may replace (late registration). */
static inline void hypervisor_cpuid(u32 *eax, u32 *ebx, u32 *ecx, u32 *edx)
{
	native_cpuid(eax, ebx, ecx, edx);
}

/* ========================================================================= */
#elif defined(CONFIG_VMI)
/* V:030 A VMI site: native bytes padded to VMI_SITE_LEN, plus a record. */
#define VMI_SITE(native, flags)						\
	"771:\n\t" native "\n772:\n"					\
	"\t.nops " "5" "-(772b-771b)\n773:\n"				\
	"\t.pushsection __vmi_annotation,\"a\"\n"			\
	"\t.balign 4\n"							\
	"\t.long 771b\n"						\
	"\t.byte %c[call]\n"						\
	"\t.byte 773b-771b\n"						\
	"\t.byte 772b-771b\n"						\
	"\t.byte " #flags "\n"						\
	"\t.popsection\n"
#define VMI_CLOBBERS "memory", "cc"
/* Every VMI site declares the regparm caller-saved set clobbered, whatever
 * its native bytes touch, because after patching it is a call. */
#define VMI_V0(_call, native) do {					\
	u32 _a, _d, _c;							\
	asm volatile(VMI_SITE(native, 0)				\
		     : "=a"(_a), "=d"(_d), "=c"(_c)			\
		     : [call] "i"(_call) : VMI_CLOBBERS);		\
} while (0)
#define VMI_V1(_call, native, a1) do {					\
	u32 _a, _d, _c;							\
	asm volatile(VMI_SITE(native, 0)				\
		     : "=a"(_a), "=d"(_d), "=c"(_c)			\
		     : [call] "i"(_call), "0"((u32)(a1)) : VMI_CLOBBERS);	\
} while (0)
#define VMI_V2(_call, native, a1, a2) do {				\
	u32 _a, _d, _c;							\
	asm volatile(VMI_SITE(native, 0)				\
		     : "=a"(_a), "=d"(_d), "=c"(_c)			\
		     : [call] "i"(_call), "0"((u32)(a1)), "1"((u32)(a2))	\
		     : VMI_CLOBBERS);					\
} while (0)
#define VMI_R0(_call, native) ({						\
	u32 _a, _d, _c;							\
	asm volatile(VMI_SITE(native, 0)				\
		     : "=a"(_a), "=d"(_d), "=c"(_c)			\
		     : [call] "i"(_call) : VMI_CLOBBERS);		\
	_a;								\
})

static inline u32 save_fl(void) { return VMI_R0(VMI_CALL_GetInterruptMask, "pushfl; popl %%eax"); }
static inline void restore_fl(u32 f) { VMI_V1(VMI_CALL_SetInterruptMask, "pushl %%eax; popfl", f); }
static inline void irq_disable(void) { VMI_V0(VMI_CALL_DisableInterrupts, "cli"); }
static inline void irq_enable(void) { VMI_V0(VMI_CALL_EnableInterrupts, "sti"); }
/* Two adjacent sites.  Natively the first site's NOP padding runs between
 * sti and hlt, outside sti's one-instruction shadow, so a tick arriving there
 * is taken before the hlt, which then waits for the next tick: a latency, not
 * a hang, while the timer runs. */
static inline void safe_halt(void)
{
	VMI_V0(VMI_CALL_EnableInterrupts, "sti");
	VMI_V0(VMI_CALL_Halt, "hlt");
}
static inline void halt(void) { VMI_V0(VMI_CALL_Halt, "hlt"); }
static inline void load_gdt(const struct desc_ptr *d) { VMI_V1(VMI_CALL_SetGDT, "lgdt (%%eax)", d); }
static inline void load_idt(const struct desc_ptr *d) { VMI_V1(VMI_CALL_SetIDT, "lidt (%%eax)", d); }
static inline void load_tr_desc(void) { VMI_V1(VMI_CALL_SetTR, "ltr %%ax", __TSS_SEL); }
static inline void load_sp0(struct tss *t, u32 sp0)
{
	VMI_V2(VMI_CALL_UpdateKernelStack, "movl %%edx, 4(%%eax)\n\tmovl %%edx, 12(%%eax)", t, sp0);
}
static inline u32 read_cr0(void) { return VMI_R0(VMI_CALL_GetCR0, "movl %%cr0, %%eax"); }
static inline void write_cr0(u32 v) { VMI_V1(VMI_CALL_SetCR0, "movl %%eax, %%cr0", v); }
static inline u32 read_cr2(void) { return VMI_R0(VMI_CALL_GetCR2, "movl %%cr2, %%eax"); }
static inline u32 read_cr3(void) { return VMI_R0(VMI_CALL_GetCR3, "movl %%cr3, %%eax"); }
static inline void write_cr3(u32 pa) { VMI_V1(VMI_CALL_SetCR3, "movl %%eax, %%cr3", pa); }
static inline void flush_tlb_user(void)
{
	VMI_V1(VMI_CALL_FlushTLB, "movl %%cr3, %%ecx\n\tmovl %%ecx, %%cr3", VMI_FLUSH_TLB);
}
static inline void flush_tlb_single(u32 va) { VMI_V1(VMI_CALL_InvalPage, "invlpg (%%eax)", va); }
/* SetPxE(pte, ptep): value first, as Linux's vmi_ops.set_pte. */
static inline void set_pte(pte_t *p, pte_t v) { VMI_V2(VMI_CALL_SetPxE, "movl %%eax, (%%edx)", v, p); }
static inline void set_pte_at(struct mm_struct *mm, u32 addr, pte_t *p, pte_t v)
{
	(void)mm;
	(void)addr;
	VMI_V2(VMI_CALL_SetPxE, "movl %%eax, (%%edx)", v, p);
}
static inline void set_pmd(pmd_t *p, pmd_t v) { VMI_V2(VMI_CALL_SetPxE, "movl %%eax, (%%edx)", v, p); }
/* No native bytes at all: on bare metal these are nothing. */
static inline void paravirt_alloc_pt(pfn_t pfn) { VMI_V2(VMI_CALL_AllocatePage, "", pfn, VMI_PAGE_PT); }
static inline void paravirt_release_pt(pfn_t pfn) { VMI_V2(VMI_CALL_ReleasePage, "", pfn, VMI_PAGE_PT); }
static inline void paravirt_alloc_pd(pfn_t pfn) { VMI_V2(VMI_CALL_AllocatePage, "", pfn, VMI_PAGE_PD); }
static inline void paravirt_release_pd(pfn_t pfn) { VMI_V2(VMI_CALL_ReleasePage, "", pfn, VMI_PAGE_PD); }
static inline void arch_enter_lazy_mmu_mode(void) { VMI_V1(VMI_CALL_SetLazyMode, "", 1); }
static inline void arch_leave_lazy_mmu_mode(void) { VMI_V1(VMI_CALL_SetLazyMode, "", 0); }
static inline void arch_enter_lazy_cpu_mode(void) { VMI_V1(VMI_CALL_SetLazyMode, "", 2); }
static inline void arch_leave_lazy_cpu_mode(void) { VMI_V1(VMI_CALL_SetLazyMode, "", 0); }
static inline u64 sched_clock(void)
{
	u64 r;
	u32 _c;
	asm volatile(VMI_SITE("rdtsc", 0) : "=A"(r), "=c"(_c)
		     : [call] "i"(VMI_CALL_RDTSC) : VMI_CLOBBERS);
	return r;
}
static inline pte_t make_pte(u32 v) { return v; }
static inline u32 pte_val(pte_t v) { return v; }

/* ========================================================================= */
#elif defined(CONFIG_XENOLINUX)
/* X:010 XenoLinux: the kernel *is* a Xen guest.  Interrupt masking is a byte
 * in the shared vcpu_info (no hypercall: the hottest ops must be cheap, the
 * point lguest's G:033 makes too); everything else is a hypercall, in
 * xen/, with this ABI's numbers and layouts compiled in. */
#include "xen/xen.h"
static inline u32 save_fl(void) { return xen_vcpu->evtchn_upcall_mask ? 0 : X86_EFLAGS_IF; }
static inline void irq_disable(void)
{
	xen_vcpu->evtchn_upcall_mask = 1;
	barrier();
}
static inline void irq_enable(void)
{
	barrier();
	xen_vcpu->evtchn_upcall_mask = 0;
	barrier();
	/* An event that arrived while masked is only delivered on the next
	 * hypercall: make one now (XenoLinux's force_evtchn_callback). */
	if (unlikely(xen_vcpu->evtchn_upcall_pending))
		xen_force_evtchn_callback();
}
static inline void restore_fl(u32 f)
{
	if (f & X86_EFLAGS_IF)
		irq_enable();
	else
		irq_disable();
}
static inline void safe_halt(void) { xen_safe_halt(); }
static inline void halt(void) { xen_safe_halt(); }
static inline void load_gdt(const struct desc_ptr *d) { (void)d; /* Xen's flat selectors */ }
static inline void load_idt(const struct desc_ptr *d) { xen_load_idt(d); }
static inline void load_tr_desc(void) { /* no TSS: stack_switch instead */ }
static inline void load_sp0(struct tss *t, u32 sp0)
{
	t->esp0 = sp0;
	xen_stack_switch(__KERNEL_DS, sp0);
}
static inline u32 read_cr0(void) { return xen_cr0_shadow; }
static inline void write_cr0(u32 v) { xen_cr0_shadow = v; }
static inline u32 read_cr2(void) { return xen_read_cr2(); }
static inline u32 read_cr3(void) { return xen_cr3; }
static inline void write_cr3(u32 pa) { xen_write_cr3(pa); }
static inline void flush_tlb_user(void) { xen_flush_tlb(); }
static inline void flush_tlb_single(u32 va)
{
#ifdef XEN_AUTO_FLUSH
	if (xen_auto_flush)
		return;	/* Xen invalidated it when the entry changed */
#endif
	xen_invlpg(va);
}
static inline void set_pte(pte_t *p, pte_t v) { xen_set_pte(p, v); }
static inline void set_pte_at(struct mm_struct *mm, u32 addr, pte_t *p, pte_t v)
{
	(void)mm;
	(void)addr;
	xen_set_pte(p, v);
}
static inline void set_pmd(pmd_t *p, pmd_t v) { xen_set_pmd(p, v); }
static inline void paravirt_alloc_pt(pfn_t pfn) { xen_pin_table(pfn, 1); }
static inline void paravirt_release_pt(pfn_t pfn) { xen_unpin_table(pfn); }
static inline void paravirt_alloc_pd(pfn_t pfn) { xen_pin_table(pfn, 2); }
static inline void paravirt_release_pd(pfn_t pfn) { xen_unpin_table(pfn); }
static inline void arch_enter_lazy_mmu_mode(void) { xen_lazy_mmu = 1; }
static inline void arch_leave_lazy_mmu_mode(void)
{
	xen_mmu_flush();
	xen_lazy_mmu = 0;
}
/* M:041 XenoLinux batched a context switch's stack_switch and base-pointer
 * change in one multicall; here they are two hypercalls. */
static inline void arch_enter_lazy_cpu_mode(void) { }
static inline void arch_leave_lazy_cpu_mode(void) { }
static inline u64 sched_clock(void) { return native_read_tsc(); }
/* Page-table entries hold machine frames: translate on the way in and out. */
static inline pte_t make_pte(u32 v)
{
	return (v & 1) ? ((xen_pfn_to_mfn(v >> PAGE_SHIFT) << PAGE_SHIFT) | (v & ~PAGE_MASK)) : v;
}
static inline u32 pte_val(pte_t v)
{
	return (v & 1) ? ((xen_mfn_to_pfn(v >> PAGE_SHIFT) << PAGE_SHIFT) | (v & ~PAGE_MASK)) : v;
}

/* ========================================================================= */
#else /* CONFIG_NATIVE */
static inline u32 save_fl(void) { return native_save_fl(); }
static inline void restore_fl(u32 f) { native_restore_fl(f); }
static inline void irq_disable(void) { native_irq_disable(); }
static inline void irq_enable(void) { native_irq_enable(); }
static inline void safe_halt(void) { native_safe_halt(); }
static inline void halt(void) { native_halt(); }
static inline void load_gdt(const struct desc_ptr *d) { native_load_gdt(d); }
static inline void load_idt(const struct desc_ptr *d) { native_load_idt(d); }
static inline void load_tr_desc(void) { native_load_tr_desc(); }
static inline void load_sp0(struct tss *t, u32 sp0) { native_load_sp0(t, sp0); }
static inline u32 read_cr0(void) { return native_read_cr0(); }
static inline void write_cr0(u32 v) { native_write_cr0(v); }
static inline u32 read_cr2(void) { return native_read_cr2(); }
static inline u32 read_cr3(void) { return native_read_cr3(); }
static inline void write_cr3(u32 pa) { native_write_cr3(pa); }
static inline void flush_tlb_user(void) { native_flush_tlb_user(); }
static inline void flush_tlb_single(u32 va) { native_flush_tlb_single(va); }
static inline void set_pte(pte_t *p, pte_t v) { native_set_pte(p, v); }
static inline void set_pte_at(struct mm_struct *mm, u32 addr, pte_t *p, pte_t v)
{
	(void)mm;
	(void)addr;
	native_set_pte(p, v);
}
static inline void set_pmd(pmd_t *p, pmd_t v) { native_set_pmd(p, v); }
static inline void paravirt_alloc_pt(pfn_t pfn) { (void)pfn; }
static inline void paravirt_release_pt(pfn_t pfn) { (void)pfn; }
static inline void paravirt_alloc_pd(pfn_t pfn) { (void)pfn; }
static inline void paravirt_release_pd(pfn_t pfn) { (void)pfn; }
static inline void arch_enter_lazy_mmu_mode(void) { }
static inline void arch_leave_lazy_mmu_mode(void) { }
static inline void arch_enter_lazy_cpu_mode(void) { }
static inline void arch_leave_lazy_cpu_mode(void) { }
static inline u64 sched_clock(void) { return native_read_tsc(); }
static inline pte_t make_pte(u32 v) { return v; }
static inline u32 pte_val(pte_t v) { return v; }
#endif

/* Port I/O (bare-metal drivers only; see native.h). */
static inline void outb(u16 port, u8 v) { native_outb(port, v); }
static inline u8 inb(u16 port) { return native_inb(port); }

/* The spinlock idiom: save, disable, ..., restore. */
#define local_irq_save(f) do { (f) = save_fl(); irq_disable(); } while (0)
#define local_irq_restore(f) restore_fl(f)

#else /* __ASSEMBLER__ */

/* P:050 INTERRUPT_RETURN, used by entry.S once every register is restored.
 * Linux jumps through the table here rather than calling: there is no stack
 * left to return to. */
#if defined(CONFIG_PARAVIRT)
#define INTERRUPT_RETURN						\
	771: jmp *pv_ops+4*PV_OP_CPU_IRET; .nops 2; 772:;		\
	.pushsection .parainstructions,"a"; .balign 4; .long 771b;	\
	.byte PV_OP_CPU_IRET; .byte 772b-771b; .short CLBR_NONE; .popsection
#elif defined(CONFIG_VMI)
#define INTERRUPT_RETURN						\
	771: iret; 772: .nops 5-(772b-771b); 773:;			\
	.pushsection __vmi_annotation,"a"; .balign 4; .long 771b;	\
	.byte VMI_CALL_IRET; .byte 773b-771b; .byte 772b-771b;		\
	.byte VMI_ANNOT_JUMP; .popsection
#else
/* native, and XenoLinux: a ring-1 kernel may iret to ring 1 or 3 itself
 * (entry.S first re-enables event delivery when the frame's IF is set). */
#define INTERRUPT_RETURN iret
#endif
#endif /* __ASSEMBLER__ */
#endif
