/* libc and libgcc pieces the programs need: gcc may call mem* itself, and
   64-bit division on i386 is a call to __udivdi3 and friends. */
#include "lib.h"

volatile u32 out[64];

#define NO_PATTERNS __attribute__((optimize("no-tree-loop-distribute-patterns")))

NO_PATTERNS void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

NO_PATTERNS void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

NO_PATTERNS void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) {
        while (n--)
            *d++ = *s++;
    } else {
        while (n--)
            d[n] = s[n];
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
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

/* Shift-and-subtract unsigned 64-bit division, as libgcc's generic C. */
static u64 udivmod64(u64 n, u64 d, u64 *rem)
{
    u64 q = 0, r = 0;
    int i;
    if (d == 0) {
        /* Like the hardware: divide by zero traps. */
        volatile u32 zero = 0;
        return (u32)n / zero;
    }
    if ((d >> 32) == 0 && (n >> 32) < d) {
        /* Fast path when the quotient fits 32 bits: one divl. */
        u32 hi = (u32)(n >> 32), lo = (u32)n, qq, rr;
        __asm__("divl %4" : "=a"(qq), "=d"(rr) : "a"(lo), "d"(hi), "rm"((u32)d));
        if (rem)
            *rem = rr;
        return qq;
    }
    for (i = 63; i >= 0; i--) {
        r = (r << 1) | ((n >> i) & 1);
        if (r >= d) {
            r -= d;
            q |= (u64)1 << i;
        }
    }
    if (rem)
        *rem = r;
    return q;
}

u64 __udivdi3(u64 n, u64 d) { return udivmod64(n, d, 0); }

u64 __umoddi3(u64 n, u64 d)
{
    u64 r;
    udivmod64(n, d, &r);
    return r;
}

s64 __divdi3(s64 n, s64 d)
{
    int neg = (n < 0) ^ (d < 0);
    u64 q = udivmod64(n < 0 ? -(u64)n : (u64)n, d < 0 ? -(u64)d : (u64)d, 0);
    return neg ? -(s64)q : (s64)q;
}

s64 __moddi3(s64 n, s64 d)
{
    u64 r;
    udivmod64(n < 0 ? -(u64)n : (u64)n, d < 0 ? -(u64)d : (u64)d, &r);
    return n < 0 ? -(s64)r : (s64)r;
}

/* gcc -O2 fuses a division and a modulo by the same divisor into these. */
u64 __udivmoddi4(u64 n, u64 d, u64 *rem) { return udivmod64(n, d, rem); }

s64 __divmoddi4(s64 n, s64 d, s64 *rem)
{
    s64 q = __divdi3(n, d);
    if (rem)
        *rem = n - q * d;
    return q;
}
