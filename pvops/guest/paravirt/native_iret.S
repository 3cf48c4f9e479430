/* paravirt/native_iret.S: the defaults that cannot be C functions.
 *
 * native_iret is *jumped* to by INTERRUPT_RETURN (entry.S) with an iret
 * frame on the stack, so it is the instruction itself (Linux: native_iret in
 * entry_32.S).  paravirt_bug fills the slots of ops this kernel never calls:
 * ud2, as Linux patches a NULL op. */
	.text
	.globl native_iret, paravirt_bug
native_iret:
	iret
paravirt_bug:
	ud2
