/* paging.c: page tables, address spaces and demand-zero faults.
 *
 * M:030 Two-level i386 paging, 4 KiB pages only.  The top quarter of every
 * address space (PDEs 768 and up) is the kernel's: a direct map of RAM
 * built once here and shared by copying those PDEs into each new page
 * directory (Linux's shared kernel pmd).  Below it, user space: the user text
 * (the kernel's .utext pages, mapped read-only into every process) and
 * demand-zero regions (stack, mmap).
 *
 * Every write to a live page table goes through set_pte/set_pte_at/set_pmd,
 * every new or retired table page through alloc_pt/release_pt, and runs of
 * updates sit between arch_enter/leave_lazy_mmu_mode() so a hypervisor
 * backend may batch them. */
#include "kernel.h"
#include "mm.h"
#include "paravirt.h"
#include "xen/pvops_xen.h"

struct mm_struct init_mm;

#define PGD_INDEX(va) ((va) >> PGDIR_SHIFT)
#define PTE_INDEX(va) (((va) >> PAGE_SHIFT) & (PTRS_PER_PTE - 1))
#define USER_PTE_FLAGS (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER)
#define DIRECT_MAP_MAX (512u << 20)

#ifdef CONFIG_XENOLINUX
#include "xen/xen.h"
/* Xen owns the top of every address space (from HYPERVISOR_VIRT_START). */
#define KERNEL_PGD_END (XEN_HYPERVISOR_VIRT_START >> PGDIR_SHIFT)
#else
#define KERNEL_PGD_END 1024u
#endif

static pte_t *pt_of(pmd_t pmd)
{
	return __va(pte_val(pmd) & PAGE_MASK);
}

/* The page table covering va, allocated if asked. */
pte_t *lookup_pte(struct mm_struct *mm, u32 va, int create)
{
	pmd_t *pmd = &mm->pgd[PGD_INDEX(va)];

	if (!(*pmd & _PAGE_PRESENT)) {
		pfn_t pfn;

		if (!create)
			return NULL;
		pfn = alloc_page();
		paravirt_alloc_pt(pfn);
		set_pmd(pmd, make_pte((pfn << PAGE_SHIFT) |
				      (va < PAGE_OFFSET ? USER_PTE_FLAGS : _PAGE_PRESENT | _PAGE_RW)));
	}
	return &pt_of(*pmd)[PTE_INDEX(va)];
}

void paging_init(void)
{
	phys_addr_t end = mem_bytes < DIRECT_MAP_MAX ? mem_bytes : DIRECT_MAP_MAX;
	phys_addr_t pa = 0;

#if defined(CONFIG_XENOLINUX) || defined(CONFIG_PARAVIRT_XEN)
	if (xen_booted()) {
		/* Keep the page directory Xen built (already pinned) and extend
		 * its direct map past the domain builder's boot mapping: entries
		 * already present (among them the read-only ones of page-table
		 * frames) stay. */
		end = xen_phys_end();
		page_alloc_init(xen_first_free(), end);
		init_mm.pgd = __va(read_cr3());
	} else
#endif
	{
		page_alloc_init(__pa(_end), end);
		init_mm.pgd = pfn_to_virt(alloc_page());
		paravirt_alloc_pd(virt_to_pfn(init_mm.pgd));
	}
	arch_enter_lazy_mmu_mode();
	for (; pa < end; pa += PAGE_SIZE) {
		pte_t *pte = lookup_pte(&init_mm, PAGE_OFFSET + pa, 1);

		if (!(*pte & _PAGE_PRESENT))
			set_pte(pte, make_pte(pa | _PAGE_PRESENT | _PAGE_RW));
	}
	arch_leave_lazy_mmu_mode();
	write_cr3(__pa(init_mm.pgd));	/* drops the boot identity map too */
	printk("paging: %u MiB direct-mapped, %u frames free\n", end >> 20, nr_free_pages());
}

/* A fresh address space: the kernel half copied in, the user half empty.
 * The directory is not live yet, so plain copies are fine; alloc_pd comes
 * after, as Linux's pgd_alloc does (Xen pins it then). */
int mm_init(struct mm_struct *mm)
{
	pfn_t pfn = alloc_page();

	memset(mm, 0, sizeof(*mm));
	mm->pgd = pfn_to_virt(pfn);
	memcpy(&mm->pgd[KERNEL_PGD_FIRST], &init_mm.pgd[KERNEL_PGD_FIRST],
	       (KERNEL_PGD_END - KERNEL_PGD_FIRST) * sizeof(pmd_t));
	paravirt_alloc_pd(pfn);
	return 0;
}

/* The user text: the kernel's .utext frames, read-only, shared. */
void mm_map_user_text(struct mm_struct *mm)
{
	u32 n = (u32)(__utext_end - __utext_start) >> PAGE_SHIFT;

	arch_enter_lazy_mmu_mode();
	for (u32 i = 0; i < n; i++) {
		u32 va = USER_TEXT_BASE + i * PAGE_SIZE;
		phys_addr_t pa = __pa(__utext_start) + i * PAGE_SIZE;

		set_pte_at(mm, va, lookup_pte(mm, va, 1),
			   make_pte(pa | _PAGE_PRESENT | _PAGE_USER | _PAGE_SHARED_TEXT));
	}
	arch_leave_lazy_mmu_mode();
}

int mm_add_region(struct mm_struct *mm, u32 start, u32 end)
{
	for (int i = 0; i < MM_REGIONS; i++) {
		if (!mm->regions[i].end) {
			mm->regions[i].start = start;
			mm->regions[i].end = end;
			return 0;
		}
	}
	return -1;
}

void mm_del_region(struct mm_struct *mm, u32 start, u32 end)
{
	for (int i = 0; i < MM_REGIONS; i++)
		if (mm->regions[i].start == start && mm->regions[i].end == end)
			mm->regions[i].end = 0;
}

struct vm_region *mm_find_region(struct mm_struct *mm, u32 va)
{
	for (int i = 0; i < MM_REGIONS; i++)
		if (mm->regions[i].end && va >= mm->regions[i].start && va < mm->regions[i].end)
			return &mm->regions[i];
	return NULL;
}

/* Map fresh zeroed frames on [start, end) now (mmap with MAP_POPULATE). */
void mm_populate_range(struct mm_struct *mm, u32 start, u32 end)
{
	arch_enter_lazy_mmu_mode();
	for (u32 va = start; va < end; va += PAGE_SIZE) {
		pte_t *pte = lookup_pte(mm, va, 1);

		if (!(*pte & _PAGE_PRESENT))
			set_pte_at(mm, va, pte, make_pte((alloc_page() << PAGE_SHIFT) | USER_PTE_FLAGS));
	}
	arch_leave_lazy_mmu_mode();
}

/* Unmap [start, end) and free its frames; one TLB flush at the end. */
void mm_unmap_range(struct mm_struct *mm, u32 start, u32 end)
{
	int any = 0;

	arch_enter_lazy_mmu_mode();
	for (u32 va = start; va < end; va += PAGE_SIZE) {
		pte_t *pte = lookup_pte(mm, va, 0);

		if (!pte || !(*pte & _PAGE_PRESENT))
			continue;
		if (!(*pte & _PAGE_SHARED_TEXT))
			free_page(pte_val(*pte) >> PAGE_SHIFT);
		set_pte_at(mm, va, pte, 0);
		any = 1;
	}
	arch_leave_lazy_mmu_mode();
	if (any && mm == &init_mm)
		flush_tlb_user();
	else if (any)
		for (u32 va = start; va < end; va += PAGE_SIZE)
			flush_tlb_single(va);
}

/* Tear down the user half: the pages of every mapping, then the page
 * tables, then the directory.  The caller has already switched to init_mm
 * (we never free a live pgd), so no TLB flush is needed. */
void mm_free_user(struct mm_struct *mm)
{
	arch_enter_lazy_mmu_mode();
	for (int r = -1; r < MM_REGIONS; r++) {
		u32 start = r < 0 ? USER_TEXT_BASE : mm->regions[r].start;
		u32 end = r < 0 ? USER_TEXT_BASE + (u32)(__utext_end - __utext_start) : mm->regions[r].end;

		for (u32 va = start; va < end; va += PAGE_SIZE) {
			pte_t *pte = lookup_pte(mm, va, 0);

			if (!pte || !(*pte & _PAGE_PRESENT))
				continue;
			if (!(*pte & _PAGE_SHARED_TEXT))
				free_page(pte_val(*pte) >> PAGE_SHIFT);
			set_pte_at(mm, va, pte, 0);
		}
	}
	for (u32 i = 0; i < KERNEL_PGD_FIRST; i++) {
		pmd_t pmd = mm->pgd[i];

		if (!(pmd & _PAGE_PRESENT))
			continue;
		set_pmd(&mm->pgd[i], 0);
		paravirt_release_pt(virt_to_pfn(pt_of(pmd)));
		free_page(virt_to_pfn(pt_of(pmd)));
	}
	arch_leave_lazy_mmu_mode();
	paravirt_release_pd(virt_to_pfn(mm->pgd));
	free_page(virt_to_pfn(mm->pgd));
	mm->pgd = NULL;
}

void switch_mm(struct mm_struct *prev, struct mm_struct *next)
{
	if (prev != next)
		write_cr3(__pa(next->pgd));
}

/* Demand-zero: a not-present fault inside a region gets a fresh frame. */
int handle_page_fault(struct mm_struct *mm, u32 va, u32 error_code)
{
	pte_t *pte;

	if (error_code & _PAGE_PRESENT)	/* protection fault, not a missing page */
		return -1;
	if (!mm_find_region(mm, va))
		return -1;
	pte = lookup_pte(mm, va, 1);
	set_pte_at(mm, va & PAGE_MASK, pte, make_pte((alloc_page() << PAGE_SHIFT) | USER_PTE_FLAGS));
	return 0;
}
