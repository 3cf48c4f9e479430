/* 64-bit arithmetic on i386: division and modulo through the libgcc-style
   helpers in lib.c, multiplication, shifts (shld/shrd) and comparisons. */
#include "lib.h"

static u64 vals[48];

static u64 isqrt64(u64 n)
{
    u64 x, y;
    if (n < 2)
        return n;
    x = n >> 32 ? (u64)1 << 32 : n;  /* >= sqrt(n), and x + n / x cannot overflow */
    y = (x + n / x) / 2;
    while (y < x) {
        x = y;
        y = (x + n / x) / 2;
    }
    return x;
}

static u32 gcd64(u64 a, u64 b)
{
    u32 steps = 0;
    while (b) {
        u64 t = a % b;
        a = b;
        b = t;
        steps++;
    }
    return (u32)a ^ steps;
}

int main(void)
{
    u32 st = 7;
    u64 acc = 0;
    s64 sacc = 0;
    for (int i = 0; i < 48; i++) {
        u64 hi = lcg(&st), lo = lcg(&st);
        vals[i] = (hi << 32 | lo) >> (i % 40);
    }
    for (int i = 0; i < 48; i++) {
        for (int j = 0; j < 48; j += 5) {
            u64 d = vals[j] | 1;
            acc += vals[i] / d + vals[i] % d;
            s64 sn = (s64)vals[i] - (s64)vals[j];
            s64 sd = (s64)(vals[(i + j) % 48] >> (j % 23)) - 12345;
            if (sd == 0)
                sd = 3;
            sacc ^= sn / sd + sn % sd;
            acc += (vals[i] * vals[j]) >> (j % 64);
            acc ^= (vals[i] << (i % 64)) | (vals[j] >> ((i + 7) % 64));
        }
    }
    out[0] = (u32)acc;
    out[1] = (u32)(acc >> 32);
    out[2] = (u32)sacc;
    out[3] = (u32)((u64)sacc >> 32);
    out[4] = (u32)isqrt64(0xFFFFFFFFFFFFFFFFull);
    out[5] = gcd64(0x123456789ABCDEFull, 0xFEDCBA987654321ull);
    out[6] = (u32)(1000000007ull * 998244353ull % 4294967291ull);
    out[63] = 1;
    return (int)(out[0] ^ out[2] ^ out[4] ^ out[5]);
}
