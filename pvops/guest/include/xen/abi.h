/* xen/abi.h: the Xen guest ABI this kernel is compiled against, selected by
 * XEN_ABI (200: Xen 2.0.2; 300: Xen 3.0.0).  Numbers, layouts and offsets
 * from FACTS 3 (xen/include/public/xen.h and arch-x86_32.h at those
 * releases; offsets worked out with gcc -m32).  Everything that differs
 * between the two is here, so a XenoLinux binary carries exactly one. */
#ifndef PVOPS_XEN_ABI_H
#define PVOPS_XEN_ABI_H

#if !defined(XEN_ABI) || (XEN_ABI != 200 && XEN_ABI != 300)
#error "XEN_ABI must be 200 or 300"
#endif

/* X:200 Hypercall numbers (FACTS 3a): int $0x82, EAX = number, EBX, ECX,
 * EDX, ESI, EDI = arguments 1-5, result in EAX (FACTS 3b). */
#define __HYPERVISOR_set_trap_table 0
#define __HYPERVISOR_mmu_update 1
#define __HYPERVISOR_set_gdt 2
#define __HYPERVISOR_stack_switch 3
#define __HYPERVISOR_set_callbacks 4
#define __HYPERVISOR_fpu_taskswitch 5
#define __HYPERVISOR_sched_op 6
#define __HYPERVISOR_multicall 13
#define __HYPERVISOR_update_va_mapping 14
#define __HYPERVISOR_set_timer_op 15
#define __HYPERVISOR_event_channel_op 16
#define __HYPERVISOR_xen_version 17
#define __HYPERVISOR_console_io 18
#if XEN_ABI == 300
#define __HYPERVISOR_mmuext_op 26
#endif

/* Flat selectors in Xen's reserved GDT entries (FACTS 3d). */
#if XEN_ABI == 200
#define XEN_FLAT_RING1_CS 0x0819
#define XEN_FLAT_RING1_DS 0x0821
#define XEN_FLAT_RING3_CS 0x082b
#define XEN_FLAT_RING3_DS 0x0833
#else
#define XEN_FLAT_RING1_CS 0xe019
#define XEN_FLAT_RING1_DS 0xe021
#define XEN_FLAT_RING3_CS 0xe02b
#define XEN_FLAT_RING3_DS 0xe033
#endif

#define XEN_HYPERVISOR_VIRT_START 0xFC000000u	/* non-PAE, both */
#define XEN_DOMID_SELF 0x7FF0u

/* start_info_t (FACTS 3d). */
#if XEN_ABI == 200
#define XEN_SI_NR_PAGES 0
#define XEN_SI_SHARED_INFO 8
#define XEN_SI_FLAGS 16
#define XEN_SI_PT_BASE 24
#define XEN_SI_NR_PT_FRAMES 32
#define XEN_SI_MFN_LIST 40
#define XEN_SI_CMD_LINE 64
#define XEN_SI_CMD_LINE_SIZE 256
#else
#define XEN_SI_NR_PAGES 32
#define XEN_SI_SHARED_INFO 36
#define XEN_SI_FLAGS 40
#define XEN_SI_PT_BASE 60
#define XEN_SI_NR_PT_FRAMES 64
#define XEN_SI_MFN_LIST 68
#define XEN_SI_CMD_LINE 80
#define XEN_SI_CMD_LINE_SIZE 1024
#endif
#ifdef XEN_AUTO_FLUSH
/* start_info.flags: the hypothetical auto-flush release invalidates what
 * an mmu_update unmaps (ABI_3_0_AUTOFLUSH in the models' abi.py). */
#define XEN_SIF_AUTO_FLUSH (1u << 8)
#endif

/* shared_info_t and vcpu_info_t (FACTS 3d).  The first 8 bytes of a
 * vcpu_info are the same in both; 3.0 adds arch.cr2 at 8 and time at 32. */
#if XEN_ABI == 200
#define XEN_VCPU_INFO_SIZE 8
#define XEN_SH_EVTCHN_PENDING 260
#define XEN_SH_EVTCHN_MASK 388
#else
#define XEN_VCPU_INFO_SIZE 64
#ifdef XEN_SECFIX
/* The hypothetical security fix (ABI_3_0_SECFIX in the models' abi.py)
 * moved arch.cr2 to 16, leaving 8-15 reserved. */
#define XEN_VCPU_ARCH_CR2 16
#else
#define XEN_VCPU_ARCH_CR2 8
#endif
#define XEN_SH_EVTCHN_PENDING 2048
#define XEN_SH_EVTCHN_MASK 2176
#endif

/* mmu_update: the low two bits of ptr say what to do. */
#define XEN_MMU_NORMAL_PT_UPDATE 0
#if XEN_ABI == 200
#define XEN_MMU_MACHPHYS_UPDATE 2
#define XEN_MMU_EXTENDED_COMMAND 3	/* MMUEXT command in val[7:0] */
#else
#define XEN_MMU_MACHPHYS_UPDATE 1
#endif

/* MMUEXT commands (2.0: through mmu_update; 3.0: mmuext_op, hypercall 26). */
#define XEN_MMUEXT_PIN_L1_TABLE 0
#define XEN_MMUEXT_PIN_L2_TABLE 1
#define XEN_MMUEXT_UNPIN_TABLE 4
#define XEN_MMUEXT_NEW_BASEPTR 5
#if XEN_ABI == 200
#define XEN_MMUEXT_TLB_FLUSH 6
#define XEN_MMUEXT_INVLPG 7
#else
#define XEN_MMUEXT_TLB_FLUSH_LOCAL 6
#define XEN_MMUEXT_INVLPG_LOCAL 7
#endif

/* sched_op: 2.0 takes one word, cmd | reason << 8; 3.0 takes (cmd, arg). */
#define XEN_SCHEDOP_yield 0
#define XEN_SCHEDOP_block 1
#define XEN_SCHEDOP_shutdown 2
#define XEN_SHUTDOWN_poweroff 0

#define XEN_CONSOLEIO_write 0
#define XEN_EVTCHNOP_bind_virq 1
#define XEN_VIRQ_TIMER 0

/* trap_info flags: DPL in bits 0-1; bit 2: mask events on entry (an
 * interrupt gate's "clear IF"). */
#define XEN_TI_MASK_EVENTS 4

#ifndef __ASSEMBLER__
#include "types.h"

struct xen_vcpu_info {
	u8 evtchn_upcall_pending;
	u8 evtchn_upcall_mask;
	u16 pad;
	u32 evtchn_pending_sel;
};

#if XEN_ABI == 200
struct xen_mmu_update {
	u32 ptr, val;		/* 8 bytes */
};
struct xen_multicall_entry {
	u32 op;
	u32 args[7];		/* the result comes back in args[5] */
};
#define XEN_MC_RESULT(e) ((e)->args[5])
#else
struct xen_mmu_update {
	u64 ptr, val;		/* 16 bytes */
};
struct xen_mmuext_op {
	u32 cmd;
	u32 arg1;		/* mfn or linear_addr */
	u32 arg2;		/* nr_ents or vcpumask */
};
struct xen_multicall_entry {
	u32 op;
	u32 result;
	u32 args[6];		/* every argument one word later than 2.0 */
};
#define XEN_MC_RESULT(e) ((e)->result)
#endif

struct xen_trap_info {
	u8 vector;
	u8 flags;
	u16 cs;
	u32 address;
};

struct xen_evtchn_op {
	u32 cmd;
	union {
		struct {
			u32 virq;
#if XEN_ABI == 300
			u32 vcpu;
#endif
			u32 port;	/* out: +4 on 2.0, +8 on 3.0 */
		} bind_virq;
		u32 pad[8];
	} u;
};
#endif
#endif
