/* pc/timer.c: the PC timer: PIT channel 0 at HZ, through an 8259 PIC pair
 * remapped to vectors 32..47 (the BIOS leaves IRQ 0-7 on vectors 8-15, on
 * top of the CPU's exceptions). */
#include "kernel.h"
#include "paravirt.h"
#include "sched.h"
#include "xen/pvops_xen.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
#define PIC_EOI 0x20
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_HZ 1193182u

static void pic_remap(void)
{
	outb(PIC1_CMD, 0x11);		/* ICW1: edge, cascade, ICW4 follows */
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, FIRST_EXTERNAL_VECTOR);		/* ICW2: base vectors */
	outb(PIC2_DATA, FIRST_EXTERNAL_VECTOR + 8);
	outb(PIC1_DATA, 0x04);		/* ICW3: slave on IRQ 2 */
	outb(PIC2_DATA, 0x02);
	outb(PIC1_DATA, 0x01);		/* ICW4: 8086 mode */
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xFE);		/* mask all but IRQ 0 (the PIT) */
	outb(PIC2_DATA, 0xFF);
}

void timer_init(void)
{
	u32 divisor = (PIT_HZ + HZ / 2) / HZ;

#ifdef CONFIG_PARAVIRT_XEN
	if (xen_booted()) {	/* X:120 the tick is the backend's VIRQ_TIMER */
		paravirt_time_init();
		return;
	}
#endif
	pic_remap();
	outb(PIT_CMD, 0x34);		/* channel 0, lo/hi byte, mode 2 */
	outb(PIT_CH0, divisor & 0xFF);
	outb(PIT_CH0, divisor >> 8);
}

/* Called by traps.c for vectors 32..47. */
void platform_irq(u32 vector);
void platform_irq(u32 vector)
{
	if (vector == TIMER_VECTOR)
		timer_interrupt();
	if (xen_booted())
		return;		/* an event, not a PIC line: nothing to acknowledge */
	if (vector >= FIRST_EXTERNAL_VECTOR + 8)
		outb(PIC2_CMD, PIC_EOI);
	outb(PIC1_CMD, PIC_EOI);
}

/* B:040 Power off: on qemu, an isa-debug-exit device at 0xf4 (only when the
 * command line asks, since on other machines the port may mean something);
 * everywhere else, `cli; hlt` with nothing to wake us, which the pvops core
 * reports as HALT. */
void __noreturn machine_power_off(void)
{
	if (cmdline_get_u32("debug_exit", 0))
		outb(0xf4, 0x00);
	for (;;) {
		irq_disable();
		halt();
	}
}
