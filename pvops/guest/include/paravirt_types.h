/* paravirt_types.h: the types of the paravirt layer, and its binary contract
 * with the host.  (Linux's first layer: asm/paravirt_types.h.)
 *
 * Nothing here emits code.  paravirt.h holds the typed wrappers (the only
 * call sites), native.h the instructions they stand for.
 *
 * ---------------------------------------------------------------------------
 * P:010 The pvops op-call ABI (what a gate on the host must marshal)
 * ---------------------------------------------------------------------------
 * The kernel is compiled with -mregparm=3, as Linux i386 is.  Every op is a
 * C function of the kernel's ABI reached by
 *
 *      site:  ff 15 <&pv_ops[N]>      call *pv_ops+4*N      (6 bytes)
 *             66 90                   2-byte NOP pad         (site = 8 bytes)
 *
 * so, at the gate, [esp] is the return address (site + 8) and:
 *   - arguments 1..3 are in EAX, EDX, ECX, in that order (32-bit values);
 *     a 64-bit argument takes two consecutive registers, low word first;
 *     a 4th argument is on the stack at [esp+4] (the caller pushed it and
 *     pops it itself: the op returns with a plain `ret`);
 *   - a 32-bit result is returned in EAX, a 64-bit one in EDX:EAX;
 *   - the op may clobber EAX, ECX, EDX and the arithmetic flags; it preserves
 *     EBX, ESI, EDI, EBP, ESP, the segment registers and EFLAGS.IF/DF unless
 *     the op's meaning is to change IF.
 * The clobbers field of each site says what the *site* tolerates; call sites
 * compiled from C say CLBR_ANY (EAX|ECX|EDX, the regparm caller-saved set),
 * jump sites (iret) say CLBR_NONE.
 *
 *   op (registry name)     args                         result
 *   irq.save_fl            -                            EAX = flags (only IF,
 *                                                       0x200, is meaningful)
 *   irq.restore_fl         EAX = flags                  -
 *   irq.irq_disable        -                            -
 *   irq.irq_enable         -                            -
 *   irq.safe_halt          -  (enable + halt, atomically as `sti; hlt`)
 *   irq.halt               -  (halt with IF as it is)
 *   cpu.load_gdt           EAX = struct desc_ptr *      -
 *   cpu.load_idt           EAX = struct desc_ptr *      - (under Xen this is
 *                          set_trap_table: the table's *contents* are read,
 *                          its address is not loaded anywhere)
 *   cpu.load_tr_desc       -  (load TR with GDT_ENTRY_TSS<<3 = 0x28)
 *   cpu.load_sp0           EAX = struct tss *, EDX = new kernel stack top
 *                          (Linux passes a thread_struct *; we pass the value)
 *   cpu.read_cr0           -                            EAX
 *   cpu.write_cr0          EAX = value                  -
 *   cpu.iret               JUMPED TO, not called: the stack holds an iret
 *                          frame (eip, cs, eflags[, esp, ss]); every general
 *                          register already holds its final value
 *   mmu.read_cr2           -                            EAX
 *   mmu.read_cr3           -                            EAX (physical)
 *   mmu.write_cr3          EAX = physical address of the page directory
 *   mmu.flush_tlb_user     -  (drop non-global TLB entries)
 *   mmu.flush_tlb_single   EAX = virtual address
 *   mmu.set_pte            EAX = pte_t *ptep (kernel virtual), EDX = pte
 *   mmu.set_pte_at         EAX = struct mm_struct *, EDX = user vaddr,
 *                          ECX = pte_t *ptep, [esp+4] = pte
 *   mmu.set_pmd            EAX = pmd_t *pmdp (kernel virtual), EDX = pmd
 *   mmu.alloc_pt           EAX = pfn of a new page-table page (before use)
 *   mmu.release_pt         EAX = pfn of a page-table page (after last use)
 *   mmu.alloc_pd           EAX = pfn of a new page directory
 *   mmu.release_pd         EAX = pfn of a page directory
 *   mmu.lazy_mode.enter    -  (updates until leave may be batched)
 *   mmu.lazy_mode.leave    -  (all batched updates are done when it returns)
 *   cpu.lazy_mode.enter    -  (around a context switch's load_sp0 + write_cr3,
 *   cpu.lazy_mode.leave    -   which a backend may batch, as 2.6.21's
 *                              PARAVIRT_LAZY_CPU)
 *   time.sched_clock       -                            EDX:EAX = cycles
 *
 * pv_ops[] is an array of PV_OP_COUNT code addresses indexed by op number.
 * The numbers come from the host's registry (pvops.ops.c_header(), rendered
 * into pv_ops_numbers.h by the build driver).  The kernel fills every slot
 * with its native default (paravirt/native_ops.c); the host may overwrite
 * any slot before entry (finding the table by its ELF symbol `pv_ops`).  A
 * slot the kernel has no default for points to paravirt_bug (ud2).
 * ------------------------------------------------------------------------- */
#ifndef PVOPS_PARAVIRT_TYPES_H
#define PVOPS_PARAVIRT_TYPES_H

/* Clobber masks (FACTS 1c, Linux 2.6.20). */
#define CLBR_NONE 0
#define CLBR_EAX 1
#define CLBR_ECX 2
#define CLBR_EDX 4
#define CLBR_ANY 7

/* Lengths of the patchable sites each flavour emits. */
#define PV_SITE_LEN 8	/* pvops: call *pv_ops+4*N (6) + 2-byte NOP */
#define VMI_SITE_LEN 5	/* vmi: native bytes + NOPs, room for a call rel32 */

#ifndef __ASSEMBLER__
#include "types.h"

/* P:020 One `.parainstructions` record per pvops site, 8 bytes (FACTS 1c:
 * Linux's struct paravirt_patch_site). */
struct paravirt_patch_site {
	u32 instr;	/* virtual address of the site */
	u8 instrtype;	/* op number (PV_OP_*) */
	u8 len;		/* site length in bytes */
	u16 clobbers;	/* CLBR_* the site tolerates */
} __packed;

/* Static information the host may read (and, before entry, set). */
struct pv_info {
	u32 kernel_rpl;		/* ring the kernel runs in: 0, or 1 */
	u32 paravirt_enabled;	/* set by the host when pv_ops holds gates */
	char name[24];		/* "bare hardware" unless the host says */
};
extern struct pv_info pv_info;
#endif
#endif
