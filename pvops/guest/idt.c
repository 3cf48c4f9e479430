/* idt.c: the interrupt descriptor table.
 *
 * I:010 entry.S lists its stubs in vector_table as {vector, address} pairs;
 * we make each an interrupt gate (IF cleared on entry) to the kernel's code
 * segment, except the system call, a trap gate with DPL 3 so ring 3 may
 * `int $0x80` and interrupts stay on while the kernel serves it. */
#include "kernel.h"
#include "paravirt.h"

struct idt_gate {
	u16 offset_lo, selector;
	u8 zero, type_attr;
	u16 offset_hi;
} __packed;

struct vector_entry {
	u32 vector;
	u32 handler;
};
extern const struct vector_entry vector_table[];

struct idt_gate idt_table[NR_VECTORS] __attribute__((aligned(8)));

#define GATE_INTERRUPT 0x0E
#define GATE_TRAP 0x0F

void idt_init(void);
void idt_init(void)
{
	struct desc_ptr d;
	const struct vector_entry *v;

	for (v = vector_table; v->vector != 0xFFFFFFFF; v++) {
		struct idt_gate *g = &idt_table[v->vector];
		u32 dpl = v->vector == SYSCALL_VECTOR ? 3 : 0;
		u32 type = v->vector == SYSCALL_VECTOR ? GATE_TRAP : GATE_INTERRUPT;

		g->offset_lo = v->handler & 0xFFFF;
		g->offset_hi = v->handler >> 16;
		g->selector = __KERNEL_CS;
		g->zero = 0;
		g->type_attr = (u8)(0x80 | (dpl << 5) | type);
	}
	d.size = sizeof(idt_table) - 1;
	d.address = (u32)idt_table;
	load_idt(&d);
}
