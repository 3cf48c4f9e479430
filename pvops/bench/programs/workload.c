/* Benchmark workload: about two million i386 instructions of ordinary
   compiled C (CRC-32, quicksort, a sieve, string copies), freestanding. */

typedef unsigned int u32;
typedef unsigned int size_t;

#define NO_PATTERNS __attribute__((optimize("no-tree-loop-distribute-patterns")))

NO_PATTERNS void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

NO_PATTERNS void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

static u32 crc_table[256];
static unsigned char data[16384];
static int keys[3000];
static unsigned char sieve[40000];

static u32 lcg(u32 *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s;
}

static u32 crc32(const unsigned char *p, size_t n)
{
    u32 c = 0xFFFFFFFFu;
    while (n--)
        c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
    return ~c;
}

static void quick(int *v, int lo, int hi)
{
    while (lo < hi) {
        int p = v[(lo + hi) / 2], i = lo, j = hi;
        while (i <= j) {
            while (v[i] < p) i++;
            while (v[j] > p) j--;
            if (i <= j) {
                int t = v[i]; v[i] = v[j]; v[j] = t;
                i++; j--;
            }
        }
        if (j - lo < hi - i) { quick(v, lo, j); lo = i; }
        else { quick(v, i, hi); hi = j; }
    }
}

int main(void)
{
    u32 st = 1, sum = 0;
    for (u32 i = 0; i < 256; i++) {
        u32 c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(lcg(&st) >> 24);
    sum += crc32(data, sizeof data);
    for (int i = 0; i < 3000; i++)
        keys[i] = (int)(lcg(&st) >> 1);
    quick(keys, 0, 2999);
    sum += (u32)keys[1500];
    memset(sieve, 0, sizeof sieve);
    for (int i = 2; i * i < 40000; i++)
        if (!sieve[i])
            for (int j = i * i; j < 40000; j += i)
                sieve[j] = 1;
    for (int i = 2; i < 40000; i++)
        sum += !sieve[i];
    memcpy(data, data + 1000, 8000);
    sum += crc32(data, 4096);
    return (int)sum;
}
