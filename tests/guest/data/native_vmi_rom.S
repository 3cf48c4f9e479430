/* native_vmi_rom.S: a VMI 3.0 option ROM whose call slots do what the
 * native instructions do.  A development aid for the vmi flavour's probe and
 * patch path (vmi/vmi.c) on qemu, before the real ROMs (a later issue):
 *
 *   gcc -m32 -c native_vmi_rom.S && objcopy -O binary -j .text native_vmi_rom.o rom.bin
 *   (fix the checksum byte at offset 7), then qemu ... -option-rom rom.bin
 *
 * qemu_check.py does all of that.  get_reloc returns CALL_REL for most calls,
 * JUMP_REL for IRET, NOP for SetLazyMode and NONE (keep native) for the
 * rest, so every kind of relocation is exercised. */
	.code32
	.text
	.globl _rom
_rom:
	.byte 0x55, 0xaa
	.byte 8			/* 8 x 512 = 4 KiB */
	.byte 0xcb		/* real-mode init vector: retf */
	.byte 0, 0, 0
	.byte 0			/* 7: checksum fix-up */
	.long 0x696d5663	/* 8: cVmi */
	.byte 0, 3		/* 12: min 0, maj 3 */
	.byte 0, 0
	.long 0			/* 16: virtual_top */
	.word 0
	.word license - _rom	/* 22 */
	.word pcihdr - _rom	/* 24 */
	.word 0			/* 26 pnp */
	.org 128
vmi_init:
	xorl %eax, %eax
	ret
	.org 136
get_reloc:
	jmp get_reloc_impl
	.org 0x180
pcihdr:
	.ascii "PCIR"
	.word 0x15AD, 0x0801
	.word 0, 24
	.byte 0, 0, 0, 0
	.word 8, 0
	.byte 0x80, 0
license:
	.asciz "GPL"

get_reloc_impl:			/* EAX = call -> EDX:EAX = {eip, type} */
	call 1f
1:	popl %edx
	subl $(1b - _rom), %edx
	movzbl types - _rom(%edx, %eax), %ecx
	shll $5, %eax
	leal 0x400(%edx, %eax), %eax
	movl %ecx, %edx
	ret
types:	/* per call: 0 NONE, 1 CALL_REL, 2 JUMP_REL, 3 NOP */
	.byte 0,0,0,1,0,1,1,0,0,0	/* 0-9: SetGDT 3, SetIDT 5, SetTR 6 */
	.byte 0,0,0,0,1,1,0,1,0,1	/* 10-19: UpdateKernelStack 14, SetCR0 15, SetCR3 17, GetCR0 19 */
	.byte 1,1,0,0,0,0,0,1,0,1	/* 20-29: GetCR2, GetCR3, RDTSC 27, Enable 29 */
	.byte 1,1,1,2,0,1,0,0,0,0	/* 30-39: Disable, GetMask, SetMask, IRET(jump), Halt 35 */
	.byte 0,0,0,0,0,1,1,0,0,0	/* 40-49: AllocatePage 43 NONE, Release 44 NONE, InvalPage 45, FlushTLB 46 */
	.byte 0,0,0,0,0,0,0,0,0,0
	.byte 0,0,0,0,0,0,0,0,0,0
	.byte 0,0,0,3			/* 73: SetLazyMode -> NOP */
	.byte 0,0,0,0,0,0

#define SLOT(n) .org 0x400 + (n) * 32
	SLOT(3)
	lgdt (%eax); ret
	SLOT(5)
	lidt (%eax); ret
	SLOT(6)
	ltr %ax; ret
	SLOT(14)
	movl %edx, 4(%eax); movl %edx, 12(%eax); ret
	SLOT(15)
	movl %eax, %cr0; ret
	SLOT(17)
	movl %eax, %cr3; ret
	SLOT(19)
	movl %cr0, %eax; ret
	SLOT(20)
	movl %cr2, %eax; ret
	SLOT(21)
	movl %cr3, %eax; ret
	SLOT(27)
	rdtsc; ret
	SLOT(29)
	sti; ret
	SLOT(30)
	cli; ret
	SLOT(31)
	pushfl; popl %eax; ret
	SLOT(32)
	pushl %eax; popfl; ret
	SLOT(33)
	iret
	SLOT(35)
	hlt; ret
	SLOT(38)
	movl %eax, (%edx); ret
	SLOT(45)
	invlpg (%eax); ret
	SLOT(46)
	movl %cr3, %ecx; movl %ecx, %cr3; ret
	.org 4095
	.byte 0
