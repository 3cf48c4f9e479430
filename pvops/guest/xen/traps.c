/* xen/traps.c: the IDT becomes a trap table; the TSS stack becomes
 * stack_switch; CR2 comes from wherever this ABI puts it. */
#include "kernel.h"
#include "xen/hypercall.h"
#include "xen/xen.h"

u32 xen_fault_cr2;	/* 2.0: entry.S saves the CR2 Xen pushed */

struct idt_gate {
	u16 offset_lo, selector;
	u8 zero, type_attr;
	u16 offset_hi;
} __packed;

/* Xen reads the table's contents, not the IDTR: translate every present
 * gate into a trap_info (interrupt gates mask events on entry). */
void xen_load_idt(const struct desc_ptr *d)
{
	static struct xen_trap_info table[NR_VECTORS + 1];
	const struct idt_gate *g = (const struct idt_gate *)d->address;
	u32 n = 0;

	for (u32 v = 0; v < (d->size + 1u) / 8 && v < NR_VECTORS; v++) {
		if (!(g[v].type_attr & 0x80))
			continue;
		table[n].vector = (u8)v;
		table[n].flags = (u8)(((g[v].type_attr >> 5) & 3) |
				      ((g[v].type_attr & 0xF) == 0xE ? XEN_TI_MASK_EVENTS : 0));
		table[n].cs = g[v].selector;
		table[n].address = g[v].offset_lo | ((u32)g[v].offset_hi << 16);
		n++;
	}
	table[n].address = 0;	/* terminator */
	HYPERVISOR_set_trap_table(table);
}

void xen_stack_switch(u32 ss, u32 esp)
{
	HYPERVISOR_stack_switch(ss, esp);
}

u32 xen_read_cr2(void)
{
#if XEN_ABI == 200
	return xen_fault_cr2;
#else
	return *(volatile u32 *)((u8 *)xen_vcpu + XEN_VCPU_ARCH_CR2);
#endif
}
