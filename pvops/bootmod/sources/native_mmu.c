/* native_mmu.c: page-table stores as guest code.
 *
 * For a kernel whose backend sends every set_pte to the host (a gate per
 * PTE, or a trap per PTE under a hypervisor), this module puts the plain
 * store back into the guest: the "new driver for an old kernel" case. */
#include "pvops_module.h"

static void mod_set_pte(u32 *ptep, u32 pte) { *(volatile u32 *)ptep = pte; }
static void mod_set_pmd(u32 *pmdp, u32 pmd) { *(volatile u32 *)pmdp = pmd; }
static void mod_set_pte_at(void *mm, u32 addr, u32 *ptep, u32 pte)
{
	(void)mm;
	(void)addr;
	*(volatile u32 *)ptep = pte;
}

PVOPS_MODULE_OPS(
	{ PV_OP_MMU_SET_PTE, mod_set_pte },
	{ PV_OP_MMU_SET_PMD, mod_set_pmd },
	{ PV_OP_MMU_SET_PTE_AT, mod_set_pte_at });
