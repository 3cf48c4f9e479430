/* paravirt/late.c: late registration of ops.
 *
 * P:070 A pvops kernel that booted on its native ops may find, once it runs,
 * a hypervisor offering better ones.  KVM's guests did exactly this from
 * 2.6.25: cpuid leaf 0x40000000 names the hypervisor, then kvm_guest_init()
 * replaced pv_mmu_ops entries.  This kernel asks the same question; a
 * hypervisor that answers rebinds the slots of pv_ops[] it improves, but
 * only for a kernel built with that backend (CONFIG_PARAVIRT_BACKENDS in
 * the image's notes): the backend is kernel code in Linux, so a kernel that
 * predates it cannot take it.  The kernel here only reports what it found. */
#include "kernel.h"
#include "paravirt.h"

#define HYPERVISOR_LEAF 0x40000000u

void paravirt_late_init(void);
void paravirt_late_init(void)
{
	u32 eax = HYPERVISOR_LEAF, ebx = 0, ecx = 0, edx = 0;
	char name[13];
	u32 i;

	hypervisor_cpuid(&eax, &ebx, &ecx, &edx);
	if (eax < HYPERVISOR_LEAF || !(ebx | ecx | edx))
		return;		/* bare metal, or a hypervisor that keeps quiet */
	for (i = 0; i < 4; i++) {
		name[i] = (char)(ebx >> (8 * i));
		name[4 + i] = (char)(ecx >> (8 * i));
		name[8 + i] = (char)(edx >> (8 * i));
	}
	name[12] = 0;
	printk("paravirt: running on hypervisor \"%s\"\n", name);
}
