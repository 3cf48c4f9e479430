/* paravirt/native_ops.c: pv_ops[] and its defaults.  (Linux's third layer:
 * kernel/paravirt.c.)
 *
 * P:060 Every slot starts filled: with the native implementation of its op,
 * with paravirt_nop where bare hardware has nothing to do, or with
 * paravirt_bug for an op this kernel never calls (Linux patches a NULL op to
 * ud2; we never leave a NULL for the host to trip over).  So the pvops image
 * boots on bare metal as it is, and the host, which finds the table by its
 * ELF symbol, may overwrite any slot with a gate before entry.
 *
 * The defaults are ordinary C compiled with -mregparm=3, which is exactly the
 * op ABI documented in paravirt_types.h (P:010); iret is in native_iret.S. */
#include "kernel.h"
#include "paravirt.h"
#include "sched.h"

struct pv_info pv_info = {
	.kernel_rpl = 0,
	.paravirt_enabled = 0,
	.name = "bare hardware",
};

void paravirt_nop(void);
void paravirt_bug(void);	/* native_iret.S */
void native_iret(void);		/* native_iret.S */

void paravirt_nop(void) { }

static u32 n_save_fl(void) { return native_save_fl(); }
static void n_restore_fl(u32 f) { native_restore_fl(f); }
static void n_irq_disable(void) { native_irq_disable(); }
static void n_irq_enable(void) { native_irq_enable(); }
static void n_safe_halt(void) { native_safe_halt(); }
static void n_halt(void) { native_halt(); }
static void n_load_gdt(const struct desc_ptr *d) { native_load_gdt(d); }
static void n_load_idt(const struct desc_ptr *d) { native_load_idt(d); }
static void n_load_tr_desc(void) { native_load_tr_desc(); }
static void n_load_sp0(struct tss *t, u32 sp0) { native_load_sp0(t, sp0); }
static u32 n_read_cr0(void) { return native_read_cr0(); }
static void n_write_cr0(u32 v) { native_write_cr0(v); }
static u32 n_read_cr2(void) { return native_read_cr2(); }
static u32 n_read_cr3(void) { return native_read_cr3(); }
static void n_write_cr3(u32 v) { native_write_cr3(v); }
static void n_flush_tlb_user(void) { native_flush_tlb_user(); }
static void n_flush_tlb_single(u32 va) { native_flush_tlb_single(va); }
static void n_set_pte(pte_t *p, pte_t v) { native_set_pte(p, v); }
static void n_set_pte_at(struct mm_struct *mm, u32 addr, pte_t *p, pte_t v)
{
	(void)mm;
	(void)addr;
	native_set_pte(p, v);
}
static void n_set_pmd(pmd_t *p, pmd_t v) { native_set_pmd(p, v); }
static u64 n_sched_clock(void) { return native_read_tsc(); }
#ifdef PV_OP_MMU_MAKE_PTE
static u32 n_ident_32(u32 v) { return v; }
#endif

#define SLOT(op, fn) [op] = (void *)(fn)

void *pv_ops[PV_OP_COUNT] = {
	[0 ... PV_OP_COUNT - 1] = (void *)paravirt_bug,
	SLOT(PV_OP_IRQ_SAVE_FL, n_save_fl),
	SLOT(PV_OP_IRQ_RESTORE_FL, n_restore_fl),
	SLOT(PV_OP_IRQ_IRQ_DISABLE, n_irq_disable),
	SLOT(PV_OP_IRQ_IRQ_ENABLE, n_irq_enable),
	SLOT(PV_OP_IRQ_SAFE_HALT, n_safe_halt),
	SLOT(PV_OP_IRQ_HALT, n_halt),
	SLOT(PV_OP_CPU_LOAD_GDT, n_load_gdt),
	SLOT(PV_OP_CPU_LOAD_IDT, n_load_idt),
	SLOT(PV_OP_CPU_LOAD_TR_DESC, n_load_tr_desc),
	SLOT(PV_OP_CPU_LOAD_SP0, n_load_sp0),
	SLOT(PV_OP_CPU_READ_CR0, n_read_cr0),
	SLOT(PV_OP_CPU_WRITE_CR0, n_write_cr0),
	SLOT(PV_OP_CPU_IRET, native_iret),
	SLOT(PV_OP_MMU_READ_CR2, n_read_cr2),
	SLOT(PV_OP_MMU_READ_CR3, n_read_cr3),
	SLOT(PV_OP_MMU_WRITE_CR3, n_write_cr3),
	SLOT(PV_OP_MMU_FLUSH_TLB_USER, n_flush_tlb_user),
	SLOT(PV_OP_MMU_FLUSH_TLB_SINGLE, n_flush_tlb_single),
	SLOT(PV_OP_MMU_SET_PTE, n_set_pte),
	SLOT(PV_OP_MMU_SET_PTE_AT, n_set_pte_at),
	SLOT(PV_OP_MMU_SET_PMD, n_set_pmd),
	SLOT(PV_OP_MMU_ALLOC_PT, paravirt_nop),
	SLOT(PV_OP_MMU_RELEASE_PT, paravirt_nop),
	SLOT(PV_OP_MMU_ALLOC_PD, paravirt_nop),
	SLOT(PV_OP_MMU_RELEASE_PD, paravirt_nop),
	SLOT(PV_OP_MMU_LAZY_MODE_ENTER, paravirt_nop),
	SLOT(PV_OP_MMU_LAZY_MODE_LEAVE, paravirt_nop),
	SLOT(PV_OP_CPU_LAZY_MODE_ENTER, paravirt_nop),
	SLOT(PV_OP_CPU_LAZY_MODE_LEAVE, paravirt_nop),
#ifdef PV_OP_MMU_LAZY_MODE_FLUSH
	SLOT(PV_OP_MMU_LAZY_MODE_FLUSH, paravirt_nop),
#endif
#ifdef PV_OP_MMU_MAKE_PTE
	SLOT(PV_OP_MMU_MAKE_PTE, n_ident_32),
#endif
#ifdef PV_OP_MMU_PTE_VAL
	SLOT(PV_OP_MMU_PTE_VAL, n_ident_32),
#endif
	SLOT(PV_OP_TIME_SCHED_CLOCK, n_sched_clock),
};
