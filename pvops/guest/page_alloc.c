/* page_alloc.c: physical frames.
 *
 * M:020 The simplest allocator that works: frames never used yet come from a
 * bump pointer (lowest address first), frames given back go on a free list
 * threaded through the frames themselves (each holds the pfn of the next,
 * read through the direct map).  The bump pointer matters at boot: it
 * touches no frame before handing it out, so page_alloc_init() runs before
 * the direct map covers all of RAM, and the first page tables come from the
 * lowest frames, which the boot mapping (or, under Xen, the domain builder's
 * mapping) already covers. */
#include "kernel.h"
#include "mm.h"

#define NO_PFN 0xFFFFFFFFu
static pfn_t free_head = NO_PFN;
static pfn_t bump_next, bump_end;
static u32 free_count;

void page_alloc_init(phys_addr_t first_free, phys_addr_t end)
{
	bump_next = (first_free + PAGE_SIZE - 1) >> PAGE_SHIFT;
	bump_end = end >> PAGE_SHIFT;
	free_count = bump_end > bump_next ? bump_end - bump_next : 0;
}

pfn_t alloc_page(void)
{
	pfn_t p = free_head;

	if (p != NO_PFN) {
		free_head = *(pfn_t *)pfn_to_virt(p);
	} else if (bump_next < bump_end) {
		p = bump_next++;
	} else {
		panic("out of memory");
	}
	free_count--;
	memset(pfn_to_virt(p), 0, PAGE_SIZE);
	return p;
}

void free_page(pfn_t pfn)
{
	*(pfn_t *)pfn_to_virt(pfn) = free_head;
	free_head = pfn;
	free_count++;
}

u32 nr_free_pages(void)
{
	return free_count;
}
