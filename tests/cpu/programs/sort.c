/* Quicksort (recursive, with insertion sort for small ranges) and a
   shell sort of pseudo-random arrays; checks both and returns a checksum. */
#include "lib.h"

#define N 1500

static int a[N], b[N];

static void insertion(int *v, int lo, int hi)
{
    for (int i = lo + 1; i <= hi; i++) {
        int x = v[i], j = i - 1;
        while (j >= lo && v[j] > x) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = x;
    }
}

static void quick(int *v, int lo, int hi)
{
    while (hi - lo > 12) {
        int p = v[lo + (hi - lo) / 2], i = lo, j = hi;
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
    insertion(v, lo, hi);
}

static void shell(short *v, int n)
{
    static const int gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
    for (unsigned g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
        int gap = gaps[g];
        for (int i = gap; i < n; i++) {
            short t = v[i];
            int j;
            for (j = i; j >= gap && v[j - gap] > t; j -= gap)
                v[j] = v[j - gap];
            v[j] = t;
        }
    }
}

static short s[N];

int main(void)
{
    u32 st = 12345, sum = 0;
    for (int i = 0; i < N; i++) {
        a[i] = (int)lcg(&st) >> 3;
        s[i] = (short)(lcg(&st) >> 16);
    }
    memcpy(b, a, sizeof a);
    quick(a, 0, N - 1);
    shell(s, N);
    for (int i = 1; i < N; i++) {
        if (a[i - 1] > a[i] || s[i - 1] > s[i])
            return out[63] = 0, -i;
    }
    for (int i = 0; i < N; i++)
        sum = sum * 31 + (u32)a[i] + (u32)(unsigned short)s[i];
    out[0] = (u32)a[0];
    out[1] = (u32)a[N - 1];
    out[2] = (u32)s[N / 2];
    out[3] = sum;
    out[63] = 1;
    return (int)sum;
}
