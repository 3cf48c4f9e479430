/* pc/console.c: the console on a 16550 UART at COM1 (0x3F8).
 *
 * Polled output: wait for "transmit holding register empty" in the line
 * status register, then write the byte.  No interrupts, no receive side. */
#include "kernel.h"
#include "paravirt.h"
#include "xen/pvops_xen.h"

#define COM1 0x3F8
#define UART_THR 0	/* transmit holding register (DLAB = 0) */
#define UART_DLL 0	/* divisor latch, low byte (DLAB = 1) */
#define UART_IER 1
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_LSR_THRE 0x20
#define UART_LCR_DLAB 0x80

void console_init(void)
{
	if (xen_booted())
		return;		/* X:120 Xen's console needs no setting up */
	outb(COM1 + UART_IER, 0x00);		/* no interrupts */
	outb(COM1 + UART_LCR, UART_LCR_DLAB);
	outb(COM1 + UART_DLL, 1);		/* 115200 baud */
	outb(COM1 + UART_DLM, 0);
	outb(COM1 + UART_LCR, 0x03);		/* 8N1 */
	outb(COM1 + UART_FCR, 0xC7);		/* FIFO on, cleared */
	outb(COM1 + UART_MCR, 0x03);		/* DTR, RTS */
}

static void uart_putc(char c)
{
	while (!(inb(COM1 + UART_LSR) & UART_LSR_THRE))
		;
	outb(COM1 + UART_THR, (u8)c);
}

void console_write(const char *s, size_t n)
{
#ifdef CONFIG_PARAVIRT_XEN
	if (xen_booted()) {
		xen_console_write(s, n);
		return;
	}
#endif
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
}
