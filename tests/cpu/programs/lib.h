/* Freestanding helpers shared by the test programs. */
#ifndef PVOPS_TEST_LIB_H
#define PVOPS_TEST_LIB_H

typedef unsigned int u32;
typedef int s32;
typedef unsigned long long u64;
typedef long long s64;
typedef unsigned int size_t;

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* Deterministic pseudo-random numbers (Numerical Recipes LCG). */
static inline u32 lcg(u32 *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state;
}

/* Results the harness compares (besides all of memory). */
extern volatile u32 out[64];

#endif
