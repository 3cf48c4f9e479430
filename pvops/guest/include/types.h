/* types.h: fixed-width integers for a freestanding i386 kernel.
 *
 * No libc here: gcc -ffreestanding gives us <stdint.h>-free C, so we spell the
 * widths out.  Everything the host parses (site records, notes) uses these. */
#ifndef PVOPS_TYPES_H
#define PVOPS_TYPES_H
#ifndef __ASSEMBLER__

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;
typedef unsigned long ulong;
typedef u32 size_t;
typedef u32 phys_addr_t;	/* a guest-physical address */
typedef u32 pfn_t;		/* a guest-physical frame number */
typedef u32 pte_t;		/* a page-table entry value (non-PAE i386) */
typedef u32 pmd_t;		/* a page-directory entry value: on two-level
				 * i386, pmd == pgd, as in Linux */

#define NULL ((void *)0)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define offsetof(t, m) __builtin_offsetof(t, m)
#define barrier() asm volatile("" ::: "memory")
#define __packed __attribute__((packed))
#define __noreturn __attribute__((noreturn))
#define __section(s) __attribute__((section(s)))
#define __used __attribute__((used))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif
#endif
