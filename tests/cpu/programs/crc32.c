/* CRC-32 (IEEE) table-driven and bitwise over pseudo-random data, plus
   Adler-32 and a byte-swapping FNV hash: the loops a kernel's checksums run. */
#include "lib.h"

static u32 table[256];
static unsigned char data[6000];

static void make_table(void)
{
    for (u32 i = 0; i < 256; i++) {
        u32 c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
}

static u32 crc_table(const unsigned char *p, size_t n)
{
    u32 c = 0xFFFFFFFFu;
    while (n--)
        c = table[(c ^ *p++) & 0xFF] ^ (c >> 8);
    return ~c;
}

static u32 crc_bitwise(const unsigned char *p, size_t n)
{
    u32 c = 0xFFFFFFFFu;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & -(c & 1));
    }
    return ~c;
}

static u32 adler(const unsigned char *p, size_t n)
{
    u32 a = 1, b = 0;
    while (n--) {
        a = (a + *p++) % 65521;
        b = (b + a) % 65521;
    }
    return (b << 16) | a;
}

static u32 fnv_swapped(const u32 *p, size_t n)
{
    u32 h = 2166136261u;
    while (n--) {
        u32 x = *p++;
        x = (x >> 24) | ((x >> 8) & 0xFF00) | ((x << 8) & 0xFF0000) | (x << 24);
        h = (h ^ x) * 16777619u;
    }
    return h;
}

int main(void)
{
    u32 st = 42;
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(lcg(&st) >> 24);
    make_table();
    u32 c1 = crc_table(data, sizeof data);
    u32 c2 = crc_bitwise(data, 1500);
    u32 c3 = crc_table(data, 1500);
    out[0] = c1;
    out[1] = c2;
    out[2] = adler(data, sizeof data);
    out[3] = fnv_swapped((const u32 *)data, sizeof data / 4);
    out[4] = crc_table((const unsigned char *)"123456789", 9); /* 0xCBF43926 */
    out[63] = c2 == c3;
    return (int)c1;
}
