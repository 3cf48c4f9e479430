/* lib/string.c: the few string functions a kernel needs.  (Compiled with
 * -fno-tree-loop-distribute-patterns, or gcc would turn memset's own loop
 * into a call to memset.)
 *
 * memset and memcpy zero and copy whole pages all the time (every new frame,
 * every page fork copies), so the word-aligned case is one `rep stosl` /
 * `rep movsl`, as Linux i386's are: on an interpreter that is the difference
 * between a few and a few thousand dispatched instructions per page. */
#include "kernel.h"

void *memset(void *s, int c, size_t n)
{
	if (!(((u32)s | n) & 3)) {
		u32 word = (u8)c * 0x01010101u, d0, d1;

		asm volatile("rep stosl" : "=D"(d0), "=c"(d1) : "0"(s), "1"(n / 4), "a"(word) : "memory");
		return s;
	}
	for (u8 *p = s; n--;)
		*p++ = (u8)c;
	return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
	u8 *dp = d;
	const u8 *sp = s;

	if (!(((u32)dp | (u32)sp | n) & 3)) {
		u32 d0, d1, d2;

		asm volatile("rep movsl" : "=D"(d0), "=S"(d1), "=c"(d2) : "0"(d), "1"(s), "2"(n / 4) : "memory");
		return d;
	}
	while (n--)
		*dp++ = *sp++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;

	for (; n--; x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n--; a++, b++) {
		if (*a != *b)
			return (u8)*a - (u8)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}
