/* lib/printk.c: formatted output to the console.
 * Understands %s %c %d %u %x %p, %llu %llx, a 0 flag and a width. */
#include <stdarg.h>
#include "kernel.h"

static void put_num(char **o, char *end, u64 v, unsigned base, int width, char pad, int neg)
{
	char buf[24];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		buf[n++] = '-';
	while (n < width && n < (int)sizeof(buf))
		buf[n++] = pad;
	while (n && *o < end)
		*(*o)++ = buf[--n];
}

static size_t vformat(char *out, size_t size, const char *fmt, va_list ap)
{
	char *o = out, *end = out + size;

	for (; *fmt && o < end; fmt++) {
		int width = 0, longlong = 0;
		char pad = ' ';

		if (*fmt != '%') {
			*o++ = *fmt;
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l')
			longlong++, fmt++;
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			while (*s && o < end)
				*o++ = *s++;
			break;
		}
		case 'c':
			*o++ = (char)va_arg(ap, int);
			break;
		case 'd': {
			s64 v = longlong >= 2 ? va_arg(ap, s64) : va_arg(ap, int);
			put_num(&o, end, v < 0 ? -(u64)v : (u64)v, 10, width, pad, v < 0);
			break;
		}
		case 'u':
			put_num(&o, end, longlong >= 2 ? va_arg(ap, u64) : va_arg(ap, u32), 10, width, pad, 0);
			break;
		case 'x':
			put_num(&o, end, longlong >= 2 ? va_arg(ap, u64) : va_arg(ap, u32), 16, width, pad, 0);
			break;
		case 'p':
			put_num(&o, end, va_arg(ap, u32), 16, 8, '0', 0);
			break;
		case '%':
			*o++ = '%';
			break;
		default:
			if (!*fmt)
				return (size_t)(o - out);
			*o++ = *fmt;
		}
	}
	return (size_t)(o - out);
}

void printk(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = vformat(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	console_write(buf, n);
}

void __noreturn panic(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	size_t n;

	console_write("PVOPS-PANIC ", 12);
	va_start(ap, fmt);
	n = vformat(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	console_write(buf, n);
	console_write("\n", 1);
	machine_power_off();
}
