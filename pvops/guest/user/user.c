/* user/user.c: the ring-3 side of the workloads.
 *
 * U:010 This file is compiled like the rest, then its sections are renamed
 * (.text -> .utext) so the linker puts it on pages of its own, which the
 * kernel maps read-only at USER_TEXT_BASE in every process.  It therefore
 * runs at a different address than it was linked at, so it must be position
 * independent: no globals, no string literals, no jump tables, calls only
 * between functions of this file.  The build driver checks that the object
 * has no relocations at all.
 *
 * Each entry point gets `iterations` in EAX (regparm) and ends with exit(),
 * whose code the kernel prints as the checksum (checksums.py recomputes it). */
#include "types.h"
#include "x86.h"
#include "sched.h"

#define U static inline __attribute__((always_inline))

U u32 sys0(u32 nr)
{
	u32 r;
	asm volatile("int $0x80" : "=a"(r) : "0"(nr) : "memory");
	return r;
}
U u32 sys1(u32 nr, u32 a)
{
	u32 r;
	asm volatile("int $0x80" : "=a"(r) : "0"(nr), "b"(a) : "memory");
	return r;
}
U u32 sys3(u32 nr, u32 a, u32 b, u32 c)
{
	u32 r;
	asm volatile("int $0x80" : "=a"(r) : "0"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return r;
}
U void __noreturn sys_exit(u32 code)
{
	sys1(SYS_exit, code);
	for (;;)
		;
}
U u32 rotl(u32 x, unsigned r) { return (x << r) | (x >> (32 - r)); }

void __noreturn user_syscall_main(u32 n);
void __noreturn user_ctxsw_main(u32 n);
void __noreturn user_pagefault_main(u32 n);
void __noreturn user_fork_main(u32 n);
void __noreturn user_mmap_main(u32 n);
void __noreturn user_compute_main(u32 n);

void __noreturn user_syscall_main(u32 n)
{
	u32 c = 0;

	for (u32 i = 0; i < n; i++)
		c = rotl(c, 5) ^ sys1(SYS_null, i);
	sys_exit(c);
}

void __noreturn user_ctxsw_main(u32 n)
{
	for (u32 i = 0; i < n; i++)
		sys1(SYS_yield, i);
	sys_exit(0);
}

#define PF_WINDOW 32u	/* pages; remapped when used up, so they are fresh */

void __noreturn user_pagefault_main(u32 n)
{
	u32 base = USER_MMAP_BASE, c = 0;

	sys3(SYS_mmap, base, PF_WINDOW * PAGE_SIZE, 0);
	for (u32 i = 0; i < n; i++) {
		u32 p = i % PF_WINDOW;
		volatile u32 *w;

		if (p == 0 && i) {
			sys3(SYS_munmap, base, PF_WINDOW * PAGE_SIZE, 0);
			sys3(SYS_mmap, base, PF_WINDOW * PAGE_SIZE, 0);
		}
		w = (volatile u32 *)(base + p * PAGE_SIZE + ((i * 4) & 0xFFC));
		c ^= *w;			/* a demand-zero page reads 0 */
		*w = i * 0x01000193u + 1;
		c = rotl(c, 7) + *w;
	}
	sys_exit(c);
}

#define FORK_HEAP_PAGES 8u

void __noreturn user_fork_main(u32 n)
{
	volatile u32 *heap = (volatile u32 *)USER_MMAP_BASE;
	u32 c = 0;

	sys3(SYS_mmap, USER_MMAP_BASE, FORK_HEAP_PAGES * PAGE_SIZE, MAP_POPULATE);
	for (u32 j = 0; j < FORK_HEAP_PAGES; j++)
		heap[j * 1024] = j * 0x1111u + 7;
	for (u32 i = 0; i < n; i++) {
		volatile u32 local = i * 3 + 1;
		u32 slot = (i % FORK_HEAP_PAGES) * 1024;

		heap[slot] += i;
		if (sys0(SYS_fork) == 0)	/* child: prove it got copies */
			sys_exit(local * 7 ^ heap[slot]);
		c = rotl(c, 1) ^ sys0(SYS_wait);
	}
	sys_exit(c);
}

#define MMAP_PAGES 4u

void __noreturn user_mmap_main(u32 n)
{
	u32 c = 0;

	for (u32 i = 0; i < n; i++) {
		u32 a = sys3(SYS_mmap, USER_MMAP_BASE, MMAP_PAGES * PAGE_SIZE, MAP_POPULATE);
		u32 s = 0;

		for (u32 j = 0; j < MMAP_PAGES; j++) {
			volatile u32 *p = (volatile u32 *)(a + j * PAGE_SIZE);

			s += *p;		/* populated pages read 0 */
			*p = i + j;
			s += *p;
		}
		c = rotl(c, 5) ^ (a + s);
		sys3(SYS_munmap, a, MMAP_PAGES * PAGE_SIZE, 0);
	}
	sys_exit(c);
}

void __noreturn user_compute_main(u32 n)
{
	u32 x = 0x12345678u, c = 0;

	for (u32 i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		c = c * 31 + (x ^ i);
	}
	sys_exit(c);
}
