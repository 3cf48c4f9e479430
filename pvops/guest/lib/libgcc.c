/* lib/libgcc.c: the 64-bit division helpers gcc calls on i386.  We link
 * without libgcc (there is no 32-bit one on the build host, and a kernel
 * should not depend on it anyway), so we bring our own: plain shift-and-
 * subtract, which is all printk's %llu needs. */
#include "types.h"

u64 __udivmoddi4(u64 n, u64 d, u64 *rem);
u64 __udivdi3(u64 n, u64 d);
u64 __umoddi3(u64 n, u64 d);
s64 __divdi3(s64 n, s64 d);
s64 __moddi3(s64 n, s64 d);

u64 __udivmoddi4(u64 n, u64 d, u64 *rem)
{
	u64 q = 0, r = 0;

	if (d == 0) {
		/* Division by zero: fault as the hardware divide would. */
		volatile u32 zero = 0;
		return 1 / zero;
	}
	if ((d >> 32) == 0 && (n >> 32) == 0) {
		u32 n32 = (u32)n, d32 = (u32)d;
		if (rem)
			*rem = n32 % d32;
		return n32 / d32;
	}
	for (int i = 63; i >= 0; i--) {
		r = (r << 1) | ((n >> i) & 1);
		if (r >= d) {
			r -= d;
			q |= 1ULL << i;
		}
	}
	if (rem)
		*rem = r;
	return q;
}

u64 __udivdi3(u64 n, u64 d) { return __udivmoddi4(n, d, NULL); }

u64 __umoddi3(u64 n, u64 d)
{
	u64 r;

	__udivmoddi4(n, d, &r);
	return r;
}

s64 __divdi3(s64 n, s64 d)
{
	int neg = (n < 0) ^ (d < 0);
	u64 q = __udivmoddi4(n < 0 ? -(u64)n : (u64)n, d < 0 ? -(u64)d : (u64)d, NULL);

	return neg ? -(s64)q : (s64)q;
}

s64 __moddi3(s64 n, s64 d)
{
	u64 r;

	__udivmoddi4(n < 0 ? -(u64)n : (u64)n, d < 0 ? -(u64)d : (u64)d, &r);
	return n < 0 ? -(s64)r : (s64)r;
}
