/* xen/console.c: the console is a hypercall (console_io write, the same
 * in 2.0 and 3.0).  Xen prints it on its own console. */
#include "kernel.h"
#include "xen/hypercall.h"

void console_init(void) { }

void console_write(const char *s, size_t n)
{
	HYPERVISOR_console_io(XEN_CONSOLEIO_write, n, s);
}
