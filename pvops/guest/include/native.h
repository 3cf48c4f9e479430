/* native.h: the privileged instructions themselves, one inline each.
 *
 * Included only by paravirt.h (the wrappers) and paravirt/native_ops.c (the
 * defaults the pvops table starts with).  Named native_<op>, as Linux does,
 * so a reader can match each against the op it implements. */
#ifndef PVOPS_NATIVE_H
#define PVOPS_NATIVE_H
#include "types.h"
#include "x86.h"

static inline u32 native_save_fl(void)
{
	u32 f;
	asm volatile("pushfl; popl %0" : "=r"(f) : : "memory");
	return f;
}
static inline void native_restore_fl(u32 f)
{
	asm volatile("pushl %0; popfl" : : "g"(f) : "memory", "cc");
}
static inline void native_irq_disable(void) { asm volatile("cli" : : : "memory"); }
static inline void native_irq_enable(void) { asm volatile("sti" : : : "memory"); }
/* sti's one-instruction interrupt shadow makes `sti; hlt` atomic: an
 * interrupt pending at the sti wakes the hlt instead of being lost. */
static inline void native_safe_halt(void) { asm volatile("sti; hlt" : : : "memory"); }
static inline void native_halt(void) { asm volatile("hlt" : : : "memory"); }

static inline void native_load_gdt(const struct desc_ptr *d)
{
	asm volatile("lgdt %0" : : "m"(*d));
}
static inline void native_load_idt(const struct desc_ptr *d)
{
	asm volatile("lidt %0" : : "m"(*d));
}
static inline void native_load_tr_desc(void)
{
	asm volatile("ltr %w0" : : "q"(__TSS_SEL));
}
/* Both esp0 and esp1: the CPU takes the stack of the ring the interrupt gate
 * leads to, which is ring 1 when a hypervisor runs us there. */
static inline void native_load_sp0(struct tss *t, u32 sp0)
{
	t->esp0 = sp0;
	t->esp1 = sp0;
}

static inline void native_cpuid(u32 *eax, u32 *ebx, u32 *ecx, u32 *edx)
{
	asm volatile("cpuid" : "+a"(*eax), "=b"(*ebx), "+c"(*ecx), "=d"(*edx) : : "memory");
}

static inline u32 native_read_cr0(void)
{
	u32 v;
	asm volatile("movl %%cr0, %0" : "=r"(v));
	return v;
}
static inline void native_write_cr0(u32 v) { asm volatile("movl %0, %%cr0" : : "r"(v) : "memory"); }
static inline u32 native_read_cr2(void)
{
	u32 v;
	asm volatile("movl %%cr2, %0" : "=r"(v));
	return v;
}
static inline u32 native_read_cr3(void)
{
	u32 v;
	asm volatile("movl %%cr3, %0" : "=r"(v));
	return v;
}
static inline void native_write_cr3(u32 v) { asm volatile("movl %0, %%cr3" : : "r"(v) : "memory"); }
static inline void native_flush_tlb_user(void) { native_write_cr3(native_read_cr3()); }
static inline void native_flush_tlb_single(u32 va)
{
	asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}
static inline void native_set_pte(pte_t *ptep, pte_t v) { *(volatile pte_t *)ptep = v; }
static inline void native_set_pmd(pmd_t *pmdp, pmd_t v) { *(volatile pmd_t *)pmdp = v; }
static inline u64 native_read_tsc(void)
{
	u64 v;
	asm volatile("rdtsc" : "=A"(v));
	return v;
}

/* Port I/O.  Not a paravirt op in Linux 2.6.2x (only io_delay is): a
 * hypervisor traps it and hands it to its device model.  Written here so
 * that this header stays the one place with privileged instructions. */
static inline void native_outb(u16 port, u8 v) { asm volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 native_inb(u16 port)
{
	u8 v;
	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline u16 native_read_cs(void)
{
	u16 cs;
	asm volatile("movw %%cs, %0" : "=r"(cs));
	return cs;
}
#endif
