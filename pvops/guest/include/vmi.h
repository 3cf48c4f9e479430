/* vmi.h: the VMI 3.0 binary interface the vmi flavour is annotated for
 * (FACTS 2, Linux 2.6.21 include/asm-i386/vmi.h; the annotation idea is from
 * the March 2006 RFC, patch 5/24).
 *
 * V:010 A VMI site is the *native* instruction sequence, written so that its
 * operands already sit where the ROM's call would want them (EAX, EDX, ECX:
 * the regparm order), padded with NOPs to VMI_SITE_LEN bytes, and declared to
 * clobber what a call clobbers.  One __vmi_annotation record names the VMI
 * call.  With no ROM the native bytes run (the base ABI); with a ROM, vmi.c
 * rewrites each site into `call`/`jmp rel32` to the ROM's slot, or NOPs, as
 * the ROM's relocation info says. */
#ifndef PVOPS_VMI_H
#define PVOPS_VMI_H

#define VMI_SIGNATURE 0x696d5663	/* "cVmi" */
#define VMI_API_REV_MAJOR 3
#define VMI_API_REV_MINOR 0
#define PCI_VENDOR_ID_VMWARE 0x15AD
#define PCI_DEVICE_ID_VMWARE_VMI 0x0801
#define VMI_ROM_START 0xC0000
#define VMI_ROM_END 0xE0000
#define VMI_ROM_STEP 2048

/* VMI call numbers used by this kernel (FACTS 2). */
#define VMI_CALL_SetGDT 3
#define VMI_CALL_SetIDT 5
#define VMI_CALL_SetTR 6
#define VMI_CALL_UpdateKernelStack 14
#define VMI_CALL_SetCR0 15
#define VMI_CALL_SetCR3 17
#define VMI_CALL_GetCR0 19
#define VMI_CALL_GetCR2 20
#define VMI_CALL_GetCR3 21
#define VMI_CALL_RDTSC 27
#define VMI_CALL_EnableInterrupts 29
#define VMI_CALL_DisableInterrupts 30
#define VMI_CALL_GetInterruptMask 31
#define VMI_CALL_SetInterruptMask 32
#define VMI_CALL_IRET 33
#define VMI_CALL_Halt 35
#define VMI_CALL_SetPxE 38
#define VMI_CALL_AllocatePage 44
#define VMI_CALL_ReleasePage 45
#define VMI_CALL_InvalPage 46
#define VMI_CALL_FlushTLB 47
#define VMI_CALL_SetLazyMode 73

#define VMI_PAGE_PT 1
#define VMI_PAGE_PD 2
#define VMI_FLUSH_TLB 1

#define VMI_RELOCATION_NONE 0
#define VMI_RELOCATION_CALL_REL 1
#define VMI_RELOCATION_JUMP_REL 2
#define VMI_RELOCATION_NOP 3

/* Annotation flags. */
#define VMI_ANNOT_JUMP 1	/* the site is jumped through (IRET) */

#ifndef __ASSEMBLER__
#include "types.h"

/* V:020 One __vmi_annotation record per site, 8 bytes. */
struct vmi_annotation {
	u32 site;	/* virtual address of the site */
	u8 call;	/* VMI_CALL_* */
	u8 len;		/* site length (>= 5) */
	u8 native_len;	/* bytes of native code at the start of the site */
	u8 flags;	/* VMI_ANNOT_* */
} __packed;

/* The ROM header (packed, 144 bytes; offsets from FACTS 2). */
struct vrom_header {
	u16 rom_signature;	/* 0: 0xaa55 */
	u8 rom_length;		/* 2: in 512-byte units */
	u8 rom_entry[4];	/* 3 */
	u8 rom_pad0;		/* 7 */
	u32 vrom_signature;	/* 8: "cVmi" */
	u8 api_version_min;	/* 12 */
	u8 api_version_maj;	/* 13 */
	u8 jump_slots;		/* 14 */
	u8 reserved1;		/* 15 */
	u32 virtual_top;	/* 16 */
	u16 reserved2;		/* 20 */
	u16 license_offs;	/* 22 */
	u16 pci_header_offs;	/* 24 */
	u16 pnp_header_offs;	/* 26 */
	u32 rom_pad3;		/* 28 */
	u8 reserved[96];	/* 32 */
	char vmi_init[8];	/* 128: code: call here, returns 0 on success */
	char get_reloc[8];	/* 136: code: EAX = call, returns EDX:EAX */
} __packed;

struct pci_header {
	u32 signature;		/* "PCIR" */
	u16 vendorID;
	u16 deviceID;
	u16 vpd;
	u16 length;
	u8 rev;
	u8 classcode[3];
	u16 codelength;
	u16 codelevel;
	u8 indicator;
	u8 reserved;
} __packed;

struct vmi_relocation_info {
	u32 eip;
	u8 type;
	u8 reserved[3];
} __packed;

void vmi_init(void);
#endif
#endif
