/* Sieve of Eratosthenes with a byte array and with a bit array, counting
   primes and twin primes; plus a small string workload. */
#include "lib.h"

#define LIMIT 30000

static unsigned char composite[LIMIT + 1];
static u32 bits[(LIMIT >> 5) + 1];
static char text[512];

int main(void)
{
    int primes = 0, twins = 0, bitprimes = 0, last = 0;
    memset(composite, 0, sizeof composite);
    for (int i = 2; i * i <= LIMIT; i++)
        if (!composite[i])
            for (int j = i * i; j <= LIMIT; j += i)
                composite[j] = 1;
    for (int i = 2; i <= LIMIT; i++) {
        if (!composite[i]) {
            primes++;
            if (last && i - last == 2)
                twins++;
            last = i;
        }
    }
    for (int i = 2; i * i <= LIMIT; i++)
        if (!(bits[i >> 5] & (1u << (i & 31))))
            for (int j = i * i; j <= LIMIT; j += i)
                bits[j >> 5] |= 1u << (j & 31);
    for (int i = 2; i <= LIMIT; i++)
        bitprimes += !(bits[i >> 5] & (1u << (i & 31)));
    for (int i = 0; i < 500; i++)
        text[i] = (char)('a' + (i * 7) % 26);
    text[500] = 0;
    out[0] = (u32)primes;
    out[1] = (u32)twins;
    out[2] = (u32)bitprimes;
    out[3] = strlen(text);
    out[4] = (u32)memcmp(text, text + 26, 100);
    memmove(text + 1, text, 200);
    out[5] = (u32)text[100] << 8 | (u32)text[1];
    out[63] = primes == bitprimes;
    return primes;
}
