/* vrom.h: what every VMI option ROM here shares: the header, the call
 * numbers, the 32-byte call slots, the relocation table and the fixups.
 *
 * R:010 A VMI ROM is an x86 option ROM (FACTS 2, Linux 2.6.21
 * include/asm-i386/vmi.h):
 *
 *   0    0xaa55, length in 512-byte units, checksum byte at 7
 *   8    "cVmi", then API 3.0 at 12/13, jump_slots, virtual_top at 16,
 *        license_offs at 22, pci_header_offs at 24, pnp_header_offs at 26
 *   32   (reserved: the parameters a hypervisor fills in, R:030)
 *   128  vmi_init (8 bytes of code), 136 get_reloc (8 bytes of code)
 *   0x400 + 32*n   the call slot of VMI call n
 *
 * The ROM is linked at 0 and runs wherever it is mapped (the kernel calls
 * it through its direct map, tests at a physical address).  Code that runs
 * before relocation addresses the ROM as `sym(%base)`; hot code uses
 * absolute addresses marked FIXUP, which vmi_init relocates once (R:020).
 * Every call follows the kernel's site ABI (paravirt.h, V:030): arguments
 * in EAX, EDX, ECX, results in EAX or EDX:EAX; EAX, ECX, EDX and the flags
 * are clobbered, everything else is preserved. */

#define VMI_SIGNATURE 0x696d5663	/* "cVmi" */
#define VMI_API_REV_MAJOR 3
#define VMI_API_REV_MINOR 0
#define PCI_VENDOR_ID_VMWARE 0x15AD
#define PCI_DEVICE_ID_VMWARE_VMI 0x0801

#define VMI_RELOCATION_NONE 0
#define VMI_RELOCATION_CALL_REL 1
#define VMI_RELOCATION_JUMP_REL 2
#define VMI_RELOCATION_NOP 3
#define RELOC_IMPLEMENTED 0x80	/* table bit: the slot holds code */

/* VMI_CALL numbers: Linux 2.6.21 include/asm-i386/vmi.h (FACTS 2). */
#define VMI_CALL_CPUID 0
#define VMI_CALL_WRMSR 1
#define VMI_CALL_RDMSR 2
#define VMI_CALL_SetGDT 3
#define VMI_CALL_SetLDT 4
#define VMI_CALL_SetIDT 5
#define VMI_CALL_SetTR 6
#define VMI_CALL_GetGDT 7
#define VMI_CALL_GetLDT 8
#define VMI_CALL_GetIDT 9
#define VMI_CALL_GetTR 10
#define VMI_CALL_WriteGDTEntry 11
#define VMI_CALL_WriteLDTEntry 12
#define VMI_CALL_WriteIDTEntry 13
#define VMI_CALL_UpdateKernelStack 14
#define VMI_CALL_SetCR0 15
#define VMI_CALL_SetCR2 16
#define VMI_CALL_SetCR3 17
#define VMI_CALL_SetCR4 18
#define VMI_CALL_GetCR0 19
#define VMI_CALL_GetCR2 20
#define VMI_CALL_GetCR3 21
#define VMI_CALL_GetCR4 22
#define VMI_CALL_WBINVD 23
#define VMI_CALL_SetDR 24
#define VMI_CALL_GetDR 25
#define VMI_CALL_RDPMC 26
#define VMI_CALL_RDTSC 27
#define VMI_CALL_CLTS 28
#define VMI_CALL_EnableInterrupts 29
#define VMI_CALL_DisableInterrupts 30
#define VMI_CALL_GetInterruptMask 31
#define VMI_CALL_SetInterruptMask 32
#define VMI_CALL_IRET 33
#define VMI_CALL_SYSEXIT 34
#define VMI_CALL_Halt 35
#define VMI_CALL_Reboot 36
#define VMI_CALL_Shutdown 37
#define VMI_CALL_SetPxE 38
#define VMI_CALL_SetPxELong 39
#define VMI_CALL_UpdatePxE 40
#define VMI_CALL_UpdatePxELong 41
#define VMI_CALL_MachineToPhysical 42
#define VMI_CALL_PhysicalToMachine 43
#define VMI_CALL_AllocatePage 44
#define VMI_CALL_ReleasePage 45
#define VMI_CALL_InvalPage 46
#define VMI_CALL_FlushTLB 47
#define VMI_CALL_SetLinearMapping 48
#define VMI_CALL_IODelay 65
#define VMI_CALL_SetLazyMode 73
#define VMI_NCALLS 80

#define SLOTS 0x400
#define X86_EFLAGS_IF 0x200
#define X86_CR0_TS 0x8

/* R:020 An instruction whose last four bytes are an absolute ROM address
 * (`movl sym, %reg`, `movl $sym, %reg`, `pushl $sym`...): vmi_init adds the
 * ROM's base to them. */
#define FIXUP 8888: ; .pushsection .fixup, "a" ; .long 8888b - 4 ; .popsection

	.code32
	.text

/* The header.  `license` names a string the ROM file defines. */
.macro VROM_HEADER
_rom:
	.byte 0x55, 0xaa
	.byte 0			/* 2: length, set by the builder */
	.byte 0xcb		/* 3: real-mode init vector: retf */
	.byte 0, 0, 0
	.byte 0			/* 7: checksum, set by the builder */
	.long VMI_SIGNATURE	/* 8 */
	.byte VMI_API_REV_MINOR, VMI_API_REV_MAJOR	/* 12, 13 */
	.byte 0			/* 14: jump_slots */
	.byte 0
	.long 0			/* 16: virtual_top: we reserve no address space */
	.word 0
	.word license - _rom	/* 22 */
	.word pci_header - _rom	/* 24 */
	.word 0			/* 26: no PnP header */
	.long 0
.endm

/* R:030 The builder-visible parameter block at 32 (the header's reserved
 * bytes, which the kernel never reads): a hypervisor model that maps this
 * ROM may rewrite these words (pvops.backends.vmi.rom.with_params) and fix
 * the checksum. */
#define PARAM_ROM_PA 32		/* guest-physical address the ROM is mapped at */
#define PARAM_SHARED_INFO_PA 36	/* guest-physical address of shared_info (Xen) */
#define PARAM_TIMER_VECTOR 40	/* vector the timer event is injected as */

.macro VROM_PARAMS shared_info_pa=0, timer_vector=0x20
	.org PARAM_ROM_PA
	.long 0xC0000
	.long \shared_info_pa
	.long \timer_vector
.endm

.macro PCI_HEADER
	.balign 4
pci_header:
	.ascii "PCIR"
	.word PCI_VENDOR_ID_VMWARE, PCI_DEVICE_ID_VMWARE_VMI
	.word 0, 24		/* vpd, length */
	.byte 0, 0, 0, 0	/* revision, class code */
	.word 0, 0		/* code length (set nowhere: informational), level */
	.byte 0x80, 0		/* last image */
license:
	.asciz "GPL"
	.balign 16, 0		/* room for a test to write a longer string */
	.skip 16
.endm

/* get_reloc(EAX = call) -> EDX:EAX = {eip, type} (struct vmi_relocation_info).
 * Position independent: it may run before vmi_init has relocated anything. */
.macro GET_RELOC
get_reloc_impl:
	call 1f
1:	popl %ecx
	subl $1b, %ecx			/* ECX = the ROM's base */
	cmpl $VMI_NCALLS, %eax
	jae 2f
	movzbl reloc_table(%ecx, %eax), %edx
	testb $RELOC_IMPLEMENTED, %dl
	jz 2f
	andl $0x7f, %edx
	shll $5, %eax
	leal SLOTS(%ecx, %eax), %eax
	ret
2:	xorl %eax, %eax
	xorl %edx, %edx
	ret
.endm

/* Relocate the absolute addresses marked FIXUP, once.  In: ECX = base.
 * Out: ZF set if this base is the one the ROM is (now) relocated to.
 * Clobbers EAX, EDX. */
.macro APPLY_FIXUPS
	movl rom_base(%ecx), %eax
	testl %eax, %eax
	jnz 3f
	movl %ecx, rom_base(%ecx)
	leal __fixups(%ecx), %edx
1:	leal __fixups_end(%ecx), %eax
	cmpl %eax, %edx
	jae 2f
	movl (%edx), %eax
	addl %ecx, (%ecx, %eax)
	addl $4, %edx
	jmp 1b
2:	movl %ecx, %eax
3:	cmpl %ecx, %eax
.endm

/* The slot of call n, and its entry in the relocation table.  Slots must be
 * written in increasing order; one that overflows its 32 bytes makes the
 * next .org move backwards, which as refuses. */
.macro SLOT n, type
	.org SLOTS + (\n) * 32, 0xcc
	.set reloc_\n, RELOC_IMPLEMENTED | (\type)
.endm
.macro SLOTS_END
	.org SLOTS + VMI_NCALLS * 32, 0xcc
.endm

.macro RELOC_ENTRY n
	.ifdef reloc_\n
	.byte reloc_\n
	.else
	.byte 0
	.endif
.endm
.macro RELOC_TABLE
reloc_table:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79
	RELOC_ENTRY \n
	.endr
.endm
