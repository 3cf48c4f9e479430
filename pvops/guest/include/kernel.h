/* kernel.h: printk, panic, string helpers and the boot-time globals. */
#ifndef PVOPS_KERNEL_H
#define PVOPS_KERNEL_H
#include "types.h"
#include "x86.h"

/* lib/printk.c: a tiny printf (%s %c %d %u %x %08x %llu %llx %p). */
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void __noreturn panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define BUG_ON(c) do { if (unlikely(c)) panic("BUG at %s:%d: %s", __FILE__, __LINE__, #c); } while (0)

/* lib/string.c */
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);
int streq(const char *a, const char *b);

/* console.c: the console driver of the flavour (UART, or Xen console_io). */
void console_init(void);
void console_write(const char *s, size_t n);

/* main.c */
extern char boot_cmdline[256];
extern u32 mem_bytes;		/* RAM size the boot protocol reported */
extern const char flavour_name[];
void __noreturn start_kernel(void);
const char *cmdline_get(const char *key);   /* value after "key=", or NULL */
u32 cmdline_get_u32(const char *key, u32 dflt);
void __noreturn machine_power_off(void);

/* Checksum helper shared by the workloads: rotate left. */
static inline u32 rotl32(u32 x, unsigned r)
{
	r &= 31;
	return r ? (x << r) | (x >> (32 - r)) : x;
}

#endif
