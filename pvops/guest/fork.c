/* fork.c: copy an address space (the heart of fork()).
 *
 * F:010 Eager copy, no copy-on-write: every present user page of the parent
 * gets a fresh frame in the child, except the shared user text, which is
 * mapped, not copied.  The child's tables are not live, so each PTE write
 * could be a plain store natively; it still goes through set_pte_at inside
 * one lazy-MMU section, because under a hypervisor the child's tables are
 * already registered (alloc_pt) and writes to them are what gets batched -
 * the path Linux's copy_page_range() takes. */
#include "kernel.h"
#include "mm.h"
#include "paravirt.h"

/* Copy the pages of one range; the walk follows the mappings (VMAs), as
 * copy_page_range() does, rather than scanning whole page tables. */
static void copy_range(struct mm_struct *dst, struct mm_struct *src, u32 start, u32 end)
{
	for (u32 va = start; va < end; va += PAGE_SIZE) {
		pte_t *spte = lookup_pte(src, va, 0);
		pte_t pte, *dpte;

		if (!spte || !(*spte & _PAGE_PRESENT))
			continue;
		pte = *spte;
		dpte = lookup_pte(dst, va, 1);
		if (pte & _PAGE_SHARED_TEXT) {
			set_pte_at(dst, va, dpte, pte);
		} else {
			pfn_t n = alloc_page();

			memcpy(pfn_to_virt(n), __va(pte_val(pte) & PAGE_MASK), PAGE_SIZE);
			set_pte_at(dst, va, dpte, make_pte((n << PAGE_SHIFT) | (pte_val(pte) & ~PAGE_MASK)));
		}
	}
}

int copy_mm(struct mm_struct *dst, struct mm_struct *src)
{
	mm_init(dst);
	memcpy(dst->regions, src->regions, sizeof(dst->regions));
	arch_enter_lazy_mmu_mode();
	copy_range(dst, src, USER_TEXT_BASE, USER_TEXT_BASE + (u32)(__utext_end - __utext_start));
	for (int i = 0; i < MM_REGIONS; i++)
		if (src->regions[i].end)
			copy_range(dst, src, src->regions[i].start, src->regions[i].end);
	arch_leave_lazy_mmu_mode();
	return 0;
}
