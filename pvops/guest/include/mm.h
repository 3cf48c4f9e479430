/* mm.h: physical frames, address spaces and page-table helpers. */
#ifndef PVOPS_MM_H
#define PVOPS_MM_H
#include "types.h"
#include "x86.h"

/* page_alloc.c: a free list of 4 KiB frames threaded through the frames
 * themselves (via the direct map). */
void page_alloc_init(phys_addr_t first_free, phys_addr_t end);
pfn_t alloc_page(void);		/* zeroed; panics when out of memory */
void free_page(pfn_t pfn);
u32 nr_free_pages(void);
static inline void *pfn_to_virt(pfn_t pfn) { return __va(pfn << PAGE_SHIFT); }
static inline pfn_t virt_to_pfn(const void *v) { return __pa(v) >> PAGE_SHIFT; }

/* A demand-zero region of a user address space. */
struct vm_region {
	u32 start, end;		/* [start, end), page aligned; end == 0: unused */
};
#define MM_REGIONS 4

struct mm_struct {
	pmd_t *pgd;		/* kernel virtual address of the page directory */
	struct vm_region regions[MM_REGIONS];
};

/* paging.c */
extern struct mm_struct init_mm;	/* the kernel-only address space */
void paging_init(void);
pte_t *lookup_pte(struct mm_struct *mm, u32 va, int create);
int mm_init(struct mm_struct *mm);	/* new address space: kernel half only */
void mm_map_user_text(struct mm_struct *mm);
void mm_free_user(struct mm_struct *mm);	/* frees pages, tables, pgd */
void mm_unmap_range(struct mm_struct *mm, u32 start, u32 end);
void mm_populate_range(struct mm_struct *mm, u32 start, u32 end);
int mm_add_region(struct mm_struct *mm, u32 start, u32 end);
void mm_del_region(struct mm_struct *mm, u32 start, u32 end);
struct vm_region *mm_find_region(struct mm_struct *mm, u32 va);
void switch_mm(struct mm_struct *prev, struct mm_struct *next);
int handle_page_fault(struct mm_struct *mm, u32 va, u32 error_code);

/* fork.c */
int copy_mm(struct mm_struct *dst, struct mm_struct *src);

/* The kernel image, from kernel.ld. */
extern char _text[], _end[], __utext_start[], __utext_end[];
#endif
